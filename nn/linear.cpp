#include "nn/linear.h"

#include <cmath>

#include "core/error.h"
#include "nn/init.h"

namespace selfsup::nn {

Linear::Linear(LinearOptions options, core::Generator& gen) : Module("Linear"), options_(options) {
  core::check(options_.in_features > 0 && options_.out_features > 0,
              "Linear: in_features and out_features must be positive (in_features " +
                  std::to_string(options_.in_features) + ", out_features " + std::to_string(options_.out_features) +
                  ")");
  weight_ = register_parameter("weight", Tensor::empty({options_.out_features, options_.in_features}));
  if (options_.bias) bias_ = register_parameter("bias", Tensor::empty({options_.out_features}));
  reset_parameters(gen);
}

void Linear::reset_parameters(core::Generator& gen) {
  init::kaiming_uniform_(weight_.mutable_data(), gen, std::sqrt(5.0));
  if (bias_.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options_.in_features));
    init::uniform_(bias_.mutable_data(), -bound, bound, gen);
  }
}

Variable Linear::forward(const Variable& x) {
  core::check<core::ShapeError>(x.dim() >= 1 && x.size(-1) == options_.in_features,
                                "Linear: expected input [*, " + std::to_string(options_.in_features) +
                                    "] (x has shape " + core::to_string(x.shape()) + ")");
  return autograd::linear(x, weight_, bias_);
}

std::int64_t Linear::flops(const Shape& input_shape, const Shape& output_shape) const {
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < input_shape.size(); ++i) rows *= input_shape[i];
  return 2 * rows * options_.in_features * options_.out_features;
}

}  // namespace selfsup::nn
