// Golden tests: every differentiable op in autograd/functions.h against PyTorch.
//
// The fixtures tests/golden/op_<case>.safetensors come from tools/make_golden.py (run it with
// /usr/bin/python3; `--check` reports stale ones). Each holds the op's inputs (f32, i64 indices),
// a fixed random w of the output's shape (`weight_out`), and PyTorch's output and gradients of
// sum(output * w) computed in f64 from those exact f32 inputs. The op and its arguments are read
// from the JSON in the `args` metadata, so adding a case to make_golden.py needs no change here
// (and "golden: every op fixture is exercised" fails if a fixture names an op nobody dispatches).
//
// Every case runs twice:
//   f32: inputs as stored; rtol 1e-4 with an absolute floor of 1e-5 * max|expected| per tensor
//        (shared spec/ecosystem.md section 10: "ops and losses rtol 1e-4, with an absolute floor
//        scaled by the tensor's max magnitude"). No family needs looser: the largest reduction is
//        conv2d_k5_stride2_pad2 with 2*5*5 = 50 products per output, far from f32 trouble.
//   f64: inputs widened exactly; rtol 1e-9, floor 1e-11 * max|expected|. Both sides are f64
//        evaluations of the same formula on the same values, so only summation order differs;
//        this catches wrong divisors or eps placement that an f32 tolerance could hide.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/functions.h"
#include "autograd/variable.h"
#include "core/ops.h"
#include "core/safetensors.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/golden.h"

namespace {

namespace ag = selfsup::autograd;
namespace core = selfsup::core;
namespace test = selfsup::test;
using core::DType;
using core::Shape;
using core::Tensor;
using ag::Variable;
using json = nlohmann::json;

struct Tolerance {
  double rtol;
  double atol_scale;  // absolute floor = atol_scale * max|expected| (+ atol_min)
  double atol_min;
};
constexpr Tolerance kF32{1e-4, 1e-5, 1e-12};
constexpr Tolerance kF64{1e-9, 1e-11, 1e-30};

std::string golden_dir() { return std::string(SELFSUP_TEST_DATA_DIR); }

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << ']';
  return os.str();
}

/// Compares one tensor against the fixture with |a - e| <= atol + rtol |e|, where the absolute
/// floor scales with the tensor's largest expected magnitude. check_allclose's failure message
/// names `where` (case and dtype), the tensor and the worst element.
void compare(const std::string& where, const std::string& tensor, const Tensor& actual,
             const Tensor& expected, const Tolerance& tol) {
  CHECK_MESSAGE(actual.defined(), where << ": " << tensor << " is undefined");
  if (!actual.defined()) return;
  // Checked here rather than by check_allclose's REQUIRE, so a wrong shape fails this case only.
  CHECK_MESSAGE(actual.shape() == expected.shape(),
                where << ": " << tensor << " shape " << shape_str(actual.shape()) << ", expected "
                      << shape_str(expected.shape()));
  if (actual.shape() != expected.shape()) return;
  double max_abs = 0.0;
  for (double v : expected.to_vector<double>()) max_abs = std::max(max_abs, std::abs(v));
  test::check_allclose(actual, expected, tol.rtol, tol.atol_scale * max_abs + tol.atol_min,
                       where + ": " + tensor);
}

/// One run of one fixture in one dtype: hands out inputs and records which need gradients.
class Run {
 public:
  Run(const core::SafetensorsFile& file, DType dtype, const json& args)
      : file_(file), dtype_(dtype), args_(args) {}

  const json& args() const { return args_; }
  bool has(const std::string& name) const { return file_.contains("input." + name); }
  /// input.<name> converted to the run's dtype (floating) or as stored (indices), a private copy.
  Tensor tensor(const std::string& name) const {
    const Tensor& t = file_.at("input." + name);
    return core::is_floating(t.dtype()) ? t.to(dtype_).clone() : t.clone();
  }
  /// A leaf with requires_grad; its gradient is compared against grad.<name>.
  Variable var(const std::string& name) {
    auto it = vars_.find(name);
    if (it != vars_.end()) return it->second;
    Variable v(tensor(name), true);
    vars_.emplace(name, v);
    return v;
  }
  Variable var_or_undefined(const std::string& name) { return has(name) ? var(name) : Variable(); }
  /// After the forward pass, `actual` is compared against the fixture tensor `name`.
  void expect_after(const std::string& name, Tensor actual) { after_.emplace_back(name, std::move(actual)); }

