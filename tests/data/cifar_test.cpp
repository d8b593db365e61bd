// CIFAR-10/100 binary readers on small files the test writes, including every corrupt case.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "data/cifar.h"
#include "tests/data/test_files.h"

namespace {

using selfsup::core::IoError;
namespace data = selfsup::data;

/// `count` CIFAR records; record r has label(s) from `labels` and pixel p = (r * 7 + p) % 256.
std::vector<std::uint8_t> cifar_bytes(const std::vector<std::vector<std::uint8_t>>& labels) {
  std::vector<std::uint8_t> bytes;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    bytes.insert(bytes.end(), labels[r].begin(), labels[r].end());
    for (std::size_t p = 0; p < data::kCifarPixels; ++p) bytes.push_back(static_cast<std::uint8_t>((r * 7 + p) % 256));
  }
  return bytes;
}

void write_cifar10(const selfsup::test::TempDir& dir, int records_per_file = 2) {
  int r = 0;
  for (const auto& name : data::cifar_split_files(data::CifarKind::cifar10, data::Split::train)) {
    std::vector<std::vector<std::uint8_t>> labels;
    for (int i = 0; i < records_per_file; ++i) labels.push_back({static_cast<std::uint8_t>(r++ % 10)});
    selfsup::test::write_bytes(dir.file(name), cifar_bytes(labels));
  }
  selfsup::test::write_bytes(dir.file("test_batch.bin"), cifar_bytes({{9}, {3}, {0}}));
}

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("cifar10: reads all five train batches and the test batch") {
  selfsup::test::TempDir dir;
  write_cifar10(dir);
  const data::Cifar10 train(dir.path().string(), data::Split::train);
  CHECK(train.size() == 10);
  CHECK(train.num_classes() == 10);
  CHECK(train.class_names().at(0) == "airplane");
  CHECK(train.label(7) == 7);
  const auto sample = train.get(3);
  CHECK(sample.label == 3);
  CHECK(sample.image.channels == 3);
  CHECK(sample.image.height == 32);
  CHECK(sample.image.width == 32);
  // Planes are R, G, B; pixel p of record r is (r * 7 + p) % 256, record 3 is the second of batch 2.
  CHECK(sample.image.at(0, 0, 0) == doctest::Approx((1 * 7 + 0) / 255.0));
  CHECK(sample.image.at(1, 0, 0) == doctest::Approx(((7 + 1024) % 256) / 255.0));
  CHECK(sample.image.at(2, 31, 31) == doctest::Approx(((7 + 3071) % 256) / 255.0));
  const data::Cifar10 test(dir.path().string(), data::Split::test);
  CHECK(test.size() == 3);
  CHECK(test.get(0).label == 9);
}

TEST_CASE("cifar10: finds files in the cifar-10-batches-bin subfolder and reads class names") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("cifar-10-batches-bin/test_batch.bin"), cifar_bytes({{1}}));
  selfsup::test::write_text(dir.file("cifar-10-batches-bin/batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
  const data::Cifar10 test(dir.path().string(), data::Split::test);
  CHECK(test.size() == 1);
  CHECK(test.class_names().at(9) == "j");
}

TEST_CASE("cifar10: missing split names the missing file") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("test_batch.bin"), cifar_bytes({{1}}));
  const auto msg = error_of([&] { data::Cifar10(dir.path().string(), data::Split::train); });
  CHECK(msg.find("missing train split file") != std::string::npos);
  CHECK(msg.find("data_batch_1.bin") != std::string::npos);
}

TEST_CASE("cifar10: truncated file is rejected with its size and offset") {
  selfsup::test::TempDir dir;
  auto bytes = cifar_bytes({{1}, {2}});
  bytes.resize(bytes.size() - 100);
  selfsup::test::write_bytes(dir.file("test_batch.bin"), bytes);
  const auto msg = error_of([&] { data::Cifar10(dir.path().string(), data::Split::test); });
  CHECK(msg.find("test_batch.bin") != std::string::npos);
  CHECK(msg.find("not a multiple of the 3073-byte record") != std::string::npos);
  CHECK(msg.find("byte offset 3073") != std::string::npos);
}

TEST_CASE("cifar10: empty file is rejected") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("test_batch.bin"), {});
  CHECK(error_of([&] { data::Cifar10(dir.path().string(), data::Split::test); }).find("is empty") != std::string::npos);
}

TEST_CASE("cifar10: label out of range names the record and byte offset") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("test_batch.bin"), cifar_bytes({{1}, {4}, {10}}));
  const auto msg = error_of([&] { data::Cifar10(dir.path().string(), data::Split::test); });
  CHECK(msg.find("label 10 out of range [0, 10)") != std::string::npos);
  CHECK(msg.find("record 2 (byte offset 6146)") != std::string::npos);
  CHECK(msg.find("test_batch.bin") != std::string::npos);
}

TEST_CASE("cifar100: reads fine and coarse labels") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("cifar-100-binary/train.bin"), cifar_bytes({{19, 99}, {0, 5}, {3, 42}}));
  const data::Cifar100 fine(dir.path().string(), data::Split::train);
  CHECK(fine.size() == 3);
  CHECK(fine.num_classes() == 100);
  CHECK(fine.get(0).label == 99);
  CHECK(fine.coarse_label(2) == 3);
  CHECK(fine.fine_label(2) == 42);
  const data::Cifar100 coarse(dir.path().string(), data::Split::train, data::Cifar100Labels::coarse);
  CHECK(coarse.num_classes() == 20);
  CHECK(coarse.get(0).label == 19);
  CHECK(coarse.get(1).image.at(0, 0, 1) == doctest::Approx((7 + 1) / 255.0));
}

TEST_CASE("cifar100: coarse and fine label ranges are checked") {
  const auto coarse_bad = cifar_bytes({{20, 1}});
  CHECK(error_of([&] { data::parse_cifar(coarse_bad.data(), coarse_bad.size(), data::CifarKind::cifar100, "mem"); })
            .find("coarse label 20 out of range [0, 20) in record 0 (byte offset 0) of mem") != std::string::npos);
  const auto fine_bad = cifar_bytes({{1, 2}, {1, 100}});
  CHECK(error_of([&] { data::parse_cifar(fine_bad.data(), fine_bad.size(), data::CifarKind::cifar100, "mem"); })
            .find("fine label 100 out of range [0, 100) in record 1 (byte offset 3075)") != std::string::npos);
}

TEST_CASE("cifar100: a CIFAR-10 file is not a multiple of the CIFAR-100 record") {
  const auto bytes = cifar_bytes({{1}, {2}, {3}});
  CHECK(error_of([&] { data::parse_cifar(bytes.data(), bytes.size(), data::CifarKind::cifar100, "cifar10.bin"); })
            .find("not a multiple of the 3074-byte record") != std::string::npos);
}
