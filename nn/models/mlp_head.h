// MLP heads for self-supervised methods (projectors and predictors): for each hidden width h,
// Linear(prev, h) -> [BatchNorm1d(h)] -> ReLU, then Linear(prev, out_features) -> [BatchNorm1d].
// Children are numbered like torch.nn.Sequential ("0", "1", ...), so a PyTorch head written as
// nn.Sequential(nn.Linear, nn.BatchNorm1d, nn.ReLU, ..., nn.Linear) has the same state dict keys.
// Examples: SimCLR/BYOL projector {.in_features = 512, .hidden_features = {4096}, .out_features = 256};
// SimSiam projector with last_batch_norm and last_batch_norm_affine = false.
// x [N, in_features] -> y [N, out_features].
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct MLPHeadOptions {
  std::int64_t in_features = 0;
  /// One Linear-[BN]-ReLU stage per entry (empty: a single Linear).
  std::vector<std::int64_t> hidden_features = {};
  std::int64_t out_features = 0;
  /// BatchNorm1d after each hidden Linear.
  bool batch_norm = true;
  /// BatchNorm1d after the last Linear.
  bool last_batch_norm = false;
  /// Whether that last BN has weight and bias (SimSiam's projector uses affine = false).
  bool last_batch_norm_affine = true;
  /// Bias on the hidden Linears (a BN right after makes it redundant) and on the last Linear.
  bool hidden_bias = true;
  bool last_bias = true;
};

class MLPHead : public Module {
 public:
  explicit MLPHead(MLPHeadOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  const MLPHeadOptions& options() const { return options_; }

 private:
  MLPHeadOptions options_;
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace selfsup::nn
