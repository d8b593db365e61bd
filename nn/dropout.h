// Dropout (torch.nn.Dropout) and DropPath (torchvision.ops.StochasticDepth in "row" mode).
// Each module owns its Generator, so masks are reproducible: the seed comes from the options, or
// is drawn from the construction generator; `generator()` can reseed it at any time.
// Training: Dropout zeroes elements with probability p and scales the rest by 1/(1-p); DropPath
// zeroes whole samples (axis 0). Eval, or p == 0: identity (the input Variable itself).
#pragma once

#include <cstdint>
#include <optional>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct DropoutOptions {
  double p = 0.5;
  /// Seed of the module's generator; unset: drawn from the construction generator.
  std::optional<std::uint64_t> seed = std::nullopt;
};

class Dropout : public Module {
 public:
  explicit Dropout(DropoutOptions options = {}, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  double p() const { return options_.p; }
  void set_p(double p);
  core::Generator& generator() { return generator_; }

 private:
  DropoutOptions options_;
  core::Generator generator_;
};

struct DropPathOptions {
  double p = 0.0;
  std::optional<std::uint64_t> seed = std::nullopt;
};

/// Stochastic depth: y = x * m_n / (1 - p), m_n ~ Bernoulli(1 - p) per sample n.
/// reference: torchvision/ops/stochastic_depth.py (mode="row")
class DropPath : public Module {
 public:
  explicit DropPath(DropPathOptions options = {}, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  double p() const { return options_.p; }
  void set_p(double p);
  core::Generator& generator() { return generator_; }

 private:
  DropPathOptions options_;
  core::Generator generator_;
};

/// Reseeds every Dropout and DropPath inside `module` (depth first, module i gets seed + i), so a
/// whole model's randomness follows one seed. `module` must be owned by a shared_ptr
/// (named_modules() uses shared_from_this).
void seed_dropout(Module& module, std::uint64_t seed);

}  // namespace selfsup::nn
