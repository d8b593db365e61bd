// A reference-counted byte buffer owned by the backend of its device (RAII free).
#pragma once

#include <cstddef>

#include "core/device.h"

namespace selfsup::core {

class Storage {
 public:
  /// Allocates `bytes` on `device` through its backend (contents uninitialised).
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
};

}  // namespace selfsup::core
