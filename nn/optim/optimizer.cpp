#include "nn/optim/optimizer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/error.h"

namespace selfsup::nn::optim {

namespace {

constexpr const char* kGroupsPrefix = "param_groups.";
constexpr const char* kOptionsPrefix = "options.";
constexpr const char* kStatePrefix = "state.";
constexpr const char* kStepField = "step";  // the one state field that is an I64 0-d counter

bool is_no_decay(const std::string& name, const Variable& p) {
  const bool bias = name == "bias" || (name.size() > 5 && name.ends_with(".bias"));
  return bias || p.dim() <= 1;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// The shortest of %.15g, %.16g, %.17g that reads back as `v` (1e-4 prints as "0.0001").
std::string format_double(double v) {
  char buf[40];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

}  // namespace

std::vector<ParamGroup> split_decay_groups(const NamedParameters& params) {
  ParamGroup decay{.name = "decay", .params = {}, .options = {}};
  ParamGroup no_decay{.name = "no_decay", .params = {}, .options = {}};
  no_decay.options.weight_decay = 0.0;
  no_decay.options.lars_adaptation = false;
  for (const auto& [name, p] : params) {
    if (!p.defined() || !p.requires_grad()) continue;
    (is_no_decay(name, p) ? no_decay : decay).params.emplace_back(name, p);
  }
  std::vector<ParamGroup> groups;
  if (!decay.params.empty()) groups.push_back(std::move(decay));
  if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  return groups;
}

namespace {
NamedParameters prefixed_trainable(const Module& module, const std::string& prefix) {
  NamedParameters out;
  for (auto& [name, p] : module.named_parameters())
    if (p.requires_grad()) out.emplace_back(prefix + name, p);
  return out;
}
}  // namespace

std::vector<ParamGroup> split_decay_groups(const Module& module, const std::string& prefix) {
  return split_decay_groups(prefixed_trainable(module, prefix));
}

std::vector<ParamGroup> single_group(const Module& module, const std::string& prefix) {
  return {ParamGroup{.name = "default", .params = prefixed_trainable(module, prefix), .options = {}}};
}

Optimizer::Optimizer(std::string type_name, std::vector<ParamGroup> groups, const Defaults& defaults)
    : type_name_(std::move(type_name)) {
  core::check(!groups.empty(), type_name_ + ": no parameter groups given");
  std::set<std::string> names;
  std::set<const autograd::VariableImpl*> seen;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    ParamGroup& pg = groups[i];
    Group g;
    g.name = pg.name.empty() ? "group" + std::to_string(i) : pg.name;
    g.lr = pg.options.lr.value_or(defaults.lr);
    g.initial_lr = g.lr;
    g.weight_decay = pg.options.weight_decay.value_or(defaults.weight_decay);
    g.momentum = pg.options.momentum.value_or(defaults.momentum);
    g.lars_adaptation = pg.options.lars_adaptation.value_or(defaults.lars_adaptation);
    const std::string where = type_name_ + ": group " + std::to_string(i) + " ('" + g.name + "')";
    core::check(g.lr >= 0.0, where + ": lr must be >= 0 (got " + format_double(g.lr) + ")");
    core::check(g.weight_decay >= 0.0, where + ": weight_decay must be >= 0 (got " + format_double(g.weight_decay) + ")");
    core::check(g.momentum >= 0.0 && g.momentum < 1.0,
                where + ": momentum must be in [0, 1) (got " + format_double(g.momentum) + ")");
    for (auto& [name, p] : pg.params) {
      core::check(!name.empty(), where + ": a parameter has an empty name");
      core::check(p.defined(), where + ": parameter '" + name + "' is undefined");
      core::check<core::DTypeError>(core::is_floating(p.dtype()),
                                    where + ": parameter '" + name + "' has dtype " + core::name(p.dtype()) +
                                        ", expected f32 or f64");
      core::check(names.insert(name).second,
                  type_name_ + ": parameter name '" + name + "' appears twice (names key the optimizer state)");
      core::check(seen.insert(p.impl()).second,
                  type_name_ + ": parameter '" + name + "' is the same variable as another parameter");
      g.params.emplace_back(name, p);
    }
    groups_.push_back(std::move(g));
  }
}

Optimizer::Group& Optimizer::group(std::size_t i) {
  core::check(i < groups_.size(), type_name_ + ": group index " + std::to_string(i) + " out of range (" +
                                      std::to_string(groups_.size()) + " groups)");
  return groups_[i];
}

const Optimizer::Group& Optimizer::group(std::size_t i) const {
  core::check(i < groups_.size(), type_name_ + ": group index " + std::to_string(i) + " out of range (" +
                                      std::to_string(groups_.size()) + " groups)");
  return groups_[i];
}

void Optimizer::set_lr(double lr) {
  core::check(lr >= 0.0, type_name_ + ".set_lr: lr must be >= 0 (got " + format_double(lr) + ")");
  for (auto& g : groups_) g.lr = lr;
}

void Optimizer::set_lr(std::size_t i, double lr) {
  core::check(lr >= 0.0, type_name_ + ".set_lr: lr must be >= 0 (got " + format_double(lr) + ")");
  group(i).lr = lr;
}

void Optimizer::scale_lr(double factor) {
  core::check(factor >= 0.0, type_name_ + ".scale_lr: factor must be >= 0 (got " + format_double(factor) + ")");
  for (auto& g : groups_) g.lr = g.initial_lr * factor;
}

std::vector<std::pair<std::string, double>> Optimizer::group_option_values(const Group& group) const {
  return {{"weight_decay", group.weight_decay}};
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& [name, p] : g.params) {
      Variable v = p;
      v.zero_grad();
    }
}

void Optimizer::step() {
  autograd::NoGradGuard no_grad;
  // Check every parameter first, so a bad one leaves all parameters and state untouched.
  for (const auto& g : groups_)
    for (const auto& [name, p] : g.params) {
      const Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      const std::string where = type_name_ + ".step: parameter '" + name + "'";
      core::check<core::DeviceError>(p.device().is_cpu() && grad.device().is_cpu(),
                                     where + " is on " + p.device().to_string() + " (grad on " +
                                         grad.device().to_string() + "); the fused updates run on CPU only");
      core::check<core::DTypeError>(grad.dtype() == p.dtype(), where + ": grad dtype " +
                                                                   std::string(core::name(grad.dtype())) +
                                                                   " differs from the parameter's " + core::name(p.dtype()));
      core::check<core::ShapeError>(grad.shape() == p.shape(), where + ": grad shape " + core::to_string(grad.shape()) +
                                                                   " differs from the parameter's " +
                                                                   core::to_string(p.shape()));
    }
  for (const auto& g : groups_)
    for (const auto& [name, p] : g.params) {
      const Tensor& grad = p.grad();
      if (!grad.defined()) continue;
      Variable v = p;
      Tensor& data = v.mutable_data();
      const Tensor g_dense = grad.contiguous();
      ParamState& st = state_[name];
      if (data.is_contiguous()) {
        update(g, data, g_dense, st);
      } else {
        Tensor dense = data.contiguous();
        update(g, dense, g_dense, st);
        data.copy_(dense);
      }
    }
}

StateDict Optimizer::state_dict() const {
  StateDict out;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    const std::string prefix = kGroupsPrefix + std::to_string(i) + ".";
    out.emplace_back(prefix + "num_params",
                     Tensor::scalar(static_cast<double>(g.params.size()), core::DType::i64));
    out.emplace_back(prefix + "lr", Tensor::scalar(g.lr, core::DType::f64));
    out.emplace_back(prefix + "initial_lr", Tensor::scalar(g.initial_lr, core::DType::f64));
    for (const auto& [name, value] : group_option_values(g)) out.emplace_back(prefix + name, Tensor::scalar(value, core::DType::f64));
  }
  for (const auto& [name, value] : option_values()) out.emplace_back(kOptionsPrefix + name, Tensor::scalar(value, core::DType::f64));
  for (const auto& g : groups_)
    for (const auto& [name, p] : g.params) {
      const auto it = state_.find(name);
      if (it == state_.end()) continue;
      for (const auto& [field, t] : it->second) out.emplace_back(kStatePrefix + name + "." + field, t.clone());
    }
  return out;
}

