// Golden fixtures written by tools/make_golden.py: SELFSUP_TEST_DATA_DIR/<case>.safetensors holds
// tensors (input.<arg>, param.<name>, output, grad.<arg>, grad.param.<name>) and string metadata
// (script, torch version, seed, and the op arguments as JSON under "args"). Lookups that miss
// throw core::IoError naming the case and listing what the fixture does hold.
#pragma once

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/tensor.h"

namespace selfsup::test {

class Golden {
 public:
  Golden(std::string case_name, std::string path, core::SafetensorsFile file)
      : case_name_(std::move(case_name)), path_(std::move(path)), file_(std::move(file)) {}

  /// Loads `path`, naming it `case_name` in errors.
  static Golden from_file(const std::string& case_name, const std::string& path) {
    return Golden(case_name, path, core::load_safetensors(path));
  }

  const std::string& case_name() const { return case_name_; }
  const std::string& path() const { return path_; }
  const core::SafetensorsFile& file() const { return file_; }

  bool has_tensor(const std::string& name) const { return file_.contains(name); }
  /// The tensor called `name`; throws IoError naming the case and listing the available tensors.
  const core::Tensor& tensor(const std::string& name) const {
    if (!file_.contains(name)) {
      std::string names;
      for (const auto& entry : file_.tensors) names += (names.empty() ? "" : ", ") + entry.first;
      throw core::IoError("golden case '" + case_name_ + "' (" + path_ + ") has no tensor '" + name +
                          "'; available: " + (names.empty() ? "none" : names));
    }
    return file_.at(name);
  }

  bool has_metadata(const std::string& key) const { return file_.metadata.contains(key); }
  /// The metadata string under `key`; throws IoError naming the case and listing the keys.
  const std::string& metadata(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    if (it == file_.metadata.end()) {
      std::string keys;
      for (const auto& [k, v] : file_.metadata) keys += (keys.empty() ? "" : ", ") + k;
      throw core::IoError("golden case '" + case_name_ + "' (" + path_ + ") has no metadata key '" + key +
                          "'; available: " + (keys.empty() ? "none" : keys));
    }
    return it->second;
  }

  /// The op arguments: metadata "args" parsed as JSON, or an empty object when the case has none.
  nlohmann::json args() const {
    const auto it = file_.metadata.find("args");
    if (it == file_.metadata.end()) return nlohmann::json::object();
    try {
      return nlohmann::json::parse(it->second);
    } catch (const nlohmann::json::exception& e) {
      throw core::IoError("golden case '" + case_name_ + "' (" + path_ + "): metadata 'args' is not JSON: " +
                          e.what());
    }
  }

 private:
  std::string case_name_;
  std::string path_;
  core::SafetensorsFile file_;
};

#ifdef SELFSUP_TEST_DATA_DIR
/// Loads SELFSUP_TEST_DATA_DIR/<case_name>.safetensors (tests/golden in the source tree).
inline Golden load_golden(const std::string& case_name) {
  return Golden::from_file(case_name, std::string(SELFSUP_TEST_DATA_DIR) + "/" + case_name + ".safetensors");
}
#endif

}  // namespace selfsup::test
