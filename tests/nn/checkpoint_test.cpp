// Checkpoints (nn/checkpoint.h): bit-exact save -> load round trips, resumed training identical to
// an uninterrupted run, the file layout, and one case per failure (truncated, corrupt, mismatched
// model, mismatched optimizer, missing optimizer state, plain weight file), each with a clear
// error and the in-memory model and optimizer untouched. Also loads a checkpoint converted from a
// PyTorch .pth by tools/convert_torch_to_safetensors.py (tests/golden/optim_convert_small).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "autograd/variable.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/tensor.h"
#include "nn/checkpoint.h"
#include "nn/module.h"
#include "nn/optim/adamw.h"
#include "nn/optim/lars.h"
#include "nn/optim/sgd.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace optim = selfsup::nn::optim;
namespace fs = std::filesystem;
using core::DType;
using core::Tensor;
using selfsup::autograd::Variable;

class Affine : public nn::Module {
 public:
  Affine(std::int64_t in, std::int64_t out, std::uint64_t seed) : Module("Affine") {
    core::Generator gen(seed);
    register_parameter("weight", Tensor::randn({out, in}, gen));
    register_parameter("bias", Tensor::randn({out}, gen));
  }
};

class Norm : public nn::Module {
 public:
  Norm(std::int64_t c, std::uint64_t seed) : Module("Norm") {
    core::Generator gen(seed);
    register_parameter("weight", Tensor::randn({c}, gen, DType::f32, 1.0, 0.1));
    register_parameter("bias", Tensor::randn({c}, gen, DType::f32, 0.0, 0.1));
    register_buffer("running_mean", Tensor::randn({c}, gen));
    register_buffer("running_var", Tensor::rand({c}, gen, DType::f32, 0.5, 1.5));
    register_buffer("num_batches_tracked", Tensor::from_vector(std::vector<std::int64_t>{static_cast<std::int64_t>(seed)}, {}));
  }
};

/// conv (6 -> 3), bn (3), fc (3 -> fc_out).
class Net : public nn::Module {
 public:
  explicit Net(std::uint64_t seed, std::int64_t fc_out = 2) : Module("Net") {
    register_module("conv", std::make_shared<Affine>(6, 3, seed * 7 + 1));
    register_module("bn", std::make_shared<Norm>(3, seed * 7 + 2));
    register_module("fc", std::make_shared<Affine>(3, fc_out, seed * 7 + 3));
  }
};

/// Net plus an extra layer: one unexpected key set for a Net checkpoint.
class BiggerNet : public nn::Module {
 public:
  explicit BiggerNet(std::uint64_t seed) : Module("BiggerNet") {
    register_module("conv", std::make_shared<Affine>(6, 3, seed * 7 + 1));
    register_module("bn", std::make_shared<Norm>(3, seed * 7 + 2));
    register_module("fc", std::make_shared<Affine>(3, 5, seed * 7 + 3));
    register_module("extra", std::make_shared<Affine>(2, 2, seed * 7 + 4));
  }
};

/// An SSL-style wrapper: backbone + head (for prefix stripping).
class Wrapper : public nn::Module {
 public:
  explicit Wrapper(std::uint64_t seed) : Module("Wrapper") {
    register_module("backbone", std::make_shared<Net>(seed));
    register_module("head", std::make_shared<Affine>(2, 4, seed + 100));
  }
};

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

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.raw_data(), bc.raw_data(), static_cast<std::size_t>(a.numel()) * core::size_of(a.dtype())) == 0;
}

nn::StateDict deep_copy(const nn::StateDict& s) {
  nn::StateDict out;
  for (const auto& [n, t] : s) out.emplace_back(n, t.clone());
  return out;
}

void check_same_bits(const nn::StateDict& a, const nn::StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK_MESSAGE(bit_equal(a[i].second, b[i].second), a[i].first);
  }
}

/// A fresh directory per test case, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(fs::temp_directory_path() / ("selfsup_ckpt_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::unique_ptr<optim::Optimizer> make_sgd(const nn::Module& m) {
  return std::make_unique<optim::SGD>(optim::split_decay_groups(m),
                                      optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
}

