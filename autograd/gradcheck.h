// Public finite-difference gradient check, in f64 (torch.autograd.gradcheck's idea).
//
//   using namespace selfsup::autograd;
//   auto fn = [](const std::vector<Variable>& in) { return sum(silu(in[0]) * in[1]); };
//   auto report = gradcheck(fn, {Tensor::randn({3, 4}, gen, DType::f64),
//                                Tensor::randn({4}, gen, DType::f64)});
//   CHECK_MESSAGE(report.ok, report.to_string());
//
// A non-scalar output y is reduced to L = sum(y * v) with a fixed random v, so one backward pass
// gives the analytic gradient of every input, compared with central differences of L.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace selfsup::autograd {

struct GradcheckOptions {
  double eps = 1e-6;    // finite-difference step
  double atol = 1e-5;   // pass if |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  bool four_point = false;  // 4-point stencil (error O(eps^4)) instead of central differences
  std::uint64_t seed = 0;   // for the projection vector v
  /// Inputs to check (by position); empty = all inputs.
  std::vector<std::size_t> check_inputs;
};

struct GradcheckReport {
  bool ok = true;
  std::string op;           // the function's output node name, for messages
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;
  // worst element
  std::size_t worst_input = 0;
  std::int64_t worst_index = -1;  // flat index
  double worst_analytic = 0.0;
  double worst_numeric = 0.0;
  std::string failure;  // set when a check failed before comparison (non-finite, no grad)
  std::string to_string() const;
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Variable(const std::vector<Variable>&)>;

/// Checks fn's analytic gradients against finite differences. Inputs must be f64 CPU tensors.
GradcheckReport gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace selfsup::autograd
