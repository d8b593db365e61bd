// safetensors reader and writer: [u64 little-endian N][N bytes UTF-8 JSON header][data buffer],
// with data_offsets relative to the start of the buffer. The reader runs the checks of the
// reference reader (huggingface/safetensors tensor.rs: read_metadata, then Metadata::validate) in
// the same order, adds an explicit duplicate-key check, and only then rejects dtypes that selfsup
// cannot hold, so a corrupt F16 file is reported as corrupt. Tensor bytes are copied into freshly
// allocated (aligned) storage; the input buffer is never reinterpreted. Assumes a little-endian host.
#include "core/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <source_location>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace selfsup::core {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

using Json = nlohmann::json;

constexpr std::uint64_t kMaxHeaderSize = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr std::uint64_t kMaxInt64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

/// Throws IoError("safetensors: <source>: <what> at <file:line>").
[[noreturn]] void fail(const std::string& source, const std::string& what,
                       const std::source_location loc = std::source_location::current()) {
  throw IoError("safetensors: " + source + ": " + what + " at " + where(loc));
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// ---- dtypes ----

struct StDType {
  std::string_view name;
  std::uint64_t bits;
};

// Every dtype of the reference `enum Dtype`, in its declaration order ("increasing alignment");
// the writer sorts by this rank, descending, as the reference does.
constexpr std::array<StDType, 22> kStDTypes = {{
    {"BOOL", 8},        {"F4", 4},           {"F6_E2M3", 6},     {"F6_E3M2", 6},
    {"U8", 8},          {"I8", 8},           {"F8_E5M2", 8},     {"F8_E4M3", 8},
    {"F8_E8M0", 8},     {"F8_E4M3FNUZ", 8},  {"F8_E5M2FNUZ", 8}, {"I16", 16},
    {"U16", 16},        {"F16", 16},         {"BF16", 16},       {"I32", 32},
    {"U32", 32},        {"F32", 32},         {"C64", 64},        {"F64", 64},
    {"I64", 64},        {"U64", 64},
}};

const StDType* find_st_dtype(std::string_view name) {
  for (const auto& d : kStDTypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::optional<DType> to_dtype(std::string_view st_name) {
  if (st_name == "F32") return DType::f32;
  if (st_name == "F64") return DType::f64;
  if (st_name == "I64") return DType::i64;
  if (st_name == "U8") return DType::u8;
  return std::nullopt;
}

std::string_view st_name(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
  }
  return "?";
}

std::size_t st_rank(DType t) {
  const auto name = st_name(t);
  for (std::size_t i = 0; i < kStDTypes.size(); ++i) {
    if (kStDTypes[i].name == name) return i;
  }
  return 0;
}

// ---- header checks ----

/// Index of the first byte that is not part of well-formed UTF-8 (as Rust's str::from_utf8
/// defines it: no overlongs, no surrogates, nothing above U+10FFFF), or npos.
std::size_t first_invalid_utf8(const unsigned char* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

/// Parses the header, rejecting duplicate keys in any object (nlohmann keeps the last one).
Json parse_header_json(const char* begin, const char* end, const std::string& source) {
  struct OpenObject {
    std::string owner;  // the key this object is the value of ("" for the root)
    std::set<std::string> keys;
  };
  std::vector<OpenObject> open;
  std::string last_key;
  const auto on_event = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open.push_back({open.empty() ? std::string() : last_key, {}});
        break;
      case Json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case Json::parse_event_t::key: {
        last_key = parsed.get<std::string>();
        if (!open.back().keys.insert(last_key).second) {
          if (open.size() == 1) {
            fail(source, "duplicate key " + in_quotes(last_key) +
                             " in the header (each tensor name may appear once)");
          }
          fail(source, "duplicate key " + in_quotes(last_key) + " inside the header entry " +
                           in_quotes(open.back().owner));
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(begin, end, on_event, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    // e.byte is 1-based within the header; the header starts at file offset 8.
    fail(source, "header is not valid JSON (error near file offset " + std::to_string(8 + e.byte - 1) +
                     "): " + e.what());
  } catch (const Json::exception& e) {
    // e.g. out_of_range 406 for a number literal that overflows a double, such as 1e999.
    fail(source, std::string("header is not valid JSON: ") + e.what());
  }
}

struct Entry {
  std::string name;
  const StDType* st = nullptr;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

std::string shape_string(const std::vector<std::uint64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

/// The JSON type of `v` for messages; distinguishes integers that are negative or too large.
std::string json_kind(const Json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return "negative integer " + v.dump();
  if (v.is_number_float()) return "non-integer number " + v.dump();
  return std::string("JSON ") + v.type_name();
}

/// A JSON integer >= 0 as u64 (nlohmann stores "-0" as a signed 0, which serde reads as 0 too).
std::optional<std::uint64_t> as_u64(const Json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() == 0) return 0;
  return std::nullopt;
}

/// Reads one tensor entry per the reference schema (TensorInfo: dtype, shape, data_offsets;
/// other fields are ignored, as serde does by default).
Entry read_entry(const std::string& name, const Json& value, const std::string& source) {
  const std::string who = "tensor " + in_quotes(name);
  if (!value.is_object()) fail(source, who + ": entry is a " + json_kind(value) + ", expected an object");
  Entry entry;
  entry.name = name;
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) fail(source, who + ": missing field '" + field + "'");
  }
  const Json& dtype = value["dtype"];
  if (!dtype.is_string()) fail(source, who + ": dtype is a " + json_kind(dtype) + ", expected a string");
  const auto dtype_name = dtype.get<std::string>();
  entry.st = find_st_dtype(dtype_name);
  if (entry.st == nullptr) fail(source, "unknown dtype " + in_quotes(dtype_name) + " for " + who);

  const Json& shape = value["shape"];
  if (!shape.is_array()) fail(source, who + ": shape is a " + json_kind(shape) + ", expected an array of non-negative integers");
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const auto d = as_u64(shape[i]);
    if (!d) {
      fail(source, who + ": shape[" + std::to_string(i) + "] is a " + json_kind(shape[i]) +
                       ", expected a non-negative integer below 2^64");
    }
    entry.shape.push_back(*d);
  }

  const Json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    fail(source, who + ": data_offsets is " + offsets.dump() + ", expected [BEGIN, END]");
  }
  std::uint64_t bounds[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto b = as_u64(offsets[i]);
    if (!b) {
      fail(source, who + ": data_offsets[" + std::to_string(i) + "] is a " + json_kind(offsets[i]) +
                       ", expected a non-negative integer below 2^64");
    }
    bounds[i] = *b;
  }
  entry.begin = bounds[0];
  entry.end = bounds[1];
  return entry;
}

bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// ---- writing ----

/// A JSON string literal, escaped as serde_json does (no escaping of '/' or non-ASCII).
std::string json_string(const std::string& s, const char* what) {
  try {
    return Json(s).dump();
  } catch (const Json::exception&) {
    throw ValueError(std::string("serialize_safetensors: ") + what + " is not valid UTF-8");
  }
}

/// Writes all of `data` to `fd`, retrying on EINTR and short writes; returns errno or 0.
int write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

/// The mode a newly created file would get (0666 minus the umask), read without changing the
/// umask, which is process-wide and would race with other threads.
mode_t default_file_mode() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      try {
        return 0666 & ~static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
      } catch (const std::exception&) {
        break;
      }
    }
  }
  return 0644;
}

