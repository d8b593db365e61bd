#include "core/error.h"

#include <string_view>

namespace selfsup::core {

std::string where(const std::source_location& loc) {
  std::string_view file = loc.file_name();
  // Keep the path from the first top-level project folder on, so messages do not leak build paths.
  for (const std::string_view top : {"/core/", "/autograd/", "/nn/", "/ssl/", "/data/", "/cuda/",
                                     "/cli/", "/tests/", "/bench/", "/examples/"}) {
    if (const auto pos = file.rfind(top); pos != std::string_view::npos) {
      file = file.substr(pos + 1);
      break;
    }
  }
  return std::string(file) + ":" + std::to_string(loc.line());
}

}  // namespace selfsup::core
