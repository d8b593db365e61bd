// Module: the base of every layer and model, in the spirit of the PyTorch C++ frontend.
// Parameters, buffers and submodules are registered once, by name; `named_parameters()`,
// `named_buffers()` and `state_dict()` list them in registration order with dotted names
// ("layer1.0.conv1.weight"), which is exactly torchvision's order and naming.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functions.h"
#include "core/tensor.h"

namespace selfsup::nn {

using autograd::Variable;
using core::DType;
using core::Shape;
using core::Tensor;

/// Ordered name -> tensor list (parameters then buffers of each module, depth first).
using StateDict = std::vector<std::pair<std::string, Tensor>>;

/// One row of Module::summary().
struct SummaryRow {
  std::string name;   // dotted module path
  std::string type;   // e.g. "Conv2d"
  Shape output_shape;
  std::int64_t parameters = 0;  // own parameters (not children's)
  std::int64_t flops = 0;       // multiply-adds x 2 of this module's own computation
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The module's computation for a single input. Modules with other signatures add their own
  /// methods and leave this throwing.
  virtual Variable forward(const Variable& x);
  /// Calls forward and, while a summary is being recorded, records the output shape.
  Variable operator()(const Variable& x);

  const std::string& type_name() const { return type_name_; }

  std::vector<std::pair<std::string, Variable>> named_parameters(bool recurse = true) const;
  std::vector<Variable> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  /// This module ("" ) and every descendant, depth first.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();
  /// Turns requires_grad on or off for every parameter (freezing).
  void set_requires_grad(bool value);
  /// Moves every parameter and buffer to `device` (in place: existing Variables see the move).
  void to(core::Device device);
  std::int64_t parameter_count() const;

  /// Parameters then buffers of each module, depth first, with dotted names (torch order).
  StateDict state_dict() const;
  /// Copies `state` into the module's tensors. Everything is validated before anything is
  /// written, so on error the module is untouched. strict: missing and unexpected keys are
  /// errors; shape mismatches always are. The error lists every offending key by name.
  void load_state_dict(const StateDict& state, bool strict = true);
  /// How `state` differs from state_dict(), without writing anything: the checks of
  /// load_state_dict (and of checkpoint loading).
  struct StateDictDiff {
    std::vector<std::string> duplicates, missing, unexpected;
    std::vector<std::string> mismatched;  // "name: checkpoint [..] vs model [..]" (shape or dtype)
  };
  StateDictDiff compare_state_dict(const StateDict& state) const;

  /// Runs a forward pass on zeros of `input_shape` (eval mode, no grad) and lists every module
  /// called with its output shape, parameter count and FLOPs.
  std::vector<SummaryRow> summary(const Shape& input_shape);
  /// The summary as an aligned text table with totals.
  std::string summary_string(const Shape& input_shape);

 protected:
  Variable& register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
  /// An undefined tensor registers an optional parameter that is absent (e.g. bias = false).
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_child(name, module);
    return module;
  }
  /// FLOPs of this module's own computation for one forward (override in compute layers).
  virtual std::int64_t flops(const Shape& input_shape, const Shape& output_shape) const { return 0; }
  /// Lets a subclass react to train()/eval() (default: nothing).
  virtual void on_train(bool /*on*/) {}

 private:
  void register_child(const std::string& name, std::shared_ptr<Module> module);
  static void check_name(const std::string& name, const char* what);
  void collect_state(const std::string& prefix, StateDict& out) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

/// Runs modules one after another; children are named "0", "1", ... as torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  Sequential& push_back(std::shared_ptr<Module> module);
  Variable forward(const Variable& x) override;
  std::size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return modules_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace selfsup::nn
