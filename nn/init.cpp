// PyTorch's initialisation rules; reference: torch/nn/init.py (torch 1.13).
#include "nn/init.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"

namespace selfsup::nn::init {

namespace {

void check_float(const Tensor& t, const char* op) {
  core::check(t.defined(), std::string("init.") + op + ": the tensor is undefined");
  core::check<core::DTypeError>(core::is_floating(t.dtype()), std::string("init.") + op +
                                                                  ": expected a floating tensor, got " +
                                                                  core::name(t.dtype()));
}

std::int64_t fan(const Tensor& t, FanMode mode) {
  const Fans f = calculate_fans(t.shape());
  return mode == FanMode::fan_in ? f.fan_in : f.fan_out;
}

}  // namespace

Fans calculate_fans(const core::Shape& shape) {
  core::check<core::ShapeError>(shape.size() >= 2, "init.calculate_fans: fan in and fan out need a tensor with "
                                                   "at least 2 dimensions (shape " + core::to_string(shape) + ")");
  std::int64_t receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return Fans{shape[1] * receptive, shape[0] * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::conv2d:
    case Nonlinearity::sigmoid: return 1.0;
    case Nonlinearity::tanh: return 5.0 / 3.0;
    case Nonlinearity::relu: return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::selu: return 3.0 / 4.0;
  }
  return 1.0;
}

void uniform_(Tensor& tensor, double low, double high, Generator& gen) {
  check_float(tensor, "uniform_");
  core::check(low <= high, "init.uniform_: low must be <= high (low " + std::to_string(low) + ", high " +
                               std::to_string(high) + ")");
  tensor.copy_(Tensor::rand(tensor.shape(), gen, tensor.dtype(), low, high, tensor.device()));
}

void normal_(Tensor& tensor, double mean, double std, Generator& gen) {
  check_float(tensor, "normal_");
  tensor.copy_(Tensor::randn(tensor.shape(), gen, tensor.dtype(), mean, std, tensor.device()));
}

void trunc_normal_(Tensor& tensor, double mean, double std, double a, double b, Generator& gen) {
  check_float(tensor, "trunc_normal_");
  core::check(a < b && std > 0.0, "init.trunc_normal_: need a < b and std > 0 (a " + std::to_string(a) + ", b " +
                                      std::to_string(b) + ", std " + std::to_string(std) + ")");
  // Rejection sampling in f64 on the CPU: every element is redrawn until it lands in [a, b].
  const std::int64_t n = tensor.numel();
  std::vector<double> values(static_cast<std::size_t>(n));
  std::vector<std::size_t> pending(values.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  for (int round = 0; !pending.empty(); ++round) {
    core::check(round < 1000, "init.trunc_normal_: [a, b] has too little probability mass under N(mean, std^2)");
    const auto draw =
        Tensor::randn({static_cast<std::int64_t>(pending.size())}, gen, core::DType::f64, mean, std).to_vector<double>();
    std::vector<std::size_t> still;
    for (std::size_t j = 0; j < pending.size(); ++j) {
      if (draw[j] >= a && draw[j] <= b) values[pending[j]] = draw[j];
      else still.push_back(pending[j]);
    }
    pending.swap(still);
  }
  tensor.copy_(Tensor::from_vector(values, tensor.shape()));
}

void constant_(Tensor& tensor, double value) {
  check_float(tensor, "constant_");
  tensor.copy_(Tensor::scalar(value, tensor.dtype(), tensor.device()));
}

void zeros_(Tensor& tensor) { constant_(tensor, 0.0); }
void ones_(Tensor& tensor) { constant_(tensor, 1.0); }

void kaiming_uniform_(Tensor& tensor, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_float(tensor, "kaiming_uniform_");
  const std::int64_t f = fan(tensor, mode);
  core::check(f > 0, "init.kaiming_uniform_: zero fan for shape " + core::to_string(tensor.shape()));
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(f));
  uniform_(tensor, -bound, bound, gen);
}

void kaiming_normal_(Tensor& tensor, Generator& gen, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_float(tensor, "kaiming_normal_");
  const std::int64_t f = fan(tensor, mode);
  core::check(f > 0, "init.kaiming_normal_: zero fan for shape " + core::to_string(tensor.shape()));
  normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(f)), gen);
}

void xavier_uniform_(Tensor& tensor, Generator& gen, double gain) {
  check_float(tensor, "xavier_uniform_");
  const Fans f = calculate_fans(tensor.shape());
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(f.fan_in + f.fan_out));
  uniform_(tensor, -bound, bound, gen);
}

void xavier_normal_(Tensor& tensor, Generator& gen, double gain) {
  check_float(tensor, "xavier_normal_");
  const Fans f = calculate_fans(tensor.shape());
  normal_(tensor, 0.0, gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out)), gen);
}

std::uint64_t draw_seed(Generator& gen) {
  const auto block = core::philox4x32(gen.seed(), gen.advance(1));
  return (static_cast<std::uint64_t>(block[0]) << 32) | block[1];
}

}  // namespace selfsup::nn::init
