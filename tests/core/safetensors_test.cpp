// safetensors reader/writer tests: round trips, the reference's golden byte vectors, one test
// case per malformed input (each checks the IoError type, the file name and the specific
// problem), and atomic saving. Malformed files are built by hand from a header string.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/golden.h"

namespace selfsup::core {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "case_file.safetensors";

std::string u64_le(std::uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return s;
}

/// [N][header][data] with N = header.size().
std::string make_file(const std::string& header, const std::string& data = {}) {
  return u64_le(header.size()) + header + data;
}

template <typename T>
std::string raw_bytes(const std::vector<T>& values) {
  std::string s(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(s.data(), values.data(), s.size());
  return s;
}

SafetensorsFile parse(const std::string& bytes) { return parse_safetensors(bytes.data(), bytes.size(), kSource); }

/// The message of the IoError that parsing `bytes` must throw; fails the test otherwise.
std::string io_error_message(const std::string& bytes) {
  try {
    (void)parse(bytes);
  } catch (const IoError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected core::IoError, got another exception: " << e.what());
  } catch (...) {
    FAIL("expected core::IoError, got a non-std exception");
  }
  FAIL("expected core::IoError, but the bytes parsed");
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// Checks that `message` names the case file and every one of `needles`.
void check_mentions(const std::string& message, std::initializer_list<std::string> needles) {
  CHECK_MESSAGE(contains(message, kSource), message);
  for (const auto& needle : needles) CHECK_MESSAGE(contains(message, needle), "missing '" << needle << "' in: " << message);
}

std::string header_of(const std::string& bytes) {
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return bytes.substr(8, n);
}

/// A fresh directory under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "selfsup_st_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- round trips ----

TEST_CASE("safetensors: round trip of F32 F64 I64 and U8 tensors with metadata") {
  const auto f32 = Tensor::from_vector<float>({0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 7.0f}, {2, 3});
  const auto f64 = Tensor::from_vector<double>({1.0 / 3.0, -2e300, 5.0}, {3, 1});
  const auto i64 = Tensor::from_vector<std::int64_t>({-9'000'000'000'000'000'000LL, 0, 42, 7}, {4});
  const auto u8 = Tensor::from_vector<std::uint8_t>({0, 1, 254, 255, 17}, {5, 1, 1});
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"args", "{\"stride\": 2}"}, {"ünï", "çødé\n\""}};
  const std::string bytes = serialize_safetensors({{"w", f32}, {"d", f64}, {"idx", i64}, {"img", u8}}, meta);
  const SafetensorsFile file = parse(bytes);

  REQUIRE(file.tensors.size() == 4);
  CHECK(file.metadata == meta);
  CHECK(file.at("w").dtype() == DType::f32);
  CHECK(file.at("w").shape() == Shape{2, 3});
  CHECK(file.at("w").to_vector<float>() == f32.to_vector<float>());
  CHECK(file.at("d").dtype() == DType::f64);
  CHECK(file.at("d").shape() == Shape{3, 1});
  CHECK(file.at("d").to_vector<double>() == f64.to_vector<double>());
  CHECK(file.at("idx").dtype() == DType::i64);
  CHECK(file.at("idx").to_vector<std::int64_t>() == i64.to_vector<std::int64_t>());
  CHECK(file.at("img").dtype() == DType::u8);
  CHECK(file.at("img").shape() == Shape{5, 1, 1});
  CHECK(file.at("img").to_vector<std::uint8_t>() == u8.to_vector<std::uint8_t>());
  // File order is data-offset order: I64 then F64 (8 bytes, reference enum order), F32, U8.
  CHECK(file.tensors[0].first == "idx");
  CHECK(file.tensors[1].first == "d");
  CHECK(file.tensors[2].first == "w");
  CHECK(file.tensors[3].first == "img");
  for (const auto& [name, t] : file.tensors) CHECK(t.is_contiguous());
}

TEST_CASE("safetensors: round trip of a 0-rank I64 scalar such as num_batches_tracked") {
  const auto scalar = Tensor::scalar(12345, DType::i64);
  const std::string bytes = serialize_safetensors({{"bn.num_batches_tracked", scalar}});
  CHECK(contains(header_of(bytes), "\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"));
  const SafetensorsFile file = parse(bytes);
  const Tensor& t = file.at("bn.num_batches_tracked");
  CHECK(t.dim() == 0);
  CHECK(t.dtype() == DType::i64);
  CHECK(t.item<std::int64_t>() == 12345);
}

TEST_CASE("safetensors: round trip of empty tensors") {
  const auto empty_f32 = Tensor::empty({2, 0}, DType::f32);
  const auto empty_i64 = Tensor::empty({0}, DType::i64);
  const auto one = Tensor::from_vector<float>({1.5f});
  const std::string bytes = serialize_safetensors({{"a", empty_f32}, {"b", one}, {"c", empty_i64}});
  const SafetensorsFile file = parse(bytes);
  CHECK(file.at("a").shape() == Shape{2, 0});
  CHECK(file.at("a").numel() == 0);
  CHECK(file.at("c").shape() == Shape{0});
  CHECK(file.at("c").dtype() == DType::i64);
  CHECK(file.at("b").to_vector<float>() == std::vector<float>{1.5f});
}

TEST_CASE("safetensors: reads a hand-written zero-sized tensor between others") {
  const std::string header =
      R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[2,0],"data_offsets":[4,4]},)"
      R"("y":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})";
  const SafetensorsFile file = parse(make_file(header, raw_bytes<float>({2.0f}) + std::string("\x01\x02", 2)));
  REQUIRE(file.tensors.size() == 3);
  CHECK(file.tensors[0].first == "x");
  CHECK(file.tensors[1].first == "e");
  CHECK(file.tensors[2].first == "y");
  CHECK(file.at("y").to_vector<std::uint8_t>() == std::vector<std::uint8_t>{1, 2});
}

