// Variable, Node and the reverse-mode engine: a topological sort from the root, then one sweep
// in reverse order that hands each node the sum of its output's gradients.
#include "autograd/variable.h"

#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/ops.h"

namespace selfsup::autograd {

using core::AutogradError;
using core::check;

namespace {
thread_local bool g_grad_enabled = true;
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Variable::Variable(Tensor data, bool requires_grad) : impl_(std::make_shared<VariableImpl>()) {
  check<core::ValueError>(data.defined(), "Variable: cannot wrap an undefined tensor");
  check<core::DTypeError>(!requires_grad || core::is_floating(data.dtype()),
                          std::string("Variable: only floating tensors can require grad, got ") +
                              core::name(data.dtype()));
  impl_->data = std::move(data);
  impl_->requires_grad = requires_grad;
}

const Tensor& Variable::data() const {
  check<core::ValueError>(defined(), "Variable: access to an undefined variable");
  return impl_->data;
}
Tensor& Variable::mutable_data() {
  check<core::ValueError>(defined(), "Variable: access to an undefined variable");
  return impl_->data;
}
const Tensor& Variable::grad() const {
  check<core::ValueError>(defined(), "Variable: access to an undefined variable");
  return impl_->grad;
}
void Variable::set_grad(Tensor grad) {
  check<core::ShapeError>(!grad.defined() || grad.shape() == shape(),
                          "set_grad: gradient shape " + core::to_string(grad.shape()) + " differs from variable " +
                              core::to_string(shape()));
  impl_->grad = std::move(grad);
}
void Variable::zero_grad() {
  if (defined()) impl_->grad = Tensor();
}
bool Variable::requires_grad() const { return defined() && impl_->requires_grad; }
Variable& Variable::set_requires_grad(bool value) {
  check<AutogradError>(is_leaf(), "set_requires_grad: only leaves can change requires_grad (this variable was made by '" +
                                      (impl_->grad_fn ? impl_->grad_fn->name() : std::string("?")) + "')");
  check<core::DTypeError>(!value || core::is_floating(data().dtype()), "set_requires_grad: only floating tensors can require grad");
  impl_->requires_grad = value;
  return *this;
}
bool Variable::is_leaf() const { return !defined() || impl_->grad_fn == nullptr; }
const std::shared_ptr<Node>& Variable::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return defined() ? impl_->grad_fn : none;
}

Variable Variable::detach() const { return Variable(data(), false); }

void Variable::backward(bool retain_graph) const {
  check<AutogradError>(data().numel() == 1,
                       "backward: the output has shape " + core::to_string(shape()) +
                           "; pass a seed gradient of that shape for a non-scalar output");
  backward(Tensor::ones(shape(), dtype(), device()), retain_graph);
}

void Variable::backward(const Tensor& seed, bool retain_graph) const {
  check<AutogradError>(requires_grad(), "backward: the output does not require grad (no input requires grad, "
                                        "or it was computed under NoGradGuard)");
  check<core::ShapeError>(seed.shape() == shape(), "backward: seed gradient shape " + core::to_string(seed.shape()) +
                                                       " differs from output shape " + core::to_string(shape()));
  if (is_leaf()) {
    impl_->grad = impl_->grad.defined() ? core::add(impl_->grad, seed) : seed.clone();
    return;
  }
  // Topological order of nodes (iterative DFS, post-order).
  std::vector<Node*> order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, std::size_t>> stack{{impl_->grad_fn.get(), 0}};
  visited.insert(impl_->grad_fn.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->edges().size()) {
      Node* child = node->edges()[next++].fn.get();
      if (child != nullptr && visited.insert(child).second) stack.emplace_back(child, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::unordered_map<Node*, Tensor> pending{{impl_->grad_fn.get(), seed}};
  NoGradGuard no_grad;  // backward functions compute plain tensors; nothing is recorded
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;  // no gradient flows here
    const Tensor grad_output = std::move(found->second);
    pending.erase(found);
    std::vector<Tensor> grads = node->apply(grad_output);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined()) continue;
      const Edge& in = node->edges()[i];
      if (in.fn) {
        auto [slot, inserted] = pending.try_emplace(in.fn.get(), grads[i]);
        if (!inserted) slot->second = core::add(slot->second, grads[i]);
      } else if (in.leaf) {
        Tensor& g = in.leaf->grad;
        g = g.defined() ? core::add(g, grads[i]) : grads[i];
      }
    }
    if (!retain_graph) node->release();
  }
}

void Gradients::accumulate(std::size_t i, const Tensor& g) {
  check<AutogradError>(i < needs_.size(), op_ + " backward: input index " + std::to_string(i) + " out of range");
  if (!needs_[i]) return;
  Tensor reduced = g;
  if (i < input_shapes_.size() && g.shape() != input_shapes_[i]) {
    try {
      reduced = core::sum_to(g, input_shapes_[i]);
    } catch (const core::ShapeError&) {
      throw AutogradError(op_ + " backward: gradient for input " + std::to_string(i) + " has shape " +
                          core::to_string(g.shape()) + " but the input has shape " +
                          core::to_string(input_shapes_[i]));
    }
  }
  grads_[i] = grads_[i].defined() ? core::add(grads_[i], reduced) : reduced;
}

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
  check<AutogradError>(!released_, "backward: the graph through '" + name_ +
                                       "' was already freed by an earlier backward(); "
                                       "call backward(retain_graph = true) to go through it twice");
  std::vector<bool> needs(edges_.size());
  std::vector<Shape> shapes(edges_.size());
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    needs[i] = edges_[i].requires_grad;
    shapes[i] = edges_[i].shape;
  }
  Gradients grads(std::move(needs));
  grads.set_input_shapes(std::move(shapes));
  grads.set_op_name(name_);
  backward_(grad_output, grads);
  return std::move(grads.results());
}

void Node::release() {
  backward_ = nullptr;
  released_ = true;
}

Variable make_result(const char* op, Tensor output, std::vector<Variable> inputs, BackwardFn backward) {
  bool any = false;
  for (const Variable& v : inputs) any = any || v.requires_grad();
  Variable result(std::move(output), false);
  if (!any || !grad_enabled()) return result;
  auto impl = result.impl_ptr();
  auto* mutable_impl = const_cast<VariableImpl*>(impl.get());
  mutable_impl->requires_grad = true;
  std::vector<Edge> edges(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Variable& in = inputs[i];
    if (!in.defined()) continue;
    edges[i].shape = in.shape();
    edges[i].requires_grad = in.requires_grad();
    if (in.grad_fn()) {
      edges[i].fn = in.grad_fn();
    } else if (in.requires_grad()) {
      edges[i].leaf = in.impl_ptr();
    }
  }
  mutable_impl->grad_fn =
      std::make_shared<Node>(op, std::move(edges), std::move(backward), mutable_impl->data.shape());
  return result;
}

}  // namespace selfsup::autograd
