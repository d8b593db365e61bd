// check_allclose: the doctest comparison of a result against a reference tensor, with torch's
// allclose rule |actual - expected| <= atol + rtol * |expected| (not symmetric: `expected` is the
// reference). NaN never matches (torch's equal_nan=False); equal infinities match. Values are
// compared as double whatever the dtypes, so an f32 result can be checked against an f64 reference.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <source_location>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace selfsup::test {

struct AllcloseReport {
  bool ok = true;
  std::int64_t count = 0;       // elements compared
  std::int64_t mismatches = 0;  // elements outside the tolerance
  double max_abs_diff = 0.0;    // over all elements (NaN if any comparison involved NaN)
  std::int64_t worst_index = -1;  // flat index of the largest |a - e| (a NaN pair counts as largest)
  double worst_actual = 0.0;
  double worst_expected = 0.0;
  std::string message;  // empty when ok
};

namespace detail {

inline std::string multi_index(std::int64_t flat, const core::Shape& shape) {
  std::vector<std::int64_t> index(shape.size());
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] > 0) {
      index[i] = flat % shape[i];
      flat /= shape[i];
    }
  }
  return core::to_string(index);
}

inline core::Tensor on_cpu(const core::Tensor& t) {
  return t.device().is_cpu() ? t : t.to(core::Device::cpu());
}

}  // namespace detail

/// Compares two tensors of equal shape element by element; lists up to `max_listed` mismatches.
inline AllcloseReport compare_allclose(const core::Tensor& actual, const core::Tensor& expected, double rtol,
                                       double atol, std::size_t max_listed = 5) {
  AllcloseReport report;
  const auto a = detail::on_cpu(actual).to_vector<double>();
  const auto e = detail::on_cpu(expected).to_vector<double>();
  report.count = static_cast<std::int64_t>(e.size());
  if (a.size() != e.size()) {
    report.ok = false;
    report.message = "element counts differ: actual " + std::to_string(a.size()) + ", expected " +
                     std::to_string(e.size());
    return report;
  }
  std::ostringstream listed;
  listed.precision(12);
  double worst = -1.0;
  std::size_t n_listed = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    const bool same = a[i] == e[i];  // also equal infinities
    const double diff = same ? 0.0 : std::abs(a[i] - e[i]);
    // False for NaN; an infinity only matches itself (inf <= rtol * inf would pass otherwise).
    const bool close = same || (std::isfinite(e[i]) && diff <= atol + rtol * std::abs(e[i]));
    const double rank = std::isnan(diff) ? INFINITY : diff;
    if (std::isnan(diff)) report.max_abs_diff = NAN;
    else if (!std::isnan(report.max_abs_diff) && diff > report.max_abs_diff) report.max_abs_diff = diff;
    if (rank > worst) {
      worst = rank;
      report.worst_index = static_cast<std::int64_t>(i);
      report.worst_actual = a[i];
      report.worst_expected = e[i];
    }
    if (!close) {
      ++report.mismatches;
      if (n_listed < max_listed) {
        listed << (n_listed ? "; " : "") << "[" << i << "] " << detail::multi_index(static_cast<std::int64_t>(i), expected.shape())
               << " actual " << a[i] << " expected " << e[i] << " (diff " << diff << ")";
        ++n_listed;
      }
    }
  }
  report.ok = report.mismatches == 0;
  if (!report.ok) {
    std::ostringstream msg;
    msg.precision(12);
    msg << report.mismatches << " of " << report.count << " elements differ (shape "
        << core::to_string(expected.shape()) << ", actual " << core::name(actual.dtype()) << " vs expected "
        << core::name(expected.dtype()) << ", rtol " << rtol << ", atol " << atol << "); max |actual - expected| = "
        << report.max_abs_diff << " at flat index " << report.worst_index << " "
        << detail::multi_index(report.worst_index, expected.shape()) << ": actual " << report.worst_actual
        << ", expected " << report.worst_expected << "; first mismatches: " << listed.str();
    report.message = msg.str();
  }
  return report;
}

/// REQUIREs equal shapes, then CHECKs |actual - expected| <= atol + rtol * |expected| everywhere.
/// `what` names the compared quantity in the failure message (e.g. "grad.weight").
inline void check_allclose(const core::Tensor& actual, const core::Tensor& expected, double rtol, double atol,
                           const std::string& what = "",
                           const std::source_location loc = std::source_location::current()) {
  const std::string label = "check_allclose" + (what.empty() ? std::string() : "(" + what + ")") + " called at " +
                            core::where(loc);
  REQUIRE_MESSAGE(actual.shape() == expected.shape(), label << ": shapes differ, actual "
                                                            << core::to_string(actual.shape()) << " vs expected "
                                                            << core::to_string(expected.shape()));
  const AllcloseReport report = compare_allclose(actual, expected, rtol, atol);
  CHECK_MESSAGE(report.ok, label << ": " << report.message);
}

}  // namespace selfsup::test
