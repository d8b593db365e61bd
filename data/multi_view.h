// MultiViewTransform: V augmentation pipelines, one per view, applied to the same image. Views are
// produced in order from one Generator, so a sample's views are a pure function of (image,
// generator state). Asymmetric recipes (BYOL) are simply different pipelines per view.
#pragma once

#include <cstddef>
#include <vector>

#include "data/transforms/transform.h"

namespace selfsup::data {

class MultiViewTransform {
 public:
  MultiViewTransform() = default;
  /// One pipeline per view (none may be null).
  explicit MultiViewTransform(std::vector<TransformPtr> views);
  /// The same pipeline for each of `num_views` views.
  static MultiViewTransform repeat(TransformPtr pipeline, std::size_t num_views);

  /// The views of `image`, view v from pipeline v.
  std::vector<Image> operator()(const Image& image, core::Generator& gen) const;
  std::size_t num_views() const { return views_.size(); }
  const TransformPtr& view(std::size_t v) const { return views_.at(v); }
  std::string name() const;

 private:
  std::vector<TransformPtr> views_;
};

}  // namespace selfsup::data
