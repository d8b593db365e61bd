// Image <-> core::Tensor conversions, kept apart from image.cpp so that the parsers and decoders
// (and their fuzz targets) do not need the tensor library.
#include <cstring>

#include "core/error.h"
#include "data/image.h"

namespace selfsup::data {

core::Tensor to_tensor(const Image& image) {
  core::Tensor t(core::Shape{image.channels, image.height, image.width}, core::DType::f32);
  if (image.numel() > 0) std::memcpy(t.data<float>(), image.pixels.data(), image.pixels.size() * sizeof(float));
  return t;
}

Image from_tensor(const core::Tensor& tensor) {
  core::check<core::ShapeError>(tensor.dim() == 3, "data::from_tensor: expected a [C, H, W] tensor, got shape " +
                                                       core::to_string(tensor.shape()));
  core::check<core::DTypeError>(core::is_floating(tensor.dtype()),
                                std::string("data::from_tensor: expected f32 or f64, got ") + core::name(tensor.dtype()));
  Image out;
  out.channels = tensor.size(0), out.height = tensor.size(1), out.width = tensor.size(2);
  out.pixels = tensor.to_vector<float>();
  return out;
}

}  // namespace selfsup::data