TEST_CASE("safetensors: accepts JSON whitespace before and after the header object") {
  const SafetensorsFile a = parse(make_file(std::string("\x09\x0A{}\x0D\x20", 6)));
  CHECK(a.tensors.empty());
  const SafetensorsFile b = parse(make_file(std::string("{}\x0D\x20\x09\x0A", 6)));
  CHECK(b.tensors.empty());
  const std::string header = "  {\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}   ";
  CHECK(parse(make_file(header, "\x07")).at("t").item<int>() == 7);
}

TEST_CASE("safetensors: accepts tensors listed in any JSON order and returns them by offset") {
  const std::string header =
      R"({"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
      R"("__metadata__":{"k":"v"}})";
  const SafetensorsFile file = parse(make_file(header, "\x05\x06"));
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.tensors[0].first == "z");
  CHECK(file.tensors[1].first == "a");
  CHECK(file.at("a").item<int>() == 6);
  CHECK(file.metadata.at("k") == "v");
}

TEST_CASE("safetensors: ignores unknown fields in a tensor entry as the reference does") {
  const std::string header = R"({"t":{"dtype":"U8","shape":[-0],"data_offsets":[0,0],"note":{"any":[1,2]}}})";
  const SafetensorsFile file = parse(make_file(header));
  CHECK(file.at("t").shape() == Shape{0});
}

TEST_CASE("safetensors: accepts a null __metadata__ as no metadata") {
  const SafetensorsFile file = parse(make_file(R"({"__metadata__":null})"));
  CHECK(file.metadata.empty());
}

