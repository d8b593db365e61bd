// Helpers for the nn tests: widening a module's parameters to f64 and a finite-difference check of
// a module's parameter gradients (autograd::gradcheck checks the input; parameters live inside the
// module, so they are perturbed in place here).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/ops.h"
#include "nn/module.h"

namespace selfsup::test {

/// Every parameter's data becomes f64 (exact for f32 values); buffers are left as they are.
inline void widen_parameters(nn::Module& module) {
  for (auto& [name, p] : module.named_parameters()) p.mutable_data() = p.data().to(core::DType::f64);
}

/// Checks d/dx and d/dparam of L = sum(module(x) * v) against central differences in f64 (torch's
/// gradcheck tolerances). `x` must be f64 and the module's parameters f64 (widen_parameters).
inline void check_module_gradients(nn::Module& module, const core::Tensor& x, std::uint64_t seed = 7,
                                   double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3) {
  using autograd::Variable;
  // The input, through the public gradcheck.
  const auto report = autograd::gradcheck(
      [&](const std::vector<Variable>& in) { return module(in[0]); }, {x},
      autograd::GradcheckOptions{.eps = eps, .atol = atol, .rtol = rtol, .seed = seed});
  CHECK_MESSAGE(report.ok, module.type_name() << " input gradient: " << report.to_string());

  // Parameters: analytic gradient from one backward, numeric from perturbing each element.
  core::Generator gen(seed + 1);
  const Variable x_var(x);
  const Variable probe = module(x_var);
  const Variable v(core::Tensor::randn(probe.shape(), gen, core::DType::f64));
  const auto loss = [&]() { return autograd::sum(autograd::mul(module(x_var), v)).item(); };
  module.zero_grad();
  autograd::sum(autograd::mul(module(x_var), v)).backward();
  for (auto& [name, p] : module.named_parameters()) {
    REQUIRE_MESSAGE(p.grad().defined(), module.type_name() << ": no gradient for " << name);
    const std::vector<double> analytic = p.grad().to_vector<double>();
    core::Tensor& data = p.mutable_data();
    REQUIRE(data.is_contiguous());
    double* values = data.data<double>();
    double worst = 0.0;
    std::string worst_msg;
    for (std::int64_t i = 0; i < data.numel(); ++i) {
      const double saved = values[i];
      values[i] = saved + eps;
      const double plus = loss();
      values[i] = saved - eps;
      const double minus = loss();
      values[i] = saved;
      const double numeric = (plus - minus) / (2.0 * eps);
      const double err = std::abs(analytic[static_cast<std::size_t>(i)] - numeric);
      const double allowed = atol + rtol * std::abs(numeric);
      if (err / allowed > worst) {
        worst = err / allowed;
        worst_msg = name + "[" + std::to_string(i) + "]: analytic " + std::to_string(analytic[static_cast<std::size_t>(i)]) +
                    ", numeric " + std::to_string(numeric);
      }
    }
    CHECK_MESSAGE(worst <= 1.0, module.type_name() << " parameter gradient off by " << worst
                                                   << "x the tolerance at " << worst_msg);
  }
}

}  // namespace selfsup::test