/// A trained Net + SGD saved at step 3; returns the path.
std::string save_trained(const TempDir& dir, const std::string& name, Net& net, optim::Optimizer& opt) {
  for (int s = 0; s < 3; ++s) {
    set_grads(net, s);
    opt.step();
  }
  const std::string path = dir.file(name);
  nn::save_checkpoint(path, net, &opt, 3, {{"method", "byol"}, {"lr", "0.1"}, {"json", R"({"a": [1, 2]})"}});
  return path;
}

/// Runs `load`, expects a `E` whose message contains every fragment, and checks that the model
/// and optimizer still hold exactly what they held before.
template <typename E, typename Fn>
void expect_untouched_failure(nn::Module& model, optim::Optimizer* opt, Fn&& load,
                              const std::vector<std::string>& fragments) {
  const nn::StateDict model_before = deep_copy(model.state_dict());
  const nn::StateDict opt_before = opt ? opt->state_dict() : nn::StateDict{};
  std::vector<double> lrs;
  if (opt)
    for (std::size_t i = 0; i < opt->num_groups(); ++i) lrs.push_back(opt->lr(i));
  std::string message;
  bool right_type = false;
  try {
    load();
  } catch (const E& e) {
    message = e.what();
    right_type = true;
  } catch (const std::exception& e) {
    message = e.what();
  }
  CHECK_MESSAGE(right_type, "expected a different exception type; got: " << (message.empty() ? "no exception" : message));
  for (const auto& f : fragments) CHECK_MESSAGE(message.find(f) != std::string::npos, "'" << f << "' not in: " << message);
  check_same_bits(model.state_dict(), model_before);
  if (opt) {
    check_same_bits(opt->state_dict(), opt_before);
    for (std::size_t i = 0; i < opt->num_groups(); ++i) CHECK(opt->lr(i) == lrs[i]);
  }
}

}  // namespace

TEST_CASE("checkpoint: save then load is bit-exact for model and optimizer") {
  TempDir dir("roundtrip");
  for (const std::string type : {"SGD", "AdamW", "LARS"}) {
    CAPTURE(type);
    const auto make = [&](const nn::Module& m) -> std::unique_ptr<optim::Optimizer> {
      if (type == "SGD") return make_sgd(m);
      if (type == "AdamW")
        return std::make_unique<optim::AdamW>(optim::split_decay_groups(m), optim::AdamWOptions{.lr = 1e-2, .amsgrad = true});
      return std::make_unique<optim::LARS>(optim::split_decay_groups(m), optim::LARSOptions{.lr = 0.3, .weight_decay = 1e-4});
    };
    Net net(1);
    auto opt = make(net);
    opt->set_lr(0, 0.0123);  // a changed lr is part of the state
    const std::string path = save_trained(dir, type + ".safetensors", net, *opt);

    Net restored(2);
    auto restored_opt = make(restored);
    const nn::CheckpointInfo info = nn::load_checkpoint(path, restored, restored_opt.get());
    CHECK(info.step == 3);
    CHECK(info.optimizer_type == type);
    CHECK(info.config == std::map<std::string, std::string>{{"method", "byol"}, {"lr", "0.1"}, {"json", R"({"a": [1, 2]})"}});
    CHECK(info.missing_keys.empty());
    check_same_bits(restored.state_dict(), net.state_dict());
    check_same_bits(restored_opt->state_dict(), opt->state_dict());
    CHECK(restored_opt->lr(0) == 0.0123);

    // Training on from the checkpoint is identical to training on in memory.
    for (int s = 3; s < 6; ++s) {
      set_grads(net, s);
      opt->step();
      set_grads(restored, s);
      restored_opt->step();
    }
    check_same_bits(restored.state_dict(), net.state_dict());
    check_same_bits(restored_opt->state_dict(), opt->state_dict());
  }
}