TEST_CASE("safetensors: writes non-contiguous tensors as their row-major contents") {
  const auto x = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto xt = x.transpose(0, 1);  // [3, 2]: 1 4 2 5 3 6
  const SafetensorsFile file = parse(serialize_safetensors({{"xt", xt}}));
  CHECK(file.at("xt").shape() == Shape{3, 2});
  CHECK(file.at("xt").to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
}

// ---- writer layout and golden bytes ----

TEST_CASE("safetensors: empty dict serializes to the reference golden bytes") {
  const std::string bytes = serialize_safetensors({});
  const std::string expected("\x08\x00\x00\x00\x00\x00\x00\x00\x7B\x7D      ", 16);
  CHECK(bytes == expected);
  CHECK(parse(bytes).tensors.empty());
}

TEST_CASE("safetensors: empty dict with framework metadata matches the reference bytes") {
  const std::string bytes = serialize_safetensors({}, {{"framework", "pt"}});
  const std::string expected = u64_le(40) + R"({"__metadata__":{"framework":"pt"}})" + std::string(5, ' ');
  CHECK(bytes == expected);
  CHECK(parse(bytes).metadata.at("framework") == "pt");
}

TEST_CASE("safetensors: attn0 example is byte-exact with the reference writer") {
  const auto attn0 = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {1, 1, 2, 3});
  const std::string bytes = serialize_safetensors({{"attn0", attn0}});
  const std::string header = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})";
  REQUIRE(header.size() == 65);
  const std::string expected = u64_le(72) + header + std::string(7, ' ') +
                               std::string("\x00\x00\x00\x00\x00\x00\x80\x3F\x00\x00\x00\x40"
                                           "\x00\x00\x40\x40\x00\x00\x80\x40\x00\x00\xA0\x40",
                                           24);
  CHECK(bytes == expected);
  CHECK(parse(bytes).at("attn0").to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("safetensors: writer orders by dtype rank then name and aligns every tensor") {
  const std::string bytes = serialize_safetensors({{"u", Tensor::zeros({3}, DType::u8)},
                                                   {"b_f32", Tensor::zeros({1}, DType::f32)},
                                                   {"a_f32", Tensor::zeros({1}, DType::f32)},
                                                   {"f64", Tensor::zeros({1}, DType::f64)},
                                                   {"i64", Tensor::zeros({1}, DType::i64)}},
                                                  {{"m", "1"}});
  const std::string header = header_of(bytes);
  CHECK(header.size() % 8 == 0);
  CHECK(header.rfind("{\"__metadata__\":{\"m\":\"1\"},", 0) == 0);
  const auto pos = [&](const char* key) { return header.find(std::string("\"") + key + "\":"); };
  CHECK(pos("i64") < pos("f64"));
  CHECK(pos("f64") < pos("a_f32"));
  CHECK(pos("a_f32") < pos("b_f32"));
  CHECK(pos("b_f32") < pos("u"));
  CHECK(contains(header, R"("i64":{"dtype":"I64","shape":[1],"data_offsets":[0,8]})"));
  CHECK(contains(header, R"("f64":{"dtype":"F64","shape":[1],"data_offsets":[8,16]})"));
  CHECK(contains(header, R"("a_f32":{"dtype":"F32","shape":[1],"data_offsets":[16,20]})"));
  CHECK(contains(header, R"("u":{"dtype":"U8","shape":[3],"data_offsets":[24,27]})"));
  CHECK(bytes.size() == 8 + header.size() + 27);
}

TEST_CASE("safetensors: writer rejects duplicate names and the reserved name __metadata__") {
  const auto t = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"w", t}, {"w", t}}), doctest::Contains("duplicate tensor name 'w'"),
                       ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"__metadata__", t}}), doctest::Contains("reserved"), ValueError);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"w", Tensor()}}), doctest::Contains("'w' is undefined"), ValueError);
}

TEST_CASE("safetensors: missing tensor lookup lists the closest names") {
  const SafetensorsFile file = parse(serialize_safetensors(
      {{"layer1.0.conv1.weight", Tensor::zeros({1})}, {"layer1.0.bn1.weight", Tensor::zeros({1})}, {"fc.bias", Tensor::zeros({1})}}));
  CHECK(file.contains("fc.bias"));
  CHECK_FALSE(file.contains("fc.weight"));
  CHECK_THROWS_WITH_AS(file.at("layer1.0.conv1.weigth"),
                       doctest::Contains("no tensor named 'layer1.0.conv1.weigth' (the file has 3 tensors; closest names: 'layer1.0.conv1.weight'"),
                       IoError);
}

// ---- malformed files: one case each, in the reference's check order ----

TEST_CASE("safetensors: rejects a file shorter than 8 bytes") {
  check_mentions(io_error_message(""), {"file is 0 bytes", "shorter than the 8-byte header length"});
  check_mentions(io_error_message(std::string(7, '\0')), {"file is 7 bytes"});
}

TEST_CASE("safetensors: rejects a header length above 100000000 bytes") {
  check_mentions(io_error_message(u64_le(100'000'001)), {"header length N = 100000001", "exceeds the limit of 100000000"});
  check_mentions(io_error_message(u64_le(~0ULL)), {"header length N = 18446744073709551615"});
}

TEST_CASE("safetensors: rejects a header length beyond the end of the file") {
  // Reference test_invalid_header_length: N = 60 with no header bytes.
  check_mentions(io_error_message(u64_le(60)), {"header length N = 60 runs past the end of the file", "68 > file size 8"});
  check_mentions(io_error_message(u64_le(3) + "{}"), {"N = 3", "file size 10"});
}

