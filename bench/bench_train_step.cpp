// Training-step throughput and peak memory: forward, cross-entropy, backward, SGD step (momentum
// 0.9, weight decay 5e-4) on random data, as tools/bench_train_step_torch.py does for PyTorch.
// One configuration per process, so the peak RSS is the configuration's own.
// Usage: bench_train_step --model resnet18|efficientnet_b0|mobilenet_v3_large --batch 64
//        [--size 32] [--steps 10] [--warmup 2]. Reproduce the table: scripts/bench_train_step.sh
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/blas_setup.h"
#include "core/cpu/cpu_backend.h"
#include "nn/models/efficientnet.h"
#include "nn/models/mobilenet_v3.h"
#include "nn/models/resnet.h"
#include "nn/optim/sgd.h"

using namespace selfsup;

namespace {

std::shared_ptr<nn::Module> build(const std::string& name, core::Generator& gen) {
  if (name == "resnet18") return nn::resnet18({.num_classes = 10, .cifar_stem = true}, gen);
  if (name == "resnet50") return nn::resnet50({.num_classes = 10, .cifar_stem = true}, gen);
  if (name == "efficientnet_b0") return nn::efficientnet_b0({.num_classes = 10}, gen);
  if (name == "mobilenet_v3_large") return nn::mobilenet_v3_large({.num_classes = 10}, gen);
  throw core::ValueError("bench_train_step: unknown model '" + name + "'");
}

}  // namespace

int main(int argc, char** argv) try {
  std::string model_name = "resnet18";
  std::int64_t batch = 64, size = 32, steps = 10, warmup = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--model") model_name = value;
    else if (key == "--batch") batch = std::stoll(value);
    else if (key == "--size") size = std::stoll(value);
    else if (key == "--steps") steps = std::stoll(value);
    else if (key == "--warmup") warmup = std::stoll(value);
    else throw core::ValueError("bench_train_step: unknown option '" + key + "'");
  }
  core::Generator gen(0);
  auto model = build(model_name, gen);
  model->train();
  nn::optim::SGD optimizer(model->named_parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
  const core::Tensor x = core::Tensor::randn({batch, 3, size, size}, gen);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 10);
  const core::Tensor y = core::Tensor::from_vector(labels);
  std::vector<double> times;
  std::size_t after_forward = 0;
  for (std::int64_t step = 0; step < warmup + steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    const autograd::Variable loss = autograd::cross_entropy((*model)(autograd::Variable(x)), y);
    after_forward = std::max(after_forward, core::cpu::allocated_bytes());
    loss.backward();
    optimizer.step();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (step >= warmup) times.push_back(elapsed);
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "selfsup " << model_name << " batch " << batch << ": " << static_cast<double>(batch) / median
            << " images/s (median of " << steps << " steps), peak RSS " << usage.ru_maxrss / 1024 << " MB, threads "
            << core::get_num_threads() << ", OpenBLAS kernels " << core::cpu::blas_kernel_name()
            << "; large-block tensor memory: " << after_forward / (1 << 20)
            << " MB after forward, peak " << core::cpu::peak_allocated_bytes() / (1 << 20) << " MB\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_train_step: " << e.what() << "\n";
  return 1;
}
