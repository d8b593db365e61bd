// IDX (MNIST / Fashion-MNIST) reader: plain and gzip files the test writes, every corrupt case,
// and Debian's installed Fashion-MNIST.
#include <doctest/doctest.h>

#include <zlib.h>

#include <array>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/file_io.h"
#include "data/idx.h"
#include "data/stats.h"
#include "tests/data/test_files.h"

namespace {

using selfsup::core::IoError;
namespace data = selfsup::data;

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::vector<std::uint8_t> idx_images(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, 3};
  put_be32(out, n), put_be32(out, h), put_be32(out, w);
  for (std::uint32_t i = 0; i < n * h * w; ++i) out.push_back(static_cast<std::uint8_t>(i * 3 % 256));
  return out;
}

std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, 1};
  put_be32(out, static_cast<std::uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb");
  REQUIRE(gz != nullptr);
  REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(gz) == Z_OK);
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

TEST_CASE("idx: plain images and labels load as a 1-channel dataset") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("img"), idx_images(3, 4, 5));
  selfsup::test::write_bytes(dir.file("lbl"), idx_labels({2, 0, 9}));
  const data::IdxDataset ds(dir.file("img"), dir.file("lbl"));
  CHECK(ds.size() == 3);
  const auto s = ds.get(1);
  CHECK(s.label == 0);
  CHECK(s.image.channels == 1);
  CHECK(s.image.height == 4);
  CHECK(s.image.width == 5);
  // element (1, 2, 3) is flat index 20 + 13 = 33 -> 99.
  CHECK(s.image.at(0, 2, 3) == 99.0f / 255.0f);
}

TEST_CASE("idx: gzip files read through zlib give the same data as plain files") {
  selfsup::test::TempDir dir;
  write_gzip(dir.file("img.gz"), idx_images(2, 3, 3));
  write_gzip(dir.file("lbl.gz"), idx_labels({7, 1}));
  const data::IdxDataset ds(dir.file("img.gz"), dir.file("lbl.gz"));
  CHECK(ds.size() == 2);
  CHECK(ds.get(0).label == 7);
  CHECK(ds.get(1).image.at(0, 0, 1) == static_cast<float>(10 * 3 % 256) / 255.0f);
  const auto raw = data::read_maybe_gzip(dir.file("img.gz"));
  CHECK(raw == idx_images(2, 3, 3));
}

TEST_CASE("idx: wrong magic is rejected at byte offset 0") {
  auto bytes = idx_images(1, 2, 2);
  bytes[0] = 0x1f;
  const auto msg = error_of([&] { data::parse_idx(bytes.data(), bytes.size(), "bad.idx"); });
  CHECK(msg.find("wrong magic number in bad.idx at byte offset 0") != std::string::npos);
}

TEST_CASE("idx: unknown element type is rejected") {
  auto bytes = idx_images(1, 2, 2);
  bytes[2] = 0x07;
  CHECK(error_of([&] { data::parse_idx(bytes.data(), bytes.size(), "t.idx"); }).find("unknown element type 0x07") != std::string::npos);
}

TEST_CASE("idx: truncated header and truncated data are rejected with sizes") {
  const auto bytes = idx_images(2, 4, 4);
  const auto header_msg = error_of([&] { data::parse_idx(bytes.data(), 10, "h.idx"); });
  CHECK(header_msg.find("truncated header in h.idx") != std::string::npos);
  const auto data_msg = error_of([&] { data::parse_idx(bytes.data(), bytes.size() - 1, "d.idx"); });
  CHECK(data_msg.find("truncated data in d.idx") != std::string::npos);
  CHECK(data_msg.find("need 32 bytes") != std::string::npos);
  CHECK(data_msg.find("found 31") != std::string::npos);
}

TEST_CASE("idx: trailing bytes are rejected with their offset") {
  auto bytes = idx_labels({1, 2});
  bytes.push_back(0);
  CHECK(error_of([&] { data::parse_idx(bytes.data(), bytes.size(), "l.idx"); }).find("1 unexpected trailing bytes at byte offset 10") !=
        std::string::npos);
}

TEST_CASE("idx: huge declared dimensions do not overflow") {
  std::vector<std::uint8_t> bytes = {0, 0, 0x0E, 4};
  for (int i = 0; i < 4; ++i) put_be32(bytes, 0xFFFFFFFFu);
  CHECK(error_of([&] { data::parse_idx(bytes.data(), bytes.size(), "big.idx"); }).find("truncated data") != std::string::npos);
}

TEST_CASE("idx: a zero dimension next to huge ones is an empty array and no images") {
  // Regression for a fuzzer finding: numel() multiplied the huge dims before reaching the zero.
  std::vector<std::uint8_t> bytes = {0, 0, 0x08, 3};
  put_be32(bytes, 0xF6000300u), put_be32(bytes, 0xF3FFFFFFu), put_be32(bytes, 0);
  const auto array = data::parse_idx(bytes.data(), bytes.size(), "zero.idx");
  CHECK(array.numel() == 0);
  std::vector<std::uint8_t> empty = {0, 0, 0x08, 3};
  put_be32(empty, 0), put_be32(empty, 0xFFFFFFFFu), put_be32(empty, 0xFFFFFFFFu);
  const auto images = data::parse_idx(empty.data(), empty.size(), "none.idx");
  const data::IdxArray labels{data::IdxType::u8, {0}, {}};
  CHECK(error_of([&] { data::IdxDataset(images, labels, "none.idx", "l.idx"); }).find("holds no images") != std::string::npos);
}

