// Parameter-free elementwise modules (torch.nn.ReLU, SiLU, Hardswish, Hardsigmoid, Sigmoid, Tanh,
// Identity), plus `Activation`, an enum naming them, and make_activation() for blocks that take
// the activation as an option (SqueezeExcitation, Conv2dNormActivation).
// NOTE: torch's inplace=True has no equivalent here; results are always new tensors.
#pragma once

#include <memory>

#include "nn/module.h"

namespace selfsup::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Variable forward(const Variable& x) override { return autograd::relu(x); }
};

/// x * sigmoid(x).
class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Variable forward(const Variable& x) override { return autograd::silu(x); }
};

/// x * relu6(x + 3) / 6.
class Hardswish : public Module {
 public:
  Hardswish() : Module("Hardswish") {}
  Variable forward(const Variable& x) override { return autograd::hardswish(x); }
};

/// relu6(x + 3) / 6.
class Hardsigmoid : public Module {
 public:
  Hardsigmoid() : Module("Hardsigmoid") {}
  Variable forward(const Variable& x) override { return autograd::hardsigmoid(x); }
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Variable forward(const Variable& x) override { return autograd::sigmoid(x); }
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Variable forward(const Variable& x) override { return autograd::tanh(x); }
};

/// Returns its input unchanged (used for `fc = Identity()` and `maxpool = Identity()`).
class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Variable forward(const Variable& x) override { return x; }
};

enum class Activation { none, relu, silu, hardswish, hardsigmoid, sigmoid, tanh };

/// A new module computing `activation`; Activation::none gives null (no module).
std::shared_ptr<Module> make_activation(Activation activation);

}  // namespace selfsup::nn
