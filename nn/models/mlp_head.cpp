#include "nn/models/mlp_head.h"

#include <string>

#include "core/error.h"
#include "nn/activation.h"
#include "nn/batch_norm.h"
#include "nn/linear.h"

namespace selfsup::nn {

MLPHead::MLPHead(MLPHeadOptions options, core::Generator& gen) : Module("MLPHead"), options_(std::move(options)) {
  core::check(options_.in_features > 0 && options_.out_features > 0,
              "MLPHead: in_features and out_features must be positive (in_features " +
                  std::to_string(options_.in_features) + ", out_features " + std::to_string(options_.out_features) +
                  ")");
  const auto add = [&](std::shared_ptr<Module> m) {
    register_module(std::to_string(layers_.size()), m);
    layers_.push_back(std::move(m));
  };
  std::int64_t prev = options_.in_features;
  for (const std::int64_t h : options_.hidden_features) {
    core::check(h > 0, "MLPHead: hidden widths must be positive, got " + std::to_string(h));
    add(std::make_shared<Linear>(LinearOptions{.in_features = prev, .out_features = h, .bias = options_.hidden_bias}, gen));
    if (options_.batch_norm) add(std::make_shared<BatchNorm1d>(BatchNormOptions{.num_features = h}));
    add(std::make_shared<ReLU>());
    prev = h;
  }
  add(std::make_shared<Linear>(
      LinearOptions{.in_features = prev, .out_features = options_.out_features, .bias = options_.last_bias}, gen));
  if (options_.last_batch_norm) {
    add(std::make_shared<BatchNorm1d>(
        BatchNormOptions{.num_features = options_.out_features, .affine = options_.last_batch_norm_affine}));
  }
}

Variable MLPHead::forward(const Variable& x) {
  Variable y = x;
  for (const auto& m : layers_) y = (*m)(y);
  return y;
}

}  // namespace selfsup::nn
