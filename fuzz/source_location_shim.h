// Force-included (clang++ -include) by scripts/fuzz.sh. Debian's clang 14 lacks
// __builtin_source_location, so libstdc++ 12's <source_location> declares nothing and
// core/error.h would not compile. This supplies a std::source_location built on clang's
// __builtin_FILE/LINE/FUNCTION/COLUMN, only when the real one is unavailable; with clang >= 15 or
// GCC it is a no-op. NOTE: adding to namespace std is formally undefined; it is confined to the
// fuzz build, where only the file/line text of error messages depends on it.
#pragma once

#if defined(__clang__) && !__has_builtin(__builtin_source_location)
#include <cstdint>

namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(), const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE(),
                                           std::uint_least32_t column = __builtin_COLUMN()) noexcept {
    source_location loc;
    loc.file_ = file, loc.function_ = function, loc.line_ = line, loc.column_ = column;
    return loc;
  }
  constexpr source_location() noexcept = default;
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return column_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0, column_ = 0;
};
}  // namespace std
#endif
