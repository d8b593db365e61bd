// Parameter initialisation with PyTorch's rules (torch/nn/init.py): fan computation, gains, and
// the kaiming / xavier / uniform / normal / constant fills. Every function fills `tensor` in place
// (so views and Variables sharing its storage see the values) and draws from the Generator given,
// which makes a model's initial weights a function of one seed.
// NOTE: the values are not torch's (different RNG); the distributions are.
#pragma once

#include <cstdint>

#include "core/generator.h"
#include "core/tensor.h"

namespace selfsup::nn::init {

using core::Generator;
using core::Tensor;

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, conv2d, sigmoid, tanh, relu, leaky_relu, selu };

struct Fans {
  std::int64_t fan_in = 0;
  std::int64_t fan_out = 0;
};

/// torch's _calculate_fan_in_and_fan_out: fan_in = size(1) * receptive field, fan_out = size(0) *
/// receptive field (so a depthwise conv [C, 1, k, k] has fan_out = C k k). Needs dim >= 2.
Fans calculate_fans(const core::Shape& shape);
/// torch.nn.init.calculate_gain; `param` is leaky_relu's negative slope (torch's default 0.01).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

/// U(low, high).
void uniform_(Tensor& tensor, double low, double high, Generator& gen);
/// N(mean, std^2).
void normal_(Tensor& tensor, double mean, double std, Generator& gen);
/// N(mean, std^2) redrawn until inside [a, b] (torch's trunc_normal_ distribution).
void trunc_normal_(Tensor& tensor, double mean, double std, double a, double b, Generator& gen);
void constant_(Tensor& tensor, double value);
void zeros_(Tensor& tensor);
void ones_(Tensor& tensor);

/// U(-bound, bound), bound = gain * sqrt(3 / fan); gain from `nonlinearity` with slope `a`.
void kaiming_uniform_(Tensor& tensor, Generator& gen, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
/// N(0, std^2), std = gain / sqrt(fan).
void kaiming_normal_(Tensor& tensor, Generator& gen, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
/// U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(Tensor& tensor, Generator& gen, double gain = 1.0);
/// N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(Tensor& tensor, Generator& gen, double gain = 1.0);

/// A 64-bit seed drawn from `gen` (for modules that own a Generator, e.g. Dropout).
std::uint64_t draw_seed(Generator& gen);

}  // namespace selfsup::nn::init
