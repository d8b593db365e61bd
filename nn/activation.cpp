#include "nn/activation.h"

namespace selfsup::nn {

std::shared_ptr<Module> make_activation(Activation activation) {
  switch (activation) {
    case Activation::none: return nullptr;
    case Activation::relu: return std::make_shared<ReLU>();
    case Activation::silu: return std::make_shared<SiLU>();
    case Activation::hardswish: return std::make_shared<Hardswish>();
    case Activation::hardsigmoid: return std::make_shared<Hardsigmoid>();
    case Activation::sigmoid: return std::make_shared<Sigmoid>();
    case Activation::tanh: return std::make_shared<Tanh>();
  }
  return nullptr;
}

}  // namespace selfsup::nn