TEST_CASE("safetensors: rejects a header that is not UTF-8") {
  const std::string header = "{\"w\xFF\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}";
  check_mentions(io_error_message(make_file(header)), {"not valid UTF-8", "0xFF", "file offset 11"});
  // An encoded surrogate (U+D800) and an overlong '/' are not UTF-8 either.
  check_mentions(io_error_message(make_file("{\"\xED\xA0\x80\":1}")), {"not valid UTF-8", "0xED"});
  check_mentions(io_error_message(make_file("{\"\xC0\xAF\":1}")), {"not valid UTF-8", "0xC0"});
}

TEST_CASE("safetensors: rejects a header that is not JSON") {
  check_mentions(io_error_message(make_file("{")), {"header is not valid JSON"});
  check_mentions(io_error_message(make_file("{} x")), {"header is not valid JSON"});
  check_mentions(io_error_message(make_file(std::string("{}\0", 3))), {"header is not valid JSON", "NUL byte at file offset 10"});
  // A number that overflows a double: nlohmann throws out_of_range, not parse_error.
  check_mentions(io_error_message(make_file(R"({"__metadata__":{"a":"b"},"x":1e999})")), {"header is not valid JSON", "1e999"});
}

TEST_CASE("safetensors: rejects a JSON header that is not an object") {
  check_mentions(io_error_message(make_file("[]")), {"header is a JSON array, expected a JSON object"});
  check_mentions(io_error_message(make_file("42")), {"expected a JSON object"});
}

TEST_CASE("safetensors: rejects a tensor entry that is not an object or lacks a field") {
  check_mentions(io_error_message(make_file(R"({"w":[1,2]})")), {"tensor 'w'", "expected an object"});
  check_mentions(io_error_message(make_file(R"({"w":{"dtype":"F32","shape":[0]}})")),
                 {"tensor 'w'", "missing field 'data_offsets'"});
}

TEST_CASE("safetensors: rejects an unknown dtype naming the tensor") {
  const std::string header = R"({"conv.weight":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})";
  check_mentions(io_error_message(make_file(header, std::string(4, '\0'))), {"unknown dtype 'F33' for tensor 'conv.weight'"});
  check_mentions(io_error_message(make_file(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'))),
                 {"tensor 'w'", "dtype is a JSON number", "expected a string"});
}

TEST_CASE("safetensors: rejects a valid safetensors dtype that selfsup does not support") {
  // A well-formed F16 file: every structural check passes, then the dtype is refused.
  const std::string header = R"({"half":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";
  check_mentions(io_error_message(make_file(header, std::string(4, '\0'))),
                 {"unsupported dtype F16 for tensor 'half'", "F32, F64, I64 and U8"});
  const std::string bf16 = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}})";
  check_mentions(io_error_message(make_file(bf16, std::string(6, '\0'))), {"unsupported dtype BF16 for tensor 'b'"});
}

TEST_CASE("safetensors: rejects a shape that is not an array of non-negative integers") {
  const auto with_shape = [](const std::string& shape) {
    return make_file(R"({"w":{"dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,0]}})");
  };
  check_mentions(io_error_message(with_shape("[-1]")), {"tensor 'w'", "shape[0] is a negative integer -1"});
  check_mentions(io_error_message(with_shape("[1.5]")), {"tensor 'w'", "shape[0] is a non-integer number"});
  check_mentions(io_error_message(with_shape("[0,\"2\"]")), {"tensor 'w'", "shape[1] is a JSON string"});
  check_mentions(io_error_message(with_shape("3")), {"tensor 'w'", "shape is a JSON number", "expected an array"});
  // Above 2^64 - 1: nlohmann reads it as a float, so it cannot pass as a dimension.
  check_mentions(io_error_message(with_shape("[0,18446744073709551616]")), {"tensor 'w'", "shape[1]", "below 2^64"});
}

TEST_CASE("safetensors: rejects data_offsets that are not two non-negative integers") {
  const auto with_offsets = [](const std::string& offsets) {
    return make_file(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":)" + offsets + "}}");
  };
  check_mentions(io_error_message(with_offsets("[0]")), {"tensor 'w'", "data_offsets is [0], expected [BEGIN, END]"});
  check_mentions(io_error_message(with_offsets("[0,0,0]")), {"tensor 'w'", "expected [BEGIN, END]"});
  check_mentions(io_error_message(with_offsets("{\"a\":0}")), {"tensor 'w'", "expected [BEGIN, END]"});
  check_mentions(io_error_message(with_offsets("[0,\"0\"]")), {"tensor 'w'", "data_offsets[1] is a JSON string"});
  check_mentions(io_error_message(with_offsets("[-4,0]")), {"tensor 'w'", "data_offsets[0] is a negative integer -4"});
}