void Optimizer::validate_state_dict(const StateDict& state, bool check_hyperparameters) const {
  std::vector<std::string> duplicates, missing, unexpected, mismatched, differing;
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state)
    if (!given.emplace(name, &t).second) duplicates.push_back(name);

  // What this optimizer expects: key -> (dtype, shape); and values that must agree.
  struct Expected {
    core::DType dtype;
    core::Shape shape;
    std::optional<double> value;  // compared when set
    bool always_compare = false;   // num_params: compared even without check_hyperparameters
  };
  std::map<std::string, Expected> expected;
  // Parameters: name -> (group, variable); a parameter's fields are all present or all absent.
  std::map<std::string, std::pair<const Group*, const Variable*>> params;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    const std::string prefix = kGroupsPrefix + std::to_string(i) + ".";
    expected[prefix + "num_params"] = {core::DType::i64, {}, static_cast<double>(g.params.size()), true};
    expected[prefix + "lr"] = {core::DType::f64, {}, std::nullopt};
    expected[prefix + "initial_lr"] = {core::DType::f64, {}, g.initial_lr};
    for (const auto& [name, value] : group_option_values(g)) expected[prefix + name] = {core::DType::f64, {}, value};
    for (const auto& [name, p] : g.params) params[name] = {&g, &p};
  }
  for (const auto& [name, value] : option_values()) expected[kOptionsPrefix + name] = {core::DType::f64, {}, value};

  const auto check_tensor = [&](const std::string& key, const Tensor& t, core::DType dtype, const core::Shape& shape) {
    if (t.shape() != shape || t.dtype() != dtype) {
      mismatched.push_back(key + ": checkpoint " + core::name(t.dtype()) + " " + core::to_string(t.shape()) +
                           " vs optimizer " + core::name(dtype) + " " + core::to_string(shape));
      return false;
    }
    return true;
  };

  std::map<std::string, std::set<std::string>> present;  // parameter -> fields given
  for (const auto& [key, t] : given) {
    if (starts_with(key, kStatePrefix)) {
      const std::string rest = key.substr(std::string(kStatePrefix).size());
      const auto dot = rest.rfind('.');
      const std::string pname = dot == std::string::npos ? rest : rest.substr(0, dot);
      const std::string field = dot == std::string::npos ? "" : rest.substr(dot + 1);
      const auto it = params.find(pname);
      if (it == params.end()) {
        unexpected.push_back(key + " (no parameter '" + pname + "' in this optimizer)");
        continue;
      }
      const auto fields = state_fields(*it->second.first);
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
        unexpected.push_back(key + " (" + type_name_ + " keeps no '" + field + "' for this parameter)");
        continue;
      }
      present[pname].insert(field);
      const Variable& p = *it->second.second;
      if (field == kStepField) check_tensor(key, *t, core::DType::i64, {});
      else check_tensor(key, *t, p.dtype(), p.shape());
      continue;
    }
    const auto it = expected.find(key);
    if (it == expected.end()) {
      unexpected.push_back(key);
      continue;
    }
    const Expected& e = it->second;
    if (!check_tensor(key, *t, e.dtype, e.shape)) continue;
    if (e.value && (e.always_compare || check_hyperparameters)) {
      const double v = t->item<double>();
      if (!(v == *e.value)) {
        (e.always_compare ? mismatched : differing)
            .push_back(key + ": checkpoint " + format_double(v) + " vs optimizer " + format_double(*e.value));
      }
    }
  }
  for (const auto& [key, e] : expected)
    if (!given.count(key)) missing.push_back(key);
  for (const auto& [pname, fields] : present)
    for (const auto& field : state_fields(*params.at(pname).first))
      if (!fields.count(field)) missing.push_back(std::string(kStatePrefix) + pname + "." + field);

  std::string problems;
  if (!duplicates.empty()) problems += "\n  duplicate keys: " + join(duplicates);
  if (!missing.empty()) problems += "\n  missing keys: " + join(missing);
  if (!unexpected.empty()) problems += "\n  unexpected keys: " + join(unexpected);
  if (!mismatched.empty()) problems += "\n  shape/dtype/size mismatches: " + join(mismatched);
  if (!differing.empty()) problems += "\n  hyperparameters that differ: " + join(differing);
  if (!problems.empty())
    throw core::ValueError(type_name_ + ".load_state_dict: the state does not fit this optimizer (" +
                           std::to_string(groups_.size()) + " groups):" + problems);
}

