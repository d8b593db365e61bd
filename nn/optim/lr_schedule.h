// Per-step learning-rate schedule: linear warm-up, then cosine decay to a final lr. With W warm-up
// steps, T total steps, base lr b, final lr f and warm-up start s:
//   t <  W:        lr = s + (b - s) * t / W
//   W <= t <= T:   lr = f + (b - f) * (1 + cos(pi * (t - W) / (T - W))) / 2
//   t >  T:        lr = f
// This is torch's SequentialLR(LinearLR(start_factor = s / b, total_iters = W),
// CosineAnnealingLR(T_max = T - W, eta_min = f), milestones = [W]) in closed form, stepped once
// per optimizer step (t = number of steps already taken); SimCLR and BYOL use s = 0.
// tools/make_golden_optim.py checks both against each other and stores the values.
#pragma once

#include <cstdint>

namespace selfsup::nn::optim {

class Optimizer;

struct WarmupCosineOptions {
  double base_lr = 0.1;
  double final_lr = 0.0;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  double warmup_start_lr = 0.0;
};

/// Linear warm-up + cosine decay, evaluated in closed form at any step.
class WarmupCosineSchedule {
 public:
  explicit WarmupCosineSchedule(const WarmupCosineOptions& options);

  /// The lr for the optimizer step `step` (0-based: the first step uses lr_at(0)).
  double lr_at(std::int64_t step) const;
  /// lr_at(step) / base_lr: the factor for Optimizer::scale_lr when groups have different lrs.
  double factor_at(std::int64_t step) const;
  /// Sets every group's lr for `step`: initial_lr * factor_at(step), so groups keep their ratios;
  /// a group whose initial lr is the schedule's base_lr gets exactly lr_at(step).
  void apply(Optimizer& optimizer, std::int64_t step) const;

  const WarmupCosineOptions& options() const { return options_; }

 private:
  WarmupCosineOptions options_;
};

/// BYOL's target momentum: m_k = 1 - (1 - base) * (cos(pi * k / K) + 1) / 2, rising from `base`
/// at k = 0 to 1 at k = K (and staying there). The TWIST form with an end value other than 1 is
/// end - (end - base) * (cos(pi k / K) + 1) / 2.
double cosine_momentum(double base, std::int64_t step, std::int64_t total_steps, double end = 1.0);

}  // namespace selfsup::nn::optim