TEST_CASE("safetensors: rejects a gap between tensors naming the tensor after it") {
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  check_mentions(io_error_message(make_file(header, std::string(12, '\0'))),
                 {"invalid offset: tensor 'b'", "[8, 12]", "gap of 4 bytes after tensor 'a'", "buffer offset 4"});
  // A gap before the first tensor.
  check_mentions(io_error_message(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xx")),
                 {"invalid offset: tensor 'a'", "gap of 1 bytes after the buffer start"});
}

TEST_CASE("safetensors: rejects overlapping tensors") {
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  check_mentions(io_error_message(make_file(header, std::string(12, '\0'))),
                 {"invalid offset: tensor 'b'", "[4, 12]", "overlapping tensor 'a'", "buffer offset 8"});
}

TEST_CASE("safetensors: rejects data_offsets whose end precedes the begin") {
  const std::string reversed = R"({"c":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}})";
  check_mentions(io_error_message(make_file(reversed, "x")), {"invalid offset: tensor 'c'", "[1, 0]", "END before BEGIN"});
}

TEST_CASE("safetensors: rejects repeated ranges as in the reference json attack test") {
  // Ten tensors all claiming bytes [0, 16): only one can own them.
  std::string header = "{";
  for (int i = 0; i < 10; ++i) {
    if (i) header += ",";
    header += "\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";
  }
  header += "}";
  check_mentions(io_error_message(make_file(header, std::string(16, '\0'))),
                 {"invalid offset: tensor 't1'", "[0, 16]", "overlapping tensor 't0'"});
}

TEST_CASE("safetensors: rejects a truncated data buffer") {
  // Reference test_metadata_incomplete_buffer: 2 bytes missing.
  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  check_mentions(io_error_message(make_file(header, std::string(14, '\0'))),
                 {"truncated data buffer", "need 16 bytes", "holds only 14"});
  // Offsets far beyond the file.
  const std::string far = R"({"w":{"dtype":"U8","shape":[1000000],"data_offsets":[0,1000000]}})";
  check_mentions(io_error_message(make_file(far, "x")), {"truncated data buffer", "need 1000000 bytes"});
}

TEST_CASE("safetensors: rejects trailing bytes after the last tensor") {
  // Reference test_metadata_incomplete_buffer: the "polyglot" case.
  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  check_mentions(io_error_message(make_file(header, std::string(18, '\0'))),
                 {"2 trailing bytes after the last tensor", "data buffer is 18 bytes", "cover only 16"});
  check_mentions(io_error_message(make_file("{}", "zz")), {"2 trailing bytes"});
}

TEST_CASE("safetensors: rejects a byte range that does not match shape times dtype") {
  // Reference test_invalid_info: I32 [2, 2] with offsets [0, 4].
  const std::string header = R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,4]}})";
  check_mentions(io_error_message(make_file(header, std::string(4, '\0'))),
                 {"tensor 'test'", "I32", "shape [2, 2]", "needs 16 bytes", "hold 4 bytes"});
}

TEST_CASE("safetensors: rejects a shape whose size overflows") {
  // Reference test_validation_overflow.
  const std::string header = R"({"test":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}})";
  check_mentions(io_error_message(make_file(header, std::string(16, '\0'))),
                 {"overflow: tensor 'test'", "shape [2, 18446744073709551614]"});
  // Fits as an element count but not in bits.
  const std::string bits = R"({"test":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}})";
  check_mentions(io_error_message(make_file(bits, std::string(16, '\0'))), {"overflow: tensor 'test'", "bits overflows"});
  // Zero elements, but a dimension no int64 stride can hold.
  const std::string zero = R"({"test":{"dtype":"U8","shape":[0,9223372036854775808],"data_offsets":[0,0]}})";
  check_mentions(io_error_message(make_file(zero)), {"overflow: tensor 'test'", "int64"});
}

TEST_CASE("safetensors: rejects a sub-byte tensor that does not fill whole bytes") {
  const std::string header = R"({"nib":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})";
  check_mentions(io_error_message(make_file(header, "x")), {"tensor 'nib'", "12 bits", "not a whole number of bytes"});
}

