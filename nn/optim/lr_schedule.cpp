#include "nn/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/error.h"
#include "nn/optim/optimizer.h"

namespace selfsup::nn::optim {

WarmupCosineSchedule::WarmupCosineSchedule(const WarmupCosineOptions& options) : options_(options) {
  const auto& o = options_;
  core::check(o.base_lr > 0.0, "WarmupCosineSchedule: base_lr must be > 0 (got " + std::to_string(o.base_lr) + ")");
  core::check(o.final_lr >= 0.0 && o.warmup_start_lr >= 0.0,
              "WarmupCosineSchedule: final_lr and warmup_start_lr must be >= 0");
  core::check(o.warmup_steps >= 0 && o.total_steps > o.warmup_steps,
              "WarmupCosineSchedule: need 0 <= warmup_steps < total_steps (got warmup_steps " +
                  std::to_string(o.warmup_steps) + ", total_steps " + std::to_string(o.total_steps) + ")");
}

double WarmupCosineSchedule::lr_at(std::int64_t step) const {
  const auto& o = options_;
  core::check(step >= 0, "WarmupCosineSchedule.lr_at: step must be >= 0 (got " + std::to_string(step) + ")");
  if (step < o.warmup_steps)
    return o.warmup_start_lr +
           (o.base_lr - o.warmup_start_lr) * static_cast<double>(step) / static_cast<double>(o.warmup_steps);
  if (step >= o.total_steps) return o.final_lr;
  const double progress =
      static_cast<double>(step - o.warmup_steps) / static_cast<double>(o.total_steps - o.warmup_steps);
  return o.final_lr + (o.base_lr - o.final_lr) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

double WarmupCosineSchedule::factor_at(std::int64_t step) const { return lr_at(step) / options_.base_lr; }

void WarmupCosineSchedule::apply(Optimizer& optimizer, std::int64_t step) const {
  const double lr = lr_at(step);
  const double factor = lr / options_.base_lr;
  for (std::size_t i = 0; i < optimizer.num_groups(); ++i) {
    const double initial = optimizer.group(i).initial_lr;
    optimizer.set_lr(i, initial == options_.base_lr ? lr : initial * factor);
  }
}

double cosine_momentum(double base, std::int64_t step, std::int64_t total_steps, double end) {
  core::check(total_steps > 0, "cosine_momentum: total_steps must be > 0 (got " + std::to_string(total_steps) + ")");
  core::check(step >= 0, "cosine_momentum: step must be >= 0 (got " + std::to_string(step) + ")");
  const double k = static_cast<double>(std::min(step, total_steps));
  return end - (end - base) * (std::cos(std::numbers::pi * k / static_cast<double>(total_steps)) + 1.0) / 2.0;
}

}  // namespace selfsup::nn::optim
