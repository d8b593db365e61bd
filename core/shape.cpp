#include "core/shape.h"

#include <limits>

#include "core/error.h"

namespace selfsup::core {

std::int64_t numel(const Shape& shape) {
  std::int64_t n = 1;
  for (const auto d : shape) {
    check<ShapeError>(d >= 0, "numel: negative dimension in shape " + to_string(shape));
    check<ShapeError>(d == 0 || n <= std::numeric_limits<std::int64_t>::max() / d,
                      "numel: element count overflows int64 for shape " + to_string(shape));
    n *= d;
  }
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    check<ShapeError>(da == db || da == 1 || db == 1,
                      std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) +
                          " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int normalize_axis(std::int64_t axis, std::size_t rank, const char* op) {
  const auto r = static_cast<std::int64_t>(rank);
  check<ShapeError>(axis >= -r && axis < r || (r == 0 && (axis == 0 || axis == -1)),
                    std::string(op) + ": axis " + std::to_string(axis) +
                        " is out of range for a tensor of rank " + std::to_string(r));
  if (r == 0) return 0;
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

}  // namespace selfsup::core
