// Transform: a random image augmentation with torchvision semantics, applied to a float CHW image
// in [0, 1] (data/image.h). Each transform is split into
//   - a deterministic functional core `f(image, params)` (the analogue of
//     torchvision.transforms.functional, compared with it by the golden tests), and
//   - a sampler `get_params(..., gen)` drawing the parameters from a core::Generator in the same
//     order as torchvision's get_params / forward.
// Transforms are immutable after construction, so one instance may be shared by many threads;
// all randomness comes from the Generator passed in, so a result is a pure function of
// (image, generator state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "data/image.h"

namespace selfsup::data {

class Transform {
 public:
  virtual ~Transform() = default;
  /// Applies the transform, drawing any random parameters from `gen`.
  virtual Image operator()(Image image, core::Generator& gen) const = 0;
  /// A short description, e.g. "RandomHorizontalFlip(p=0.5)".
  virtual std::string name() const = 0;
};

using TransformPtr = std::shared_ptr<const Transform>;

/// Applies transforms in order (torchvision Compose).
class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;
  const std::vector<TransformPtr>& transforms() const { return transforms_; }

 private:
  std::vector<TransformPtr> transforms_;
};

/// Applies `inner` with probability p (torchvision RandomApply: one uniform u, skipped when p < u).
class RandomApply : public Transform {
 public:
  RandomApply(TransformPtr inner, double p);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  TransformPtr inner_;
  double p_;
};

// ---- sampling helpers (each draws from gen in a fixed, documented way) ----

/// One uniform in [low, high): low + u * (high - low) with u = gen.next_uniform().
double uniform(core::Generator& gen, double low, double high);
/// An integer in [low, high) from one uniform (torch.randint(low, high) semantics).
std::int64_t randint(core::Generator& gen, std::int64_t low, std::int64_t high);
/// A uniformly random permutation of 0..n-1 (Fisher-Yates, n - 1 uniforms).
std::vector<int> randperm(core::Generator& gen, int n);
/// True with probability p: one uniform u, returns u < p (torchvision's `torch.rand(1) < p`).
bool bernoulli(core::Generator& gen, double p);

/// Throws ValueError naming `op` unless the image has one of the given channel counts.
void check_channels(const char* op, const Image& image, std::initializer_list<std::int64_t> allowed);
/// Makes a shared transform: make<RandomHorizontalFlip>(0.5).
template <typename T, typename... Args>
TransformPtr make(Args&&... args) {
  return std::make_shared<const T>(std::forward<Args>(args)...);
}

}  // namespace selfsup::data
