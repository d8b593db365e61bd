// Optimizers, schedules and EMA.
//
// Golden replays: tests/golden/optim_<case>.safetensors (tools/make_golden_optim.py) hold initial
// f32 parameters, 5 steps of f32 gradients (a missing gradient means "no grad this step") and the
// parameters after every step computed in f64 by torch.optim (SGD, Adam, AdamW) or by the LARS
// reference formula in the script, plus the final optimizer state. Each case runs twice:
//   f32: rtol 1e-5, absolute floor 1e-6 * max|expected| (5 steps of f32 rounding; no
//        cancellation-heavy formula in these updates),
//   f64: rtol 1e-12, floor 1e-13 * max|expected| (same formula in double: only the order of the
//        norm sums differs), which catches formula slips that f32 tolerances could hide.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/variable.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "nn/ema.h"
#include "nn/module.h"
#include "nn/optim/adamw.h"
#include "nn/optim/lars.h"
#include "nn/optim/lr_schedule.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/sgd.h"
#include "tests/support/allclose.h"
#include "tests/support/golden.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace optim = selfsup::nn::optim;
namespace test = selfsup::test;
using core::DType;
using core::Tensor;
using json = nlohmann::json;
using selfsup::autograd::Variable;

struct Tolerance {
  double rtol;
  double atol_scale;  // floor = atol_scale * max|expected|
};
constexpr Tolerance kF32{1e-5, 1e-6};
constexpr Tolerance kF64{1e-12, 1e-13};

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

void compare(const Tensor& actual, const Tensor& expected, const Tolerance& tol, const std::string& what) {
  test::check_allclose(actual, expected, tol.rtol, tol.atol_scale * max_abs(expected) + 1e-30, what);
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.raw_data(), bc.raw_data(), static_cast<std::size_t>(a.numel()) * core::size_of(a.dtype())) == 0;
}

// ---- golden replay -------------------------------------------------------------------------

std::unique_ptr<optim::Optimizer> make_optimizer(const json& args, const std::map<std::string, Variable>& params) {
  std::vector<optim::ParamGroup> groups;
  for (const auto& g : args.at("groups")) {
    optim::ParamGroup pg;
    pg.name = g.at("name").get<std::string>();
    for (const auto& n : g.at("params")) pg.params.emplace_back(n.get<std::string>(), params.at(n.get<std::string>()));
    pg.options.lr = g.at("lr").get<double>();
    pg.options.weight_decay = g.at("weight_decay").get<double>();
    if (g.contains("momentum")) pg.options.momentum = g.at("momentum").get<double>();
    if (g.contains("lars_adaptation")) pg.options.lars_adaptation = g.at("lars_adaptation").get<bool>();
    groups.push_back(std::move(pg));
  }
  const std::string type = args.at("optimizer").get<std::string>();
  const json& o = args.at("options");
  if (type == "SGD")
    return std::make_unique<optim::SGD>(std::move(groups), optim::SGDOptions{.lr = 0.1,
                                                                             .momentum = o.at("momentum").get<double>(),
                                                                             .dampening = o.at("dampening").get<double>(),
                                                                             .weight_decay = o.at("weight_decay").get<double>(),
                                                                             .nesterov = o.at("nesterov").get<bool>()});
  if (type == "AdamW" || type == "Adam")
    return std::make_unique<optim::AdamW>(
        std::move(groups), optim::AdamWOptions{.lr = 1e-3,
                                               .beta1 = o.at("beta1").get<double>(),
                                               .beta2 = o.at("beta2").get<double>(),
                                               .eps = o.at("eps").get<double>(),
                                               .weight_decay = 0.0,
                                               .amsgrad = o.at("amsgrad").get<bool>(),
                                               .decoupled_weight_decay = o.at("decoupled_weight_decay").get<bool>()});
  if (type == "LARS")
    return std::make_unique<optim::LARS>(
        std::move(groups),
        optim::LARSOptions{.lr = 0.1,
                           .momentum = 0.9,
                           .weight_decay = 0.0,
                           .eta = o.at("eta").get<double>(),
                           .nesterov = o.at("nesterov").get<bool>(),
                           .trust_ratio = o.at("trust_ratio").get<std::string>() == "sum_of_norms"
                                              ? optim::TrustRatio::sum_of_norms
                                              : optim::TrustRatio::decayed_gradient});
  FAIL("unknown optimizer in fixture: " << type);
  return nullptr;
}

