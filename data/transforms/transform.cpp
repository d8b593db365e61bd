#include "data/transforms/transform.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace selfsup::data {

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (std::size_t i = 0; i < transforms_.size(); ++i)
    core::check(transforms_[i] != nullptr, "Compose: transform " + std::to_string(i) + " is null");
}

Image Compose::operator()(Image image, core::Generator& gen) const {
  for (const auto& t : transforms_) image = (*t)(std::move(image), gen);
  return image;
}

std::string Compose::name() const {
  std::string s = "Compose(";
  for (std::size_t i = 0; i < transforms_.size(); ++i) s += (i ? ", " : "") + transforms_[i]->name();
  return s + ")";
}

RandomApply::RandomApply(TransformPtr inner, double p) : inner_(std::move(inner)), p_(p) {
  core::check(inner_ != nullptr, "RandomApply: transform is null");
  core::check(p >= 0.0 && p <= 1.0, "RandomApply: p must be in [0, 1], got " + std::to_string(p));
}

Image RandomApply::operator()(Image image, core::Generator& gen) const {
  if (p_ < gen.next_uniform()) return image;
  return (*inner_)(std::move(image), gen);
}

std::string RandomApply::name() const {
  std::ostringstream s;
  s << "RandomApply(p=" << p_ << ", " << inner_->name() << ")";
  return s.str();
}

double uniform(core::Generator& gen, double low, double high) { return low + gen.next_uniform() * (high - low); }

std::int64_t randint(core::Generator& gen, std::int64_t low, std::int64_t high) {
  if (!(high > low))  // the message is only built on failure (hot path)
    core::check(false, "randint: empty range [" + std::to_string(low) + ", " + std::to_string(high) + ")");
  const auto span = static_cast<double>(high - low);
  const auto offset = static_cast<std::int64_t>(std::floor(gen.next_uniform() * span));
  return low + std::min<std::int64_t>(offset, high - low - 1);
}

std::vector<int> randperm(core::Generator& gen, int n) {
  std::vector<int> perm(static_cast<std::size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(randint(gen, 0, i + 1));
    std::swap(perm[static_cast<std::size_t>(i)], perm[j]);
  }
  return perm;
}

bool bernoulli(core::Generator& gen, double p) { return gen.next_uniform() < p; }

void check_channels(const char* op, const Image& image, std::initializer_list<std::int64_t> allowed) {
  for (const auto c : allowed)
    if (image.channels == c) return;
  std::string list;
  for (const auto c : allowed) list += (list.empty() ? "" : " or ") + std::to_string(c);
  throw core::ValueError(std::string(op) + ": expected an image with " + list + " channels, got shape " +
                         image.shape_string());
}

}  // namespace selfsup::data
