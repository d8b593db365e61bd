// The deterministic weight recipe shared with tools/make_golden_models.py (its Python twin): every
// state-dict tensor is a function of its key, computed with integer hashing so both sides produce
// bit-identical f32 values. See the script's docstring for the rule table.
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "nn/module.h"

namespace selfsup::test {

inline std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

inline std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

struct RecipeRule {
  double offset;
  double scale;
};

/// `damped`: the keys that get the damped BN rule (the fixture's args.damped_keys).
inline RecipeRule recipe_rule(const std::string& key, const core::Shape& shape, const std::set<std::string>& damped) {
  const std::string leaf = key.substr(key.rfind('.') + 1);
  if (damped.count(key)) return {0.125, 1.0 / 32.0};
  if (shape.size() >= 2) {
    std::int64_t fan_in = 1;
    for (std::size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    int e = 0;
    while ((std::int64_t{1} << (2 * (e + 1))) <= fan_in) ++e;
    return {0.0, 1.0 / static_cast<double>(std::int64_t{1} << e)};
  }
  if (leaf == "running_mean") return {0.0, 0.125};
  if (leaf == "running_var") return {1.0, 0.25};
  if (leaf == "weight") return {1.0, 0.25};
  if (leaf == "bias") return {0.0, 0.125};
  throw std::runtime_error("no recipe rule for " + key);
}

/// The recipe's f32 tensor for state-dict entry `key` of `shape`.
inline core::Tensor recipe_tensor(const std::string& key, const core::Shape& shape,
                                  const std::set<std::string>& damped = {}) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  const RecipeRule rule = recipe_rule(key, shape, damped);
  const std::uint64_t base = fnv1a64(key);
  std::vector<float> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t h = splitmix64(base + static_cast<std::uint64_t>(i));
    const double u = (2.0 * static_cast<double>(h >> 41) + 1.0) / 8388608.0 - 1.0;  // 2^23
    const double product = rule.scale * u;  // exact: scale is a power of two
    values[static_cast<std::size_t>(i)] = static_cast<float>(rule.offset + product);
  }
  return core::Tensor::from_vector(values, shape);
}

/// The recipe state for `model` (num_batches_tracked = 0), loaded with strict matching.
inline void load_recipe(nn::Module& model, const std::set<std::string>& damped = {}) {
  nn::StateDict state;
  for (const auto& [key, t] : model.state_dict()) {
    if (key.size() >= 19 && key.ends_with("num_batches_tracked")) {
      state.emplace_back(key, core::Tensor::scalar(0.0, core::DType::i64));
    } else {
      state.emplace_back(key, recipe_tensor(key, t.shape(), damped));
    }
  }
  model.load_state_dict(state, true);
}

}  // namespace selfsup::test