void run_golden(const std::string& case_name, DType dtype, const Tolerance& tol) {
  CAPTURE(case_name);
  CAPTURE(core::name(dtype));
  const test::Golden golden = test::load_golden("optim_" + case_name);
  const json args = golden.args();
  std::map<std::string, Variable> params;
  for (const auto& [key, t] : golden.file().tensors)
    if (key.starts_with("param.")) params.emplace(key.substr(6), Variable(t.to(dtype).clone(), true));
  REQUIRE(!params.empty());
  auto opt = make_optimizer(args, params);
  REQUIRE(opt != nullptr);
  CHECK(opt->type_name() == args.at("optimizer").get<std::string>());
  const int steps = args.at("steps").get<int>();
  for (int step = 0; step < steps; ++step) {
    if (args.contains("lrs"))
      for (std::size_t g = 0; g < opt->num_groups(); ++g) opt->set_lr(g, args.at("lrs").at(step).at(g).get<double>());
    for (auto& [name, p] : params) {
      const std::string key = "grad." + std::to_string(step) + "." + name;
      p.set_grad(golden.has_tensor(key) ? golden.tensor(key).to(dtype).clone() : Tensor());
    }
    opt->step();
    for (const auto& [name, p] : params)
      compare(p.data(), golden.tensor("expected." + std::to_string(step) + "." + name), tol,
              case_name + " step " + std::to_string(step) + " " + name);
  }
  // Final state: the same fields as torch (or the LARS reference), with the same values.
  std::set<std::string> ours, theirs;
  for (const auto& [key, t] : opt->state_dict())
    if (key.starts_with("state.")) {
      ours.insert(key);
      if (!golden.has_tensor(key)) continue;
      const Tensor& e = golden.tensor(key);
      if (e.dtype() == DType::i64) CHECK_MESSAGE(t.item<std::int64_t>() == e.item<std::int64_t>(), key);
      else compare(t, e, tol, case_name + " " + key);
    }
  for (const auto& [key, t] : golden.file().tensors)
    if (key.starts_with("state.")) theirs.insert(key);
  CHECK(ours == theirs);
}

const std::vector<std::string> kGoldenCases = {
    "sgd_plain",     "sgd_momentum",   "sgd_nesterov",  "sgd_weight_decay",      "sgd_dampening",
    "sgd_groups",    "sgd_lr_changes", "sgd_skip_grad", "adamw",                 "adamw_amsgrad",
    "adamw_groups",  "adam_l2",        "lars",          "lars_decayed_nesterov", "lars_guards",
    "lars_no_momentum"};

// ---- small modules -------------------------------------------------------------------------

class Affine : public nn::Module {
 public:
  Affine(std::int64_t in, std::int64_t out, std::uint64_t seed, DType dtype = DType::f32) : Module("Affine") {
    core::Generator gen(seed);
    register_parameter("weight", Tensor::randn({out, in}, gen, dtype));
    register_parameter("bias", Tensor::randn({out}, gen, dtype));
  }
};

class Norm : public nn::Module {
 public:
  Norm(std::int64_t c, std::uint64_t seed, DType dtype = DType::f32) : Module("Norm") {
    core::Generator gen(seed);
    register_parameter("weight", Tensor::randn({c}, gen, dtype, 1.0, 0.1));
    register_parameter("bias", Tensor::randn({c}, gen, dtype, 0.0, 0.1));
    register_buffer("running_mean", Tensor::randn({c}, gen, dtype));
    register_buffer("running_var", Tensor::rand({c}, gen, dtype, 0.5, 1.5));
    register_buffer("num_batches_tracked", Tensor::from_vector(std::vector<std::int64_t>{static_cast<std::int64_t>(seed)}, {}));
  }
};

class Net : public nn::Module {
 public:
  explicit Net(std::uint64_t seed, DType dtype = DType::f32) : Module("Net") {
    register_module("conv", std::make_shared<Affine>(6, 3, seed * 7 + 1, dtype));
    register_module("bn", std::make_shared<Norm>(3, seed * 7 + 2, dtype));
    register_module("fc", std::make_shared<Affine>(3, 2, seed * 7 + 3, dtype));
  }
};

/// Deterministic gradients for step `step`: a smooth function of parameter index and step.
void set_grads(const nn::Module& m, int step) {
  int k = 0;
  for (auto& [name, p] : m.named_parameters()) {
    Variable v = p;
    std::vector<double> g(static_cast<std::size_t>(p.numel()));
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = std::sin(0.7 * static_cast<double>(i) + 1.3 * step + 0.5 * k);
    v.set_grad(Tensor::from_vector(g, p.shape()).to(p.dtype()));
    ++k;
  }
}