TEST_CASE("checkpoint: file layout uses state_dict names an optimizer prefix meta.step and metadata") {
  TempDir dir("layout");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string path = save_trained(dir, "ckpt.safetensors", net, *opt);
  const core::SafetensorsFile file = core::load_safetensors(path);
  CHECK(file.contains("conv.weight"));
  CHECK(file.contains("bn.num_batches_tracked"));
  CHECK(file.contains("optimizer.state.conv.weight.momentum_buffer"));
  CHECK(file.contains("optimizer.param_groups.0.lr"));
  REQUIRE(file.contains("meta.step"));
  CHECK(file.at("meta.step").dtype() == DType::i64);
  CHECK(file.at("meta.step").shape().empty());
  CHECK(file.at("meta.step").item<std::int64_t>() == 3);
  CHECK(file.metadata.at("format") == "pt");
  CHECK(file.metadata.at("selfsup.optimizer") == "SGD");
  CHECK(file.metadata.at("config.method") == "byol");
  const nn::CheckpointInfo info = nn::read_checkpoint_info(path);
  CHECK(info.step == 3);
  CHECK(info.config.at("json") == R"({"a": [1, 2]})");
  // No temporary file is left next to the checkpoint.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.is_regular_file() ? 1 : 0;
  CHECK(entries == 1);
}

TEST_CASE("checkpoint: save replaces an existing file atomically and rejects reserved names") {
  TempDir dir("atomic");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string path = dir.file("last.safetensors");
  nn::save_checkpoint(path, net, opt.get(), 1);
  set_grads(net, 0);
  opt->step();
  nn::save_checkpoint(path, net, opt.get(), 2);
  CHECK(nn::read_checkpoint_info(path).step == 2);
  // A save that cannot complete leaves the previous file as it was.
  const std::string before = read_bytes(path);
  CHECK_THROWS_AS(nn::save_checkpoint(dir.file("missing_dir/x.safetensors"), net, opt.get(), 3), core::Error);
  CHECK(read_bytes(path) == before);

  class Reserved : public nn::Module {
   public:
    Reserved() : Module("Reserved") { register_module("meta", std::make_shared<Affine>(2, 2, 1)); }
  };
  Reserved reserved;
  CHECK_THROWS_WITH_AS(nn::save_checkpoint(dir.file("r.safetensors"), reserved, nullptr, 0),
                       doctest::Contains("reserved prefix"), core::ValueError);
}

TEST_CASE("checkpoint: a truncated file gives the safetensors error naming the file and changes nothing") {
  TempDir dir("truncated");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string good = read_bytes(save_trained(dir, "good.safetensors", net, *opt));
  Net target(5);
  auto target_opt = make_sgd(target);
  set_grads(target, 0);
  target_opt->step();
  for (const std::size_t keep : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{40}, good.size() / 2,
                                 good.size() - 1}) {
    CAPTURE(keep);
    const std::string path = dir.file("cut_" + std::to_string(keep) + ".safetensors");
    write_bytes(path, good.substr(0, keep));
    expect_untouched_failure<core::IoError>(
        target, target_opt.get(), [&] { nn::load_checkpoint(path, target, target_opt.get()); }, {path});
  }
  expect_untouched_failure<core::IoError>(
      target, target_opt.get(), [&] { nn::load_checkpoint(dir.file("absent.safetensors"), target, target_opt.get()); },
      {dir.file("absent.safetensors")});
}

TEST_CASE("checkpoint: a corrupt header or data size gives the safetensors error and changes nothing") {
  TempDir dir("corrupt");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string good = read_bytes(save_trained(dir, "good.safetensors", net, *opt));
  Net target(5);
  auto target_opt = make_sgd(target);
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);

  SUBCASE("header is not JSON") {
    std::string bad = good;
    bad[8] = 'X';
    write_bytes(dir.file("bad.safetensors"), bad);
  }
  SUBCASE("header length beyond the file") {
    std::string bad = good;
    const std::uint64_t huge = good.size();
    std::memcpy(bad.data(), &huge, 8);
    write_bytes(dir.file("bad.safetensors"), bad);
  }
  SUBCASE("trailing bytes after the data") {
    write_bytes(dir.file("bad.safetensors"), good + "garbage!");
  }
  SUBCASE("a shape that does not match the byte size") {
    std::string bad = good;
    const std::string needle = "\"shape\":[3,6]";
    const auto pos = bad.find(needle);
    REQUIRE(pos != std::string::npos);
    REQUIRE(pos < 8 + header_len);
    bad.replace(pos, needle.size(), "\"shape\":[3,5]");
    write_bytes(dir.file("bad.safetensors"), bad);
  }
  const std::string path = dir.file("bad.safetensors");
  expect_untouched_failure<core::IoError>(target, target_opt.get(),
                                          [&] { nn::load_checkpoint(path, target, target_opt.get()); }, {path});
}

