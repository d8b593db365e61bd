// Loader: determinism across worker counts, per-epoch shuffling, drop_last, error propagation
// and clean shutdown mid-epoch.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>

#include "core/error.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "data/transforms/presets.h"

namespace data = selfsup::data;

namespace {

std::shared_ptr<const data::Dataset> synthetic(std::int64_t n, std::int64_t channels = 3) {
  return std::make_shared<data::SyntheticDataset>(
      data::SyntheticOptions{.size = n, .channels = channels, .height = 32, .width = 32, .seed = 1});
}

/// Flattened contents of every batch of one epoch (views, labels, indices).
struct EpochDump {
  std::vector<std::vector<float>> views;
  std::vector<std::vector<std::int64_t>> labels, indices;
  bool operator==(const EpochDump&) const = default;
};

EpochDump run_epoch(data::Loader& loader, std::int64_t epoch) {
  EpochDump dump;
  loader.start_epoch(epoch);
  while (auto batch = loader.next()) {
    for (const auto& v : batch->views) dump.views.push_back(v.to_vector<float>());
    dump.labels.push_back(batch->labels.to_vector<std::int64_t>());
    dump.indices.push_back(batch->indices.to_vector<std::int64_t>());
  }
  return dump;
}

/// Counts get() calls and optionally throws at one index.
class ProbeDataset : public data::Dataset {
 public:
  ProbeDataset(std::shared_ptr<const data::Dataset> inner, std::int64_t throw_at = -1)
      : inner_(std::move(inner)), throw_at_(throw_at) {}
  std::int64_t size() const override { return inner_->size(); }
  data::Sample get(std::int64_t i) const override {
    ++calls;
    if (i == throw_at_) throw selfsup::core::IoError("probe: corrupt record " + std::to_string(i));
    return inner_->get(i);
  }
  std::int64_t num_classes() const override { return inner_->num_classes(); }
  mutable std::atomic<std::int64_t> calls{0};

 private:
  std::shared_ptr<const data::Dataset> inner_;
  std::int64_t throw_at_;
};

}  // namespace

TEST_CASE("loader: same seed gives identical batches with 0 1 and 2 workers") {
  const auto ds = synthetic(50);
  std::vector<EpochDump> dumps;
  for (const int workers : {0, 1, 2}) {
    data::Loader loader(ds, data::cifar_preset("simclr"), {.batch_size = 8, .num_workers = workers, .prefetch = 2, .seed = 123});
    CHECK(loader.num_batches() == 6);
    dumps.push_back(run_epoch(loader, 3));
  }
  REQUIRE(dumps[0].views.size() == 12);
  CHECK(dumps[0] == dumps[1]);
  CHECK(dumps[0] == dumps[2]);
}

TEST_CASE("loader: different epochs and seeds give different batches") {
  const auto ds = synthetic(40);
  data::Loader loader(ds, data::cifar_preset("byol"), {.batch_size = 10, .num_workers = 2, .seed = 5});
  const auto e0 = run_epoch(loader, 0);
  const auto e1 = run_epoch(loader, 1);
  const auto e0_again = run_epoch(loader, 0);
  CHECK(e0 == e0_again);
  CHECK(e0.indices != e1.indices);
  CHECK(e0.views != e1.views);
  data::Loader other(ds, data::cifar_preset("byol"), {.batch_size = 10, .num_workers = 2, .seed = 6});
  CHECK(run_epoch(other, 0).indices != e0.indices);
}

TEST_CASE("loader: batch shapes labels and indices are consistent and each index appears once") {
  const auto ds = synthetic(37, 1);
  data::Loader loader(ds, data::fashion_mnist_preset("mocov2"), {.batch_size = 8, .drop_last = false, .num_workers = 2});
  CHECK(loader.num_batches() == 5);
  loader.start_epoch(0);
  std::multiset<std::int64_t> seen;
  std::int64_t last_size = 0;
  while (auto batch = loader.next()) {
    CHECK(batch->position == loader.position() - 1);
    REQUIRE(batch->views.size() == 2);
    CHECK(batch->views[0].shape() == selfsup::core::Shape{batch->size(), 1, 28, 28});
    CHECK(batch->views[1].is_contiguous());
    const auto labels = batch->labels.to_vector<std::int64_t>();
    const auto indices = batch->indices.to_vector<std::int64_t>();
    for (std::size_t b = 0; b < indices.size(); ++b) {
      CHECK(labels[b] == ds->label(indices[b]));
      seen.insert(indices[b]);
    }
    last_size = batch->size();
  }
  CHECK(last_size == 5);
  CHECK(seen.size() == 37);
  CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == 37);
  CHECK(loader.position() == 5);
}

TEST_CASE("loader: drop_last drops the partial batch and shuffle off keeps dataset order") {
  const auto ds = synthetic(21);
  data::Loader loader(ds, data::cifar_preset("simclr"), {.batch_size = 4, .shuffle = false, .drop_last = true, .num_workers = 1});
  CHECK(loader.num_batches() == 5);
  const auto dump = run_epoch(loader, 0);
  REQUIRE(dump.indices.size() == 5);
  CHECK(dump.indices[1] == std::vector<std::int64_t>{4, 5, 6, 7});
}

TEST_CASE("loader: stopping mid-epoch joins workers without building the rest of the epoch") {
  auto probe = std::make_shared<ProbeDataset>(synthetic(4096));
  {
    data::Loader loader(probe, data::cifar_preset("simclr"), {.batch_size = 16, .num_workers = 2, .prefetch = 3});
    loader.start_epoch(0);
    REQUIRE(loader.next().has_value());
    REQUIRE(loader.next().has_value());
    CHECK(loader.position() == 2);
  }  // destructor stops and joins here
  // At most the consumed batches, the prefetch window and one batch per worker in flight.
  CHECK(probe->calls.load() <= (2 + 3 + 2) * 16);
  CHECK(probe->calls.load() >= 2 * 16);
}

TEST_CASE("loader: restarting an epoch mid-way starts again from the first batch") {
  const auto ds = synthetic(64);
  data::Loader loader(ds, data::cifar_preset("simclr"), {.batch_size = 8, .num_workers = 2, .seed = 9});
  loader.start_epoch(2);
  const auto first = loader.next();
  loader.next();
  loader.start_epoch(2);
  const auto again = loader.next();
  REQUIRE(first.has_value());
  REQUIRE(again.has_value());
  CHECK(first->indices.to_vector<std::int64_t>() == again->indices.to_vector<std::int64_t>());
  CHECK(first->views[0].to_vector<float>() == again->views[0].to_vector<float>());
}

TEST_CASE("loader: a dataset error in a worker is rethrown by next") {
  auto probe = std::make_shared<ProbeDataset>(synthetic(32), 13);
  for (const int workers : {0, 2}) {
    data::Loader loader(probe, data::cifar_preset("simclr"), {.batch_size = 4, .shuffle = false, .num_workers = workers});
    loader.start_epoch(0);
    CHECK(loader.next().has_value());
    CHECK(loader.next().has_value());
    CHECK(loader.next().has_value());
    CHECK_THROWS_WITH_AS(loader.next(), doctest::Contains("corrupt record 13"), selfsup::core::IoError);
  }
}

TEST_CASE("loader: next before start_epoch and bad options are errors") {
  const auto ds = synthetic(8);
  data::Loader loader(ds, data::cifar_preset("simclr"), {.batch_size = 4});
  CHECK_THROWS_AS(loader.next(), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::Loader(ds, data::cifar_preset("simclr"), {.batch_size = 0}), selfsup::core::ValueError);
}
