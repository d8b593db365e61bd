#include "nn/optim/sgd.h"

#include <cstdint>

#include "core/error.h"

namespace selfsup::nn::optim {

namespace {
constexpr std::int64_t kParallelGrain = 1 << 15;  // elements; below this one thread is faster

void check_options(const SGDOptions& o) {
  core::check(o.dampening >= 0.0 && o.dampening <= 1.0, "SGD: dampening must be in [0, 1]");
}
}  // namespace

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups),
                Defaults{.lr = options.lr, .weight_decay = options.weight_decay, .momentum = options.momentum}),
      options_(options) {
  check_options(options_);
  if (options_.nesterov)
    for (const auto& g : this->groups())
      core::check(g.momentum > 0.0 && options_.dampening == 0.0,
                  "SGD: nesterov needs momentum > 0 and dampening 0 (group '" + g.name + "' has momentum " +
                      std::to_string(g.momentum) + ", dampening " + std::to_string(options_.dampening) + ")");
}

SGD::SGD(const NamedParameters& params, const SGDOptions& options)
    : SGD(std::vector<ParamGroup>{ParamGroup{.name = "default", .params = params, .options = {}}}, options) {}

std::vector<std::string> SGD::state_fields(const Group& group) const {
  if (group.momentum == 0.0) return {};
  return {"momentum_buffer"};
}

std::vector<std::pair<std::string, double>> SGD::group_option_values(const Group& group) const {
  return {{"weight_decay", group.weight_decay}, {"momentum", group.momentum}};
}

std::vector<std::pair<std::string, double>> SGD::option_values() const {
  return {{"dampening", options_.dampening}, {"nesterov", options_.nesterov ? 1.0 : 0.0}};
}

void SGD::update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) {
  const bool use_momentum = group.momentum != 0.0;
  bool first = false;
  Tensor buffer;
  if (use_momentum) {
    auto it = state.find("momentum_buffer");
    if (it == state.end()) {
      it = state.emplace("momentum_buffer", Tensor::empty(param.shape(), param.dtype())).first;
      first = true;  // torch: buf = clone(d) on the first step, no dampening
    }
    buffer = it->second;
  }
  core::dispatch_float(param.dtype(), "SGD.step", [&]<typename T>() {
    T* w = param.data<T>();
    const T* g = grad.data<T>();
    T* b = use_momentum ? buffer.data<T>() : nullptr;
    const T lr = static_cast<T>(group.lr);
    const T wd = static_cast<T>(group.weight_decay);
    const T m = static_cast<T>(group.momentum);
    const T keep = static_cast<T>(1.0 - options_.dampening);
    const bool decay = group.weight_decay != 0.0;
    const bool nesterov = options_.nesterov;
    const std::int64_t n = param.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
    for (std::int64_t i = 0; i < n; ++i) {
      T d = g[i];
      if (decay) d = d + wd * w[i];
      if (b != nullptr) {
        const T buf = first ? d : m * b[i] + keep * d;
        b[i] = buf;
        d = nesterov ? d + m * buf : buf;
      }
      w[i] = w[i] - lr * d;
    }
  });
}

}  // namespace selfsup::nn::optim
