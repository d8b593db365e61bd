#include "nn/module.h"

#include <algorithm>
#include <iomanip>
#include <set>
#include <sstream>

#include "core/error.h"

namespace selfsup::nn {

namespace {

// The summary being recorded on this thread (null when none).
struct SummaryRecorder {
  std::vector<SummaryRow> rows;
  std::map<const Module*, std::string> names;
};
thread_local SummaryRecorder* g_recorder = nullptr;

}  // namespace

Variable Module::forward(const Variable&) {
  throw core::ValueError(type_name_ + ": this module has no single-input forward(x)");
}

Variable Module::operator()(const Variable& x) {
  if (g_recorder == nullptr) return forward(x);
  const std::size_t slot = g_recorder->rows.size();
  g_recorder->rows.emplace_back();
  Variable y = forward(x);
  SummaryRow& row = g_recorder->rows[slot];
  const auto found = g_recorder->names.find(this);
  row.name = found == g_recorder->names.end() ? "?" : found->second;
  row.type = type_name_;
  row.output_shape = y.shape();
  for (const auto& [name, p] : parameters_) row.parameters += p.numel();
  row.flops = flops(x.shape(), y.shape());
  return y;
}

void Module::check_name(const std::string& name, const char* what) {
  core::check(!name.empty() && name.find('.') == std::string::npos,
              std::string("register_") + what + ": name '" + name + "' must be non-empty and contain no '.'");
}

Variable& Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
  check_name(name, "parameter");
  for (const auto& [n, p] : parameters_)
    core::check(n != name, "register_parameter: '" + name + "' is already registered on " + type_name_);
  parameters_.emplace_back(name, Variable(std::move(value), requires_grad));
  return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  check_name(name, "buffer");
  for (const auto& [n, b] : buffers_)
    core::check(n != name, "register_buffer: '" + name + "' is already registered on " + type_name_);
  buffers_.emplace_back(name, std::move(value));
  return buffers_.back().second;
}

void Module::register_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name, "module");
  core::check(module != nullptr, "register_module: '" + name + "' is null");
  for (const auto& [n, m] : children_)
    core::check(n != name, "register_module: '" + name + "' is already registered on " + type_name_);
  children_.emplace_back(name, std::move(module));
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Variable>> out;
  for (const auto& [name, p] : parameters_)
    if (p.defined()) out.emplace_back(name, p);
  if (recurse)
    for (const auto& [child_name, child] : children_)
      for (auto& [name, p] : child->named_parameters(true)) out.emplace_back(child_name + "." + name, p);
  return out;
}

std::vector<Variable> Module::parameters(bool recurse) const {
  std::vector<Variable> out;
  for (auto& [name, p] : named_parameters(recurse)) out.push_back(p);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, b] : buffers_)
    if (b.defined()) out.emplace_back(name, b);
  if (recurse)
    for (const auto& [child_name, child] : children_)
      for (auto& [name, b] : child->named_buffers(true)) out.emplace_back(child_name + "." + name, b);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out{{"", shared_from_this()}};
  for (const auto& [child_name, child] : children_)
    for (auto& [name, m] : child->named_modules()) out.emplace_back(name.empty() ? child_name : child_name + "." + name, m);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p.zero_grad();
}

void Module::set_requires_grad(bool value) {
  for (auto& [name, p] : named_parameters()) p.set_requires_grad(value);
}

void Module::to(core::Device device) {
  for (auto& [name, p] : parameters_)
    if (p.defined()) p.mutable_data() = p.data().to(device);
  for (auto& [name, b] : buffers_)
    if (b.defined()) b = b.to(device);
  for (auto& [name, child] : children_) child->to(device);
}

std::int64_t Module::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (const auto& [name, p] : parameters_)
    if (p.defined()) out.emplace_back(prefix + name, p.data());
  for (const auto& [name, b] : buffers_)
    if (b.defined()) out.emplace_back(prefix + name, b);
  for (const auto& [name, child] : children_) child->collect_state(prefix + name + ".", out);
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  return out;
}

