// conv2d on the CPU backend for every distinct ResNet-18 (CIFAR stem) conv shape at batch 128:
// forward, and forward + both backward passes (input and weight gradients), f32, no bias.
// tools/bench_conv_torch.py times the same shapes with torch.nn.functional.conv2d and
// scripts/bench_conv.sh runs both and prints the ratio per shape. "CPU" is the whole process's
// CPU time per iteration (all threads), a load-robust view of efficiency on a shared machine.
//   ./bench_conv --benchmark_filter=fwd/           (one mode)
//   SELFSUP_BENCH_BATCH=32 ./bench_conv             (another batch size)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/benchmark_main.h"
#include "core/backend.h"
#include "core/ops.h"
#include "core/tensor.h"

namespace {

using selfsup::core::Conv2dParams;
using selfsup::core::DType;
using selfsup::core::Generator;
using selfsup::core::Tensor;

struct ConvShape {
  const char* name;
  std::int64_t in_channels, out_channels, kernel, stride, padding, size;
};

// Distinct conv shapes of ResNet-18 with the CIFAR stem (3x3 conv, no max pool), input 32x32.
const std::vector<ConvShape>& resnet18_shapes() {
  static const std::vector<ConvShape> shapes = {
      {"3-64_3x3_s1_32", 3, 64, 3, 1, 1, 32},      {"64-64_3x3_s1_32", 64, 64, 3, 1, 1, 32},
      {"64-128_3x3_s2_32", 64, 128, 3, 2, 1, 32},  {"64-128_1x1_s2_32", 64, 128, 1, 2, 0, 32},
      {"128-128_3x3_s1_16", 128, 128, 3, 1, 1, 16}, {"128-256_3x3_s2_16", 128, 256, 3, 2, 1, 16},
      {"128-256_1x1_s2_16", 128, 256, 1, 2, 0, 16}, {"256-256_3x3_s1_8", 256, 256, 3, 1, 1, 8},
      {"256-512_3x3_s2_8", 256, 512, 3, 2, 1, 8},   {"256-512_1x1_s2_8", 256, 512, 1, 2, 0, 8},
      {"512-512_3x3_s1_4", 512, 512, 3, 1, 1, 4},
  };
  return shapes;
}

std::int64_t batch_size() {
  const char* env = std::getenv("SELFSUP_BENCH_BATCH");
  return env ? std::atoll(env) : 128;
}

struct ConvSetup {
  Tensor x, w, grad_out;
  Conv2dParams p;
  double flops;  // forward multiply-adds x 2
};

ConvSetup make_setup(const ConvShape& s) {
  Generator gen(0);
  ConvSetup c;
  const std::int64_t n = batch_size();
  // Uniform draws: the values do not change the timing, and they are much cheaper to make than normals.
  c.x = Tensor::rand({n, s.in_channels, s.size, s.size}, gen, DType::f32, -1.0, 1.0);
  c.w = Tensor::rand({s.out_channels, s.in_channels, s.kernel, s.kernel}, gen, DType::f32, -0.05, 0.05);
  c.p.stride_h = c.p.stride_w = s.stride;
  c.p.pad_h = c.p.pad_w = s.padding;
  const auto out = selfsup::core::conv2d_output_shape(c.x.shape(), c.w.shape(), c.p);
  c.grad_out = Tensor::rand(out, gen, DType::f32, -1.0, 1.0);
  c.flops = 2.0 * static_cast<double>(selfsup::core::numel(out)) *
            static_cast<double>(s.in_channels * s.kernel * s.kernel);
  return c;
}

void bench_forward(benchmark::State& state, const ConvShape& shape) {
  const ConvSetup c = make_setup(shape);
  for (auto _ : state) {
    Tensor y = selfsup::core::conv2d_forward(c.x, c.w, Tensor(), c.p);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(c.flops * static_cast<double>(state.iterations()) * 1e-9,
                                                benchmark::Counter::kIsRate);
}

void bench_forward_backward(benchmark::State& state, const ConvShape& shape) {
  const ConvSetup c = make_setup(shape);
  for (auto _ : state) {
    Tensor y = selfsup::core::conv2d_forward(c.x, c.w, Tensor(), c.p);
    Tensor dx = selfsup::core::conv2d_backward_input(c.grad_out, c.w, c.x.shape(), c.p);
    Tensor dw = selfsup::core::conv2d_backward_weight(c.grad_out, c.x, c.w.shape(), c.p);
    benchmark::DoNotOptimize(y.raw_data());
    benchmark::DoNotOptimize(dx.raw_data());
    benchmark::DoNotOptimize(dw.raw_data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(3.0 * c.flops * static_cast<double>(state.iterations()) * 1e-9,
                                                benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (const ConvShape& s : resnet18_shapes()) {
    benchmark::RegisterBenchmark((std::string("fwd/") + s.name).c_str(), bench_forward, s)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("fwdbwd/") + s.name).c_str(), bench_forward_backward, s)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
  }
  return true;
}();

}  // namespace

int main(int argc, char** argv) { return selfsup::bench::run_benchmarks(argc, argv); }
