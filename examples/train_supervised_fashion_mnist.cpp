// Supervised training of a (width-reduced) ResNet on Fashion-MNIST on the CPU: the proof that the
// engine learns. Data: Debian's dataset-fashion-mnist (gzipped IDX) through data::FashionMnist and
// the threaded Loader; model: nn::resnet18 with a CIFAR stem and 1 input channel; SGD with
// Nesterov momentum, linear warm-up + cosine schedule; test accuracy after every epoch; a
// checkpoint after every epoch when --checkpoint is given (resumable with --resume).
// Run: scripts/run.sh [options] (or build/examples/train_supervised_fashion_mnist --help).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "autograd/functions.h"
#include "core/backend.h"
#include "core/cpu/blas_setup.h"
#include "data/idx.h"
#include "data/loader.h"
#include "data/stats.h"
#include "data/transforms/horizontal_flip.h"
#include "data/transforms/normalize.h"
#include "nn/checkpoint.h"
#include "nn/models/resnet.h"
#include "nn/optim/lr_schedule.h"
#include "nn/optim/sgd.h"

using namespace selfsup;
using autograd::Variable;
using core::Tensor;

namespace {

struct Config {
  std::string data_dir = data::default_fashion_mnist_root();
  std::string model = "resnet18";
  double width = 0.25;
  std::int64_t epochs = 4;
  std::int64_t batch_size = 128;
  double lr = 0.1;
  double weight_decay = 5e-4;
  double label_smoothing = 0.0;
  int workers = 1;
  int threads = 0;
  std::uint64_t seed = 0;
  std::int64_t log_every = 50;
  std::int64_t max_train_batches = -1;  // for quick runs
  std::string checkpoint;
  bool resume = false;
};

std::shared_ptr<nn::ResNet> build_model(const Config& c, core::Generator& gen) {
  const nn::ResNetOptions options{.num_classes = 10, .cifar_stem = true, .width_multiplier = c.width, .in_channels = 1};
  if (c.model == "resnet18") return nn::resnet18(options, gen);
  if (c.model == "resnet34") return nn::resnet34(options, gen);
  if (c.model == "resnet50") return nn::resnet50(options, gen);
  throw core::ValueError("--model: unknown model '" + c.model + "' (resnet18, resnet34, resnet50)");
}

// Top-1 accuracy over a whole split, in eval mode without recording history.
double evaluate(nn::Module& model, data::Loader& loader) {
  autograd::NoGradGuard no_grad;
  model.eval();
  std::int64_t correct = 0, total = 0;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const Tensor predicted = core::argmax(model(Variable(batch->views[0])).data(), 1);
    const auto p = predicted.to_vector<std::int64_t>();
    const auto y = batch->labels.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < p.size(); ++i) correct += p[i] == y[i];
    total += static_cast<std::int64_t>(p.size());
  }
  model.train();
  return total == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(total);
}

std::map<std::string, std::string> describe(const Config& c) {
  return {{"model", c.model},           {"width", std::to_string(c.width)},
          {"epochs", std::to_string(c.epochs)}, {"batch_size", std::to_string(c.batch_size)},
          {"lr", std::to_string(c.lr)},   {"weight_decay", std::to_string(c.weight_decay)},
          {"seed", std::to_string(c.seed)}, {"dataset", "fashion-mnist"},
          {"normalization", data::Normalization::fashion_mnist().to_string()}};
}

