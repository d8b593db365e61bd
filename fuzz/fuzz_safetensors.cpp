// libFuzzer target for the safetensors reader: parse_safetensors on arbitrary bytes must either
// return or throw core::Error (anything else, a crash or a sanitizer report is a bug). When a
// file parses, it is re-serialized and parsed again, and both reads must agree (names, dtypes,
// shapes, bytes, metadata); a disagreement traps.
//
// libFuzzer (needs clang >= 15: libstdc++'s <source_location> wants __builtin_source_location),
// against a core built with the same clang and -fsanitize=address,undefined:
//   clang++-16 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/fuzz_safetensors.cpp
//     <that libselfsup_core.a> -fopenmp -lopenblas -o fuzz_safetensors
//   ./fuzz_safetensors -max_len=4096 fuzz/corpus/safetensors
// (Debian's clang 14 also works when a small std::source_location shim built on __builtin_FILE /
// __builtin_LINE is force-included with -include into every core file and this one.)
// Without libFuzzer (any compiler, e.g. g++ with a SELFSUP_SANITIZE=ON core), add
// -DSELFSUP_FUZZ_STANDALONE for a main that replays files/directories and then runs a simple
// byte-mutation loop over them:  ./fuzz_safetensors fuzz/corpus/safetensors [iterations]
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/tensor.h"

namespace {

using selfsup::core::SafetensorsFile;

bool same_bytes(const selfsup::core::Tensor& a, const selfsup::core::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const std::size_t n = static_cast<std::size_t>(a.numel()) * selfsup::core::size_of(a.dtype());
  return n == 0 || std::memcmp(a.raw_data(), b.raw_data(), n) == 0;
}

void check_round_trip(const SafetensorsFile& first) {
  const std::string bytes = selfsup::core::serialize_safetensors(first.tensors, first.metadata);
  const SafetensorsFile second = selfsup::core::parse_safetensors(bytes.data(), bytes.size(), "<round trip>");
  if (second.metadata != first.metadata || second.tensors.size() != first.tensors.size()) __builtin_trap();
  for (const auto& [name, tensor] : first.tensors) {
    if (!second.contains(name) || !same_bytes(tensor, second.at(name))) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SafetensorsFile file;
  try {
    file = selfsup::core::parse_safetensors(data, size, "<fuzz>");
  } catch (const selfsup::core::Error&) {
    return 0;  // rejected with a proper error: fine
  }
  check_round_trip(file);  // a valid file must re-serialize; any exception here escapes and aborts
  return 0;
}

#ifdef SELFSUP_FUZZ_STANDALONE
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<std::string> inputs;
  long iterations = 100000;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p)) {
        std::ifstream in(e.path(), std::ios::binary);
        inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    } else if (fs::is_regular_file(p)) {
      std::ifstream in(p, std::ios::binary);
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
      iterations = std::stol(argv[i]);
    }
  }
  for (const auto& s : inputs) LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  std::cout << "replayed " << inputs.size() << " inputs\n";
  if (inputs.empty()) return 0;
  // Mutations that reach the interesting checks: byte flips, JSON-ish tokens, digit runs,
  // insertions/deletions, and edits of the 8-byte length prefix.
  std::mt19937_64 rng(12345);
  const std::string tokens[] = {"{", "}", "[", "]", ",", ":", "\"", "0", "-1", "18446744073709551615", "1e3",
                          "\"F32\"", "\"I64\"", "\"F4\"", "\"__metadata__\"", "\"shape\"", "\"data_offsets\"",
                          "null", " ", "\xff", "\xed\xa0\x80", std::string(1, '\0')};
  for (long it = 0; it < iterations; ++it) {
    std::string s = inputs[rng() % inputs.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
      switch (rng() % 6) {
        case 0:
          if (!s.empty()) s[pos % s.size()] = static_cast<char>(rng());
          break;
        case 1: s.insert(pos, tokens[rng() % std::size(tokens)]); break;
        case 2:
          if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 8);
          break;
        case 3: s.insert(pos, std::to_string(rng() % 100000)); break;
        case 4:
          if (s.size() >= 8) {
            std::uint64_t n = 0;
            std::memcpy(&n, s.data(), 8);
            n += static_cast<std::uint64_t>(static_cast<std::int64_t>(rng() % 17) - 8);
            std::memcpy(s.data(), &n, 8);
          }
          break;
        default:
          if (!s.empty()) s.append(s, pos % s.size(), rng() % 16);
          break;
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  }
  std::cout << "ran " << iterations << " mutated inputs\n";
  return 0;
}
#endif