  const std::map<std::string, Variable>& vars() const { return vars_; }
  const std::vector<std::pair<std::string, Tensor>>& after() const { return after_; }

 private:
  const core::SafetensorsFile& file_;
  DType dtype_;
  const json& args_;
  std::map<std::string, Variable> vars_;
  std::vector<std::pair<std::string, Tensor>> after_;
};

std::vector<std::int64_t> ints(const json& j) { return j.get<std::vector<std::int64_t>>(); }

ag::Reduction reduction(const json& j) {
  const std::string r = j.get<std::string>();
  if (r == "mean") return ag::Reduction::mean;
  if (r == "sum") return ag::Reduction::sum;
  if (r == "none") return ag::Reduction::none;
  throw std::runtime_error("unknown reduction " + r);
}

std::optional<double> opt_double(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}

using OpFn = std::function<std::vector<Variable>(Run&)>;
using Single = std::function<Variable(Run&)>;

OpFn one(Single f) {
  return [f = std::move(f)](Run& r) { return std::vector<Variable>{f(r)}; };
}

/// Every op a fixture may name, mapped to the call of our API it stands for.
const std::map<std::string, OpFn>& op_table() {
  static const std::map<std::string, OpFn> table = [] {
    std::map<std::string, OpFn> t;
    // ---- elementwise ----
    t["add"] = one([](Run& r) { return ag::add(r.var("a"), r.var("b")); });
    t["sub"] = one([](Run& r) { return ag::sub(r.var("a"), r.var("b")); });
    t["mul"] = one([](Run& r) { return ag::mul(r.var("a"), r.var("b")); });
    t["div"] = one([](Run& r) { return ag::div(r.var("a"), r.var("b")); });
    t["add_scalar"] = one([](Run& r) { return ag::add(r.var("a"), r.args().at("s").get<double>()); });
    t["mul_scalar"] = one([](Run& r) { return ag::mul(r.var("a"), r.args().at("s").get<double>()); });
    t["radd_scalar"] = one([](Run& r) { return r.args().at("s").get<double>() + r.var("a"); });
    t["sub_scalar"] = one([](Run& r) { return r.var("a") - r.args().at("s").get<double>(); });
    t["rsub_scalar"] = one([](Run& r) { return r.args().at("s").get<double>() - r.var("a"); });
    t["rmul_scalar"] = one([](Run& r) { return r.args().at("s").get<double>() * r.var("a"); });
    t["div_scalar"] = one([](Run& r) { return r.var("a") / r.args().at("s").get<double>(); });
    t["neg"] = one([](Run& r) { return ag::neg(r.var("x")); });
    t["exp"] = one([](Run& r) { return ag::exp(r.var("x")); });
    t["log"] = one([](Run& r) { return ag::log(r.var("x")); });
    t["sqrt"] = one([](Run& r) { return ag::sqrt(r.var("x")); });
    t["abs"] = one([](Run& r) { return ag::abs(r.var("x")); });
    t["relu"] = one([](Run& r) { return ag::relu(r.var("x")); });
    t["sigmoid"] = one([](Run& r) { return ag::sigmoid(r.var("x")); });
    t["tanh"] = one([](Run& r) { return ag::tanh(r.var("x")); });
    t["silu"] = one([](Run& r) { return ag::silu(r.var("x")); });
    t["hardsigmoid"] = one([](Run& r) { return ag::hardsigmoid(r.var("x")); });
    t["hardswish"] = one([](Run& r) { return ag::hardswish(r.var("x")); });
    t["pow"] = one([](Run& r) { return ag::pow(r.var("x"), r.args().at("exponent").get<double>()); });
    t["clamp"] = one([](Run& r) {
      return ag::clamp(r.var("x"), opt_double(r.args().at("min")), opt_double(r.args().at("max")));
    });
    // ---- reductions ----
    t["sum"] = one([](Run& r) { return ag::sum(r.var("x"), ints(r.args().at("axes")), r.args().at("keepdim").get<bool>()); });
    t["mean"] = one([](Run& r) { return ag::mean(r.var("x"), ints(r.args().at("axes")), r.args().at("keepdim").get<bool>()); });
    t["max"] = one([](Run& r) { return ag::max(r.var("x"), ints(r.args().at("axes")), r.args().at("keepdim").get<bool>()); });
    t["logsumexp"] = one([](Run& r) {
      return ag::logsumexp(r.var("x"), ints(r.args().at("axes")), r.args().at("keepdim").get<bool>());
    });
    t["var"] = one([](Run& r) {
      return ag::var(r.var("x"), ints(r.args().at("axes")), r.args().at("unbiased").get<bool>(), r.args().at("keepdim").get<bool>());
    });
    // ---- shape ----
    t["reshape"] = one([](Run& r) { return ag::reshape(r.var("x"), ints(r.args().at("shape"))); });
    t["flatten"] = one([](Run& r) {
      return ag::flatten(r.var("x"), r.args().at("start").get<std::int64_t>(), r.args().at("end").get<std::int64_t>());
    });
    t["permute"] = one([](Run& r) { return ag::permute(r.var("x"), ints(r.args().at("order"))); });
    t["transpose"] = one([](Run& r) {
      return ag::transpose(r.var("x"), r.args().at("a").get<std::int64_t>(), r.args().at("b").get<std::int64_t>());
    });
    t["slice"] = one([](Run& r) {
      const json& a = r.args();
      return ag::slice(r.var("x"), a.at("axis").get<std::int64_t>(), a.at("start").get<std::int64_t>(),
                       a.at("end").get<std::int64_t>(), a.at("step").get<std::int64_t>());
    });
    auto list = [](Run& r) {
      std::vector<Variable> xs;
      for (std::int64_t i = 0; i < r.args().at("n").get<std::int64_t>(); ++i) xs.push_back(r.var("x" + std::to_string(i)));
      return xs;
    };
    t["cat"] = one([list](Run& r) { return ag::cat(list(r), r.args().at("axis").get<std::int64_t>()); });
    t["stack"] = one([list](Run& r) { return ag::stack(list(r), r.args().at("axis").get<std::int64_t>()); });
    t["chunk"] = [](Run& r) {
      return ag::chunk(r.var("x"), r.args().at("chunks").get<std::int64_t>(), r.args().at("axis").get<std::int64_t>());
    };
    t["index_select"] = one([](Run& r) {
      return ag::index_select(r.var("x"), r.args().at("axis").get<std::int64_t>(), r.tensor("idx"));
    });
    t["gather"] = one([](Run& r) {
      return ag::gather(r.var("x"), r.args().at("axis").get<std::int64_t>(), r.tensor("idx"));
    });
    t["expand"] = one([](Run& r) { return ag::expand(r.var("x"), ints(r.args().at("shape"))); });
    t["unsqueeze"] = one([](Run& r) { return ag::unsqueeze(r.var("x"), r.args().at("axis").get<std::int64_t>()); });
    t["squeeze"] = one([](Run& r) { return ag::squeeze(r.var("x"), r.args().at("axis").get<std::int64_t>()); });
    // ---- linear algebra ----
    t["matmul"] = one([](Run& r) { return ag::matmul(r.var("a"), r.var("b")); });
    t["linear"] = one([](Run& r) { return ag::linear(r.var("x"), r.var("weight"), r.var_or_undefined("bias")); });
    // ---- convolution and pooling ----
    t["conv2d"] = one([](Run& r) {
      const json& a = r.args();
      const auto stride = ints(a.at("stride")), padding = ints(a.at("padding")), dilation = ints(a.at("dilation"));
      const std::int64_t groups = a.at("groups").get<std::int64_t>();
      if (stride[0] == stride[1] && padding[0] == padding[1] && dilation[0] == dilation[1]) {
        ag::Conv2dOptions o;
        o.stride = stride[0];
        o.padding = padding[0];
        o.dilation = dilation[0];
        o.groups = groups;
        return ag::conv2d(r.var("x"), r.var("weight"), r.var_or_undefined("bias"), o);
      }
      core::Conv2dParams p;
      p.stride_h = stride[0];
      p.stride_w = stride[1];
      p.pad_h = padding[0];
      p.pad_w = padding[1];
      p.dilation_h = dilation[0];
      p.dilation_w = dilation[1];
      p.groups = groups;
      return ag::conv2d(r.var("x"), r.var("weight"), r.var_or_undefined("bias"), p);
    });
    t["max_pool2d"] = one([](Run& r) {
      const json& a = r.args();
      return ag::max_pool2d(r.var("x"), a.at("kernel").get<std::int64_t>(), a.at("stride").get<std::int64_t>(),
                            a.at("padding").get<std::int64_t>(), a.at("ceil_mode").get<bool>());
    });
    t["avg_pool2d"] = one([](Run& r) {
      const json& a = r.args();
      return ag::avg_pool2d(r.var("x"), a.at("kernel").get<std::int64_t>(), a.at("stride").get<std::int64_t>(),
                            a.at("padding").get<std::int64_t>(), a.at("ceil_mode").get<bool>(),
                            a.at("count_include_pad").get<bool>());
    });
    t["adaptive_avg_pool2d"] = one([](Run& r) {
      return ag::adaptive_avg_pool2d(r.var("x"), r.args().at("out_h").get<std::int64_t>(),
                                     r.args().at("out_w").get<std::int64_t>());
    });
    // ---- batch_norm: running statistics are plain tensors updated in place ----
    t["batch_norm"] = one([](Run& r) {
      const json& a = r.args();
      const bool training = a.at("training").get<bool>();
      Tensor running_mean, running_var;
      if (a.at("running").get<bool>()) {
        running_mean = r.tensor("running_mean");
        running_var = r.tensor("running_var");
      }
      Variable y = ag::batch_norm(r.var("x"), r.var_or_undefined("weight"), r.var_or_undefined("bias"),
                                  running_mean, running_var, training, a.at("momentum").get<double>(),
                                  a.at("eps").get<double>());
      if (training && running_mean.defined()) {
        r.expect_after("running_mean_after", running_mean);
        r.expect_after("running_var_after", running_var);
      }
      return y;
    });
    // ---- softmax and losses ----
    t["softmax"] = one([](Run& r) { return ag::softmax(r.var("x"), r.args().at("axis").get<std::int64_t>()); });
    t["log_softmax"] = one([](Run& r) { return ag::log_softmax(r.var("x"), r.args().at("axis").get<std::int64_t>()); });
    t["cross_entropy"] = one([](Run& r) {
      const json& a = r.args();
      const double ls = a.at("label_smoothing").get<double>();
      if (a.at("target").get<std::string>() == "indices")
        return ag::cross_entropy(r.var("logits"), r.tensor("target"), ls, reduction(a.at("reduction")));
      return ag::cross_entropy(r.var("logits"), r.var("target"), ls, reduction(a.at("reduction")));
    });
    t["kl_div"] = one([](Run& r) { return ag::kl_div(r.var("log_q"), r.var("p"), reduction(r.args().at("reduction"))); });
    t["mse_loss"] = one([](Run& r) { return ag::mse_loss(r.var("a"), r.var("b"), reduction(r.args().at("reduction"))); });
    t["normalize"] = one([](Run& r) {
      return ag::normalize(r.var("x"), r.args().at("axis").get<std::int64_t>(), r.args().at("eps").get<double>());
    });
    t["cosine_similarity"] = one([](Run& r) {
      return ag::cosine_similarity(r.var("a"), r.var("b"), r.args().at("axis").get<std::int64_t>(),
                                   r.args().at("eps").get<double>());
    });
    return t;
  }();
  return table;
}