void Optimizer::load_state_dict(const StateDict& state, bool check_hyperparameters) {
  validate_state_dict(state, check_hyperparameters);
  // Build everything first, then swap in (nothing below the validation is expected to throw
  // except allocation, and then the optimizer is still untouched).
  std::map<std::string, ParamState> new_state;
  std::map<std::string, const Variable*> params;
  for (const auto& g : groups_)
    for (const auto& [name, p] : g.params) params[name] = &p;
  std::vector<double> lrs(groups_.size());
  for (const auto& [key, t] : state) {
    if (starts_with(key, kStatePrefix)) {
      const std::string rest = key.substr(std::string(kStatePrefix).size());
      const auto dot = rest.rfind('.');
      const std::string pname = rest.substr(0, dot);
      const std::string field = rest.substr(dot + 1);
      const Variable& p = *params.at(pname);
      new_state[pname][field] = field == kStepField ? t.clone() : t.to(p.device()).clone();
    } else if (starts_with(key, kGroupsPrefix) && key.ends_with(".lr")) {
      const std::string index = key.substr(std::string(kGroupsPrefix).size(),
                                           key.size() - std::string(kGroupsPrefix).size() - 3);
      lrs.at(std::stoul(index)) = t.item<double>();
    }
  }
  state_.swap(new_state);
  for (std::size_t i = 0; i < groups_.size(); ++i) groups_[i].lr = lrs[i];
}

}  // namespace selfsup::nn::optim
