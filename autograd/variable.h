// Variable = Tensor + the autograd node that produced it. Leaves created by the user carry
// requires_grad and receive .grad(); results of differentiable ops carry a grad_fn.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace selfsup::autograd {

using core::DType;
using core::Shape;
using core::Tensor;

class Node;
class Variable;

struct VariableImpl {
  Tensor data;
  Tensor grad;  // undefined until a backward pass reaches this leaf
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  // null for leaves
};

class Variable {
 public:
  /// An undefined variable.
  Variable() = default;
  /// A leaf wrapping `data` (shared, not copied).
  Variable(Tensor data, bool requires_grad = false);  // NOLINT(google-explicit-constructor)

  bool defined() const { return impl_ != nullptr; }
  const Tensor& data() const;
  /// Mutable access for in-place updates that must not be recorded (optimizers, EMA).
  Tensor& mutable_data();
  /// The accumulated gradient; undefined before backward reaches this leaf.
  const Tensor& grad() const;
  void set_grad(Tensor grad);
  void zero_grad();

  bool requires_grad() const;
  /// Only on leaves: an op result's requires_grad follows from its inputs.
  Variable& set_requires_grad(bool value);
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;

  /// Backward from a one-element variable (seed 1).
  void backward(bool retain_graph = false) const;
  /// Backward with an explicit seed gradient of this variable's shape.
  void backward(const Tensor& seed, bool retain_graph = false) const;
  /// Same data, no history, requires_grad false.
  Variable detach() const;

  const Shape& shape() const { return data().shape(); }
  int dim() const { return data().dim(); }
  std::int64_t size(std::int64_t axis) const { return data().size(axis); }
  std::int64_t numel() const { return data().numel(); }
  DType dtype() const { return data().dtype(); }
  core::Device device() const { return data().device(); }
  double item() const { return data().item<double>(); }

  /// Identity of the underlying node (two Variables may share it).
  const VariableImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<VariableImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<VariableImpl> impl_;
};

/// Passed to a backward function: which inputs need a gradient, and where to put it.
class Gradients {
 public:
  explicit Gradients(std::vector<bool> needs) : needs_(std::move(needs)), grads_(needs_.size()) {}
  bool needs(std::size_t i) const { return i < needs_.size() && needs_[i]; }
  /// Adds g to input i's gradient. A g with broadcast dims is summed back to the input shape.
  void accumulate(std::size_t i, const Tensor& g);
  std::vector<Tensor>& results() { return grads_; }
  void set_input_shapes(std::vector<Shape> shapes) { input_shapes_ = std::move(shapes); }
  void set_op_name(std::string name) { op_ = std::move(name); }

 private:
  std::vector<bool> needs_;
  std::vector<Tensor> grads_;
  std::vector<Shape> input_shapes_;
  std::string op_;
};

/// backward(grad_output, grads): fill grads for the inputs that need them.
using BackwardFn = std::function<void(const Tensor& grad_output, Gradients& grads)>;

/// What a node keeps of one input: where the input's gradient goes and its shape, never its
/// data (a backward function captures exactly the tensors it needs). Holding input Variables
/// instead would keep every intermediate result of the forward alive until backward.
struct Edge {
  std::shared_ptr<Node> fn;            // the input's grad_fn when it is an op result
  std::shared_ptr<VariableImpl> leaf;  // a leaf that requires grad: its .grad receives the sum
  Shape shape;
  bool requires_grad = false;
};

class Node {
 public:
  Node(std::string name, std::vector<Edge> edges, BackwardFn backward, Shape output_shape)
      : name_(std::move(name)), edges_(std::move(edges)), backward_(std::move(backward)),
        output_shape_(std::move(output_shape)) {}
  const std::string& name() const { return name_; }
  /// One edge per op input, in the op's input order.
  const std::vector<Edge>& edges() const { return edges_; }
  const Shape& output_shape() const { return output_shape_; }
  bool released() const { return released_; }
  /// Runs the backward function; throws if the graph was already freed.
  std::vector<Tensor> apply(const Tensor& grad_output);
  /// Frees the saved tensors (after a backward without retain_graph).
  void release();

 private:
  std::string name_;
  std::vector<Edge> edges_;
  BackwardFn backward_;
  Shape output_shape_;
  bool released_ = false;
};

/// Wraps an op's forward result: records a Node when grad mode is on and any input requires
/// grad; otherwise returns a plain (non-requiring) Variable.
Variable make_result(const char* op, Tensor output, std::vector<Variable> inputs, BackwardFn backward);

/// Whether ops record history (thread-local; false inside a NoGradGuard).
bool grad_enabled();

/// RAII: no history is recorded while it lives (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace selfsup::autograd