/// Replaces `path` by `bytes` atomically: temp file in the same directory, fsync, rename, fsync
/// of the directory. On failure the temp file is removed and an existing `path` is untouched.
void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string what = "cannot save " + in_quotes(path);
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw IoError("safetensors: " + what + ": creating a temporary file " + in_quotes(tmp) +
                  " failed: " + errno_text(err));
  }
  bool open = true;
  const auto fail_and_clean = [&](const std::string& step, int err) {
    if (open) ::close(fd);
    ::unlink(tmp.c_str());
    throw IoError("safetensors: " + what + ": " + step + " " + in_quotes(tmp) + " failed: " + errno_text(err) +
                  " (the existing file, if any, is unchanged)");
  };
  // mkstemp creates 0600; keep the replaced file's mode, or use the umask default for a new file.
  struct stat old_stat{};
  const mode_t mode = ::stat(path.c_str(), &old_stat) == 0 && S_ISREG(old_stat.st_mode)
                          ? (old_stat.st_mode & 07777)
                          : default_file_mode();
  if (::fchmod(fd, mode) != 0) fail_and_clean("setting the mode of", errno);
  if (const int err = write_all(fd, bytes.data(), bytes.size())) fail_and_clean("writing", err);
  if (::fsync(fd) != 0) fail_and_clean("fsync of", errno);
  open = false;
  if (::close(fd) != 0) fail_and_clean("closing", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_and_clean("renaming over the target", errno);

  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const int err = errno;
    throw IoError("safetensors: saved " + in_quotes(path) + " but opening its directory " + in_quotes(dir) +
                  " for fsync failed: " + errno_text(err));
  }
  // EINVAL: the filesystem does not support fsync on directories; nothing more can be done.
  if (::fsync(dir_fd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(dir_fd);
    throw IoError("safetensors: saved " + in_quotes(path) + " but fsync of its directory " + in_quotes(dir) +
                  " failed: " + errno_text(err));
  }
  ::close(dir_fd);
}

}  // namespace

