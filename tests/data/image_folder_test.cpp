// ImageFolder and the stb_image decode entry point on PNG/BMP/JPEG files the test writes.
#include <doctest/doctest.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/file_io.h"
#include "data/image_decode.h"
#include "data/image_folder.h"
#include "tests/data/test_files.h"

namespace {

using selfsup::core::IoError;
namespace data = selfsup::data;

/// An RGB image, HWC, with pixel (y, x) = (10 y + x, 100 + c * 20, 200 - x) per channel c.
std::vector<std::uint8_t> pattern(int h, int w) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(h * w * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = &px[static_cast<std::size_t>((y * w + x) * 3)];
      p[0] = static_cast<std::uint8_t>(10 * y + x), p[1] = 120, p[2] = static_cast<std::uint8_t>(200 - x);
    }
  return px;
}

void write_png(const std::string& path, int h, int w) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto px = pattern(h, w);
  REQUIRE(stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3) != 0);
}

void write_bmp(const std::string& path, int h, int w) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto px = pattern(h, w);
  REQUIRE(stbi_write_bmp(path.c_str(), w, h, 3, px.data()) != 0);
}

void write_jpg(const std::string& path, int h, int w) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto px = pattern(h, w);
  REQUIRE(stbi_write_jpg(path.c_str(), w, h, 3, px.data(), 95) != 0);
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

TEST_CASE("decode_image: PNG and BMP decode losslessly to CHW") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a.png"), 3, 4);
  write_bmp(dir.file("a.bmp"), 3, 4);
  for (const char* name : {"a.png", "a.bmp"}) {
    const auto img = data::load_image(dir.file(name), 3);
    CHECK(img.channels == 3);
    CHECK(img.height == 3);
    CHECK(img.width == 4);
    // channel 0 at (2, 3) = 23; channel 2 at (0, 1) = 199.
    CHECK(img.pixels[static_cast<std::size_t>(2 * 4 + 3)] == 23);
    CHECK(img.pixels[static_cast<std::size_t>(2 * 12 + 1)] == 199);
  }
}

TEST_CASE("decode_image: a JPEG decodes close to the encoded pixels") {
  // Guards the configure-time stb patches (data/patch_stb_image.cmake) against breaking valid files.
  selfsup::test::TempDir dir;
  write_jpg(dir.file("a.jpg"), 24, 20);
  const auto img = data::load_image(dir.file("a.jpg"), 3);
  REQUIRE(img.height == 24);
  REQUIRE(img.width == 20);
  const auto original = pattern(24, 20);
  double error = 0.0;
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t p = 0; p < 24 * 20; ++p)
      error += std::abs(static_cast<double>(img.pixels[static_cast<std::size_t>(c * 480 + p)]) -
                        original[static_cast<std::size_t>(p * 3 + c)]);
  CHECK(error / (3.0 * 480.0) < 3.0);
}

TEST_CASE("decode_image: grayscale uses PIL's L conversion") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a.png"), 2, 2);
  const auto gray = data::load_image(dir.file("a.png"), 1);
  CHECK(gray.channels == 1);
  // pixel (1, 1): R = 11, G = 120, B = 199.
  const std::uint32_t expected = (11u * 19595u + 120u * 38470u + 199u * 7471u + 0x8000u) >> 16;
  CHECK(gray.pixels[3] == expected);
}

TEST_CASE("decode_image: junk and truncated data raise IoError naming the source") {
  const std::vector<std::uint8_t> junk = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  CHECK(error_of([&] { data::decode_image(junk.data(), junk.size(), 3, "junk.png"); }).find("junk.png") != std::string::npos);
  selfsup::test::TempDir dir;
  write_png(dir.file("a.png"), 16, 16);
  auto bytes = data::read_file(dir.file("a.png"));
  bytes.resize(bytes.size() / 2);
  const auto msg = error_of([&] { data::decode_image(bytes.data(), bytes.size(), 3, "half.png"); });
  CHECK(msg.find("half.png") != std::string::npos);
  CHECK(error_of([&] { data::decode_image(bytes.data(), 0, 3, "empty.png"); }).find("is empty") != std::string::npos);
}

TEST_CASE("decode_image: a JPEG Huffman table with more than 256 codes is rejected") {
  // Regression for the stb_image 2.27 overflow found by fuzz/fuzz_image.cpp (patched at configure
  // time by data/patch_stb_image.cmake): 16 code counts of 255 used to overrun huffman.size[257].
  std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00};
  for (int i = 0; i < 16; ++i) jpeg.push_back(0xFF);
  jpeg.resize(jpeg.size() + 300, 0x01);
  const auto msg = error_of([&] { data::decode_image(jpeg.data(), jpeg.size(), 3, "dht.jpg"); });
  CHECK(msg.find("dht.jpg") != std::string::npos);
}