std::vector<std::pair<std::string, Tensor>> snapshot(const nn::Module& m) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : m.state_dict()) out.emplace_back(name, t.clone());
  return out;
}

void check_same_bits(const nn::Module& m, const std::vector<std::pair<std::string, Tensor>>& expected) {
  const auto now = m.state_dict();
  REQUIRE(now.size() == expected.size());
  for (std::size_t i = 0; i < now.size(); ++i) CHECK_MESSAGE(bit_equal(now[i].second, expected[i].second), now[i].first);
}

void check_same_bits(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK_MESSAGE(bit_equal(a[i].second, b[i].second), a[i].first);
  }
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const nn::Module&)>;

std::vector<std::pair<std::string, Factory>> factories() {
  return {
      {"SGD", [](const nn::Module& m) {
         return std::make_unique<optim::SGD>(optim::split_decay_groups(m),
                                             optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
       }},
      {"AdamW", [](const nn::Module& m) {
         return std::make_unique<optim::AdamW>(optim::split_decay_groups(m),
                                               optim::AdamWOptions{.lr = 1e-2, .weight_decay = 0.05, .amsgrad = true});
       }},
      {"LARS", [](const nn::Module& m) {
         return std::make_unique<optim::LARS>(optim::split_decay_groups(m),
                                              optim::LARSOptions{.lr = 0.5, .momentum = 0.9, .weight_decay = 1e-4, .eta = 0.02});
       }},
  };
}

}  // namespace

// ================================================================================================
// golden replays
// ================================================================================================

TEST_CASE("optim golden: SGD / AdamW / Adam / LARS match the reference over 5 steps (f32)") {
  for (const auto& c : kGoldenCases) {
    SUBCASE(c.c_str()) { run_golden(c, DType::f32, kF32); }
  }
}

TEST_CASE("optim golden: SGD / AdamW / Adam / LARS match the reference over 5 steps (f64)") {
  for (const auto& c : kGoldenCases) {
    SUBCASE(c.c_str()) { run_golden(c, DType::f64, kF64); }
  }
}

TEST_CASE("optim golden: every optimizer fixture is replayed") {
  std::set<std::string> listed(kGoldenCases.begin(), kGoldenCases.end());
  std::set<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(SELFSUP_TEST_DATA_DIR)) {
    const std::string f = entry.path().filename().string();
    if (!f.starts_with("optim_") || !f.ends_with(".safetensors")) continue;
    const std::string c = f.substr(6, f.size() - 6 - 12);
    if (c == "schedule" || c == "convert_small") continue;  // read by their own tests
    found.insert(c);
  }
  CHECK(found == listed);
}

TEST_CASE("lr schedule: warm-up and cosine match the Python reference") {
  const test::Golden golden = test::load_golden("optim_schedule");
  const json args = golden.args();
  const std::int64_t extra = args.at("extra_steps").get<std::int64_t>();
  int i = 0;
  for (const auto& s : args.at("schedules")) {
    const optim::WarmupCosineSchedule sched(optim::WarmupCosineOptions{
        .base_lr = s.at("base_lr").get<double>(),
        .final_lr = s.at("final_lr").get<double>(),
        .warmup_steps = s.at("warmup_steps").get<std::int64_t>(),
        .total_steps = s.at("total_steps").get<std::int64_t>(),
        .warmup_start_lr = s.at("warmup_start_lr").get<double>()});
    const auto expected = golden.tensor("lr." + std::to_string(i)).to_vector<double>();
    REQUIRE(static_cast<std::int64_t>(expected.size()) == s.at("total_steps").get<std::int64_t>() + extra);
    std::vector<double> ours;
    for (std::size_t t = 0; t < expected.size(); ++t) ours.push_back(sched.lr_at(static_cast<std::int64_t>(t)));
    test::check_allclose(Tensor::from_vector(ours), Tensor::from_vector(expected), 1e-13, 1e-15,
                         "schedule " + std::to_string(i));
    CHECK(sched.lr_at(0) == doctest::Approx(s.at("warmup_steps").get<int>() > 0 ? s.at("warmup_start_lr").get<double>()
                                                                                 : s.at("base_lr").get<double>()));
    ++i;
  }
  i = 0;
  for (const auto& m : args.at("momentums")) {
    const auto expected = golden.tensor("momentum." + std::to_string(i)).to_vector<double>();
    std::vector<double> ours;
    for (std::size_t k = 0; k < expected.size(); ++k)
      ours.push_back(optim::cosine_momentum(m.at("base").get<double>(), static_cast<std::int64_t>(k),
                                            m.at("total_steps").get<std::int64_t>(), m.at("end").get<double>()));
    test::check_allclose(Tensor::from_vector(ours), Tensor::from_vector(expected), 1e-13, 1e-15,
                         "momentum " + std::to_string(i));
    ++i;
  }
}

