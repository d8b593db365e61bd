#include "data/loader.h"

#include <cstring>

#include "core/error.h"
#include "data/synthetic.h"
#include "data/transforms/transform.h"

namespace selfsup::data {

Loader::Loader(std::shared_ptr<const Dataset> dataset, MultiViewTransform transform, LoaderOptions options)
    : dataset_(std::move(dataset)), transform_(std::move(transform)), options_(options) {
  core::check(dataset_ != nullptr, "Loader: dataset is null");
  core::check(transform_.num_views() > 0, "Loader: the transform has no views");
  core::check(options.batch_size > 0, "Loader: batch_size must be positive, got " + std::to_string(options.batch_size));
  core::check(options.num_workers >= 0, "Loader: num_workers must be >= 0");
  core::check(options.prefetch >= 1, "Loader: prefetch must be >= 1");
  const std::int64_t n = dataset_->size();
  num_batches_ = options.drop_last ? n / options.batch_size : (n + options.batch_size - 1) / options.batch_size;
}

Loader::~Loader() { stop(); }

void Loader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

std::vector<std::int64_t> Loader::epoch_order(std::int64_t epoch) const {
  const std::int64_t n = dataset_->size();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  if (options_.shuffle) {
    core::Generator gen(mix_seed(options_.seed, static_cast<std::uint64_t>(epoch), kShuffleStream));
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(randint(gen, 0, i + 1))]);
  }
  return order;
}

void Loader::start_epoch(std::int64_t epoch) {
  stop();
  epoch_ = epoch;
  position_ = 0;
  order_ = epoch_order(epoch);
  stopping_ = false;
  next_claim_ = 0;
  ready_.clear();
  errors_.clear();
  for (int w = 0; w < options_.num_workers && num_batches_ > 0; ++w) workers_.emplace_back([this] { worker_loop(); });
}

Batch Loader::make_batch(std::int64_t epoch, std::int64_t position, const std::vector<std::int64_t>& order) const {
  const std::int64_t begin = position * options_.batch_size;
  const std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size, static_cast<std::int64_t>(order.size()));
  core::check(begin < end, "Loader: batch " + std::to_string(position) + " is past the end of the epoch");
  const std::int64_t B = end - begin;
  const std::size_t V = transform_.num_views();
  Batch batch;
  batch.epoch = epoch;
  batch.position = position;
  batch.labels = core::Tensor(core::Shape{B}, core::DType::i64);
  batch.indices = core::Tensor(core::Shape{B}, core::DType::i64);
  auto* labels = batch.labels.data<std::int64_t>();
  auto* indices = batch.indices.data<std::int64_t>();
  std::vector<float*> out(V, nullptr);
  std::vector<std::int64_t> view_numel(V, 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int64_t index = order[static_cast<std::size_t>(begin + b)];
    Sample sample = dataset_->get(index);
    core::Generator gen(mix_seed(options_.seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(index)));
    const auto views = transform_(sample.image, gen);
    for (std::size_t v = 0; v < V; ++v) {
      const Image& image = views[v];
      if (b == 0) {
        batch.views.emplace_back(core::Shape{B, image.channels, image.height, image.width}, core::DType::f32);
        out[v] = batch.views[v].data<float>();
        view_numel[v] = image.numel();
      } else if (image.numel() != view_numel[v] || batch.views[v].size(1) != image.channels ||
                 batch.views[v].size(2) != image.height) {
        throw core::ShapeError("Loader: view " + std::to_string(v) + " of dataset index " + std::to_string(index) +
                               " has shape " + image.shape_string() + " but the batch started with " +
                               core::to_string(batch.views[v].shape()) + "; end each view pipeline with a fixed-size crop or resize");
      }
      std::memcpy(out[v] + b * view_numel[v], image.pixels.data(), static_cast<std::size_t>(view_numel[v]) * sizeof(float));
    }
    labels[b] = sample.label;
    indices[b] = index;
  }
  return batch;
}

void Loader::worker_loop() {
  for (;;) {
    std::int64_t claim = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] {
        return stopping_ || next_claim_ >= num_batches_ || next_claim_ < position_ + options_.prefetch;
      });
      if (stopping_ || next_claim_ >= num_batches_) return;
      claim = next_claim_++;
    }
    try {
      Batch batch = make_batch(epoch_, claim, order_);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(claim, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      errors_.emplace(claim, std::current_exception());
    }
    cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  core::check(epoch_ >= 0, "Loader::next: call start_epoch(epoch) first");
  if (position_ >= num_batches_) {
    stop();
    return std::nullopt;
  }
  if (options_.num_workers == 0) return make_batch(epoch_, position_++, order_);
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return ready_.count(position_) > 0 || errors_.count(position_) > 0; });
  if (auto e = errors_.find(position_); e != errors_.end()) {
    const auto error = e->second;
    lock.unlock();
    stop();
    std::rethrow_exception(error);
  }
  auto node = ready_.extract(position_);
  ++position_;
  lock.unlock();
  cv_.notify_all();  // a prefetch slot is free
  return std::move(node.mapped());
}

}  // namespace selfsup::data
