#include "core/tensor.h"

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "core/backend.h"
#include "core/error.h"
#include "core/ops.h"

namespace selfsup::core {

Tensor::Tensor(Shape shape, DType dtype, Device device)
    : shape_(std::move(shape)), dtype_(dtype) {
  numel_ = core::numel(shape_);
  strides_ = contiguous_strides(shape_);
  storage_ = std::make_shared<Storage>(static_cast<std::size_t>(numel_) * size_of(dtype), device);
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, std::int64_t offset,
               DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)),
      offset_(offset), dtype_(dtype) {
  numel_ = core::numel(shape_);
}

Tensor Tensor::empty(Shape shape, DType dtype, Device device) { return Tensor(std::move(shape), dtype, device); }

Tensor Tensor::zeros(Shape shape, DType dtype, Device device) { return full(std::move(shape), 0.0, dtype, device); }

Tensor Tensor::ones(Shape shape, DType dtype, Device device) { return full(std::move(shape), 1.0, dtype, device); }

Tensor Tensor::full(Shape shape, double value, DType dtype, Device device) {
  Tensor t(std::move(shape), dtype, device);
  backend_for(device).fill(t, value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(std::int64_t n, DType dtype, Device device) {
  check<ShapeError>(n >= 0, "arange: n must be >= 0, got " + std::to_string(n));
  Tensor t({n}, dtype, Device::cpu());
  dispatch_all(dtype, [&]<typename T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return t.to(device);
}

Tensor Tensor::rand(Shape shape, Generator& gen, DType dtype, double low, double high, Device device) {
  check(low <= high, "rand: low (" + std::to_string(low) + ") must be <= high (" + std::to_string(high) + ")");
  Tensor t(std::move(shape), dtype, device);
  backend_for(device).random(Distribution::uniform, gen, low, high, t);
  return t;
}

Tensor Tensor::randn(Shape shape, Generator& gen, DType dtype, double mean, double std, Device device) {
  check(std >= 0, "randn: std must be >= 0, got " + std::to_string(std));
  Tensor t(std::move(shape), dtype, device);
  backend_for(device).random(Distribution::normal, gen, mean, std, t);
  return t;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
  Tensor t(std::move(shape), dtype_of<T>());
  check<ShapeError>(static_cast<std::int64_t>(values.size()) == t.numel(),
                    "from_vector: " + std::to_string(values.size()) + " values do not fill shape " +
                        core::to_string(t.shape()));
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, Shape);
template Tensor Tensor::from_vector(const std::vector<double>&, Shape);
template Tensor Tensor::from_vector(const std::vector<std::int64_t>&, Shape);
template Tensor Tensor::from_vector(const std::vector<std::uint8_t>&, Shape);

std::int64_t Tensor::size(std::int64_t axis) const {
  return shape_[static_cast<std::size_t>(normalize_axis(axis, shape_.size(), "size"))];
}

Device Tensor::device() const {
  check<DeviceError>(defined(), "device: the tensor is undefined");
  return storage_->device();
}

bool Tensor::is_contiguous() const {
  if (numel_ == 0) return true;
  std::int64_t expected = 1;
  for (std::size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void Tensor::check_cpu_access(const char* what) const {
  check<ValueError>(defined(), std::string(what) + ": the tensor is undefined");
  check<DeviceError>(device().is_cpu(), std::string(what) + ": the tensor is on " + device().to_string() +
                                            "; move it to cpu first");
}

template <typename T>
T* Tensor::data() {
  check_cpu_access("data");
  check<DTypeError>(dtype_of<T>() == dtype_, std::string("data: requested ") + name(dtype_of<T>()) +
                                                 " but the tensor is " + name(dtype_));
  return static_cast<T*>(storage_->data()) + offset_;
}
template <typename T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}
template float* Tensor::data<float>();
template double* Tensor::data<double>();
template std::int64_t* Tensor::data<std::int64_t>();
template std::uint8_t* Tensor::data<std::uint8_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const std::int64_t* Tensor::data<std::int64_t>() const;
template const std::uint8_t* Tensor::data<std::uint8_t>() const;

void* Tensor::raw_data() {
  check<ValueError>(defined(), "raw_data: the tensor is undefined");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(size_of(dtype_));
}
const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

double Tensor::at(const std::vector<std::int64_t>& index) const {
  check_cpu_access("at");
  check<ShapeError>(index.size() == shape_.size(), "at: index has " + std::to_string(index.size()) +
                                                       " entries for a tensor of shape " + core::to_string(shape_));
  std::int64_t off = offset_;
  for (std::size_t i = 0; i < index.size(); ++i) {
    check<ShapeError>(index[i] >= 0 && index[i] < shape_[i],
                      "at: index " + std::to_string(index[i]) + " is out of range for axis " + std::to_string(i) +
                          " of shape " + core::to_string(shape_));
    off += index[i] * strides_[i];
  }
  return dispatch_all(dtype_, [&]<typename T>() {
    return static_cast<double>(static_cast<const T*>(storage_->data())[off]);
  });
}
double Tensor::at(std::initializer_list<std::int64_t> index) const { return at(std::vector<std::int64_t>(index)); }

template <typename T>
T Tensor::item() const {
  check<ShapeError>(numel_ == 1, "item: the tensor has " + std::to_string(numel_) + " elements (shape " +
                                     core::to_string(shape_) + "), expected exactly 1");
  const Tensor host = to(Device::cpu());
  return dispatch_all(dtype_, [&]<typename S>() {
    return static_cast<T>(static_cast<const S*>(host.storage_->data())[host.offset_]);
  });
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template std::int64_t Tensor::item<std::int64_t>() const;
template std::uint8_t Tensor::item<std::uint8_t>() const;
template int Tensor::item<int>() const;

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const Tensor dense = to(Device::cpu()).to(dtype_of<T>()).contiguous();
  const T* p = dense.data<T>();
  return std::vector<T>(p, p + numel_);
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;
template std::vector<std::uint8_t> Tensor::to_vector<std::uint8_t>() const;

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out(shape_, dtype_, device());
  backend_for(device()).copy(*this, out);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out(shape_, dtype, device());
  backend_for(device()).copy(*this, out);
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  const Tensor src = contiguous();
  Tensor out(shape_, dtype_, target);
  const std::size_t bytes = static_cast<std::size_t>(numel_) * size_of(dtype_);
  if (bytes == 0) return out;
  if (target.is_cpu()) {
    backend_for(src.device()).copy_to_host(src.raw_data(), out.raw_data(), bytes);
  } else if (src.device().is_cpu()) {
    backend_for(target).copy_from_host(src.raw_data(), out.raw_data(), bytes);
  } else {
    return src.to(Device::cpu()).to(target);
  }
  return out;
}

void Tensor::copy_(const Tensor& src) {
  check<ValueError>(defined() && src.defined(), "copy_: undefined tensor");
  check<ValueError>(is_contiguous(), "copy_: the destination must be contiguous (shape " +
                                         core::to_string(shape_) + ")");
  Tensor source = src.device() == device() ? src : src.to(device());
  if (source.shape() != shape_) source = source.expand(shape_);
  backend_for(device()).copy(source, *this);
}

void Tensor::fill_(double value) {
  check<ValueError>(is_contiguous(), "fill_: the tensor must be contiguous");
  backend_for(device()).fill(*this, value);
}

Tensor Tensor::reshape(Shape shape) const {
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      check<ShapeError>(infer < 0, "reshape: more than one -1 in " + core::to_string(shape));
      infer = static_cast<int>(i);
    } else {
      check<ShapeError>(shape[i] >= 0, "reshape: negative dimension in " + core::to_string(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    check<ShapeError>(known != 0 && numel_ % known == 0, "reshape: cannot infer -1 in " + core::to_string(shape) +
                                                             " for " + std::to_string(numel_) + " elements");
    shape[static_cast<std::size_t>(infer)] = numel_ / known;
    known *= shape[static_cast<std::size_t>(infer)];
  }
  check<ShapeError>(known == numel_, "reshape: shape " + core::to_string(shape) + " has " + std::to_string(known) +
                                         " elements but the tensor " + core::to_string(shape_) + " has " +
                                         std::to_string(numel_));
  const Tensor src = contiguous();
  return Tensor(src.storage_, shape, contiguous_strides(shape), src.offset_, dtype_);
}

Tensor Tensor::view(Shape shape) const {
  check<ShapeError>(is_contiguous(), "view: the tensor of shape " + core::to_string(shape_) +
                                         " is not contiguous; call contiguous() or use reshape");
  return reshape(std::move(shape));
}

Tensor Tensor::flatten(std::int64_t start_axis, std::int64_t end_axis) const {
  if (shape_.empty()) return reshape({1});
  const int s = normalize_axis(start_axis, shape_.size(), "flatten");
  const int e = normalize_axis(end_axis, shape_.size(), "flatten");
  check<ShapeError>(s <= e, "flatten: start axis must not come after end axis");
  Shape out(shape_.begin(), shape_.begin() + s);
  std::int64_t n = 1;
  for (int i = s; i <= e; ++i) n *= shape_[static_cast<std::size_t>(i)];
  out.push_back(n);
  out.insert(out.end(), shape_.begin() + e + 1, shape_.end());
  return reshape(out);
}

Tensor Tensor::permute(const std::vector<std::int64_t>& order) const {
  check<ShapeError>(order.size() == shape_.size(), "permute: order has " + std::to_string(order.size()) +
                                                       " axes for a tensor of rank " + std::to_string(dim()));
  Shape shape(order.size());
  Strides strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto a = static_cast<std::size_t>(normalize_axis(order[i], shape_.size(), "permute"));
    check<ShapeError>(!seen[a], "permute: axis " + std::to_string(a) + " appears twice");
    seen[a] = true;
    shape[i] = shape_[a];
    strides[i] = strides_[a];
  }
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  std::vector<std::int64_t> order(shape_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  std::swap(order[static_cast<std::size_t>(normalize_axis(a, shape_.size(), "transpose"))],
            order[static_cast<std::size_t>(normalize_axis(b, shape_.size(), "transpose"))]);
  return permute(order);
}

Tensor Tensor::slice(std::int64_t axis, std::int64_t start, std::int64_t end, std::int64_t step) const {
  const auto a = static_cast<std::size_t>(normalize_axis(axis, shape_.size(), "slice"));
  check<ShapeError>(step > 0, "slice: step must be positive, got " + std::to_string(step));
  const std::int64_t n = shape_[a];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  Shape shape = shape_;
  Strides strides = strides_;
  shape[a] = (end - start + step - 1) / step;
  strides[a] = strides_[a] * step;
  return Tensor(storage_, shape, strides, offset_ + start * strides_[a], dtype_);
}

Tensor Tensor::select(std::int64_t axis, std::int64_t index) const {
  const auto a = static_cast<std::size_t>(normalize_axis(axis, shape_.size(), "select"));
  const std::int64_t n = shape_[a];
  check<ShapeError>(index >= -n && index < n, "select: index " + std::to_string(index) +
                                                  " is out of range for axis of size " + std::to_string(n));
  if (index < 0) index += n;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
  strides.erase(strides.begin() + static_cast<std::ptrdiff_t>(a));
  return Tensor(storage_, shape, strides, offset_ + index * strides_[a], dtype_);
}

Tensor Tensor::expand(const Shape& shape) const {
  check<ShapeError>(shape.size() >= shape_.size(), "expand: cannot expand " + core::to_string(shape_) + " to " +
                                                       core::to_string(shape));
  const std::size_t lead = shape.size() - shape_.size();
  Strides strides(shape.size(), 0);
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    const std::int64_t want = shape[lead + i];
    if (shape_[i] == want) {
      strides[lead + i] = strides_[i];
    } else {
      check<ShapeError>(shape_[i] == 1, "expand: cannot expand " + core::to_string(shape_) + " to " +
                                            core::to_string(shape));
    }
  }
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

Tensor Tensor::unsqueeze(std::int64_t axis) const {
  const int a = normalize_axis(axis < 0 ? axis + dim() + 1 : axis, shape_.size() + 1, "unsqueeze");
  Shape shape = shape_;
  Strides strides = strides_;
  const std::int64_t stride = static_cast<std::size_t>(a) < shape_.size() ? strides_[a] * shape_[a] : 1;
  shape.insert(shape.begin() + a, 1);
  strides.insert(strides.begin() + a, stride);
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

Tensor Tensor::squeeze(std::int64_t axis) const {
  const auto a = static_cast<std::size_t>(normalize_axis(axis, shape_.size(), "squeeze"));
  if (shape_[a] != 1) return *this;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(a));
  strides.erase(strides.begin() + static_cast<std::ptrdiff_t>(a));
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(shape=" << core::to_string(shape_) << ", dtype=" << name(dtype_) << ", device=" << device().to_string();
  const Tensor host = to(Device::cpu());
  const std::int64_t shown = std::min<std::int64_t>(numel_, 20);
  const auto values = host.to_vector<double>();
  os << ", values=[" << std::setprecision(6);
  for (std::int64_t i = 0; i < shown; ++i) os << (i ? ", " : "") << values[static_cast<std::size_t>(i)];
  if (shown < numel_) os << ", ... (" << numel_ - shown << " more)";
  os << "])";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace selfsup::core
