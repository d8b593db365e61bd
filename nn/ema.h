// Exponential moving average of one module's weights into another (momentum encoders: MoCo's key
// encoder, BYOL's target, ISD/DisCo teachers). Updates run in place on the target's tensors,
// without autograd; both modules must have the same parameter and buffer names and shapes.
//   parameters:  target = m * target + (1 - m) * online
//   buffers:     EmaBuffers::copy (default) copies online's buffers (BN running_mean/var and
//                num_batches_tracked); ::keep leaves the target's own buffers, which is what
//                MoCo v2 (moco/builder.py _momentum_update_key_encoder), ISD, solo-learn and
//                BYOL (the target's BN state comes from its own train-mode forwards) do, see
//                spec/methods.md 1.2; ::average averages floating buffers like the parameters
//                (timm ModelEmaV2) and copies integer ones.
#pragma once

#include <cstdint>

#include "nn/module.h"

namespace selfsup::nn {

enum class EmaBuffers { copy, keep, average };

/// target = momentum * target + (1 - momentum) * online for every parameter (momentum in [0, 1]),
/// buffers as `buffers` says. Everything is checked before anything is written.
void ema_update(Module& target, const Module& online, double momentum, EmaBuffers buffers = EmaBuffers::copy);

/// Makes `target` an exact copy of `online` (parameters and buffers) and freezes its parameters
/// (requires_grad false): the start of a momentum encoder, as MoCo and the BYOL ports do.
void init_momentum_encoder(Module& target, const Module& online);

}  // namespace selfsup::nn
