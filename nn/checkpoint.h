// Checkpoints: one safetensors file (spec/ecosystem.md 1, 9.3, 9.4) holding
//   <state_dict name>        the model's parameters and buffers under torchvision-style names
//                            (so the file also loads as a plain weight file, in PyTorch too)
//   optimizer.<name>         the optimizer's state_dict() (param_groups.*, options.*, state.*)
//   meta.step                I64 0-d, the training step
// and __metadata__ strings: "format" = "pt", "selfsup.checkpoint" = "1", "selfsup.optimizer" =
// the optimizer's type, and the run configuration as "config.<key>". Saving is atomic (temp file,
// fsync, rename). Loading reads and validates the whole file, then checks the model's AND the
// optimizer's keys, shapes and dtypes, and only then writes: on any error (corrupt or truncated
// file, missing/unexpected keys, shape mismatches, optimizer options that differ) the error lists
// every difference and the in-memory model and optimizer are untouched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace selfsup::nn {

/// What load_checkpoint / read_checkpoint_info report.
struct CheckpointInfo {
  std::int64_t step = 0;
  std::map<std::string, std::string> config;  // the run configuration ("config." stripped)
  std::string optimizer_type;                 // "" when the file has no optimizer state
  std::vector<std::string> missing_keys;      // model keys not in the file (strict = false only)
  std::vector<std::string> unexpected_keys;   // file keys the model lacks (strict = false only)
};

struct LoadCheckpointOptions {
  /// Missing and unexpected model keys are errors (shape/dtype mismatches always are).
  bool strict = true;
  /// The optimizer's options and per-group hyperparameters must equal the checkpoint's.
  bool check_hyperparameters = true;
};

/// Writes model, optimizer state (when `optimizer` is not null), step and config atomically.
void save_checkpoint(const std::string& path, const Module& model, const optim::Optimizer* optimizer,
                     std::int64_t step, const std::map<std::string, std::string>& config = {});

/// Restores model and (when not null) optimizer from a checkpoint written by save_checkpoint.
/// Everything is validated first; on error nothing is changed.
CheckpointInfo load_checkpoint(const std::string& path, Module& model, optim::Optimizer* optimizer,
                               const LoadCheckpointOptions& options = {});

/// Step, config and optimizer type of a checkpoint, touching nothing.
CheckpointInfo read_checkpoint_info(const std::string& path);

struct LoadWeightsOptions {
  bool strict = true;
  /// When set, only keys starting with it are used, with it removed ("backbone." for a linear
  /// probe on an SSL checkpoint; "module." for DataParallel files).
  std::string strip_prefix;
};

/// Loads model weights from a checkpoint or any safetensors weight file (e.g. converted from a
/// torchvision .pth by tools/convert_torch_to_safetensors.py); optimizer.* and meta.* entries
/// are ignored. Validated first; on error the model is untouched.
CheckpointInfo load_weights(const std::string& path, Module& model, const LoadWeightsOptions& options = {});

}  // namespace selfsup::nn
