// Shape and indexing ops. Forward results are views where the core allows it; backward maps the
// gradient back (inverse permutation, scatter into zeros, slices of the output gradient).
#include <algorithm>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

// reshape: y = x viewed as `shape`;  dx = dy viewed as x's shape
Variable reshape(const Variable& x, const Shape& shape) {
  return make_result("reshape", x.data().reshape(shape), {x},
                     [in = x.shape()](const Tensor& dy, Gradients& g) { g.accumulate(0, dy.reshape(in)); });
}

Variable flatten(const Variable& x, std::int64_t start_axis, std::int64_t end_axis) {
  return reshape(x, x.data().flatten(start_axis, end_axis).shape());
}

// permute: y = x with axes reordered;  dx = dy with the inverse order
Variable permute(const Variable& x, const std::vector<std::int64_t>& order) {
  const Tensor y = x.data().permute(order);
  std::vector<std::int64_t> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    inverse[static_cast<std::size_t>(c::normalize_axis(order[i], order.size(), "permute"))] = static_cast<std::int64_t>(i);
  return make_result("permute", y, {x}, [inverse](const Tensor& dy, Gradients& g) {
    g.accumulate(0, dy.permute(inverse).contiguous());
  });
}

Variable transpose(const Variable& x, std::int64_t a, std::int64_t b) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(x.dim()));
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  std::swap(order[static_cast<std::size_t>(c::normalize_axis(a, order.size(), "transpose"))],
            order[static_cast<std::size_t>(c::normalize_axis(b, order.size(), "transpose"))]);
  return permute(x, order);
}

// slice: y = x[start:end:step] along axis;  dx = zeros with dy added at those positions
Variable slice(const Variable& x, std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step) {
  const Tensor y = x.data().slice(axis, start, end, step);
  const int a = c::normalize_axis(axis, x.shape().size(), "slice");
  // The first kept position, normalised exactly as Tensor::slice does.
  const std::int64_t n = x.data().shape()[static_cast<std::size_t>(a)];
  const std::int64_t first = std::clamp<std::int64_t>(start < 0 ? start + n : start, 0, n);
  return make_result("slice", y, {x}, [xd = x.data(), a, first, step](const Tensor& dy, Gradients& g) {
    const std::int64_t count = dy.size(a);
    std::vector<std::int64_t> positions(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) positions[static_cast<std::size_t>(i)] = first + i * step;
    const Tensor zeros = Tensor::zeros(xd.shape(), dy.dtype(), dy.device());
    g.accumulate(0, c::index_add(zeros, a, Tensor::from_vector(positions).to(dy.device()), dy.contiguous()));
  });
}

Variable unsqueeze(const Variable& x, std::int64_t axis) { return reshape(x, x.data().unsqueeze(axis).shape()); }
Variable squeeze(const Variable& x, std::int64_t axis) { return reshape(x, x.data().squeeze(axis).shape()); }

// expand: y = x broadcast to `shape`;  dx = dy summed over the broadcast dims
Variable expand(const Variable& x, const Shape& shape) {
  return make_result("expand", x.data().expand(shape), {x}, [](const Tensor& dy, Gradients& g) { g.accumulate(0, dy); });
}

// cat: y = [x0, x1, ...] along axis;  dxi = the matching slice of dy
Variable cat(const std::vector<Variable>& xs, std::int64_t axis) {
  std::vector<Tensor> data;
  data.reserve(xs.size());
  for (const Variable& v : xs) data.push_back(v.data());
  const Tensor y = c::cat(data, axis);
  const int a = c::normalize_axis(axis, y.shape().size(), "cat");
  std::vector<std::int64_t> sizes;
  for (const Tensor& t : data) sizes.push_back(t.size(a));
  return make_result("cat", y, xs, [a, sizes](const Tensor& dy, Gradients& g) {
    std::int64_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (g.needs(i)) g.accumulate(i, dy.slice(a, at, at + sizes[i]).contiguous());
      at += sizes[i];
    }
  });
}

Variable stack(const std::vector<Variable>& xs, std::int64_t axis) {
  core::check<core::ShapeError>(!xs.empty(), "stack: expected at least one tensor");
  const std::int64_t a = axis < 0 ? axis + xs.front().dim() + 1 : axis;
  std::vector<Variable> parts;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    core::check<core::ShapeError>(xs[i].shape() == xs.front().shape(),
                                  "stack: tensor " + std::to_string(i) + " has shape " + c::to_string(xs[i].shape()) +
                                      ", expected " + c::to_string(xs.front().shape()));
    parts.push_back(unsqueeze(xs[i], a));
  }
  return cat(parts, a);
}

std::vector<Variable> chunk(const Variable& x, std::int64_t chunks, std::int64_t axis) {
  core::check<core::ShapeError>(chunks > 0, "chunk: chunks must be positive, got " + std::to_string(chunks));
  const int a = c::normalize_axis(axis, x.shape().size(), "chunk");
  const std::int64_t n = x.size(a);
  const std::int64_t step = (n + chunks - 1) / chunks;  // torch.chunk: equal pieces, last may be smaller
  std::vector<Variable> out;
  for (std::int64_t at = 0; at < n; at += step) out.push_back(slice(x, a, at, std::min(n, at + step)));
  return out;
}

// index_select: y = x[idx] along axis;  dx = zeros with dy added at idx (repeats accumulate)
Variable index_select(const Variable& x, std::int64_t axis, const Tensor& idx) {
  const int a = c::normalize_axis(axis, x.shape().size(), "index_select");
  return make_result("index_select", c::index_select(x.data(), a, idx), {x},
                     [in = x.shape(), a, idx](const Tensor& dy, Gradients& g) {
                       g.accumulate(0, c::index_add(Tensor::zeros(in, dy.dtype(), dy.device()), a, idx, dy));
                     });
}

// gather: y[.., j, ..] = x[.., idx[.., j, ..], ..];  dx = scatter_add of dy at idx
Variable gather(const Variable& x, std::int64_t axis, const Tensor& idx) {
  const int a = c::normalize_axis(axis, x.shape().size(), "gather");
  return make_result("gather", c::gather(x.data(), a, idx), {x}, [in = x.shape(), a, idx](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::scatter_add(Tensor::zeros(in, dy.dtype(), dy.device()), a, idx, dy));
  });
}

}  // namespace selfsup::autograd
