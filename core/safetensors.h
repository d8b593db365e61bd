// safetensors reader and writer (https://github.com/huggingface/safetensors, "Format"):
// [u64 little-endian N][N bytes JSON header][data buffer]. Supports F32, F64, I64 and U8.
// The reader ports the reference validation (header size, UTF-8/JSON schema, offsets that tile
// the buffer exactly, shape x dtype = byte size) and also rejects duplicate keys; every error is
// an IoError naming the file and, where there is one, the tensor. Writes are atomic.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace selfsup::core {

struct SafetensorsFile {
  /// Tensors in file order (sorted by data offset), each a contiguous CPU tensor.
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`; throws IoError listing nearby names when missing.
  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
};

/// Parses an in-memory file; `source` names it in errors (a path or "<memory>").
SafetensorsFile parse_safetensors(const void* bytes, std::size_t size, const std::string& source);
/// Reads and parses a file.
SafetensorsFile load_safetensors(const std::string& path);
/// The bytes of a safetensors file: header padded with spaces to a multiple of 8, tensors laid
/// out largest dtype first then by name, as the reference writer does. Tensors may be any
/// device/strides (copied to contiguous CPU first).
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
/// Writes atomically: a temp file in the same directory, fsync, rename, fsync the directory.
/// An existing file at `path` is replaced only once the new one is complete.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace selfsup::core
