// Tensor: a value handle on shared storage with shape, strides and offset (in elements).
// Copies of a Tensor share storage; views (reshape of a contiguous tensor, permute, slice,
// expand) are free. Ops that need dense memory call `contiguous()`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/generator.h"
#include "core/shape.h"
#include "core/storage.h"

namespace selfsup::core {

class Tensor {
 public:
  /// An undefined tensor (no storage); `defined()` is false.
  Tensor() = default;
  /// A new contiguous tensor with uninitialised contents.
  explicit Tensor(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());

  // ---- factories ----
  static Tensor empty(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(Shape shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(Shape shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
  /// 0, 1, ..., n-1 as a 1-d tensor.
  static Tensor arange(std::int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
  /// Uniform in [low, high).
  static Tensor rand(Shape shape, Generator& gen, DType dtype = DType::f32, double low = 0.0,
                     double high = 1.0, Device device = Device::cpu());
  /// Normal with the given mean and standard deviation.
  static Tensor randn(Shape shape, Generator& gen, DType dtype = DType::f32, double mean = 0.0,
                      double std = 1.0, Device device = Device::cpu());
  /// A CPU tensor holding a copy of `values` (dtype from T); numel(shape) must equal values.size().
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<std::int64_t>(values.size())});
  }
  /// A 0-d tensor.
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());

  // ---- metadata ----
  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  std::int64_t offset() const { return offset_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  /// Size of one axis (negative axes count from the end).
  std::int64_t size(std::int64_t axis) const;
  std::int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const;
  bool is_contiguous() const;
  /// True when both tensors view the same storage.
  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }

  // ---- raw access (CPU) ----
  /// Pointer to the first element (storage + offset); checks that T matches dtype().
  template <typename T>
  T* data();
  template <typename T>
  const T* data() const;
  void* raw_data();
  const void* raw_data() const;
  /// The single element of a one-element tensor, converted to T.
  template <typename T = double>
  T item() const;
  /// One element by multi-index, converted to double (for tests and printing).
  double at(std::initializer_list<std::int64_t> index) const;
  double at(const std::vector<std::int64_t>& index) const;
  /// All elements in row-major order, converted to T.
  template <typename T>
  std::vector<T> to_vector() const;

  // ---- copies and conversions ----
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  /// Copies `src` (broadcastable to this shape, any dtype/device) into this tensor in place.
  void copy_(const Tensor& src);
  /// Sets every element to `value` in place.
  void fill_(double value);

  // ---- views ----
  /// Same data with a new shape (one dim may be -1); a view when contiguous, else a copy.
  Tensor reshape(Shape shape) const;
  /// Like reshape but throws unless the tensor is contiguous (always a view).
  Tensor view(Shape shape) const;
  Tensor flatten(std::int64_t start_axis = 0, std::int64_t end_axis = -1) const;
  Tensor permute(const std::vector<std::int64_t>& order) const;
  Tensor transpose(std::int64_t a, std::int64_t b) const;
  /// Elements [start, end) with `step` along `axis` (negative start/end count from the end).
  Tensor slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  /// Removes `axis`, keeping element `index`.
  Tensor select(std::int64_t axis, std::int64_t index) const;
  /// Broadcasts size-1 (or missing leading) dims to `shape` with stride 0.
  Tensor expand(const Shape& shape) const;
  Tensor unsqueeze(std::int64_t axis) const;
  Tensor squeeze(std::int64_t axis) const;

  std::string to_string() const;

  /// Internal: builds a view on existing storage (used by views and backends).
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, std::int64_t offset, DType dtype);
  const std::shared_ptr<Storage>& storage() const { return storage_; }

 private:
  void check_cpu_access(const char* what) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  std::int64_t offset_ = 0;
  std::int64_t numel_ = 0;
  DType dtype_ = DType::f32;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace selfsup::core
