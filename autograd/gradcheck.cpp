#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/functions.h"
#include "core/error.h"
#include "core/ops.h"

namespace selfsup::autograd {

std::string GradcheckReport::to_string() const {
  std::ostringstream os;
  os.precision(10);
  os << "gradcheck " << (ok ? "passed" : "FAILED") << " for '" << op << "'";
  if (!failure.empty()) os << ": " << failure;
  os << " (max abs error " << max_abs_error << ", max rel error " << max_rel_error;
  if (worst_index >= 0)
    os << "; worst: input " << worst_input << " flat index " << worst_index << " analytic " << worst_analytic
       << " numeric " << worst_numeric;
  os << ")";
  return os.str();
}

namespace {

// L(inputs) = sum(fn(inputs) * v): a scalar whose gradient is v^T J.
double projected_value(const GradcheckFn& fn, const std::vector<Variable>& inputs, const Tensor& v) {
  NoGradGuard no_grad;
  const Variable y = fn(inputs);
  return core::sum(core::mul(y.data(), v)).item<double>();
}

}  // namespace

GradcheckReport gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  GradcheckReport report;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    core::check<core::DTypeError>(inputs[i].dtype() == DType::f64 && inputs[i].device().is_cpu(),
                                  "gradcheck: input " + std::to_string(i) + " must be an f64 CPU tensor, got " +
                                      core::name(inputs[i].dtype()) + " on " + inputs[i].device().to_string());
  }
  std::vector<bool> checked(inputs.size(), options.check_inputs.empty());
  for (const std::size_t i : options.check_inputs) {
    core::check(i < inputs.size(), "gradcheck: check_inputs names input " + std::to_string(i) + " but there are " +
                                       std::to_string(inputs.size()));
    checked[i] = true;
  }

  // Private copies: finite differences perturb them in place.
  std::vector<Variable> vars;
  for (std::size_t i = 0; i < inputs.size(); ++i) vars.emplace_back(inputs[i].clone(), checked[i]);

  const Variable y = fn(vars);
  report.op = y.grad_fn() ? y.grad_fn()->name() : "<no graph>";
  if (!y.requires_grad()) {
    report.ok = false;
    report.failure = "the output does not depend differentiably on the checked inputs";
    return report;
  }
  core::Generator gen(options.seed);
  const Tensor v = y.numel() == 1 ? Tensor::ones(y.shape(), DType::f64) : Tensor::randn(y.shape(), gen, DType::f64);
  y.backward(v);

  double worst_excess = 0.0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!checked[i]) continue;
    const Tensor analytic = vars[i].grad().defined() ? vars[i].grad() : Tensor::zeros(inputs[i].shape(), DType::f64);
    const auto analytic_values = analytic.to_vector<double>();
    for (std::size_t k = 0; k < analytic_values.size(); ++k) {
      if (!std::isfinite(analytic_values[k])) {
        report.ok = false;
        report.failure = "non-finite analytic gradient";
        report.worst_input = i;
        report.worst_index = static_cast<std::int64_t>(k);
        report.worst_analytic = analytic_values[k];
        return report;
      }
    }
    // Perturb each element of a contiguous private copy through a fresh leaf each time.
    Tensor& data = vars[i].mutable_data();
    double* p = data.data<double>();
    for (std::int64_t k = 0; k < data.numel(); ++k) {
      const double original = p[k];
      auto at = [&](double delta) {
        p[k] = original + delta;
        const double value = projected_value(fn, vars, v);
        p[k] = original;
        return value;
      };
      const double h = options.eps;
      double numeric;
      if (options.four_point) {
        numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
      } else {
        numeric = (at(h) - at(-h)) / (2 * h);
      }
      const double a = analytic_values[static_cast<std::size_t>(k)];
      const double abs_err = std::abs(a - numeric);
      const double rel_err = abs_err / std::max(std::abs(numeric), 1e-300);
      const bool element_ok = abs_err <= options.atol + options.rtol * std::abs(numeric);
      if (!std::isfinite(numeric)) {
        report.ok = false;
        report.failure = "non-finite numeric gradient (the function is not smooth at this point)";
      }
      // The worst element is the one furthest beyond its tolerance.
      const double excess = abs_err - (options.atol + options.rtol * std::abs(numeric));
      if (report.worst_index < 0 || excess > worst_excess) {
        worst_excess = excess;
        report.worst_input = i;
        report.worst_index = k;
        report.worst_analytic = a;
        report.worst_numeric = numeric;
      }
      report.max_abs_error = std::max(report.max_abs_error, abs_err);
      if (abs_err > options.atol) report.max_rel_error = std::max(report.max_rel_error, rel_err);
      if (!element_ok) report.ok = false;
    }
  }
  return report;
}

}  // namespace selfsup::autograd
