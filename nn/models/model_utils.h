// Helpers shared by the model constructors (internal to nn/models).
#pragma once

#include <functional>

#include "nn/module.h"

namespace selfsup::nn {

/// Calls fn on every descendant of `root` (not root itself), depth first in registration order,
/// like torch's `for m in self.modules()`. Works inside a constructor, where named_modules()
/// cannot (it needs shared_from_this).
inline void for_each_submodule(const Module& root, const std::function<void(Module&)>& fn) {
  for (const auto& [name, child] : root.named_children()) {
    fn(*child);
    for_each_submodule(*child, fn);
  }
}

/// The tensor of a parameter, for in-place initialisation.
inline Tensor& param_data(Variable v) { return v.mutable_data(); }

}  // namespace selfsup::nn
