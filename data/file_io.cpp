#include "data/file_io.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace selfsup::data {
namespace {

[[noreturn]] void fail(const std::string& message) { throw core::IoError(message); }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail("read_file: cannot open " + path + " (" + errno_text() + ")");
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof(chunk), file.get());
    if (n > 0) {
      if (bytes.size() + n > max_bytes)
        fail("read_file: " + path + " is larger than the limit of " + std::to_string(max_bytes) + " bytes");
      bytes.insert(bytes.end(), chunk, chunk + n);
    }
    if (n < sizeof(chunk)) {
      if (std::ferror(file.get())) fail("read_file: error reading " + path + " at byte offset " + std::to_string(bytes.size()));
      break;
    }
  }
  return bytes;
}

bool is_gzip(const void* bytes, std::size_t size) {
  const auto* b = static_cast<const std::uint8_t*>(bytes);
  return size >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

std::vector<std::uint8_t> read_maybe_gzip(const std::string& path, std::size_t max_bytes) {
  {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> probe(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!probe) fail("read_file: cannot open " + path + " (" + errno_text() + ")");
    std::uint8_t magic[2] = {0, 0};
    const std::size_t n = std::fread(magic, 1, 2, probe.get());
    if (!is_gzip(magic, n)) {
      probe.reset();
      return read_file(path, max_bytes);
    }
  }
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) fail("read_file: cannot open " + path + " with zlib (" + errno_text() + ")");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(gz, &gzclose);
  gzbuffer(gz, 1 << 17);
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> chunk(1 << 17);
  for (;;) {
    const int n = gzread(gz, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(gz, &code);
      fail("read_file: corrupt gzip data in " + path + " after " + std::to_string(bytes.size()) +
           " decompressed bytes (zlib: " + (msg ? msg : "?") + ")");
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes)
      fail("read_file: " + path + " decompresses to more than the limit of " + std::to_string(max_bytes) + " bytes");
    bytes.insert(bytes.end(), chunk.data(), chunk.data() + n);
  }
  // gzread returns 0 both at a clean end and when the stream stops early; gzerror tells which.
  int code = Z_OK;
  const char* msg = gzerror(gz, &code);
  if (code != Z_OK && code != Z_STREAM_END)
    fail("read_file: truncated or corrupt gzip stream in " + path + " after " + std::to_string(bytes.size()) +
         " decompressed bytes (zlib: " + (msg ? msg : "?") + ")");
  return bytes;
}

std::vector<std::uint8_t> gunzip(const void* bytes, std::size_t size, const std::string& source, std::size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail("gunzip: zlib inflateInit2 failed for " + source);
  std::unique_ptr<z_stream, int (*)(z_streamp)> guard(&zs, &inflateEnd);
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> chunk(1 << 16);
  const auto* in = static_cast<const std::uint8_t*>(bytes);
  std::size_t consumed = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0 && consumed < size) {
      const std::size_t take = std::min<std::size_t>(size - consumed, 1u << 30);
      zs.next_in = const_cast<Bytef*>(in + consumed);
      zs.avail_in = static_cast<uInt>(take);
      consumed += take;
    }
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(chunk.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == size)
        fail("gunzip: truncated gzip stream in " + source + " after " + std::to_string(zs.total_in) + " input bytes");
      fail("gunzip: corrupt gzip data in " + source + " at input byte offset " + std::to_string(zs.total_in) +
           " (zlib: " + (zs.msg ? zs.msg : "error " + std::to_string(rc)) + ")");
    }
    const std::size_t produced = chunk.size() - zs.avail_out;
    if (out.size() + produced > max_bytes)
      fail("gunzip: " + source + " decompresses to more than the limit of " + std::to_string(max_bytes) + " bytes");
    out.insert(out.end(), chunk.data(), chunk.data() + produced);
    if (rc != Z_STREAM_END && produced == 0 && zs.avail_in == 0 && consumed == size)
      fail("gunzip: truncated gzip stream in " + source + " after " + std::to_string(zs.total_in) + " input bytes");
  }
  return out;
}

}  // namespace selfsup::data