struct Fixture {
  std::string name;  // case name without the op_ prefix
  std::string op;
};

/// All op_*.safetensors fixtures, sorted by name, with the op their args name.
const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = [] {
    std::vector<Fixture> out;
    for (const auto& entry : std::filesystem::directory_iterator(golden_dir())) {
      const std::string file = entry.path().filename().string();
      const std::string prefix = "op_", suffix = ".safetensors";
      if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
          file.substr(file.size() - suffix.size()) != suffix)
        continue;
      const std::string stem = file.substr(0, file.size() - suffix.size());
      out.push_back({stem.substr(prefix.size()), test::load_golden(stem).args().at("op").get<std::string>()});
    }
    std::sort(out.begin(), out.end(), [](const Fixture& a, const Fixture& b) { return a.name < b.name; });
    return out;
  }();
  return all;
}

void run_in(const std::string& name, const core::SafetensorsFile& file, const json& args, DType dtype,
            const Tolerance& tol) {
  const std::string where = "case op_" + name + " (" + core::name(dtype) + ")";
  Run run(file, dtype, args);
  const std::vector<Variable> outs = op_table().at(args.at("op").get<std::string>())(run);

  // Forward: `output`, or `output.<i>` for several outputs.
  const bool multi = !file.contains("output");
  if (!multi) {
    CHECK_MESSAGE(outs.size() == 1u, where << ": " << outs.size() << " outputs, the fixture has one");
    if (outs.size() != 1u) return;
  } else {
    CHECK_MESSAGE(file.contains("output." + std::to_string(outs.size() - 1)), where << ": too few outputs");
    CHECK_MESSAGE(!file.contains("output." + std::to_string(outs.size())),
                  where << ": fixture has more than " << outs.size() << " outputs");
  }
  Variable loss;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    const std::string suffix = multi ? "." + std::to_string(i) : "";
    if (!file.contains("output" + suffix)) continue;
    compare(where, "output" + suffix, outs[i].data(), file.at("output" + suffix), tol);
    CHECK_MESSAGE(outs[i].dtype() == dtype, where << ": output" << suffix << " has dtype "
                                                  << core::name(outs[i].dtype()));
    if (outs[i].shape() != file.at("output" + suffix).shape()) return;
    const Variable w(file.at("weight_out" + suffix).to(dtype), false);
    const Variable term = ag::sum(ag::mul(outs[i], w));
    loss = loss.defined() ? ag::add(loss, term) : term;
  }
  for (const auto& [key, actual] : run.after()) compare(where, key, actual, file.at(key), tol);

  // Backward of sum(output * w).
  CHECK_MESSAGE(loss.defined(), where << ": no output to differentiate");
  if (!loss.defined()) return;
  loss.backward();
  std::set<std::string> expected_grads;
  for (const auto& [key, t] : file.tensors)
    if (key.rfind("grad.", 0) == 0) expected_grads.insert(key.substr(5));
  for (const auto& [arg, v] : run.vars()) {
    CHECK_MESSAGE(expected_grads.count(arg) == 1, where << ": fixture has no grad." << arg);
    if (expected_grads.count(arg) == 0) continue;
    CHECK_MESSAGE(v.grad().defined(), where << ": no gradient reached input " << arg);
    if (v.grad().defined()) compare(where, "grad." + arg, v.grad(), file.at("grad." + arg), tol);
  }
  for (const std::string& arg : expected_grads)
    CHECK_MESSAGE(run.vars().count(arg) == 1, where << ": the test never made input " << arg << " require grad");
}

