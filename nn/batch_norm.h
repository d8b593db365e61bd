// BatchNorm1d / BatchNorm2d (torch.nn.BatchNorm1d/2d) with torch's state: parameters weight and
// bias [C] (affine), buffers running_mean [C], running_var [C] and num_batches_tracked (I64, 0-d)
// when track_running_stats. Training normalises with the batch statistics, increments
// num_batches_tracked and updates running = (1 - m) running + m stat (unbiased variance), where
// m = momentum, or 1 / num_batches_tracked when momentum is unset (cumulative average). Eval uses
// the running statistics. Initial state: weight 1, bias 0, running_mean 0, running_var 1.
// reference: torch/nn/modules/batchnorm.py (_BatchNorm.forward)
#pragma once

#include <cstdint>
#include <optional>

#include "nn/module.h"

namespace selfsup::nn {

struct BatchNormOptions {
  std::int64_t num_features = 0;
  double eps = 1e-5;
  /// Unset (std::nullopt) = cumulative moving average, like momentum=None in torch.
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

/// Shared implementation; BatchNorm1d and BatchNorm2d only differ in the accepted input rank.
class BatchNorm : public Module {
 public:
  Variable forward(const Variable& x) override;
  /// running_mean 0, running_var 1, num_batches_tracked 0.
  void reset_running_stats();
  /// reset_running_stats() and weight 1, bias 0.
  void reset_parameters();

  const BatchNormOptions& options() const { return options_; }
  /// Undefined when !affine.
  const Variable& weight() const { return weight_; }
  const Variable& bias() const { return bias_; }
  /// The registered buffers (undefined when !track_running_stats).
  Tensor running_mean() const { return buffer("running_mean"); }
  Tensor running_var() const { return buffer("running_var"); }
  Tensor num_batches_tracked() const { return buffer("num_batches_tracked"); }

 protected:
  BatchNorm(const char* type_name, BatchNormOptions options, int min_dim, int max_dim);

 private:
  // Looked up by name on every use, so Module::to() (which replaces buffers) never leaves a
  // stale handle here.
  Tensor buffer(const char* name) const;

  BatchNormOptions options_;
  int min_dim_, max_dim_;
  Variable weight_;
  Variable bias_;
};

/// x [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(BatchNormOptions options) : BatchNorm("BatchNorm1d", options, 2, 3) {}
};

/// x [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(BatchNormOptions options) : BatchNorm("BatchNorm2d", options, 4, 4) {}
};

}  // namespace selfsup::nn
