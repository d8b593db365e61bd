#include "data/multi_view.h"

#include "core/error.h"

namespace selfsup::data {

MultiViewTransform::MultiViewTransform(std::vector<TransformPtr> views) : views_(std::move(views)) {
  core::check(!views_.empty(), "MultiViewTransform: at least one view pipeline is required");
  for (std::size_t v = 0; v < views_.size(); ++v)
    core::check(views_[v] != nullptr, "MultiViewTransform: pipeline of view " + std::to_string(v) + " is null");
}

MultiViewTransform MultiViewTransform::repeat(TransformPtr pipeline, std::size_t num_views) {
  core::check(num_views > 0, "MultiViewTransform::repeat: num_views must be positive");
  return MultiViewTransform(std::vector<TransformPtr>(num_views, std::move(pipeline)));
}

std::vector<Image> MultiViewTransform::operator()(const Image& image, core::Generator& gen) const {
  std::vector<Image> out;
  out.reserve(views_.size());
  for (const auto& pipeline : views_) out.push_back((*pipeline)(image, gen));
  return out;
}

std::string MultiViewTransform::name() const {
  std::string s = "MultiViewTransform(";
  for (std::size_t v = 0; v < views_.size(); ++v) s += (v ? ", " : "") + std::string("view") + std::to_string(v) + "=" + views_[v]->name();
  return s + ")";
}

}  // namespace selfsup::data
