// LARS (You et al. 2017, "Large Batch Training of Convolutional Networks"), as the SSL code bases
// use it (SimCLR lars_optimizer.py, OpenSelfSup/TWIST lars.py, BYOL's optax.lars). Per parameter
// w with gradient g, group lr, momentum mu, weight decay wd, trust coefficient eta:
//   u = g + wd * w                                        (wd = 0 in the "no_decay" group)
//   r = eta * ||w|| / (||g|| + wd * ||w||)                TrustRatio::sum_of_norms (default;
//                                                         OpenSelfSup, TWIST, the LARS paper)
//   r = eta * ||w|| / ||u||                               TrustRatio::decayed_gradient (SimCLR,
//                                                         optax.lars / BYOL)
//   r = 1 when ||w|| == 0 or the gradient norm (||g||, resp. ||u||) == 0, and r = 1 when the
//         group's lars_adaptation is false (bias and BN: plain momentum SGD)
//   v = mu * v + lr * r * u                               (v starts at 0, so the first v = lr r u)
//   w = w - v            (nesterov: w = w - (mu * v + lr * r * u), SimCLR's use_nesterov)
// NOTE: lr is inside the momentum buffer (SimCLR, OpenSelfSup, optax), unlike torch SGD. Norms
// are accumulated in double. tools/make_golden_optim.py holds the same formula in Python.
#pragma once

#include <vector>

#include "nn/optim/optimizer.h"

namespace selfsup::nn::optim {

enum class TrustRatio {
  sum_of_norms,      // eta ||w|| / (||g|| + wd ||w||)
  decayed_gradient,  // eta ||w|| / ||g + wd w||
};

struct LARSOptions {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double eta = 1e-3;  // trust coefficient
  bool nesterov = false;
  TrustRatio trust_ratio = TrustRatio::sum_of_norms;
};

/// LARS. State per parameter: "momentum_buffer" (only in groups with momentum != 0).
class LARS : public Optimizer {
 public:
  LARS(std::vector<ParamGroup> groups, const LARSOptions& options);
  LARS(const NamedParameters& params, const LARSOptions& options);

  const LARSOptions& options() const { return options_; }
  /// The trust ratio r of the formula above for one weight/gradient pair (for tests and logs).
  static double trust_ratio(double weight_norm, double grad_norm, double update_norm, double weight_decay,
                            double eta, TrustRatio mode);

 protected:
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> state_fields(const Group& group) const override;
  std::vector<std::pair<std::string, double>> group_option_values(const Group& group) const override;
  std::vector<std::pair<std::string, double>> option_values() const override;

 private:
  LARSOptions options_;
};

}  // namespace selfsup::nn::optim
