// SGD with momentum, dampening, Nesterov and L2 weight decay: exactly torch.optim.SGD's update
// (torch/optim/sgd.py, _single_tensor_sgd), per parameter w with gradient g:
//   d = g + weight_decay * w
//   b = d on the first step, else b = momentum * b + (1 - dampening) * d     (if momentum != 0)
//   d = d + momentum * b (nesterov) or d = b                                  (if momentum != 0)
//   w = w - lr * d
// lr multiplies the buffer from outside, so a schedule changes the step size at once.
#pragma once

#include <vector>

#include "nn/optim/optimizer.h"

namespace selfsup::nn::optim {

/// Optimizer-wide options; lr, momentum and weight_decay are also per-group defaults.
struct SGDOptions {
  double lr = 0.1;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

/// torch.optim.SGD. State per parameter: "momentum_buffer" (only in groups with momentum != 0).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);
  /// One group named "default" holding `params`.
  SGD(const NamedParameters& params, const SGDOptions& options);

  const SGDOptions& options() const { return options_; }

 protected:
  void update(const Group& group, Tensor& param, const Tensor& grad, ParamState& state) override;
  std::vector<std::string> state_fields(const Group& group) const override;
  std::vector<std::pair<std::string, double>> group_option_values(const Group& group) const override;
  std::vector<std::pair<std::string, double>> option_values() const override;

 private:
  SGDOptions options_;
};

}  // namespace selfsup::nn::optim