TEST_CASE("checkpoint: a mismatched model lists missing unexpected and resized keys and changes nothing") {
  TempDir dir("mismatch");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string path = save_trained(dir, "ckpt.safetensors", net, *opt);
  BiggerNet bigger(2);
  auto bigger_opt = make_sgd(bigger);
  expect_untouched_failure<core::ValueError>(
      bigger, bigger_opt.get(), [&] { nn::load_checkpoint(path, bigger, bigger_opt.get()); },
      {path, "nothing was loaded", "model: missing keys: extra.weight, extra.bias",
       "fc.weight: checkpoint [2, 3] vs model [5, 3]", "fc.bias: checkpoint [2] vs model [5]",
       "optimizer (keys under 'optimizer.')", "param_groups.0.num_params: checkpoint 2 vs optimizer 3"});
  Net smaller_fc(3, 4);
  expect_untouched_failure<core::ValueError>(
      smaller_fc, nullptr, [&] { nn::load_checkpoint(path, smaller_fc, nullptr); },
      {"fc.weight: checkpoint [2, 3] vs model [4, 3]"});
  // Non-strict: missing and unexpected keys are reported, shape mismatches still fail.
  expect_untouched_failure<core::ValueError>(
      bigger, nullptr,
      [&] { nn::load_checkpoint(path, bigger, nullptr, {.strict = false}); }, {"fc.weight: checkpoint [2, 3] vs model [5, 3]"});
}

TEST_CASE("checkpoint: non-strict load reports missing and unexpected keys") {
  TempDir dir("nonstrict");
  Wrapper wrapper(1);
  nn::save_checkpoint(dir.file("w.safetensors"), wrapper, nullptr, 7);
  class BackboneAndOther : public nn::Module {
   public:
    BackboneAndOther() : Module("BackboneAndOther") {
      register_module("backbone", std::make_shared<Net>(9));
      register_module("probe", std::make_shared<Affine>(2, 3, 5));
    }
  };
  BackboneAndOther model;
  const auto info = nn::load_checkpoint(dir.file("w.safetensors"), model, nullptr, {.strict = false});
  CHECK(info.step == 7);
  CHECK(info.missing_keys == std::vector<std::string>{"probe.weight", "probe.bias"});
  CHECK(info.unexpected_keys == std::vector<std::string>{"head.bias", "head.weight"});
  CHECK(bit_equal(model.state_dict()[0].second, wrapper.state_dict()[0].second));
}