TEST_CASE("safetensors: rejects duplicate keys") {
  const std::string dup_tensor =
      R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  check_mentions(io_error_message(make_file(dup_tensor, "ab")), {"duplicate key 'w' in the header"});
  const std::string dup_field = R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})";
  check_mentions(io_error_message(make_file(dup_field, "a")), {"duplicate key 'dtype' inside the header entry 'w'"});
  const std::string dup_meta = R"({"__metadata__":{"k":"1","k":"2"}})";
  check_mentions(io_error_message(make_file(dup_meta)), {"duplicate key 'k' inside the header entry '__metadata__'"});
}

TEST_CASE("safetensors: rejects metadata that is not a string-to-string map") {
  check_mentions(io_error_message(make_file(R"({"__metadata__":{"epoch":3}})")),
                 {"__metadata__ value for key 'epoch' is a JSON number", "expected a string"});
  check_mentions(io_error_message(make_file(R"({"__metadata__":{"a":{"b":"c"}}})")), {"key 'a' is a JSON object"});
  check_mentions(io_error_message(make_file(R"({"__metadata__":["a"]})")), {"__metadata__ is a JSON array"});
}

// ---- files and atomic saving ----

TEST_CASE("safetensors: load reports a missing file with its path") {
  TempDir dir;
  const std::string path = (dir.path / "missing.safetensors").string();
  CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(("cannot open '" + path + "' for reading: No such file").c_str()),
                       IoError);
  CHECK_THROWS_WITH_AS(load_safetensors(dir.path.string()), doctest::Contains("it is a directory"), IoError);
}

TEST_CASE("safetensors: load names the path in parse errors") {
  TempDir dir;
  const auto path = dir.path / "broken.safetensors";
  std::ofstream(path, std::ios::binary) << make_file("{", "");
  CHECK_THROWS_WITH_AS(load_safetensors(path.string()), doctest::Contains((path.string() + ": header is not valid JSON").c_str()),
                       IoError);
}