int run(const Config& c) {
  if (c.threads > 0) core::set_num_threads(c.threads);
  const auto norm = data::Normalization::fashion_mnist();
  auto train_set = std::make_shared<data::FashionMnist>(data::Split::train, c.data_dir);
  auto test_set = std::make_shared<data::FashionMnist>(data::Split::test, c.data_dir);
  const auto train_transform = data::MultiViewTransform::repeat(
      std::make_shared<data::Compose>(std::vector<data::TransformPtr>{
          data::make<data::RandomHorizontalFlip>(0.5), data::make<data::Normalize>(norm.mean, norm.std)}),
      1);
  const auto test_transform = data::MultiViewTransform::repeat(data::make<data::Normalize>(norm.mean, norm.std), 1);
  data::Loader train_loader(train_set, train_transform,
                            {.batch_size = c.batch_size, .shuffle = true, .drop_last = true, .num_workers = c.workers,
                             .seed = c.seed});
  data::Loader test_loader(test_set, test_transform,
                           {.batch_size = 500, .shuffle = false, .drop_last = false, .num_workers = c.workers});

  core::Generator gen(c.seed);
  auto model = build_model(c, gen);
  nn::optim::SGD optimizer(nn::optim::split_decay_groups(*model),
                           {.lr = c.lr, .momentum = 0.9, .weight_decay = c.weight_decay, .nesterov = true});
  const std::int64_t batches = c.max_train_batches > 0 ? std::min(c.max_train_batches, train_loader.num_batches())
                                                       : train_loader.num_batches();
  const nn::optim::WarmupCosineSchedule schedule(
      {.base_lr = c.lr, .final_lr = 0.0, .warmup_steps = batches / 2, .total_steps = c.epochs * batches});
  std::int64_t step = 0;
  if (c.resume) {
    const auto info = nn::load_checkpoint(c.checkpoint, *model, &optimizer);
    step = info.step;
    std::printf("resumed from %s at step %lld\n", c.checkpoint.c_str(), static_cast<long long>(step));
  }
  std::printf("%s (width %.2f): %lld parameters; %lld train / %lld test images; %lld batches of %lld per epoch; "
              "%d threads, OpenBLAS kernels %s\n",
              c.model.c_str(), c.width, static_cast<long long>(model->parameter_count()),
              static_cast<long long>(train_set->size()), static_cast<long long>(test_set->size()),
              static_cast<long long>(batches), static_cast<long long>(c.batch_size), core::get_num_threads(),
              core::cpu::blas_kernel_name().c_str());
  const auto run_start = std::chrono::steady_clock::now();
  double accuracy = 0.0;
  for (std::int64_t epoch = step / batches; epoch < c.epochs; ++epoch) {
    train_loader.start_epoch(epoch);
    double loss_sum = 0.0;
    std::int64_t seen = 0, correct = 0, position = 0;
    auto window_start = std::chrono::steady_clock::now();
    while (auto batch = train_loader.next()) {
      if (position++ < step - epoch * batches) continue;  // resuming mid-epoch
      if (position > batches) break;
      schedule.apply(optimizer, step);
      optimizer.zero_grad();
      const Variable logits = (*model)(Variable(batch->views[0]));
      const Variable loss = autograd::cross_entropy(logits, batch->labels, c.label_smoothing);
      const double loss_value = loss.item();
      if (!std::isfinite(loss_value))
        throw core::ValueError("training diverged: loss is " + std::to_string(loss_value) + " at step " +
                               std::to_string(step) + " (epoch " + std::to_string(epoch) + ")");
      loss.backward();
      optimizer.step();
      ++step;
      loss_sum += loss_value * static_cast<double>(batch->size());
      seen += batch->size();
      const auto p = core::argmax(logits.data(), 1).to_vector<std::int64_t>();
      const auto y = batch->labels.to_vector<std::int64_t>();
      for (std::size_t i = 0; i < p.size(); ++i) correct += p[i] == y[i];
      if (position % c.log_every == 0 || position == batches) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        std::printf("epoch %lld [%lld/%lld] loss %.4f train acc %.4f lr %.4f %.1f img/s\n",
                    static_cast<long long>(epoch + 1), static_cast<long long>(position), static_cast<long long>(batches),
                    loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen),
                    optimizer.lr(0), static_cast<double>(c.log_every * c.batch_size) / secs);
        std::fflush(stdout);
        window_start = std::chrono::steady_clock::now();
      }
    }
    accuracy = evaluate(*model, test_loader);
    const double minutes = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count() / 60.0;
    std::printf("epoch %lld done: test accuracy %.4f (%.1f min elapsed)\n", static_cast<long long>(epoch + 1), accuracy,
                minutes);
    std::fflush(stdout);
    if (!c.checkpoint.empty()) nn::save_checkpoint(c.checkpoint, *model, &optimizer, step, describe(c));
  }
  std::printf("final test accuracy %.4f\n", accuracy);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Train a ResNet on Fashion-MNIST (supervised) with selfsup on the CPU"};
  app.add_option("--data-dir", c.data_dir, "folder with the Fashion-MNIST IDX files (plain or .gz)");
  app.add_option("--model", c.model, "resnet18, resnet34 or resnet50")->capture_default_str();
  app.add_option("--width", c.width, "width multiplier of every stage")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--epochs", c.epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch-size", c.batch_size, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", c.lr, "peak learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", c.weight_decay, "weight decay (not on biases and BN)")->capture_default_str();
  app.add_option("--label-smoothing", c.label_smoothing, "label smoothing")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--workers", c.workers, "data loader threads")->capture_default_str()->check(CLI::Range(0, 64));
  app.add_option("--threads", c.threads, "compute threads (0: OMP_NUM_THREADS)")->capture_default_str();
  app.add_option("--seed", c.seed, "random seed")->capture_default_str();
  app.add_option("--log-every", c.log_every, "batches between progress lines")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-train-batches", c.max_train_batches, "limit batches per epoch (quick runs)")->capture_default_str();
  app.add_option("--checkpoint", c.checkpoint, "save a checkpoint here after every epoch");
  app.add_flag("--resume", c.resume, "resume from --checkpoint")->needs("--checkpoint");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(c);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_supervised_fashion_mnist: error: %s\n", e.what());
    return 1;
  }
}