/// Loads op_<name> and runs it in f32 and f64. Exceptions become failures naming the case, so
/// one throwing op does not hide the other cases of its family.
void run_case(const std::string& name) {
  std::optional<test::Golden> golden;
  json args;
  try {
    golden.emplace(test::load_golden("op_" + name));
    args = golden->args();
  } catch (const std::exception& e) {
    FAIL_CHECK("case op_" << name << ": cannot load the fixture: " << e.what());
    return;
  }
  for (const auto& [dtype, tol] : {std::pair{DType::f32, kF32}, std::pair{DType::f64, kF64}}) {
    try {
      run_in(name, golden->file(), args, dtype, tol);
    } catch (const std::exception& e) {
      FAIL_CHECK("case op_" << name << " (" << core::name(dtype) << ") threw: " << e.what());
    }
  }
}

/// One SUBCASE per fixture whose op is in `ops`.
void run_family(const std::set<std::string>& ops) {
  std::size_t n = 0;
  for (const Fixture& f : fixtures()) {
    if (ops.count(f.op) == 0) continue;
    ++n;
    SUBCASE(f.name.c_str()) { run_case(f.name); }
  }
  CHECK_MESSAGE(n > 0, "no fixture found in " << golden_dir());
}

const std::set<std::string> kElementwise = {"add", "sub", "mul", "div"};
const std::set<std::string> kScalar = {"add_scalar", "mul_scalar", "radd_scalar", "sub_scalar",
                                       "rsub_scalar", "rmul_scalar", "div_scalar"};
