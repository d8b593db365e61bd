// File and buffer reading shared by the dataset readers: whole-file reads with a size cap,
// and gzip via zlib (gzopen/gzread for files, inflate for memory buffers). Every error is a
// core::IoError naming the path (or the `source` label of a buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace selfsup::data {

/// Default cap on what one file may decompress or read to (4 GiB); protects against gzip bombs.
inline constexpr std::size_t kMaxFileBytes = std::size_t{4} << 30;

/// The bytes of `path`; throws IoError if it cannot be opened or read, or exceeds `max_bytes`.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes = kMaxFileBytes);
/// The bytes of `path`, gunzipped when it starts with the gzip magic (1f 8b), read as is
/// otherwise. A truncated or corrupt gzip stream is an IoError naming the file.
std::vector<std::uint8_t> read_maybe_gzip(const std::string& path, std::size_t max_bytes = kMaxFileBytes);
/// True when the buffer starts with the gzip magic bytes.
bool is_gzip(const void* bytes, std::size_t size);
/// Decompresses a complete gzip stream held in memory (zlib inflate, gzip wrapper).
std::vector<std::uint8_t> gunzip(const void* bytes, std::size_t size, const std::string& source,
                                 std::size_t max_bytes = kMaxFileBytes);
/// True when `path` names an existing regular file.
bool file_exists(const std::string& path);

}  // namespace selfsup::data
