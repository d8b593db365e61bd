// The custom-op example's pattern, kept under test: an op defined outside the library passes
// gradcheck, and a deliberately wrong variant fails it.
#include <doctest/doctest.h>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"

using namespace selfsup;
using autograd::Gradients;
using autograd::Variable;
using core::Tensor;

namespace {
Variable user_softplus(const Variable& x, double gradient_scale) {
  const Tensor& xd = x.data();
  const Tensor y = core::add(core::relu(xd), core::log(core::add(core::exp(core::neg(core::abs(xd))), 1.0)));
  return autograd::make_result("user_softplus", y, {x}, [xd, gradient_scale](const Tensor& dy, Gradients& grads) {
    grads.accumulate(0, core::mul(core::mul(dy, core::sigmoid(xd)), gradient_scale));
  });
}
}  // namespace

TEST_CASE("gradcheck: a user-defined op passes and a wrong one fails") {
  core::Generator gen(1);
  const std::vector<Tensor> inputs{Tensor::randn({3, 4}, gen, core::DType::f64), Tensor::randn({4}, gen, core::DType::f64)};
  const auto good = [](const std::vector<Variable>& in) { return autograd::sum(user_softplus(in[0], 1.0) * in[1], {1}); };
  const auto bad = [](const std::vector<Variable>& in) { return autograd::sum(user_softplus(in[0], 1.01) * in[1], {1}); };
  const auto good_report = autograd::gradcheck(good, inputs);
  CHECK_MESSAGE(good_report.ok, good_report.to_string());
  const auto bad_report = autograd::gradcheck(bad, inputs);
  CHECK_FALSE(bad_report.ok);
  CHECK(bad_report.op == "sum");
}
