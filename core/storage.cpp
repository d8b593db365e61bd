#include "core/storage.h"

#include "core/backend.h"

namespace selfsup::core {

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  data_ = backend_for(device).allocate(bytes);
}

Storage::~Storage() {
  if (data_ != nullptr) backend_for(device_).deallocate(data_);
}

}  // namespace selfsup::core
