// Loader: a threaded, prefetching batch loader producing V augmented views per sample.
// Determinism: the epoch permutation comes from Generator(mix_seed(seed, epoch, kShuffleStream))
// and sample i of an epoch is augmented with its own Generator(mix_seed(seed, epoch, i)), used
// for views 0..V-1 in order. Workers claim whole batches, and batches are handed out in order, so
// the batch sequence is identical for any num_workers (0 = build batches in the calling thread).
// At most `prefetch` batches are built ahead of the consumer. The destructor (or a new epoch)
// stops and joins the workers, also mid-epoch. Output: per view a contiguous f32 CPU tensor
// [B, C, H, W] (plain host memory; pinning is left to the CUDA copy), labels and dataset indices
// as i64 [B].
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/multi_view.h"

namespace selfsup::data {

struct LoaderOptions {
  std::int64_t batch_size = 256;
  bool shuffle = true;
  bool drop_last = true;
  int num_workers = 2;    // 0: synchronous
  int prefetch = 4;       // batches built ahead of the consumer (>= 1)
  std::uint64_t seed = 0;
};

struct Batch {
  std::vector<core::Tensor> views;  // V tensors [B, C, H, W], f32
  core::Tensor labels;              // [B], i64
  core::Tensor indices;             // [B], i64: dataset indices
  std::int64_t epoch = 0;
  std::int64_t position = 0;        // index of this batch within the epoch
  std::int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, MultiViewTransform transform, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Starts (or restarts) iteration over `epoch`, stopping any batches in flight.
  void start_epoch(std::int64_t epoch);
  /// The next batch of the current epoch, or nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();
  /// Stops and joins the workers (idempotent; the destructor calls it).
  void stop();

  /// Batches per epoch.
  std::int64_t num_batches() const { return num_batches_; }
  /// Batches returned so far in the current epoch.
  std::int64_t position() const { return position_; }
  std::int64_t epoch() const { return epoch_; }
  const LoaderOptions& options() const { return options_; }

  /// The dataset order of `epoch` (the identity when shuffle is off).
  std::vector<std::int64_t> epoch_order(std::int64_t epoch) const;
  /// Builds batch `position` of `epoch` directly (what the workers run).
  Batch make_batch(std::int64_t epoch, std::int64_t position, const std::vector<std::int64_t>& order) const;

 private:
  void worker_loop();

  std::shared_ptr<const Dataset> dataset_;
  MultiViewTransform transform_;
  LoaderOptions options_;
  std::int64_t num_batches_ = 0;

  std::int64_t epoch_ = -1;
  std::int64_t position_ = 0;
  std::vector<std::int64_t> order_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::int64_t next_claim_ = 0;
  std::map<std::int64_t, Batch> ready_;
  std::map<std::int64_t, std::exception_ptr> errors_;
  std::vector<std::thread> workers_;
};

/// The key used for the shuffle stream of an epoch (distinct from every sample index).
inline constexpr std::uint64_t kShuffleStream = ~std::uint64_t{0};

}  // namespace selfsup::data
