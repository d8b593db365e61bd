#include "nn/optim/lars.h"

#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace selfsup::nn::optim {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;
}  // namespace

LARS::LARS(std::vector<ParamGroup> groups, const LARSOptions& options)
    : Optimizer("LARS", std::move(groups),
                Defaults{.lr = options.lr, .weight_decay = options.weight_decay, .momentum = options.momentum,
                         .lars_adaptation = true}),
      options_(options) {
  core::check(options_.eta > 0.0, "LARS: eta (trust coefficient) must be > 0 (got " + std::to_string(options_.eta) + ")");
  if (options_.nesterov)
    for (const auto& g : this->groups())
      core::check(g.momentum > 0.0, "LARS: nesterov needs momentum > 0 (group '" + g.name + "')");
}

LARS::LARS(const NamedParameters& params, const LARSOptions& options)
    : LARS(std::vector<ParamGroup>{ParamGroup{.name = "default", .params = params, .options = {}}}, options) {}

std::vector<std::string> LARS::state_fields(const Group& group) const {
  if (group.momentum == 0.0) return {};
  return {"momentum_buffer"};
}

std::vector<std::pair<std::string, double>> LARS::group_option_values(const Group& group) const {
  return {{"weight_decay", group.weight_decay},
          {"momentum", group.momentum},
          {"lars_adaptation", group.lars_adaptation ? 1.0 : 0.0}};
}

std::vector<std::pair<std::string, double>> LARS::option_values() const {
  return {{"eta", options_.eta},
          {"nesterov", options_.nesterov ? 1.0 : 0.0},
          {"trust_ratio", options_.trust_ratio == TrustRatio::sum_of_norms ? 0.0 : 1.0}};
}

double LARS::trust_ratio(double weight_norm, double grad_norm, double update_norm, double weight_decay, double eta,
                         TrustRatio mode) {
  if (mode == TrustRatio::sum_of_norms) {
    if (weight_norm > 0.0 && grad_norm > 0.0) return eta * weight_norm / (grad_norm + weight_decay * weight_norm);
    return 1.0;
  }
  if (weight_norm > 0.0 && update_norm > 0.0) return eta * weight_norm / update_norm;
  return 1.0;
}

void LARS::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) {
  Tensor buffer;
  if (group.momentum != 0.0) {
    auto it = state.find("momentum_buffer");
    if (it == state.end()) it = state.emplace("momentum_buffer", Tensor::zeros(param.shape(), param.dtype())).first;
    buffer = it->second;
  }
  core::dispatch_float(param.dtype(), "LARS.step", [&]<typename T>() {
    T* w = param.data<T>();
    const T* g = grad.data<T>();
    T* v = buffer.defined() ? buffer.data<T>() : nullptr;
    const std::int64_t n = param.numel();
    const double wd = group.weight_decay;
    double ratio = 1.0;
    if (group.lars_adaptation) {
      // Serial double sums: the same bits whatever the thread count.
      double ww = 0.0, gg = 0.0, uu = 0.0;
      const T wd_t = static_cast<T>(wd);
      for (std::int64_t i = 0; i < n; ++i) {
        const double wi = w[i], gi = g[i];
        const double ui = static_cast<double>(g[i] + wd_t * w[i]);
        ww += wi * wi;
        gg += gi * gi;
        uu += ui * ui;
      }
      ratio = trust_ratio(std::sqrt(ww), std::sqrt(gg), std::sqrt(uu), wd, options_.eta, options_.trust_ratio);
    }
    const T scaled_lr = static_cast<T>(group.lr * ratio);
    const T wd_t = static_cast<T>(wd);
    const T mu = static_cast<T>(group.momentum);
    const bool nesterov = options_.nesterov;
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      const T step = scaled_lr * (g[i] + wd_t * w[i]);
      if (v != nullptr) {
        const T vi = mu * v[i] + step;
        v[i] = vi;
        w[i] = w[i] - (nesterov ? mu * vi + step : vi);
      } else {
        w[i] = w[i] - step;
      }
    }
  });
}

}  // namespace selfsup::nn::optim