TEST_CASE("lr schedule: rejects bad options and applies to groups keeping their ratios") {
  CHECK_THROWS_AS(optim::WarmupCosineSchedule({.base_lr = 0.1, .warmup_steps = 5, .total_steps = 5}), core::ValueError);
  CHECK_THROWS_AS(optim::WarmupCosineSchedule({.base_lr = 0.0, .total_steps = 5}), core::ValueError);
  const optim::WarmupCosineSchedule sched({.base_lr = 0.4, .final_lr = 0.0, .warmup_steps = 2, .total_steps = 10});
  CHECK(sched.lr_at(0) == 0.0);
  CHECK(sched.lr_at(1) == doctest::Approx(0.2));
  CHECK(sched.lr_at(2) == 0.4);
  CHECK(sched.lr_at(10) == 0.0);
  CHECK(sched.lr_at(100) == 0.0);
  CHECK_THROWS_AS(sched.lr_at(-1), core::ValueError);

  Net net(1);
  std::vector<optim::ParamGroup> groups = optim::split_decay_groups(net);
  groups[1].options.lr = 0.1;  // no_decay at a quarter of the base lr
  optim::SGD opt(std::move(groups), {.lr = 0.4, .momentum = 0.9});
  sched.apply(opt, 6);
  CHECK(opt.lr(0) == sched.lr_at(6));  // exactly: initial lr equals the schedule's base
  CHECK(opt.lr(1) == doctest::Approx(sched.lr_at(6) / 4));
  CHECK(opt.group(0).initial_lr == 0.4);
  CHECK(opt.group(1).initial_lr == 0.1);
}

// ================================================================================================
// parameter groups
// ================================================================================================

TEST_CASE("optim groups: split_decay_groups puts biases and 1-d parameters in no_decay") {
  Net net(2);
  auto groups = optim::split_decay_groups(net);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].name == "decay");
  CHECK(groups[1].name == "no_decay");
  std::vector<std::string> decay, no_decay;
  for (const auto& [n, p] : groups[0].params) decay.push_back(n);
  for (const auto& [n, p] : groups[1].params) no_decay.push_back(n);
  CHECK(decay == std::vector<std::string>{"conv.weight", "fc.weight"});
  CHECK(no_decay == std::vector<std::string>{"conv.bias", "bn.weight", "bn.bias", "fc.bias"});
  CHECK(!groups[0].options.weight_decay.has_value());
  CHECK(groups[1].options.weight_decay == 0.0);
  CHECK(groups[1].options.lars_adaptation == false);

  optim::LARS lars(optim::split_decay_groups(net), {.lr = 0.3, .weight_decay = 1e-4});
  CHECK(lars.group(0).weight_decay == 1e-4);
  CHECK(lars.group(0).lars_adaptation);
  CHECK(lars.group(1).weight_decay == 0.0);
  CHECK(!lars.group(1).lars_adaptation);

  // Frozen parameters are left out; a prefix keeps names unique across modules.
  net.named_children()[0].second->set_requires_grad(false);
  auto frozen = optim::split_decay_groups(net, "online.");
  std::vector<std::string> names;
  for (const auto& g : frozen)
    for (const auto& [n, p] : g.params) names.push_back(n);
  CHECK(names == std::vector<std::string>{"online.fc.weight", "online.bn.weight", "online.bn.bias", "online.fc.bias"});
}

