// Writing your own differentiable op and checking its gradient with gradcheck.
// The op: softplus(x) = log(1 + e^x), with d/dx = sigmoid(x). Forward and backward side by side,
// exactly like the ops in autograd/ops/. Build: cmake --build --preset release --target
// custom_op_with_gradcheck; run: build/examples/custom_op_with_gradcheck
#include <iostream>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"

using namespace selfsup;
using autograd::Gradients;
using autograd::Variable;
using core::Tensor;

// softplus: y = log(1 + exp(x)) (computed as relu(x) + log(1 + exp(-|x|)) for stability);
// dx = dy * sigmoid(x)
Variable softplus(const Variable& x) {
  const Tensor& xd = x.data();
  const Tensor y = core::add(core::relu(xd), core::log(core::add(core::exp(core::neg(core::abs(xd))), 1.0)));
  return autograd::make_result("softplus", y, {x}, [xd](const Tensor& dy, Gradients& grads) {
    grads.accumulate(0, core::mul(dy, core::sigmoid(xd)));
  });
}

int main() {
  core::Generator gen(0);
  const auto fn = [](const std::vector<Variable>& in) { return autograd::sum(softplus(in[0]) * in[1], {1}); };
  const autograd::GradcheckReport report =
      autograd::gradcheck(fn, {Tensor::randn({3, 4}, gen, core::DType::f64), Tensor::randn({4}, gen, core::DType::f64)});
  std::cout << report.to_string() << "\n";
  return report.ok ? 0 : 1;
}
