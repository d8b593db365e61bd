#include "nn/ema.h"

#include <map>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "core/error.h"
#include "core/ops.h"

namespace selfsup::nn {

namespace {

constexpr std::int64_t kParallelGrain = 1 << 15;

/// Pairs target and online tensors by name; throws listing every difference, before any write.
template <typename A, typename B>
std::vector<std::pair<A, B>> pair_by_name(const char* what, const std::vector<std::pair<std::string, A>>& target,
                                          const std::vector<std::pair<std::string, B>>& online,
                                          std::string& problems) {
  std::map<std::string, const B*> by_name;
  for (const auto& [name, t] : online) by_name[name] = &t;
  std::vector<std::pair<A, B>> out;
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, t] : target) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      missing.push_back(name);
      continue;
    }
    const B& o = *it->second;
    if (t.shape() != o.shape() || t.dtype() != o.dtype()) {
      mismatched.push_back(name + ": target " + core::name(t.dtype()) + " " + core::to_string(t.shape()) + " vs online " +
                           core::name(o.dtype()) + " " + core::to_string(o.shape()));
      continue;
    }
    out.emplace_back(t, o);
    by_name.erase(it);
  }
  const auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (!missing.empty()) problems += std::string("\n  ") + what + " only in the target: " + join(missing);
  if (!by_name.empty()) {
    std::vector<std::string> extra;
    for (const auto& [name, t] : by_name) extra.push_back(name);
    problems += std::string("\n  ") + what + " only in the online module: " + join(extra);
  }
  if (!mismatched.empty()) problems += std::string("\n  ") + what + " with different shape/dtype: " + join(mismatched);
  return out;
}

/// dst = a * dst + b * src, in place (a = m, b = 1 - m as in MoCo's `k * m + q * (1 - m)`).
void blend_(Tensor dst, const Tensor& src, double a, double b) {
  if (dst.device().is_cpu() && src.device().is_cpu() && dst.is_contiguous() && src.is_contiguous()) {
    core::dispatch_float(dst.dtype(), "ema_update", [&]<typename T>() {
      T* d = dst.data<T>();
      const T* s = src.data<T>();
      const T ta = static_cast<T>(a), tb = static_cast<T>(b);
      const std::int64_t n = dst.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) d[i] = d[i] * ta + s[i] * tb;
    });
    return;
  }
  dst.copy_(core::add(core::mul(dst, a), core::mul(src, b)));
}

}  // namespace

void ema_update(Module& target, const Module& online, double momentum, EmaBuffers buffers) {
  core::check(momentum >= 0.0 && momentum <= 1.0,
              "ema_update: momentum must be in [0, 1] (got " + std::to_string(momentum) + ")");
  std::string problems;
  const auto params = pair_by_name("parameters", target.named_parameters(), online.named_parameters(), problems);
  std::vector<std::pair<Tensor, Tensor>> bufs;
  if (buffers != EmaBuffers::keep) bufs = pair_by_name("buffers", target.named_buffers(), online.named_buffers(), problems);
  if (!problems.empty())
    throw core::ValueError("ema_update: " + target.type_name() + " (target) and " + online.type_name() +
                           " (online) differ:" + problems);
  autograd::NoGradGuard no_grad;
  for (const auto& [t, o] : params) {
    Variable tv = t;
    blend_(tv.mutable_data(), o.data(), momentum, 1.0 - momentum);
  }
  for (const auto& [t, o] : bufs) {
    Tensor dst = t;
    if (buffers == EmaBuffers::average && core::is_floating(dst.dtype())) blend_(dst, o, momentum, 1.0 - momentum);
    else dst.copy_(o);
  }
}

void init_momentum_encoder(Module& target, const Module& online) {
  std::string problems;
  const auto params = pair_by_name("parameters", target.named_parameters(), online.named_parameters(), problems);
  const auto bufs = pair_by_name("buffers", target.named_buffers(), online.named_buffers(), problems);
  if (!problems.empty())
    throw core::ValueError("init_momentum_encoder: " + target.type_name() + " (target) and " + online.type_name() +
                           " (online) differ:" + problems);
  autograd::NoGradGuard no_grad;
  for (const auto& [t, o] : params) {
    Variable tv = t;
    tv.mutable_data().copy_(o.data());
    tv.zero_grad();
  }
  for (const auto& [t, o] : bufs) {
    Tensor dst = t;
    dst.copy_(o);
  }
  target.set_requires_grad(false);
}

}  // namespace selfsup::nn