Module::StateDictDiff Module::compare_state_dict(const StateDict& state) const {
  StateDictDiff diff;
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state)
    if (!given.emplace(name, &t).second) diff.duplicates.push_back(name);
  std::set<std::string> own_names;
  for (const auto& [name, t] : state_dict()) {
    own_names.insert(name);
    const auto it = given.find(name);
    if (it == given.end()) {
      diff.missing.push_back(name);
    } else if (it->second->shape() != t.shape()) {
      diff.mismatched.push_back(name + ": checkpoint " + core::to_string(it->second->shape()) + " vs model " +
                                core::to_string(t.shape()));
    } else if (it->second->dtype() != t.dtype() &&
               !(core::is_floating(it->second->dtype()) && core::is_floating(t.dtype()))) {
      diff.mismatched.push_back(name + ": checkpoint dtype " + core::name(it->second->dtype()) + " vs model " +
                                core::name(t.dtype()));
    }
  }
  for (const auto& [name, t] : state)
    if (!own_names.count(name)) diff.unexpected.push_back(name);
  return diff;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDictDiff diff = compare_state_dict(state);
  const auto join = [](const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  std::string problems;
  if (!diff.duplicates.empty()) problems += "\n  duplicate keys: " + join(diff.duplicates);
  if (strict && !diff.missing.empty()) problems += "\n  missing keys: " + join(diff.missing);
  if (strict && !diff.unexpected.empty()) problems += "\n  unexpected keys: " + join(diff.unexpected);
  if (!diff.mismatched.empty()) problems += "\n  shape/dtype mismatches: " + join(diff.mismatched);
  if (!problems.empty())
    throw core::ValueError("load_state_dict: the state does not fit " + type_name_ + ":" + problems);
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) given.emplace(name, &t);
  const StateDict own = state_dict();
  // Validated: now copy in place, so views held elsewhere (optimizers, BN ops) stay valid.
  for (const auto& [name, t] : own) {
    const auto it = given.find(name);
    if (it == given.end()) continue;
    Tensor dst = t;
    dst.copy_(*it->second);
  }
}

std::vector<SummaryRow> Module::summary(const Shape& input_shape) {
  SummaryRecorder recorder;
  for (auto& [name, m] : named_modules()) recorder.names[m.get()] = name.empty() ? "(model)" : name;
  const bool was_training = training_;
  eval();
  autograd::NoGradGuard no_grad;
  g_recorder = &recorder;
  try {
    const DType dtype = parameters_.empty() && named_parameters().empty() ? DType::f32 : named_parameters()[0].second.dtype();
    (*this)(Variable(Tensor::zeros(input_shape, dtype)));
  } catch (...) {
    g_recorder = nullptr;
    train(was_training);
    throw;
  }
  g_recorder = nullptr;
  train(was_training);
  return recorder.rows;
}

std::string Module::summary_string(const Shape& input_shape) {
  const auto rows = summary(input_shape);
  std::ostringstream os;
  os << std::left << std::setw(36) << "module" << std::setw(22) << "type" << std::setw(22) << "output" << std::right
     << std::setw(12) << "params" << std::setw(16) << "FLOPs" << "\n";
  std::int64_t flops = 0;
  for (const auto& r : rows) {
    os << std::left << std::setw(36) << r.name << std::setw(22) << r.type << std::setw(22)
       << core::to_string(r.output_shape) << std::right << std::setw(12) << r.parameters << std::setw(16) << r.flops
       << "\n";
    flops += r.flops;
  }
  os << "total parameters: " << parameter_count() << ", total FLOPs: " << flops << " for input "
     << core::to_string(input_shape) << "\n";
  return os.str();
}

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) : Module("Sequential") {
  for (auto& m : modules) push_back(std::move(m));
}

Sequential& Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
  return *this;
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (const auto& m : modules_) y = (*m)(y);
  return y;
}

}  // namespace selfsup::nn