TEST_CASE("decode_image: a BMP shorter than its declared pixel rows is rejected") {
  // Regression for a fuzzer timeout: 30 header bytes declaring a 7455x7455 image, which stb
  // would decode (zero-padded) to 167 MB.
  const std::vector<std::uint8_t> bmp = {0x42, 0x4d, 0x56, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x33, 0x04, 0x00, 0x00, 0x28,
                                         0x00, 0x00, 0x00, 0x1f, 0x1d, 0x00, 0x00, 0x1f, 0x1d, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00};
  CHECK(error_of([&] { data::decode_image(bmp.data(), bmp.size(), 3, "big.bmp"); }).find("truncated BMP big.bmp") !=
        std::string::npos);
  selfsup::test::TempDir dir;
  write_bmp(dir.file("a.bmp"), 9, 7);
  auto bytes = data::read_file(dir.file("a.bmp"));
  CHECK(data::decode_image(bytes.data(), bytes.size(), 3, "a.bmp").width == 7);
  bytes.resize(bytes.size() - 30);
  CHECK(error_of([&] { data::decode_image(bytes.data(), bytes.size(), 3, "cut.bmp"); }).find("truncated BMP cut.bmp") !=
        std::string::npos);
  CHECK(error_of([&] { data::decode_image(bytes.data(), bytes.size(), 3, "small.bmp", 10); }).find("limit 10 pixels") !=
        std::string::npos);
}

TEST_CASE("decode_image: GIF is not compiled in") {
  const std::vector<std::uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0, ';'};
  CHECK(error_of([&] { data::decode_image(gif.data(), gif.size(), 3, "x.gif"); }).find("x.gif") != std::string::npos);
}

TEST_CASE("image_folder: classes are sorted and files walked recursively") {
  selfsup::test::TempDir dir;
  write_png(dir.file("zebra/1.png"), 4, 4);
  write_bmp(dir.file("apple/b.bmp"), 4, 4);
  write_jpg(dir.file("apple/a.JPG"), 4, 4);
  write_png(dir.file("apple/sub/c.png"), 4, 4);
  selfsup::test::write_text(dir.file("apple/notes.txt"), "not an image");
  const data::ImageFolder ds(dir.path().string());
  CHECK(ds.class_names() == std::vector<std::string>{"apple", "zebra"});
  REQUIRE(ds.size() == 4);
  CHECK(ds.path(0).ends_with("apple/a.JPG"));
  CHECK(ds.path(1).ends_with("apple/b.bmp"));
  CHECK(ds.path(2).ends_with("apple/sub/c.png"));
  CHECK(ds.label(3) == 1);
  const auto s = ds.get(2);
  CHECK(s.image.channels == 3);
  CHECK(s.image.at(0, 1, 2) == 12.0f / 255.0f);
}

TEST_CASE("image_folder: differing sizes are resized to the first image or to the given size") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a/1.png"), 6, 8);
  write_png(dir.file("a/2.png"), 12, 5);
  const data::ImageFolder first(dir.path().string());
  CHECK(first.height() == 6);
  CHECK(first.width() == 8);
  CHECK(first.get(1).image.height == 6);
  CHECK(first.get(1).image.width == 8);
  const data::ImageFolder sized(dir.path().string(), {.channels = 1, .height = 10, .width = 10});
  const auto s = sized.get(0);
  CHECK(s.image.channels == 1);
  CHECK(s.image.height == 10);
  CHECK(s.image.width == 10);
}

TEST_CASE("image_folder: a corrupt image raises IoError or is skipped and counted") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a/good.png"), 4, 4);
  selfsup::test::write_text(dir.file("a/bad.png"), "garbage, not a PNG");
  write_png(dir.file("b/good.png"), 4, 4);
  const auto msg = error_of([&] { data::ImageFolder(dir.path().string()); });
  CHECK(msg.find("bad.png") != std::string::npos);
  const data::ImageFolder ds(dir.path().string(), {.skip_corrupt = true});
  CHECK(ds.size() == 2);
  CHECK(ds.num_skipped() == 1);
  CHECK(ds.skipped().at(0).find("bad.png") != std::string::npos);
}

TEST_CASE("image_folder: a truncated image found lazily raises IoError on get") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a/good.png"), 32, 32);
  auto bytes = data::read_file(dir.file("a/good.png"));
  bytes.resize(bytes.size() - 40);
  selfsup::test::write_bytes(dir.file("a/trunc.png"), bytes);
  const data::ImageFolder lazy(dir.path().string(), {.preload = false});
  REQUIRE(lazy.size() == 2);
  CHECK(error_of([&] { lazy.get(1); }).find("trunc.png") != std::string::npos);
  CHECK(lazy.get(0).image.width == 32);
  CHECK(error_of([&] { data::ImageFolder(dir.path().string()); }).find("trunc.png") != std::string::npos);
}

TEST_CASE("image_folder: an empty class folder is an error naming it") {
  selfsup::test::TempDir dir;
  write_png(dir.file("a/1.png"), 4, 4);
  std::filesystem::create_directories(dir.path() / "empty_class");
  const auto msg = error_of([&] { data::ImageFolder(dir.path().string()); });
  CHECK(msg.find("empty_class") != std::string::npos);
  CHECK(msg.find("has no images") != std::string::npos);
}

TEST_CASE("image_folder: a missing root or a root without classes is an error") {
  selfsup::test::TempDir dir;
  CHECK(error_of([&] { data::ImageFolder(dir.file("nope")); }).find("is not a directory") != std::string::npos);
  CHECK(error_of([&] { data::ImageFolder(dir.path().string()); }).find("no class folders") != std::string::npos);
}