TEST_CASE("optim groups: each group uses its own lr and weight decay") {
  // One parameter per group, same values and gradients: the updates differ only by the options.
  Variable a(Tensor::from_vector(std::vector<double>{1.0, -2.0}), true);
  Variable b(Tensor::from_vector(std::vector<double>{1.0, -2.0}), true);
  optim::SGD opt({optim::ParamGroup{.name = "fast", .params = {{"a", a}}, .options = {.lr = 0.5, .weight_decay = 0.1}},
                  optim::ParamGroup{.name = "slow", .params = {{"b", b}}, .options = {.lr = 0.1}}},
                 {.lr = 0.2, .weight_decay = 0.0});
  for (auto* v : {&a, &b}) v->set_grad(Tensor::from_vector(std::vector<double>{0.5, 0.5}));
  opt.step();
  // a = a - 0.5 * (g + 0.1 a); b = b - 0.1 * g
  CHECK(a.data().to_vector<double>() == std::vector<double>{1.0 - 0.5 * (0.5 + 0.1), -2.0 - 0.5 * (0.5 - 0.2)});
  CHECK(b.data().to_vector<double>() == std::vector<double>{1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.5});
  opt.set_lr(0.0);
  opt.step();
  CHECK(b.data().to_vector<double>() == std::vector<double>{1.0 - 0.1 * 0.5, -2.0 - 0.1 * 0.5});
  opt.scale_lr(2.0);
  CHECK(opt.lr(0) == 1.0);
  CHECK(opt.lr(1) == 0.2);
  CHECK_THROWS_AS(opt.group(2), core::ValueError);
  CHECK_THROWS_AS(opt.set_lr(-1.0), core::ValueError);
}

TEST_CASE("optim groups: constructor rejects duplicate names and variables and bad options") {
  Variable a(Tensor::zeros({2}), true);
  Variable b(Tensor::zeros({2}), true);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}, {"x", b}}, {}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}, {"y", a}}, {}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}}, {.lr = -0.1}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}}, {.momentum = 1.5}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}}, {.nesterov = true}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"x", a}}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                  core::ValueError);
  CHECK_THROWS_AS(optim::AdamW(optim::NamedParameters{{"x", a}}, {.beta1 = 1.0}), core::ValueError);
  CHECK_THROWS_AS(optim::LARS(optim::NamedParameters{{"x", a}}, {.eta = 0.0}), core::ValueError);
  CHECK_THROWS_AS(optim::SGD(std::vector<optim::ParamGroup>{}, {}), core::ValueError);
  Variable ints(Tensor::zeros({2}, DType::i64), false);
  CHECK_THROWS_AS(optim::SGD(optim::NamedParameters{{"i", ints}}, {}), core::DTypeError);
}

