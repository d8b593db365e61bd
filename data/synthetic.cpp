#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "core/generator.h"

namespace selfsup::data {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

const char* const kPatternNames[10] = {"disk", "square", "triangle", "hstripes", "vstripes",
                                       "checker", "ring", "cross", "dstripes", "blob"};

}  // namespace

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ (b * 0xD6E8FEB86659FD93ull));
}

SyntheticDataset::SyntheticDataset(SyntheticOptions options) : options_(options) {
  core::check(options.size >= 0, "SyntheticDataset: size must be non-negative");
  core::check(options.channels == 1 || options.channels == 3, "SyntheticDataset: channels must be 1 or 3");
  core::check(options.height >= 4 && options.width >= 4, "SyntheticDataset: images must be at least 4x4");
  core::check(options.num_classes >= 1 && options.num_classes <= 10,
              "SyntheticDataset: num_classes must be in [1, 10], got " + std::to_string(options.num_classes));
}

std::vector<std::string> SyntheticDataset::class_names() const {
  return std::vector<std::string>(kPatternNames, kPatternNames + options_.num_classes);
}

std::int64_t SyntheticDataset::label(std::int64_t index) const {
  check_index("SyntheticDataset::label", index, size());
  return index % options_.num_classes;
}

Sample SyntheticDataset::get(std::int64_t index) const {
  check_index("SyntheticDataset::get", index, size());
  const std::int64_t label = index % options_.num_classes;
  core::Generator gen(mix_seed(options_.seed, static_cast<std::uint64_t>(index), 0x5EED));
  const std::int64_t C = options_.channels, H = options_.height, W = options_.width;
  float background[3], foreground[3];
  for (int c = 0; c < 3; ++c) background[c] = static_cast<float>(gen.next_uniform());
  for (int c = 0; c < 3; ++c) {
    // Keep the foreground visibly different from the background.
    const double shift = 0.35 + 0.4 * gen.next_uniform();
    foreground[c] = static_cast<float>(std::fmod(background[c] + shift, 1.0));
  }
  const double cx = (0.3 + 0.4 * gen.next_uniform()) * static_cast<double>(W);
  const double cy = (0.3 + 0.4 * gen.next_uniform()) * static_cast<double>(H);
  const double radius = (0.2 + 0.15 * gen.next_uniform()) * static_cast<double>(std::min(H, W));
  const double period = 3.0 + 5.0 * gen.next_uniform();
  const double phase = gen.next_uniform() * period;
  const double noise = 0.04;
  const std::uint64_t noise_key = mix_seed(options_.seed, static_cast<std::uint64_t>(index), 0x401531);
  Image image(C, H, W);
  for (std::int64_t y = 0; y < H; ++y)
    for (std::int64_t x = 0; x < W; ++x) {
      const double dx = static_cast<double>(x) + 0.5 - cx, dy = static_cast<double>(y) + 0.5 - cy;
      const double r = std::hypot(dx, dy);
      bool on = false;
      switch (label) {
        case 0: on = r < radius; break;
        case 1: on = std::abs(dx) < radius * 0.85 && std::abs(dy) < radius * 0.85; break;
        case 2: on = dy < radius * 0.8 && dy > -radius && std::abs(dx) < (dy + radius) * 0.6; break;
        case 3: on = std::fmod(static_cast<double>(y) + phase, period) < period / 2; break;
        case 4: on = std::fmod(static_cast<double>(x) + phase, period) < period / 2; break;
        case 5: on = (static_cast<std::int64_t>((static_cast<double>(x) + phase) / period) +
                      static_cast<std::int64_t>((static_cast<double>(y) + phase) / period)) % 2 == 0; break;
        case 6: on = r < radius && r > radius * 0.55; break;
        case 7: on = (std::abs(dx) < radius * 0.25 && std::abs(dy) < radius) || (std::abs(dy) < radius * 0.25 && std::abs(dx) < radius); break;
        case 8: on = std::fmod(static_cast<double>(x + y) + phase, period * 1.4) < period * 0.7; break;
        default: on = std::exp(-(r * r) / (2 * radius * radius)) > 0.5 + 0.2 * std::sin(std::atan2(dy, dx) * 3); break;
      }
      const auto block = core::philox4x32(noise_key, static_cast<std::uint64_t>(y * W + x));
      for (std::int64_t c = 0; c < C; ++c) {
        const float base = C == 1 ? (on ? 0.8f * foreground[0] + 0.2f : 0.6f * background[0])
                                  : (on ? foreground[c] : background[c]);
        const float jitter = static_cast<float>(noise * ((block[static_cast<std::size_t>(c)] >> 8) * 0x1.0p-24 - 0.5) * 2.0);
        const float v = std::clamp(base + jitter, 0.0f, 1.0f);
        image.at(c, y, x) = std::nearbyint(v * 255.0f) / 255.0f;
      }
    }
  return Sample{std::move(image), label};
}

}  // namespace selfsup::data