// ---- SafetensorsFile ----

bool SafetensorsFile::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; });
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return t;
  }
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& entry : tensors) ranked.emplace_back(edit_distance(name, entry.first), entry.first);
  std::sort(ranked.begin(), ranked.end());
  std::string message = "safetensors: no tensor named " + in_quotes(name) + " (the file has " +
                        std::to_string(tensors.size()) + " tensors";
  if (!ranked.empty()) {
    message += "; closest names:";
    for (std::size_t i = 0; i < std::min<std::size_t>(5, ranked.size()); ++i) {
      message += (i ? ", " : " ") + in_quotes(ranked[i].second);
    }
  }
  throw IoError(message + ")");
}

// ---- reading ----

SafetensorsFile parse_safetensors(const void* bytes, std::size_t size, const std::string& source) {
  const auto* data = static_cast<const unsigned char*>(bytes);
  // 1. The 8-byte length prefix.
  if (size < 8) {
    fail(source, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t n = 0;
  std::memcpy(&n, data, 8);
  // 2. Header size limit.
  if (n > kMaxHeaderSize) {
    fail(source, "header length N = " + std::to_string(n) + " (file offset 0) exceeds the limit of " +
                     std::to_string(kMaxHeaderSize) + " bytes");
  }
  // 3. Header inside the file (n <= 1e8, so 8 + n cannot overflow).
  if (8 + n > size) {
    fail(source, "header length N = " + std::to_string(n) + " runs past the end of the file: 8 + N = " +
                     std::to_string(8 + n) + " > file size " + std::to_string(size));
  }
  // 4. UTF-8.
  if (const auto bad = first_invalid_utf8(data + 8, n); bad != std::string_view::npos) {
    fail(source, "header is not valid UTF-8 (first bad byte 0x" +
                     [](unsigned c) {
                       char buf[3];
                       std::snprintf(buf, sizeof buf, "%02X", c);
                       return std::string(buf);
                     }(data[8 + bad]) +
                     " at file offset " + std::to_string(8 + bad) + ")");
  }
  // 5. JSON and schema. A NUL byte is never valid JSON (raw control characters are not allowed
  // even inside strings), but nlohmann stops at one as if the input ended, which would let
  // arbitrary bytes hide after it; reject it here.
  const char* header = reinterpret_cast<const char*>(data + 8);
  if (const void* nul = std::memchr(header, '\0', n)) {
    fail(source, "header is not valid JSON (NUL byte at file offset " +
                     std::to_string(8 + (static_cast<const char*>(nul) - header)) + ")");
  }
  const Json root = parse_header_json(header, header + n, source);
  if (!root.is_object()) fail(source, "header is a " + json_kind(root) + ", expected a JSON object");
  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;  // serde reads null as Option::None
      if (!value.is_object()) {
        fail(source, "__metadata__ is a " + json_kind(value) + ", expected an object of strings");
      }
      for (const auto& [mkey, mvalue] : value.items()) {
        if (!mvalue.is_string()) {
          fail(source, "__metadata__ value for key " + in_quotes(mkey) + " is a " + json_kind(mvalue) +
                           ", expected a string");
        }
        file.metadata.emplace(mkey, mvalue.get<std::string>());
      }
      continue;
    }
    entries.push_back(read_entry(key, value, source));
  }
  // 6-7. Sorted by offsets (any JSON order is accepted), the entries must tile the buffer, and
  // each range must be exactly shape x dtype bytes. Ties are broken by name so errors are stable.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const std::uint64_t buffer_start = 8 + n;
  const std::uint64_t buffer_size = size - buffer_start;
  const auto where_in_buffer = [&](std::uint64_t offset) {
    return "buffer offset " + std::to_string(offset) + " (file offset " +
           (offset <= std::numeric_limits<std::uint64_t>::max() - buffer_start
                ? std::to_string(buffer_start + offset)
                : std::string("beyond 2^64")) +
           ")";
  };
  std::uint64_t start = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    const std::string who = "tensor " + in_quotes(e.name);
    const std::string range = "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.end < e.begin) fail(source, "invalid offset: " + who + " has " + range + " with END before BEGIN");
    if (e.begin > start) {
      fail(source, "invalid offset: " + who + " has " + range + ", leaving a gap of " +
                       std::to_string(e.begin - start) + " bytes after " +
                       (previous ? "tensor " + in_quotes(previous->name) : std::string("the buffer start")) +
                       ", which ends at " + where_in_buffer(start));
    }
    if (e.begin < start) {
      fail(source, "invalid offset: " + who + " has " + range + ", overlapping tensor " +
                       in_quotes(previous->name) + ", which ends at " + where_in_buffer(start));
    }
    start = e.end;
    std::uint64_t elements = 1;
    std::uint64_t nonzero_elements = 1;  // selfsup also needs the strides to fit int64
    for (const auto d : e.shape) {
      if (!checked_mul(elements, d, elements)) {
        fail(source, "overflow: " + who + " has shape " + shape_string(e.shape) +
                         ", whose element count overflows 64 bits");
      }
      if (d > kMaxInt64 || (d != 0 && !checked_mul(nonzero_elements, d, nonzero_elements)) ||
          nonzero_elements > kMaxInt64) {
        fail(source, "overflow: " + who + " has shape " + shape_string(e.shape) +
                         ", whose dimensions do not fit int64 strides");
      }
    }
    std::uint64_t bits = 0;
    if (!checked_mul(elements, e.st->bits, bits)) {
      fail(source, "overflow: " + who + " has shape " + shape_string(e.shape) + " and dtype " +
                       std::string(e.st->name) + ", whose size in bits overflows 64 bits");
    }
    if (bits % 8 != 0) {
      fail(source, who + " (" + std::string(e.st->name) + ", shape " + shape_string(e.shape) + ") spans " +
                       std::to_string(bits) + " bits, not a whole number of bytes");
    }
    if (e.end - e.begin != bits / 8) {
      fail(source, who + " (" + std::string(e.st->name) + ", shape " + shape_string(e.shape) + ") needs " +
                       std::to_string(bits / 8) + " bytes but its " + range + " hold " +
                       std::to_string(e.end - e.begin) + " bytes");
    }
    previous = &e;
  }
  // 8. The tensors must end exactly at the end of the file.
  if (start < buffer_size) {
    fail(source, std::to_string(buffer_size - start) + " trailing bytes after the last tensor: the data buffer is " +
                     std::to_string(buffer_size) + " bytes (file offsets " + std::to_string(buffer_start) + " to " +
                     std::to_string(size) + ") but the tensors cover only " + std::to_string(start));
  }
  if (start > buffer_size) {
    fail(source, "truncated data buffer: the tensors need " + std::to_string(start) +
                     " bytes after the header but the file holds only " + std::to_string(buffer_size) +
                     " (file size " + std::to_string(size) + ", expected " +
                     (start <= std::numeric_limits<std::uint64_t>::max() - buffer_start
                          ? std::to_string(buffer_start + start)
                          : std::string("more than 2^64")) +
                     ")");
  }
  // The file is valid safetensors; now keep only what selfsup can hold.
  for (const Entry& e : entries) {
    if (!to_dtype(e.st->name)) {
      fail(source, "unsupported dtype " + std::string(e.st->name) + " for tensor " + in_quotes(e.name) +
                       " (valid safetensors, but selfsup reads only F32, F64, I64 and U8)");
    }
  }
  file.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    Shape shape(e.shape.begin(), e.shape.end());
    Tensor t(std::move(shape), *to_dtype(e.st->name), Device::cpu());
    const std::uint64_t nbytes = e.end - e.begin;
    if (nbytes > 0) std::memcpy(t.raw_data(), data + buffer_start + e.begin, nbytes);
    file.tensors.emplace_back(e.name, std::move(t));
  }
  return file;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw IoError("safetensors: cannot open " + in_quotes(path) + " for reading: " + errno_text(err));
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("safetensors: cannot read " + in_quotes(path) + ": fstat failed: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("safetensors: cannot read " + in_quotes(path) + ": " +
                  (S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file"));
  }
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (true) {
    if (got == bytes.size()) bytes.resize(bytes.size() + 4096);  // the file grew; keep reading
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw IoError("safetensors: reading " + in_quotes(path) + " failed at file offset " + std::to_string(got) +
                    ": " + errno_text(err));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  bytes.resize(got);
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

// ---- writing ----

std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  struct Item {
    const std::string* name;
    Tensor data;  // contiguous, on the CPU
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  std::set<std::string_view> seen;
  for (const auto& [name, t] : tensors) {
    check(name != "__metadata__",
          "serialize_safetensors: '__metadata__' is reserved and cannot name a tensor");
    check(seen.insert(name).second, "serialize_safetensors: duplicate tensor name " + in_quotes(name));
    check(t.defined(), "serialize_safetensors: tensor " + in_quotes(name) + " is undefined");
    if (t.numel() == 0) {
      items.push_back({&name, t});  // no bytes to copy, on any device
      continue;
    }
    const Tensor cpu = t.device().is_cpu() ? t : t.to(Device::cpu());
    items.push_back({&name, cpu.contiguous()});
  }
  // As the reference writer: dtype rank descending (so larger elements come first and every
  // tensor is aligned once the header is padded to 8), then name.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    const auto ra = st_rank(a.data.dtype()), rb = st_rank(b.data.dtype());
    return ra != rb ? ra > rb : *a.name < *b.name;
  });

  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      first = false;
      header += json_string(k, ("metadata key " + in_quotes(k)).c_str()) + ":" +
                json_string(v, ("metadata value for key " + in_quotes(k)).c_str());
    }
    header += "}";
  }
  std::uint64_t offset = 0;
  for (const Item& item : items) {
    if (header.size() > 1) header += ',';
    const std::uint64_t nbytes = static_cast<std::uint64_t>(item.data.numel()) * size_of(item.data.dtype());
    header += json_string(*item.name, ("tensor name " + in_quotes(*item.name)).c_str());
    header += ":{\"dtype\":\"" + std::string(st_name(item.data.dtype())) + "\",\"shape\":[";
    for (std::size_t i = 0; i < item.data.shape().size(); ++i) {
      if (i) header += ',';
      header += std::to_string(item.data.shape()[i]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  check<IoError>(header.size() <= kMaxHeaderSize,
                 "serialize_safetensors: header of " + std::to_string(header.size()) +
                     " bytes exceeds the safetensors limit of " + std::to_string(kMaxHeaderSize));

  std::string out;
  out.reserve(8 + header.size() + offset);
  const std::uint64_t n = header.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header;
  for (const Item& item : items) {
    const std::size_t nbytes = static_cast<std::size_t>(item.data.numel()) * size_of(item.data.dtype());
    if (nbytes > 0) out.append(static_cast<const char*>(item.data.raw_data()), nbytes);
  }
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Serialize fully before touching the disk, so a bad tensor list never creates a file.
  write_file_atomically(path, serialize_safetensors(tensors, metadata));
}

}  // namespace selfsup::core