TEST_CASE("idx: truncated gzip stream names the file") {
  selfsup::test::TempDir dir;
  write_gzip(dir.file("img.gz"), idx_images(50, 8, 8));
  auto gz = data::read_file(dir.file("img.gz"));
  gz.resize(gz.size() / 2);
  selfsup::test::write_bytes(dir.file("cut.gz"), gz);
  const auto msg = error_of([&] { data::read_maybe_gzip(dir.file("cut.gz")); });
  CHECK(msg.find("cut.gz") != std::string::npos);
  CHECK(msg.find("gzip") != std::string::npos);
  CHECK(error_of([&] { data::gunzip(gz.data(), gz.size(), "mem.gz"); }).find("truncated gzip stream in mem.gz") != std::string::npos);
}

TEST_CASE("idx: corrupt gzip data names the file") {
  selfsup::test::TempDir dir;
  write_gzip(dir.file("img.gz"), idx_images(50, 8, 8));
  auto gz = data::read_file(dir.file("img.gz"));
  for (std::size_t i = 20; i < 60 && i < gz.size(); ++i) gz[i] ^= 0x5A;
  selfsup::test::write_bytes(dir.file("bad.gz"), gz);
  CHECK(error_of([&] { data::read_maybe_gzip(dir.file("bad.gz")); }).find("bad.gz") != std::string::npos);
  CHECK(error_of([&] { data::gunzip(gz.data(), gz.size(), "mem.gz"); }).find("mem.gz") != std::string::npos);
}

TEST_CASE("idx: label out of range names the record and offset") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("img"), idx_images(3, 2, 2));
  selfsup::test::write_bytes(dir.file("lbl"), idx_labels({1, 10, 2}));
  const auto msg = error_of([&] { data::IdxDataset(dir.file("img"), dir.file("lbl")); });
  CHECK(msg.find("label 10 out of range [0, 10) in record 1 (byte offset 9)") != std::string::npos);
}

TEST_CASE("idx: image and label counts must agree") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("img"), idx_images(3, 2, 2));
  selfsup::test::write_bytes(dir.file("lbl"), idx_labels({1, 2}));
  CHECK(error_of([&] { data::IdxDataset(dir.file("img"), dir.file("lbl")); }).find("has 3 images but") != std::string::npos);
  // A label file given as the image file is caught by its rank.
  CHECK(error_of([&] { data::IdxDataset(dir.file("lbl"), dir.file("lbl")); }).find("is not an image file") != std::string::npos);
}

TEST_CASE("fashion_mnist: a missing split names both candidate paths") {
  selfsup::test::TempDir dir;
  const auto msg = error_of([&] { data::FashionMnist(data::Split::test, dir.path().string()); });
  CHECK(msg.find("t10k-images-idx3-ubyte") != std::string::npos);
  CHECK(msg.find(".gz") != std::string::npos);
}

TEST_CASE("fashion_mnist: a user-given root with plain files is used") {
  selfsup::test::TempDir dir;
  selfsup::test::write_bytes(dir.file("t10k-images-idx3-ubyte"), idx_images(4, 28, 28));
  write_gzip(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels({0, 1, 2, 3}));
  const data::FashionMnist ds(data::Split::test, dir.path().string());
  CHECK(ds.size() == 4);
  CHECK(ds.class_names().at(9) == "Ankle boot");
}

TEST_CASE("fashion_mnist: Debian's installed test split has 10000 balanced 28x28 images") {
  const std::string root = data::default_fashion_mnist_root();
  INFO("Fashion-MNIST root: " << root << " (install dataset-fashion-mnist or set SELFSUP_FASHION_MNIST_DIR)");
  REQUIRE(data::file_exists(root + "/t10k-images-idx3-ubyte.gz"));
  const data::FashionMnist test(data::Split::test);
  REQUIRE(test.size() == 10000);
  std::array<int, 10> histogram{};
  for (std::int64_t i = 0; i < test.size(); ++i) ++histogram[static_cast<std::size_t>(test.label(i))];
  for (const int count : histogram) CHECK(count == 1000);
  const auto s = test.get(0);
  CHECK(s.image.channels == 1);
  CHECK(s.image.height == 28);
  CHECK(s.image.width == 28);
  const auto stats = data::compute_normalization(test);
  // The train-split constants are 0.2860 / 0.3530; the test split is within a percent of them.
  CHECK(stats.mean.at(0) == doctest::Approx(0.2860).epsilon(0.02));
  CHECK(stats.std.at(0) == doctest::Approx(0.3530).epsilon(0.02));
}