TEST_CASE("optim step: parameters without a gradient are skipped and zero_grad drops gradients") {
  Net net(3);
  optim::SGD opt(net.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  const auto before = snapshot(net);
  set_grads(net, 0);
  Variable fc_bias = net.named_parameters().back().second;
  fc_bias.set_grad(Tensor());
  opt.step();
  CHECK(bit_equal(fc_bias.data(), before[8].second));  // fc.bias (after conv.*, bn.*, buffers, fc.weight)
  CHECK(before[8].first == "fc.bias");
  CHECK(!bit_equal(net.named_parameters()[0].second.data(), before[0].second));
  std::set<std::string> with_state;
  for (const auto& [k, t] : opt.state_dict())
    if (k.starts_with("state.")) with_state.insert(k);
  CHECK(with_state.count("state.fc.weight.momentum_buffer") == 1);
  CHECK(with_state.count("state.fc.bias.momentum_buffer") == 0);
  opt.zero_grad();
  for (const auto& [n, p] : net.named_parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("optim step: a bad gradient throws before any parameter changes") {
  Net net(4);
  optim::AdamW opt(net.named_parameters(), {});
  set_grads(net, 0);
  Variable last = net.named_parameters().back().second;
  last.set_grad(Tensor::zeros(last.shape(), DType::f64));  // wrong dtype on the last parameter
  const auto before = snapshot(net);
  const auto state_before = opt.state_dict();
  CHECK_THROWS_AS(opt.step(), core::DTypeError);
  check_same_bits(net, before);
  CHECK(opt.state_dict().size() == state_before.size());
}

TEST_CASE("optim step: updates run in place and record no autograd history") {
  Net net(5);
  const auto params = net.named_parameters();
  std::vector<const void*> storage;
  for (const auto& [n, p] : params) storage.push_back(p.data().raw_data());
  optim::LARS opt(optim::split_decay_groups(net), {.lr = 0.1, .weight_decay = 1e-4});
  set_grads(net, 0);
  opt.step();
  for (std::size_t i = 0; i < params.size(); ++i) {
    CHECK(params[i].second.data().raw_data() == storage[i]);
    CHECK(params[i].second.is_leaf());
    CHECK(params[i].second.grad_fn() == nullptr);
  }
}

TEST_CASE("LARS: trust ratio formula and zero-norm guards") {
  using optim::LARS;
  using optim::TrustRatio;
  CHECK(LARS::trust_ratio(2.0, 3.0, 99.0, 0.5, 0.1, TrustRatio::sum_of_norms) == doctest::Approx(0.1 * 2.0 / (3.0 + 0.5 * 2.0)));
  CHECK(LARS::trust_ratio(2.0, 99.0, 4.0, 0.5, 0.1, TrustRatio::decayed_gradient) == doctest::Approx(0.1 * 2.0 / 4.0));
  CHECK(LARS::trust_ratio(0.0, 3.0, 3.0, 0.5, 0.1, TrustRatio::sum_of_norms) == 1.0);
  CHECK(LARS::trust_ratio(2.0, 0.0, 1.0, 0.5, 0.1, TrustRatio::sum_of_norms) == 1.0);
  CHECK(LARS::trust_ratio(0.0, 3.0, 3.0, 0.5, 0.1, TrustRatio::decayed_gradient) == 1.0);
  CHECK(LARS::trust_ratio(2.0, 3.0, 0.0, 0.5, 0.1, TrustRatio::decayed_gradient) == 1.0);
}

// ================================================================================================
// state round trip
// ================================================================================================

TEST_CASE("optim state: save mid-run and restore into a fresh optimizer gives identical results") {
  for (const auto& [type, make] : factories()) {
    SUBCASE(type.c_str()) {
      // Uninterrupted: 6 steps.
      Net ref_net(11);
      auto ref_opt = make(ref_net);
      for (int s = 0; s < 6; ++s) {
        set_grads(ref_net, s);
        ref_opt->step();
      }
      // Interrupted after 3 steps: state_dict, fresh model and optimizer, load, 3 more.
      Net net(11);
      auto opt = make(net);
      for (int s = 0; s < 3; ++s) {
        set_grads(net, s);
        opt->step();
      }
      const nn::StateDict model_state = snapshot(net);
      const nn::StateDict opt_state = opt->state_dict();
      Net resumed(99);  // different initial values: everything must come from the saved state
      auto resumed_opt = make(resumed);
      resumed.load_state_dict(model_state);
      resumed_opt->load_state_dict(opt_state);
      check_same_bits(resumed_opt->state_dict(), opt_state);
      for (int s = 3; s < 6; ++s) {
        set_grads(resumed, s);
        resumed_opt->step();
      }
      check_same_bits(resumed, snapshot(ref_net));
      check_same_bits(resumed_opt->state_dict(), ref_opt->state_dict());
    }
  }
}

TEST_CASE("optim state: state_dict returns copies and names fields by parameter") {
  Net net(6);
  optim::AdamW opt(optim::split_decay_groups(net), {.lr = 1e-2, .amsgrad = true});
  set_grads(net, 0);
  opt.step();
  const auto sd = opt.state_dict();
  std::map<std::string, Tensor> by_name(sd.begin(), sd.end());
  REQUIRE(by_name.count("state.conv.weight.exp_avg") == 1);
  CHECK(by_name.at("state.conv.weight.step").dtype() == DType::i64);
  CHECK(by_name.at("state.conv.weight.step").item<std::int64_t>() == 1);
  CHECK(by_name.at("state.conv.weight.max_exp_avg_sq").shape() == core::Shape{3, 6});
  CHECK(by_name.at("param_groups.0.num_params").item<std::int64_t>() == 2);
  CHECK(by_name.at("param_groups.1.num_params").item<std::int64_t>() == 4);
  CHECK(by_name.at("param_groups.1.weight_decay").item<double>() == 0.0);
  CHECK(by_name.at("options.amsgrad").item<double>() == 1.0);
  const Tensor saved = by_name.at("state.conv.weight.exp_avg").clone();
  set_grads(net, 1);
  opt.step();
  CHECK(bit_equal(by_name.at("state.conv.weight.exp_avg"), saved));
}

TEST_CASE("optim state: load_state_dict reports every difference and changes nothing") {
  Net net(7);
  optim::SGD opt(optim::split_decay_groups(net), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
  set_grads(net, 0);
  opt.step();
  const nn::StateDict good = opt.state_dict();

  Net other(8);
  optim::SGD target(optim::split_decay_groups(other), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
  set_grads(other, 5);
  target.step();
  target.set_lr(0.05);
  const nn::StateDict target_before = target.state_dict();
  const auto expect_error = [&](const nn::StateDict& bad, const std::vector<std::string>& fragments,
                                bool check_hyper = true) {
    std::string message;
    try {
      target.load_state_dict(bad, check_hyper);
    } catch (const core::ValueError& e) {
      message = e.what();
    }
    CHECK_MESSAGE(!message.empty(), "load_state_dict accepted a bad state");
    for (const auto& f : fragments) CHECK_MESSAGE(message.find(f) != std::string::npos, "'" << f << "' not in: " << message);
    check_same_bits(target.state_dict(), target_before);
    CHECK(target.lr(0) == 0.05);
  };

  SUBCASE("missing momentum buffer") {
    nn::StateDict bad;
    for (const auto& [k, t] : good)
      if (k != "state.fc.weight.momentum_buffer") bad.emplace_back(k, t);
    // Dropping a parameter's only field means "no state yet", which is valid.
    target.load_state_dict(bad);
    CHECK(target.lr(0) == 0.1);
  }
  SUBCASE("wrong shape and unexpected key") {
    nn::StateDict bad = good;
    for (auto& [k, t] : bad)
      if (k == "state.conv.weight.momentum_buffer") t = Tensor::zeros({2, 2});
    bad.emplace_back("state.nope.momentum_buffer", Tensor::zeros({2}));
    bad.emplace_back("state.fc.bias.exp_avg", Tensor::zeros({2}));
    expect_error(bad, {"state.conv.weight.momentum_buffer: checkpoint f32 [2, 2] vs optimizer f32 [3, 6]",
                       "state.nope.momentum_buffer (no parameter 'nope'", "state.fc.bias.exp_avg (SGD keeps no 'exp_avg'"});
  }
  SUBCASE("missing group key and hyperparameter that differs") {
    nn::StateDict bad;
    for (const auto& [k, t] : good) {
      if (k == "param_groups.1.lr") continue;
      bad.emplace_back(k, k == "param_groups.0.weight_decay" ? Tensor::scalar(0.5, DType::f64) : t);
    }
    expect_error(bad, {"missing keys: param_groups.1.lr",
                       "param_groups.0.weight_decay: checkpoint 0.5 vs optimizer 0.0001"});
  }
  SUBCASE("different optimizer options and group sizes") {
    Net small(9);
    optim::SGD single(small.named_parameters(), {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    expect_error(single.state_dict(), {"param_groups.0.num_params: checkpoint 6 vs optimizer 2",
                                       "missing keys: param_groups.1.initial_lr", "options.nesterov: checkpoint 1 vs optimizer 0"});
  }
  SUBCASE("hyperparameters are only compared when asked") {
    nn::StateDict other_wd;
    for (const auto& [k, t] : good)
      other_wd.emplace_back(k, k == "param_groups.0.weight_decay" ? Tensor::scalar(0.5, DType::f64) : t);
    target.load_state_dict(other_wd, /*check_hyperparameters=*/false);
    CHECK(target.group(0).weight_decay == 1e-4);  // the optimizer's own configuration stays
    check_same_bits(target.state_dict(), good);
  }
  SUBCASE("an AdamW state does not load into SGD") {
    optim::AdamW adam(optim::split_decay_groups(net), {});
    set_grads(net, 1);
    adam.step();
    expect_error(adam.state_dict(), {"SGD.load_state_dict", "exp_avg", "missing keys"});
  }
}

// ================================================================================================
// EMA
// ================================================================================================

TEST_CASE("ema_update: parameters follow m times target plus (1 - m) times online") {
  for (DType dtype : {DType::f64, DType::f32}) {
    CAPTURE(core::name(dtype));
    Net target(1, dtype), online(2, dtype);
    const auto t0 = snapshot(target);
    const auto o0 = snapshot(online);
    const double m = 0.99;
    nn::ema_update(target, online, m, nn::EmaBuffers::keep);
    const auto t1 = target.state_dict();
    for (std::size_t i = 0; i < t1.size(); ++i) {
      const std::string& name = t1[i].first;
      const bool is_param = !(name.ends_with("running_mean") || name.ends_with("running_var") ||
                              name.ends_with("num_batches_tracked"));
      if (!is_param) {
        CHECK_MESSAGE(bit_equal(t1[i].second, t0[i].second), name << " changed with EmaBuffers::keep");
        continue;
      }
      const auto a = t0[i].second.to_vector<double>();
      const auto b = o0[i].second.to_vector<double>();
      const auto r = t1[i].second.to_vector<double>();
      for (std::size_t j = 0; j < r.size(); ++j) {
        double expected;
        if (dtype == DType::f64) expected = a[j] * m + b[j] * (1.0 - m);
        else expected = static_cast<float>(static_cast<float>(a[j]) * static_cast<float>(m)) +
                        static_cast<float>(static_cast<float>(b[j]) * static_cast<float>(1.0 - m));
        CHECK_MESSAGE(std::abs(r[j] - expected) <= (dtype == DType::f64 ? 1e-15 : 2.5e-7) * std::abs(expected), name);
      }
    }
  }
}

TEST_CASE("ema_update: buffer modes copy keep and average") {
  Net online(2);
  const auto o = snapshot(online);
  SUBCASE("copy") {
    Net target(1);
    nn::ema_update(target, online, 0.9, nn::EmaBuffers::copy);
    const auto t = target.state_dict();
    for (std::size_t i = 0; i < t.size(); ++i)
      if (t[i].first.starts_with("bn.running") || t[i].first.ends_with("num_batches_tracked"))
        CHECK_MESSAGE(bit_equal(t[i].second, o[i].second), t[i].first);
  }
  SUBCASE("average") {
    Net target(1);
    const auto before = snapshot(target);
    nn::ema_update(target, online, 0.9, nn::EmaBuffers::average);
    const auto t = target.state_dict();
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i].first == "bn.running_mean") {
        const auto a = before[i].second.to_vector<double>(), b = o[i].second.to_vector<double>(),
                   r = t[i].second.to_vector<double>();
        for (std::size_t j = 0; j < r.size(); ++j) CHECK(r[j] == doctest::Approx(0.9 * a[j] + 0.1 * b[j]).epsilon(1e-6));
      }
      if (t[i].first == "bn.num_batches_tracked") CHECK(bit_equal(t[i].second, o[i].second));  // integers are copied
    }
  }
  SUBCASE("momentum 0 copies and momentum 1 keeps") {
    Net target(1);
    const auto before = snapshot(target);
    nn::ema_update(target, online, 1.0, nn::EmaBuffers::keep);
    check_same_bits(target, before);
    nn::ema_update(target, online, 0.0, nn::EmaBuffers::copy);
    check_same_bits(target, o);
  }
}

TEST_CASE("ema_update: mismatched modules throw and leave the target untouched") {
  Net target(1), online(2);
  Affine other(6, 4, 3);
  const auto before = snapshot(target);
  std::string message;
  try {
    nn::ema_update(target, other, 0.9);
  } catch (const core::ValueError& e) {
    message = e.what();
  }
  CHECK(message.find("only in the target") != std::string::npos);
  CHECK(message.find("bn.weight") != std::string::npos);
  check_same_bits(target, before);
  CHECK_THROWS_AS(nn::ema_update(target, online, 1.5), core::ValueError);
  Net wide_target(1, DType::f64);
  CHECK_THROWS_AS(nn::ema_update(wide_target, online, 0.9), core::ValueError);
}

TEST_CASE("ema_update: init_momentum_encoder copies everything and freezes the target") {
  Net online(2), target(1);
  set_grads(target, 0);
  nn::init_momentum_encoder(target, online);
  check_same_bits(target, snapshot(online));
  for (const auto& [n, p] : target.named_parameters()) {
    CHECK_MESSAGE(!p.requires_grad(), n);
    CHECK(!p.grad().defined());
  }
  for (const auto& [n, p] : online.named_parameters()) CHECK(p.requires_grad());
  // Storage is not shared: changing online leaves the target alone.
  Variable w = online.named_parameters()[0].second;
  w.mutable_data().fill_(3.0);
  CHECK(target.named_parameters()[0].second.data().to_vector<double>()[0] != 3.0);
}

TEST_CASE("ema_update: cosine momentum rises from base to end") {
  CHECK(optim::cosine_momentum(0.99, 0, 100) == doctest::Approx(0.99));
  CHECK(optim::cosine_momentum(0.99, 50, 100) == doctest::Approx(0.995));
  CHECK(optim::cosine_momentum(0.99, 100, 100) == 1.0);
  CHECK(optim::cosine_momentum(0.99, 500, 100) == 1.0);
  CHECK(optim::cosine_momentum(0.996, 0, 10, 0.999) == doctest::Approx(0.996));
  CHECK_THROWS_AS(optim::cosine_momentum(0.99, 0, 0), core::ValueError);
}