TEST_CASE("checkpoint: an optimizer that does not fit is reported and nothing is written") {
  TempDir dir("optmismatch");
  Net net(1);
  auto opt = make_sgd(net);
  const std::string path = save_trained(dir, "ckpt.safetensors", net, *opt);
  Net target(2);  // fits the model part exactly

  SUBCASE("another optimizer type") {
    optim::AdamW adam(optim::split_decay_groups(target), {});
    expect_untouched_failure<core::ValueError>(target, &adam, [&] { nn::load_checkpoint(path, target, &adam); },
                                               {"the checkpoint holds SGD state, the optimizer is AdamW"});
  }
  SUBCASE("another weight decay") {
    optim::SGD sgd(optim::split_decay_groups(target), {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
    expect_untouched_failure<core::ValueError>(
        target, &sgd, [&] { nn::load_checkpoint(path, target, &sgd); },
        {"hyperparameters that differ: param_groups.0.weight_decay: checkpoint 0.0005 vs optimizer 0.001"});
    // Asked not to compare hyperparameters, it loads and keeps its own weight decay.
    nn::load_checkpoint(path, target, &sgd, {.check_hyperparameters = false});
    CHECK(sgd.group(0).weight_decay == 1e-3);
    check_same_bits(target.state_dict(), net.state_dict());
  }
  SUBCASE("no optimizer state in the file") {
    nn::save_checkpoint(dir.file("model_only.safetensors"), net, nullptr, 3);
    optim::SGD sgd(optim::split_decay_groups(target), {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
    expect_untouched_failure<core::ValueError>(
        target, &sgd, [&] { nn::load_checkpoint(dir.file("model_only.safetensors"), target, &sgd); },
        {"the checkpoint has no optimizer state"});
    const auto info = nn::load_checkpoint(dir.file("model_only.safetensors"), target, nullptr);
    CHECK(info.optimizer_type.empty());
    check_same_bits(target.state_dict(), net.state_dict());
  }
}

TEST_CASE("checkpoint: load_weights reads plain weight files and strips prefixes") {
  TempDir dir("weights");
  Wrapper wrapper(1);
  optim::SGD opt(optim::split_decay_groups(wrapper), {.lr = 0.1, .momentum = 0.9});
  set_grads(wrapper, 0);
  opt.step();
  const std::string path = dir.file("ssl.safetensors");
  nn::save_checkpoint(path, wrapper, &opt, 100);

  Net probe_backbone(3);
  const auto info = nn::load_weights(path, probe_backbone, {.strip_prefix = "backbone."});
  CHECK(info.step == 100);
  nn::StateDict expected;
  for (const auto& [n, t] : wrapper.state_dict())
    if (n.starts_with("backbone.")) expected.emplace_back(n.substr(9), t);
  check_same_bits(probe_backbone.state_dict(), expected);

  expect_untouched_failure<core::ValueError>(
      probe_backbone, nullptr, [&] { nn::load_weights(path, probe_backbone, {.strip_prefix = "encoder_q."}); },
      {"no tensor in", "starts with 'encoder_q.'"});
  expect_untouched_failure<core::ValueError>(probe_backbone, nullptr, [&] { nn::load_weights(path, probe_backbone); },
                                             {"missing keys: conv.weight", "unexpected keys:", "backbone.conv.weight"});
  // A weight file without meta.step is not a checkpoint.
  Net plain(4);
  core::save_safetensors(dir.file("plain.safetensors"), plain.state_dict());
  expect_untouched_failure<core::IoError>(plain, nullptr,
                                          [&] { nn::load_checkpoint(dir.file("plain.safetensors"), plain, nullptr); },
                                          {"is not a selfsup checkpoint", "load_weights"});
}

TEST_CASE("checkpoint: a PyTorch state_dict converted by the tools script loads with strict matching") {
  // tools/make_golden_optim.py: torch Conv2d(3, 4, 3) + BatchNorm2d(4) + Linear(4, 2), saved as
  // {'state_dict': {'module.<k>': ...}} and converted with --strip-prefix module.; every float
  // value is 0.01 * flat_index - 0.1 * (position of the key in the state_dict), and
  // num_batches_tracked is 7.
  class Small : public nn::Module {
   public:
    Small() : Module("Small") {
      class Conv : public nn::Module {
       public:
        Conv() : Module("Conv") {
          register_parameter("weight", Tensor::zeros({4, 3, 3, 3}));
          register_parameter("bias", Tensor::zeros({4}));
        }
      };
      class BN : public nn::Module {
       public:
        BN() : Module("BN") {
          register_parameter("weight", Tensor::zeros({4}));
          register_parameter("bias", Tensor::zeros({4}));
          register_buffer("running_mean", Tensor::zeros({4}));
          register_buffer("running_var", Tensor::zeros({4}));
          register_buffer("num_batches_tracked", Tensor::zeros({}, DType::i64));
        }
      };
      register_module("conv", std::make_shared<Conv>());
      register_module("bn", std::make_shared<BN>());
      register_module("fc", std::make_shared<Affine>(4, 2, 1));
    }
  };
  Small small;
  nn::load_weights(std::string(SELFSUP_TEST_DATA_DIR) + "/optim_convert_small.safetensors", small);
  const auto sd = small.state_dict();
  REQUIRE(sd.size() == 9);
  for (std::size_t pos = 0; pos < sd.size(); ++pos) {
    const auto& [name, t] = sd[pos];
    CAPTURE(name);
    if (name == "bn.num_batches_tracked") {
      CHECK(t.item<std::int64_t>() == 7);
      continue;
    }
    const auto values = t.to_vector<float>();
    bool all = true;
    for (std::size_t i = 0; i < values.size(); ++i)
      all = all && values[i] == static_cast<float>(0.01 * static_cast<double>(i) - 0.1 * static_cast<double>(pos));
    CHECK(all);
  }
  const std::string path = std::string(SELFSUP_TEST_DATA_DIR) + "/optim_convert_small.safetensors";
  CHECK_THROWS_AS(nn::load_checkpoint(path, small, nullptr), core::IoError);
}
