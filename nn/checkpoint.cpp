#include "nn/checkpoint.h"

#include <utility>

#include "core/error.h"
#include "core/safetensors.h"

namespace selfsup::nn {

namespace {

constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kMetaPrefix = "meta.";
constexpr const char* kStepKey = "meta.step";
constexpr const char* kConfigPrefix = "config.";
constexpr const char* kOptimizerTypeKey = "selfsup.optimizer";
constexpr const char* kVersionKey = "selfsup.checkpoint";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

struct Parts {
  StateDict model;
  StateDict optimizer;  // "optimizer." removed
  const Tensor* step = nullptr;
};

Parts split(const core::SafetensorsFile& file) {
  Parts parts;
  const std::string opt_prefix = kOptimizerPrefix;
  for (const auto& [name, t] : file.tensors) {
    if (starts_with(name, opt_prefix)) parts.optimizer.emplace_back(name.substr(opt_prefix.size()), t);
    else if (name == kStepKey) parts.step = &t;
    else if (!starts_with(name, kMetaPrefix)) parts.model.emplace_back(name, t);
  }
  return parts;
}

void read_metadata(const core::SafetensorsFile& file, CheckpointInfo& info) {
  const std::string config_prefix = kConfigPrefix;
  for (const auto& [key, value] : file.metadata) {
    if (starts_with(key, config_prefix)) info.config[key.substr(config_prefix.size())] = value;
    else if (key == kOptimizerTypeKey) info.optimizer_type = value;
  }
}

std::int64_t read_step(const std::string& path, const Parts& parts) {
  if (parts.step == nullptr)
    throw core::IoError("load_checkpoint: " + path + " is not a selfsup checkpoint (it has no '" + kStepKey +
                        "' tensor); use load_weights for a plain weight file");
  if (parts.step->dtype() != core::DType::i64 || !parts.step->shape().empty())
    throw core::IoError("load_checkpoint: " + path + ": '" + kStepKey + "' is " + core::name(parts.step->dtype()) + " " +
                        core::to_string(parts.step->shape()) + ", expected i64 []");
  return parts.step->item<std::int64_t>();
}

/// The checks Module::load_state_dict makes, without writing: missing and unexpected keys
/// (errors when strict, reported in `info` otherwise) and shape/dtype mismatches (always errors).
std::string model_problems(const Module& model, const StateDict& state, bool strict, CheckpointInfo& info) {
  const Module::StateDictDiff diff = model.compare_state_dict(state);
  std::string problems;
  if (!diff.duplicates.empty()) problems += "\n  model: duplicate keys: " + join(diff.duplicates);
  if (strict) {
    if (!diff.missing.empty()) problems += "\n  model: missing keys: " + join(diff.missing);
    if (!diff.unexpected.empty()) problems += "\n  model: unexpected keys: " + join(diff.unexpected);
  } else {
    info.missing_keys = diff.missing;
    info.unexpected_keys = diff.unexpected;
  }
  if (!diff.mismatched.empty()) problems += "\n  model: shape/dtype mismatches: " + join(diff.mismatched);
  return problems;
}

StateDict clone_state(const Module& model) {
  StateDict out;
  for (const auto& [name, t] : model.state_dict()) out.emplace_back(name, t.clone());
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const optim::Optimizer* optimizer,
                     std::int64_t step, const std::map<std::string, std::string>& config) {
  StateDict tensors = model.state_dict();
  for (const auto& [name, t] : tensors)
    core::check(!starts_with(name, kOptimizerPrefix) && !starts_with(name, kMetaPrefix),
                "save_checkpoint: model key '" + name + "' uses a reserved prefix ('optimizer.' or 'meta.')");
  std::map<std::string, std::string> metadata{{"format", "pt"}, {kVersionKey, "1"}};
  if (optimizer != nullptr) {
    for (auto& [name, t] : optimizer->state_dict()) tensors.emplace_back(kOptimizerPrefix + name, std::move(t));
    metadata[kOptimizerTypeKey] = optimizer->type_name();
  }
  tensors.emplace_back(kStepKey, Tensor::from_vector(std::vector<std::int64_t>{step}, core::Shape{}));
  for (const auto& [key, value] : config) {
    core::check(!key.empty(), "save_checkpoint: a config key is empty");
    metadata[kConfigPrefix + key] = value;
  }
  core::save_safetensors(path, tensors, metadata);
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  const core::SafetensorsFile file = core::load_safetensors(path);
  const Parts parts = split(file);
  CheckpointInfo info;
  info.step = read_step(path, parts);
  read_metadata(file, info);
  return info;
}

CheckpointInfo load_checkpoint(const std::string& path, Module& model, optim::Optimizer* optimizer,
                               const LoadCheckpointOptions& options) {
  const core::SafetensorsFile file = core::load_safetensors(path);
  const Parts parts = split(file);
  CheckpointInfo info;
  info.step = read_step(path, parts);
  read_metadata(file, info);

  std::string problems = model_problems(model, parts.model, options.strict, info);
  if (optimizer != nullptr) {
    if (parts.optimizer.empty()) {
      problems += "\n  optimizer: the checkpoint has no optimizer state (no 'optimizer.*' tensors)";
    } else if (!info.optimizer_type.empty() && info.optimizer_type != optimizer->type_name()) {
      problems += "\n  optimizer: the checkpoint holds " + info.optimizer_type + " state, the optimizer is " +
                  optimizer->type_name();
    } else {
      try {
        optimizer->validate_state_dict(parts.optimizer, options.check_hyperparameters);
      } catch (const core::ValueError& e) {
        problems += "\n  optimizer (keys under 'optimizer.'): " + std::string(e.what());
      }
    }
  }
  if (!problems.empty())
    throw core::ValueError("load_checkpoint: " + path + " does not fit the " + model.type_name() +
                           (optimizer ? " and " + optimizer->type_name() : std::string()) +
                           "; nothing was loaded:" + problems);

  // Validated: write. Should the optimizer still fail (allocation), the model is put back.
  StateDict backup;
  if (optimizer != nullptr) backup = clone_state(model);
  model.load_state_dict(parts.model, options.strict);
  if (optimizer != nullptr) {
    try {
      optimizer->load_state_dict(parts.optimizer, options.check_hyperparameters);
    } catch (...) {
      model.load_state_dict(backup, true);
      throw;
    }
  }
  return info;
}

CheckpointInfo load_weights(const std::string& path, Module& model, const LoadWeightsOptions& options) {
  const core::SafetensorsFile file = core::load_safetensors(path);
  CheckpointInfo info;
  read_metadata(file, info);
  StateDict state;
  std::size_t with_prefix = 0;
  for (const auto& [name, t] : file.tensors) {
    if (name == kStepKey && t.dtype() == core::DType::i64 && t.shape().empty()) info.step = t.item<std::int64_t>();
    if (starts_with(name, kOptimizerPrefix) || starts_with(name, kMetaPrefix)) continue;
    if (options.strip_prefix.empty()) {
      state.emplace_back(name, t);
    } else if (starts_with(name, options.strip_prefix)) {
      state.emplace_back(name.substr(options.strip_prefix.size()), t);
      ++with_prefix;
    }
  }
  if (!options.strip_prefix.empty() && with_prefix == 0)
    throw core::ValueError("load_weights: no tensor in " + path + " starts with '" + options.strip_prefix +
                           "'; nothing was loaded");
  const std::string problems = model_problems(model, state, options.strict, info);
  if (!problems.empty())
    throw core::ValueError("load_weights: " + path + " does not fit the " + model.type_name() +
                           "; nothing was loaded:" + problems);
  model.load_state_dict(state, options.strict);
  return info;
}

}  // namespace selfsup::nn
