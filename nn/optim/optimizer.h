// Optimizer: the base of SGD, LARS and AdamW (torch.optim semantics). Parameters live in named
// groups (torch's param_groups), each with its own lr, weight_decay and momentum (and, for LARS,
// whether layer adaptation applies). Per-parameter state is keyed by the parameter's name, so
// `state_dict()` is a list of readable tensors a checkpoint can store:
//   param_groups.<g>.num_params   I64 0-d     (checked on load)
//   param_groups.<g>.<option>     F64 0-d     lr, initial_lr, weight_decay (+ momentum, ...)
//   options.<name>                F64 0-d     optimizer-wide options (nesterov, betas, eps, ...)
//   state.<param name>.<field>    the parameter's dtype and shape; "step" is I64 0-d
// step() updates the parameters' data in place without recording history; parameters whose
// grad is undefined are skipped, as torch does. The fused update loops run on CPU tensors only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace selfsup::nn::optim {

using autograd::Variable;
using core::Tensor;
using NamedParameters = std::vector<std::pair<std::string, Variable>>;

/// Per-group overrides of the optimizer's defaults; an unset field takes the optimizer's value.
struct ParamGroupOptions {
  std::optional<double> lr;
  std::optional<double> weight_decay;
  std::optional<double> momentum;       // SGD and LARS
  std::optional<bool> lars_adaptation;  // LARS: false gives plain momentum SGD (bias, BN)
};

/// A named set of parameters that share options (torch's param_group). Parameter names must be
/// unique across the optimizer: they key the state in state_dict().
struct ParamGroup {
  std::string name;
  NamedParameters params;
  ParamGroupOptions options;
};

/// Splits parameters into "decay" (>= 2 dims: conv and linear weights) and "no_decay" (biases
/// and every 1-d parameter, i.e. BN weight and bias): the SimCLR/BYOL/TWIST/timm rule. The
/// "no_decay" group gets weight_decay 0 and lars_adaptation false; "decay" keeps the optimizer's
/// defaults. Frozen parameters (requires_grad false) are left out, and so are empty groups.
std::vector<ParamGroup> split_decay_groups(const NamedParameters& params);
/// The same over module.named_parameters(), with `prefix` put before every name.
std::vector<ParamGroup> split_decay_groups(const Module& module, const std::string& prefix = "");
/// Every trainable parameter of `module` in one group named "default".
std::vector<ParamGroup> single_group(const Module& module, const std::string& prefix = "");

/// Base class. Subclasses implement update() for one parameter and say which state fields and
/// options they keep.
class Optimizer {
 public:
  /// One resolved parameter group.
  struct Group {
    std::string name;
    NamedParameters params;
    double lr = 0.0;
    double initial_lr = 0.0;  // lr at construction; scale_lr() multiplies it
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool lars_adaptation = true;
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// "SGD", "LARS", "AdamW" (or "Adam").
  const std::string& type_name() const { return type_name_; }

  /// One update of every parameter that has a gradient.
  void step();
  /// Drops every parameter's gradient (torch's set_to_none=True).
  void zero_grad();

  std::size_t num_groups() const { return groups_.size(); }
  const std::vector<Group>& groups() const { return groups_; }
  Group& group(std::size_t i);
  const Group& group(std::size_t i) const;
  /// lr of group i.
  double lr(std::size_t i = 0) const { return group(i).lr; }
  /// Sets the lr of every group.
  void set_lr(double lr);
  /// Sets the lr of group i.
  void set_lr(std::size_t i, double lr);
  /// lr = initial_lr * factor in every group (keeps the groups' ratios; torch's LambdaLR).
  void scale_lr(double factor);

  /// The state as named tensors (copies: later steps do not change them).
  StateDict state_dict() const;
  /// Throws ValueError listing every problem (missing, unexpected, duplicate keys; shape/dtype
  /// mismatches; group sizes; with check_hyperparameters, differing options) without writing.
  void validate_state_dict(const StateDict& state, bool check_hyperparameters = true) const;
  /// Validates, then restores the per-parameter state and each group's current lr. The other
  /// hyperparameters stay as this optimizer was built (they are only compared, when asked).
  /// On error nothing is changed.
  void load_state_dict(const StateDict& state, bool check_hyperparameters = true);

 protected:
  using ParamState = std::map<std::string, Tensor>;  // field -> tensor

  /// Optimizer-wide defaults a group falls back to.
  struct Defaults {
    double lr = 0.0;
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool lars_adaptation = true;
  };
  Optimizer(std::string type_name, std::vector<ParamGroup> groups, const Defaults& defaults);

  /// Updates one parameter in place. `param` and `grad` are contiguous CPU tensors of the same
  /// dtype and shape; `state` is empty the first time.
  virtual void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) = 0;
  /// The state fields a parameter of `group` has once it has been updated.
  virtual std::vector<std::string> state_fields(const Group& group) const = 0;
  /// Group hyperparameters stored under param_groups.<g>.<name> besides lr and initial_lr.
  virtual std::vector<std::pair<std::string, double>> group_option_values(const Group& group) const;
  /// Optimizer-wide options stored under options.<name>.
  virtual std::vector<std::pair<std::string, double>> option_values() const = 0;

 private:
  std::string type_name_;
  std::vector<Group> groups_;
  std::map<std::string, ParamState> state_;  // parameter name -> state
};

}  // namespace selfsup::nn::optim
