#include "nn/dropout.h"

#include <string>

#include "core/error.h"
#include "nn/init.h"

namespace selfsup::nn {

namespace {

void check_p(const char* what, double p) {
  core::check(p >= 0.0 && p <= 1.0, std::string(what) + ": probability must be in [0, 1], got " + std::to_string(p));
}

}  // namespace

Dropout::Dropout(DropoutOptions options, core::Generator& gen)
    : Module("Dropout"), options_(options), generator_(options.seed ? *options.seed : init::draw_seed(gen)) {
  check_p("Dropout", options_.p);
}

void Dropout::set_p(double p) {
  check_p("Dropout", p);
  options_.p = p;
}

Variable Dropout::forward(const Variable& x) { return autograd::dropout(x, options_.p, is_training(), generator_); }

DropPath::DropPath(DropPathOptions options, core::Generator& gen)
    : Module("DropPath"), options_(options), generator_(options.seed ? *options.seed : init::draw_seed(gen)) {
  check_p("DropPath", options_.p);
}

void DropPath::set_p(double p) {
  check_p("DropPath", p);
  options_.p = p;
}

Variable DropPath::forward(const Variable& x) { return autograd::drop_path(x, options_.p, is_training(), generator_); }

void seed_dropout(Module& module, std::uint64_t seed) {
  std::uint64_t i = 0;
  for (auto& [name, m] : module.named_modules()) {
    if (auto* d = dynamic_cast<Dropout*>(m.get())) d->generator().set_state(seed + i++, 0);
    else if (auto* s = dynamic_cast<DropPath*>(m.get())) s->generator().set_state(seed + i++, 0);
  }
}

}  // namespace selfsup::nn