const std::set<std::string> kUnary = {"neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh",
                                      "silu", "hardsigmoid", "hardswish", "pow", "clamp"};
const std::set<std::string> kReduce = {"sum", "mean", "max", "logsumexp", "var"};
const std::set<std::string> kShape = {"reshape", "flatten", "permute", "transpose", "slice", "cat",
                                      "stack", "chunk", "index_select", "gather", "expand",
                                      "unsqueeze", "squeeze"};
const std::set<std::string> kLinear = {"matmul", "linear"};
const std::set<std::string> kConv = {"conv2d"};
const std::set<std::string> kPool = {"max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"};
const std::set<std::string> kBatchNorm = {"batch_norm"};
const std::set<std::string> kSoftmax = {"softmax", "log_softmax"};
const std::set<std::string> kLoss = {"cross_entropy", "kl_div", "mse_loss"};
const std::set<std::string> kSimilarity = {"normalize", "cosine_similarity"};

}  // namespace

TEST_CASE("golden: every op fixture is exercised") {
  std::set<std::string> families;
  for (const auto* s : {&kElementwise, &kScalar, &kUnary, &kReduce, &kShape, &kLinear, &kConv, &kPool,
                        &kBatchNorm, &kSoftmax, &kLoss, &kSimilarity})
    families.insert(s->begin(), s->end());
  REQUIRE(!fixtures().empty());
  for (const Fixture& f : fixtures()) {
    CHECK_MESSAGE(op_table().count(f.op) == 1, "op_" << f.name << " names op " << f.op << ", which has no call here");
    CHECK_MESSAGE(families.count(f.op) == 1, "op_" << f.name << " names op " << f.op << ", which no TEST_CASE runs");
  }
}

TEST_CASE("golden: elementwise binary ops with broadcasting match PyTorch") { run_family(kElementwise); }
TEST_CASE("golden: scalar ops match PyTorch") { run_family(kScalar); }
TEST_CASE("golden: unary ops match PyTorch") { run_family(kUnary); }
TEST_CASE("golden: reductions match PyTorch") { run_family(kReduce); }
TEST_CASE("golden: shape ops match PyTorch") { run_family(kShape); }
TEST_CASE("golden: matmul and linear match PyTorch") { run_family(kLinear); }
TEST_CASE("golden: conv2d matches PyTorch") { run_family(kConv); }
TEST_CASE("golden: pooling matches PyTorch") { run_family(kPool); }
TEST_CASE("golden: batch_norm matches PyTorch") { run_family(kBatchNorm); }
TEST_CASE("golden: softmax and log_softmax match PyTorch") { run_family(kSoftmax); }
TEST_CASE("golden: losses match PyTorch") { run_family(kLoss); }
TEST_CASE("golden: normalize and cosine_similarity match PyTorch") { run_family(kSimilarity); }
