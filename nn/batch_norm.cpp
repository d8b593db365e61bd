#include "nn/batch_norm.h"

#include <string>

#include "core/error.h"
#include "nn/init.h"

namespace selfsup::nn {

BatchNorm::BatchNorm(const char* type_name, BatchNormOptions options, int min_dim, int max_dim)
    : Module(type_name), options_(options), min_dim_(min_dim), max_dim_(max_dim) {
  const std::int64_t C = options_.num_features;
  core::check(C > 0, std::string(type_name) + ": num_features must be positive, got " + std::to_string(C));
  core::check(options_.eps >= 0.0, std::string(type_name) + ": eps must be non-negative");
  if (options_.affine) {
    weight_ = register_parameter("weight", Tensor::ones({C}));
    bias_ = register_parameter("bias", Tensor::zeros({C}));
  }
  if (options_.track_running_stats) {
    register_buffer("running_mean", Tensor::zeros({C}));
    register_buffer("running_var", Tensor::ones({C}));
    register_buffer("num_batches_tracked", Tensor::scalar(0.0, DType::i64));
  }
}

Tensor BatchNorm::buffer(const char* name) const {
  for (auto& [n, b] : named_buffers(false))
    if (n == name) return b;
  return Tensor();
}

void BatchNorm::reset_running_stats() {
  if (!options_.track_running_stats) return;
  running_mean().fill_(0.0);
  running_var().fill_(1.0);
  num_batches_tracked().fill_(0.0);
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (weight_.defined()) init::ones_(weight_.mutable_data());
  if (bias_.defined()) init::zeros_(bias_.mutable_data());
}

Variable BatchNorm::forward(const Variable& x) {
  core::check<core::ShapeError>(
      x.dim() >= min_dim_ && x.dim() <= max_dim_ && x.size(1) == options_.num_features,
      type_name() + ": expected input " +
          (min_dim_ == 4 ? "[N, " + std::to_string(options_.num_features) + ", H, W]"
                         : "[N, " + std::to_string(options_.num_features) + "] or [N, " +
                               std::to_string(options_.num_features) + ", L]") +
          " (x has shape " + core::to_string(x.shape()) + ")");
  Tensor running_mean, running_var;
  double factor = options_.momentum.value_or(0.0);
  if (options_.track_running_stats) {
    running_mean = buffer("running_mean");
    running_var = buffer("running_var");
    if (is_training()) {
      Tensor count = buffer("num_batches_tracked");
      const auto n = count.item<std::int64_t>() + 1;
      count.fill_(static_cast<double>(n));
      if (!options_.momentum) factor = 1.0 / static_cast<double>(n);
    }
  }
  // Without running statistics, eval mode normalises with the batch statistics (torch).
  const bool batch_stats = is_training() || !running_mean.defined();
  return autograd::batch_norm(x, weight_, bias_, running_mean, running_var, batch_stats, factor, options_.eps);
}

}  // namespace selfsup::nn
