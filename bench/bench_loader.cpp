// Loader throughput in augmented views per second, for the SimCLR recipe on
//   cifar: 32x32 RGB, 50000 CIFAR-like images (SyntheticDataset rendered once into uint8 records,
//          since CIFAR is not installed here; the augmentation cost does not depend on content),
//   fmnist: Debian's Fashion-MNIST train split (60000 28x28 grayscale, read from the .gz files).
// Two views per image, batch 256, drop_last, shuffled. Each case runs a warm-up of 2 batches, then
// times whole batches for at least --seconds. A plain main() (no Google Benchmark), so the numbers
// line up with tools/bench_loader_torch.py. Reports wall-clock views/s and views per CPU-second of
// the process (the latter does not depend on what else runs on the machine). Usage:
//   bench_loader [--workers N] [--seconds S] [--batch B] [--cases cifar,fmnist]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "data/idx.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "data/transforms/presets.h"

namespace data = selfsup::data;

namespace {

std::shared_ptr<const data::Dataset> cifar_like(std::int64_t n) {
  const data::SyntheticDataset synthetic({.size = n, .channels = 3, .height = 32, .width = 32, .seed = 1});
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(n) * 3 * 32 * 32);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto s = synthetic.get(i);
    for (std::size_t k = 0; k < s.image.pixels.size(); ++k)
      pixels[static_cast<std::size_t>(i) * 3072 + k] = static_cast<std::uint8_t>(s.image.pixels[k] * 255.0f + 0.5f);
    labels[static_cast<std::size_t>(i)] = s.label;
  }
  return std::make_shared<data::InMemoryDataset>(std::move(pixels), std::move(labels), 3, 32, 32, 10);
}

void run(const char* name, std::shared_ptr<const data::Dataset> dataset, const data::MultiViewTransform& transform,
         int workers, std::int64_t batch, double seconds) {
  data::Loader loader(dataset, transform, {.batch_size = batch, .num_workers = workers, .prefetch = 2 * std::max(workers, 1), .seed = 0});
  std::int64_t epoch = 0;
  loader.start_epoch(epoch);
  auto next = [&] {
    auto b = loader.next();
    if (!b) {
      loader.start_epoch(++epoch);
      b = loader.next();
    }
    return b;
  };
  for (int i = 0; i < 2; ++i) next();  // warm-up: threads started, queue primed
  using clock = std::chrono::steady_clock;
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double cpu_start = cpu_seconds();
  const auto start = clock::now();
  std::int64_t views = 0, batches = 0;
  double elapsed = 0.0;
  double checksum = 0.0;
  while (elapsed < seconds) {
    const auto b = next();
    views += b->size() * static_cast<std::int64_t>(b->views.size());
    checksum += b->views[0].data<float>()[0];
    ++batches;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  }
  const double cpu = cpu_seconds() - cpu_start;
  // views per CPU-second (all threads of this process) is insensitive to other load on the machine.
  std::printf("selfsup  %-7s workers=%d batch=%lld views/s=%.0f views/cpu-s=%.0f (%lld batches, %.1f s, %.1f cpu-s, checksum %.3f)\n",
              name, workers, static_cast<long long>(batch), static_cast<double>(views) / elapsed,
              static_cast<double>(views) / cpu, static_cast<long long>(batches), elapsed, cpu, checksum);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int workers = 2;
  double seconds = 10.0;
  std::int64_t batch = 256;
  std::string cases = "cifar,fmnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--workers") workers = std::atoi(argv[i + 1]);
    else if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (flag == "--batch") batch = std::atoll(argv[i + 1]);
    else if (flag == "--cases") cases = argv[i + 1];
    else {
      std::fprintf(stderr, "bench_loader: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    if (cases.find("cifar") != std::string::npos)
      run("cifar", cifar_like(50000), data::cifar_preset("simclr"), workers, batch, seconds);
    if (cases.find("fmnist") != std::string::npos)
      run("fmnist", std::make_shared<data::FashionMnist>(data::Split::train), data::fashion_mnist_preset("simclr"), workers,
          batch, seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: %s\n", e.what());
    return 1;
  }
  return 0;
}
