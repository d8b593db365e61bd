// Shapes and strides (row-major, in elements). Dimension letters used across the project:
// N batch, C channels, H/W spatial, K output channels, R/S kernel, D embedding, Q queue.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace selfsup::core {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// Number of elements (1 for a 0-d shape); throws ShapeError on a negative dim or overflow.
std::int64_t numel(const Shape& shape);
/// Row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);
/// "[2, 3, 4]"
std::string to_string(const Shape& shape);
/// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// Turns a possibly negative axis into [0, rank); throws ShapeError naming `op`.
int normalize_axis(std::int64_t axis, std::size_t rank, const char* op);

}  // namespace selfsup::core
