// AdamW (Loshchilov & Hutter, decoupled weight decay): exactly torch.optim.AdamW's update
// (torch/optim/adamw.py, _single_tensor_adamw). Per parameter w with gradient g, at step t:
//   w = w * (1 - lr * weight_decay)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v)                             (amsgrad; the denominator uses v_max)
//   w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// With decoupled_weight_decay = false it is torch.optim.Adam instead: no w scaling, and
// g = g + weight_decay * w before the moments (L2 inside Adam, as DoGo's recipe uses).
#pragma once

#include <vector>

#include "nn/optim/optimizer.h"

namespace selfsup::nn::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool decoupled_weight_decay = true;  // false: torch.optim.Adam (L2 added to the gradient)
};

/// torch.optim.AdamW (or Adam). State per parameter: "step" (I64 0-d), "exp_avg", "exp_avg_sq",
/// and "max_exp_avg_sq" with amsgrad.
class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);
  AdamW(const NamedParameters& params, const AdamWOptions& options);

  const AdamWOptions& options() const { return options_; }

 protected:
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> state_fields(const Group& group) const override;
  std::vector<std::pair<std::string, double>> option_values() const override;

 private:
  AdamWOptions options_;
};

}  // namespace selfsup::nn::optim