TEST_CASE("safetensors: save then load round trips through a file") {
  TempDir dir;
  const std::string path = (dir.path / "model.safetensors").string();
  const auto w = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  save_safetensors(path, {{"w", w}, {"steps", Tensor::scalar(3, DType::i64)}}, {{"format", "pt"}});
  const SafetensorsFile file = load_safetensors(path);
  CHECK(file.at("w").to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(file.at("steps").item<std::int64_t>() == 3);
  CHECK(file.metadata.at("format") == "pt");
  CHECK(read_file(path) == serialize_safetensors({{"w", w}, {"steps", Tensor::scalar(3, DType::i64)}}, {{"format", "pt"}}));
  CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("safetensors: save replaces an existing file and keeps its mode") {
  TempDir dir;
  const auto path = dir.path / "ckpt.safetensors";
  save_safetensors(path.string(), {{"v", Tensor::from_vector<float>({1})}});
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  save_safetensors(path.string(), {{"v", Tensor::from_vector<float>({2})}});
  CHECK(load_safetensors(path.string()).at("v").item<float>() == 2.0f);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("safetensors: save into a missing directory fails naming the path and errno") {
  TempDir dir;
  const std::string path = (dir.path / "no_such_dir" / "x.safetensors").string();
  CHECK_THROWS_WITH_AS(save_safetensors(path, {{"v", Tensor::zeros({1})}}),
                       doctest::Contains(("cannot save '" + path + "'").c_str()), IoError);
  try {
    save_safetensors(path, {{"v", Tensor::zeros({1})}});
  } catch (const IoError& e) {
    CHECK(contains(e.what(), "No such file or directory"));
  }
  CHECK(dir.entries().empty());
}

TEST_CASE("safetensors: a save that fails while serializing leaves the old file intact") {
  TempDir dir;
  const auto path = dir.path / "ckpt.safetensors";
  save_safetensors(path.string(), {{"v", Tensor::from_vector<float>({1, 2})}});
  const std::string before = read_file(path);
  // The second tensor is undefined: serialization throws after the first one was accepted.
  CHECK_THROWS_AS(save_safetensors(path.string(), {{"a", Tensor::zeros({3})}, {"b", Tensor()}}), ValueError);
  CHECK(read_file(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("safetensors: a save whose rename fails removes its temp file and keeps the target") {
  TempDir dir;
  // The target is a non-empty directory, so rename(2) over it fails after the data was written.
  const auto target = dir.path / "ckpt.safetensors";
  fs::create_directory(target);
  std::ofstream(target / "keep") << "x";
  CHECK_THROWS_WITH_AS(save_safetensors(target.string(), {{"v", Tensor::zeros({1})}}),
                       doctest::Contains("renaming over the target"), IoError);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
  CHECK(fs::is_directory(target));
  CHECK(read_file(target / "keep") == "x");
}

// ---- test support built on safetensors: golden fixtures and allclose ----

TEST_CASE("golden helper: lookups that miss name the case and list what exists") {
  TempDir dir;
  const auto path = dir.path / "conv2d_stride2.safetensors";
  save_safetensors(path.string(), {{"input.x", Tensor::zeros({1, 2})}, {"output", Tensor::ones({1})}},
                   {{"args", R"({"stride": 2, "padding": [1, 1]})"}, {"seed", "0"}});
  const test::Golden golden = test::Golden::from_file("conv2d_stride2", path.string());
  CHECK(golden.tensor("output").item<float>() == 1.0f);
  CHECK(golden.metadata("seed") == "0");
  CHECK(golden.args()["stride"] == 2);
  CHECK(golden.args()["padding"] == nlohmann::json::array({1, 1}));
  CHECK_THROWS_WITH_AS(golden.tensor("grad.x"),
                       doctest::Contains("golden case 'conv2d_stride2'"), IoError);
  CHECK_THROWS_WITH_AS(golden.tensor("grad.x"), doctest::Contains("available: input.x, output"), IoError);
  CHECK_THROWS_WITH_AS(golden.metadata("torch"), doctest::Contains("available: args, seed"), IoError);
}

TEST_CASE("golden helper: args is an empty object when the case has none") {
  TempDir dir;
  const auto path = dir.path / "plain.safetensors";
  save_safetensors(path.string(), {{"output", Tensor::ones({1})}});
  const test::Golden golden = test::Golden::from_file("plain", path.string());
  CHECK(golden.args() == nlohmann::json::object());
  CHECK(golden.args().value("stride", 1) == 1);
}

TEST_CASE("golden helper: load_golden reports a missing fixture with its path") {
  CHECK_THROWS_WITH_AS(test::load_golden("no_such_case_xyz"), doctest::Contains("golden/no_such_case_xyz.safetensors"),
                       IoError);
}

TEST_CASE("allclose: passes within atol plus rtol times the expected magnitude") {
  const auto expected = Tensor::from_vector<double>({100.0, -1.0, 0.0, INFINITY});
  const auto actual = Tensor::from_vector<float>({100.09f, -1.0f, 1e-9f, INFINITY});
  test::check_allclose(actual, expected, 1e-3, 1e-8);
  CHECK(test::compare_allclose(actual, expected, 1e-3, 1e-8).ok);
  CHECK_FALSE(test::compare_allclose(actual, expected, 1e-4, 1e-8).ok);
}

TEST_CASE("allclose: report names the worst element and the first mismatches") {
  const auto expected = Tensor::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  const auto actual = Tensor::from_vector<double>({0, 1.5, 2, 3, 4, 9}, {2, 3});
  const test::AllcloseReport r = test::compare_allclose(actual, expected, 0.0, 0.1);
  CHECK_FALSE(r.ok);
  CHECK(r.mismatches == 2);
  CHECK(r.max_abs_diff == 4.0);
  CHECK(r.worst_index == 5);
  CHECK(r.worst_actual == 9.0);
  CHECK(r.worst_expected == 5.0);
  CHECK_MESSAGE(contains(r.message, "2 of 6 elements differ"), r.message);
  CHECK_MESSAGE(contains(r.message, "at flat index 5 [1, 2]: actual 9, expected 5"), r.message);
  CHECK_MESSAGE(contains(r.message, "[1] [0, 1] actual 1.5 expected 1 (diff 0.5)"), r.message);
}

TEST_CASE("allclose: NaN never matches and equal infinities match") {
  const auto expected = Tensor::from_vector<double>({NAN, INFINITY, -INFINITY, 1.0});
  const auto actual = Tensor::from_vector<double>({NAN, INFINITY, INFINITY, 1.0});
  const test::AllcloseReport r = test::compare_allclose(actual, expected, 1e-5, 1e-8);
  CHECK(r.mismatches == 2);
  CHECK(std::isnan(r.max_abs_diff));
  CHECK(r.worst_index == 0);
}

}  // namespace
}  // namespace selfsup::core
