#include "nn/optim/adamw.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace selfsup::nn::optim {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;

const AdamWOptions& checked(const AdamWOptions& o) {
  core::check(o.beta1 >= 0.0 && o.beta1 < 1.0, "AdamW: beta1 must be in [0, 1) (got " + std::to_string(o.beta1) + ")");
  core::check(o.beta2 >= 0.0 && o.beta2 < 1.0, "AdamW: beta2 must be in [0, 1) (got " + std::to_string(o.beta2) + ")");
  core::check(o.eps >= 0.0, "AdamW: eps must be >= 0 (got " + std::to_string(o.eps) + ")");
  return o;
}
}  // namespace

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : Optimizer(checked(options).decoupled_weight_decay ? "AdamW" : "Adam", std::move(groups),
                Defaults{.lr = options.lr, .weight_decay = options.weight_decay}),
      options_(options) {}

AdamW::AdamW(const NamedParameters& params, const AdamWOptions& options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{.name = "default", .params = params, .options = {}}}, options) {}

std::vector<std::string> AdamW::state_fields(const Group&) const {
  if (options_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"};
  return {"exp_avg", "exp_avg_sq", "step"};
}

std::vector<std::pair<std::string, double>> AdamW::option_values() const {
  return {{"beta1", options_.beta1},
          {"beta2", options_.beta2},
          {"eps", options_.eps},
          {"amsgrad", options_.amsgrad ? 1.0 : 0.0},
          {"decoupled_weight_decay", options_.decoupled_weight_decay ? 1.0 : 0.0}};
}

void AdamW::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) {
  if (state.empty()) {
    state.emplace("step", Tensor::zeros({}, core::DType::i64));
    state.emplace("exp_avg", Tensor::zeros(param.shape(), param.dtype()));
    state.emplace("exp_avg_sq", Tensor::zeros(param.shape(), param.dtype()));
    if (options_.amsgrad) state.emplace("max_exp_avg_sq", Tensor::zeros(param.shape(), param.dtype()));
  }
  Tensor& step_tensor = state.at("step");
  const std::int64_t t = step_tensor.data<std::int64_t>()[0] + 1;
  step_tensor.data<std::int64_t>()[0] = t;
  // Scalars in double, as torch computes them in Python before the f32 kernels.
  const double lr = group.lr;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t));
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);
  Tensor exp_avg = state.at("exp_avg");
  Tensor exp_avg_sq = state.at("exp_avg_sq");
  Tensor max_exp_avg_sq = options_.amsgrad ? state.at("max_exp_avg_sq") : Tensor();
  core::dispatch_float(param.dtype(), "AdamW.step", [&]<typename T>() {
    T* w = param.data<T>();
    const T* g = grad.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    T* vmax = max_exp_avg_sq.defined() ? max_exp_avg_sq.data<T>() : nullptr;
    const bool decoupled = options_.decoupled_weight_decay;
    const bool decay = group.weight_decay != 0.0;
    const T shrink = static_cast<T>(1.0 - lr * group.weight_decay);
    const T wd = static_cast<T>(group.weight_decay);
    const T beta1 = static_cast<T>(options_.beta1);
    const T beta2 = static_cast<T>(options_.beta2);
    const T one_minus_beta1 = static_cast<T>(1.0 - options_.beta1);
    const T one_minus_beta2 = static_cast<T>(1.0 - options_.beta2);
    const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt);
    const T eps = static_cast<T>(options_.eps);
    const T neg_step_size = static_cast<T>(-step_size);
    const std::int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      T gi = g[i];
      T wi = w[i];
      if (decoupled) wi = wi * shrink;
      else if (decay) gi = gi + wd * wi;
      const T mi = beta1 * m[i] + one_minus_beta1 * gi;
      const T vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      T denom_src = vi;
      if (vmax != nullptr) {
        denom_src = std::max(vmax[i], vi);
        vmax[i] = denom_src;
      }
      const T denom = std::sqrt(denom_src) / bc2_sqrt + eps;
      w[i] = wi + neg_step_size * (mi / denom);
    }
  });
}

}  // namespace selfsup::nn::optim
