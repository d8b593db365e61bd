// f64 finite-difference gradchecks for the elementwise, reduction, shape, linear, softmax, loss
// and regularisation ops, over shapes with edge cases (batch 1, odd sizes, keepdim, broadcast on
// either side). Inputs avoid kinks (relu/abs/clamp at 0 or the bounds, max ties).
#include <doctest/doctest.h>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/error.h"

using namespace selfsup::autograd;
using selfsup::core::Generator;

namespace {

Tensor randn(Shape shape, std::uint64_t seed) {
  Generator gen(seed);
  return Tensor::randn(std::move(shape), gen, DType::f64);
}
// Values in [lo, hi], away from 0 when lo > 0.
Tensor uniform(Shape shape, std::uint64_t seed, double lo, double hi) {
  Generator gen(seed);
  return Tensor::rand(std::move(shape), gen, DType::f64, lo, hi);
}
// Values whose magnitude is at least 0.1 (so relu/abs/sign kinks are far away).
Tensor away_from_zero(Shape shape, std::uint64_t seed) {
  const Tensor u = uniform(shape, seed, 0.1, 2.0);
  const Tensor s = selfsup::core::sub(selfsup::core::mul(selfsup::core::gt(randn(shape, seed + 1), 0.0), 2.0),
                                      Tensor::ones({}, DType::f64));
  return selfsup::core::mul(u, s);
}

void expect_gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions options = {}) {
  const GradcheckReport report = gradcheck(fn, inputs, options);
  CHECK_MESSAGE(report.ok, report.to_string());
}

using Vars = std::vector<Variable>;

}  // namespace

TEST_CASE("gradcheck: binary ops with broadcasting on either side") {
  const std::vector<std::pair<Shape, Shape>> shapes = {{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{4}, {3, 4}},
                                                       {{2, 1, 3}, {4, 1}}, {{1}, {5}}, {{}, {2, 2}}};
  std::uint64_t seed = 10;
  for (const auto& [sa, sb] : shapes) {
    CAPTURE(selfsup::core::to_string(sa));
    CAPTURE(selfsup::core::to_string(sb));
    const Tensor a = uniform(sa, seed++, 0.5, 2.0), b = uniform(sb, seed++, 0.5, 2.0);
    expect_gradcheck([](const Vars& v) { return v[0] + v[1]; }, {a, b});
    expect_gradcheck([](const Vars& v) { return v[0] - v[1]; }, {a, b});
    expect_gradcheck([](const Vars& v) { return v[0] * v[1]; }, {a, b});
    expect_gradcheck([](const Vars& v) { return v[0] / v[1]; }, {a, b});
  }
  const Tensor x = randn({2, 3}, 99);
  expect_gradcheck([](const Vars& v) { return (v[0] + 2.0) * 3.0 - 1.0; }, {x});
  expect_gradcheck([](const Vars& v) { return 1.0 - v[0] / 4.0; }, {x});
}

TEST_CASE("gradcheck: unary ops away from their kinks") {
  const Tensor x = away_from_zero({3, 5}, 20);
  const Tensor pos = uniform({3, 5}, 21, 0.2, 3.0);
  expect_gradcheck([](const Vars& v) { return neg(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return exp(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return log(v[0]); }, {pos});
  expect_gradcheck([](const Vars& v) { return sqrt(v[0]); }, {pos});
  expect_gradcheck([](const Vars& v) { return pow(v[0], 2.5); }, {pos});
  expect_gradcheck([](const Vars& v) { return pow(v[0], -1.5); }, {pos});
  expect_gradcheck([](const Vars& v) { return pow(v[0], 3.0); }, {x});
  expect_gradcheck([](const Vars& v) { return abs(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return relu(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return sigmoid(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return tanh(v[0]); }, {x});
  expect_gradcheck([](const Vars& v) { return silu(v[0]); }, {x});
  // clamp bounds at +-0.05 (no element of x lies within 0.1 of 0)
  expect_gradcheck([](const Vars& v) { return clamp(v[0], -0.05, 0.05); }, {x});
  expect_gradcheck([](const Vars& v) { return clamp(v[0], 0.05, std::nullopt); }, {x});
  // hard functions: inputs spread over all three pieces, away from -3 and 3
  const Tensor h = Tensor::from_vector<double>({-4.5, -3.4, -2.2, -0.7, 0.3, 1.9, 2.6, 3.5, 5.0}, {3, 3});
  expect_gradcheck([](const Vars& v) { return hardsigmoid(v[0]); }, {h});
  expect_gradcheck([](const Vars& v) { return hardswish(v[0]); }, {h});
}

TEST_CASE("gradcheck: reductions over axes with and without keepdim") {
  const Tensor x = randn({2, 3, 4}, 30);
  for (const bool keepdim : {false, true}) {
    CAPTURE(keepdim);
    for (const Axes& axes : std::vector<Axes>{{}, {0}, {1}, {-1}, {0, 2}}) {
      expect_gradcheck([&](const Vars& v) { return sum(v[0], axes, keepdim); }, {x});
      expect_gradcheck([&](const Vars& v) { return mean(v[0], axes, keepdim); }, {x});
      expect_gradcheck([&](const Vars& v) { return max(v[0], axes, keepdim); }, {x});
      if (!axes.empty()) {
        expect_gradcheck([&](const Vars& v) { return logsumexp(v[0], axes, keepdim); }, {x});
        expect_gradcheck([&](const Vars& v) { return var(v[0], axes, true, keepdim); }, {x});
        expect_gradcheck([&](const Vars& v) { return var(v[0], axes, false, keepdim); }, {x});
      }
    }
  }
  const Tensor batch1 = randn({1, 5}, 31);
  expect_gradcheck([](const Vars& v) { return mean(v[0], {0}); }, {batch1});
}

TEST_CASE("gradcheck: shape ops") {
  const Tensor x = randn({2, 3, 4}, 40);
  expect_gradcheck([](const Vars& v) { return reshape(v[0], {4, -1}); }, {x});
  expect_gradcheck([](const Vars& v) { return flatten(v[0], 1); }, {x});
  expect_gradcheck([](const Vars& v) { return permute(v[0], {2, 0, 1}); }, {x});
  expect_gradcheck([](const Vars& v) { return transpose(v[0], 0, -1); }, {x});
  expect_gradcheck([](const Vars& v) { return slice(v[0], 2, 1, 4, 2); }, {x});
  expect_gradcheck([](const Vars& v) { return slice(v[0], 1, -2, 3); }, {x});
  expect_gradcheck([](const Vars& v) { return unsqueeze(v[0], 1) * 2.0; }, {x});
  expect_gradcheck([](const Vars& v) { return squeeze(slice(v[0], 0, 0, 1), 0); }, {x});
  expect_gradcheck([](const Vars& v) { return expand(slice(v[0], 1, 0, 1), {3, 2, 3, 4}); }, {x});
  const Tensor y = randn({2, 5, 4}, 41);
  expect_gradcheck([](const Vars& v) { return cat({v[0], v[1], v[0]}, 1); }, {x, y});
  expect_gradcheck([](const Vars& v) { return stack({v[0], v[0] * 2.0}, -1); }, {x});
  expect_gradcheck([](const Vars& v) { return chunk(v[0], 2, 1)[1]; }, {y});
  const Tensor idx = Tensor::from_vector<std::int64_t>({2, 0, 2, 1});
  expect_gradcheck([&](const Vars& v) { return index_select(v[0], 1, idx); }, {x});
  const Tensor gidx = Tensor::from_vector<std::int64_t>({0, 3, 3, 1, 2, 2, 0, 0, 1, 3, 2, 1, 0, 0, 0, 3, 1, 2}, {2, 3, 3});
  expect_gradcheck([&](const Vars& v) { return gather(v[0], 2, gidx); }, {x});
  CHECK(chunk(Variable(y), 2, 1).size() == 2);
  CHECK(chunk(Variable(y), 2, 1)[1].size(1) == 2);
}

TEST_CASE("gradcheck: matmul and linear") {
  expect_gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({3, 4}, 50), randn({4, 5}, 51)});
  expect_gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({2, 3, 4}, 52), randn({4, 5}, 53)});
  expect_gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({2, 1, 3, 4}, 54), randn({3, 4, 2}, 55)});
  expect_gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({3, 4}, 56), randn({4}, 57)});
  expect_gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn({4}, 58), randn({2, 4, 3}, 59)});
  expect_gradcheck([](const Vars& v) { return linear(v[0], v[1], v[2]); },
                   {randn({5, 3}, 60), randn({4, 3}, 61), randn({4}, 62)});
  expect_gradcheck([](const Vars& v) { return linear(v[0], v[1]); }, {randn({2, 3, 3}, 63), randn({1, 3}, 64)});
  expect_gradcheck([](const Vars& v) { return linear(v[0], v[1], v[2]); },
                   {randn({1, 3}, 65), randn({4, 3}, 66), randn({4}, 67)});
  CHECK_THROWS_WITH_AS(linear(Variable(randn({2, 3}, 1)), Variable(randn({4, 2}, 2))),
                       doctest::Contains("does not match weight"), selfsup::core::ShapeError);
}

TEST_CASE("gradcheck: softmax and losses") {
  const Tensor logits = randn({4, 5}, 70);
  const Tensor target = Tensor::from_vector<std::int64_t>({1, 0, 4, 4});
  const Tensor probs = selfsup::core::softmax(randn({4, 5}, 71), 1);
  for (const std::int64_t axis : {0, 1, -1}) {
    expect_gradcheck([axis](const Vars& v) { return softmax(v[0], axis); }, {logits});
    expect_gradcheck([axis](const Vars& v) { return log_softmax(v[0], axis); }, {logits});
  }
  for (const Reduction r : {Reduction::none, Reduction::mean, Reduction::sum}) {
    for (const double ls : {0.0, 0.1}) {
      expect_gradcheck([&](const Vars& v) { return cross_entropy(v[0], target, ls, r); }, {logits});
      expect_gradcheck([&](const Vars& v) { return cross_entropy(v[0], v[1], ls, r); }, {logits, probs});
    }
    expect_gradcheck([&](const Vars& v) { return kl_div(log_softmax(v[0], 1), v[1], r); }, {logits, probs});
    expect_gradcheck([&](const Vars& v) { return mse_loss(v[0], v[1], r); }, {logits, probs});
  }
  expect_gradcheck([](const Vars& v) { return normalize(v[0], 1); }, {logits});
  expect_gradcheck([](const Vars& v) { return normalize(v[0], 0); }, {logits});
  expect_gradcheck([](const Vars& v) { return cosine_similarity(v[0], v[1], 1); }, {logits, randn({4, 5}, 72)});
  expect_gradcheck([](const Vars& v) { return cosine_similarity(v[0], v[1], -1); }, {randn({2, 3, 4}, 73), randn({4}, 74)});
  CHECK_THROWS_WITH_AS(cross_entropy(Variable(logits), Tensor::from_vector<std::int64_t>({1, 0, 5, 4})),
                       doctest::Contains("out of range"), selfsup::core::ShapeError);
  CHECK_THROWS_WITH_AS(cross_entropy(Variable(logits), target, 1.5), doctest::Contains("label_smoothing"),
                       selfsup::core::ValueError);
}

TEST_CASE("gradcheck: dropout and drop_path with a fixed mask") {
  const Tensor x = randn({4, 3, 2}, 80);
  // Each evaluation draws from a fresh generator with the same seed: the mask is fixed.
  expect_gradcheck([](const Vars& v) {
    Generator gen(9);
    return dropout(v[0], 0.4, true, gen);
  }, {x});
  expect_gradcheck([](const Vars& v) {
    Generator gen(9);
    return drop_path(v[0], 0.5, true, gen);
  }, {x});
  Generator gen(3);
  const Variable y = dropout(Variable(Tensor::ones({10000}, DType::f64)), 0.3, true, gen);
  const double kept_mean = selfsup::core::mean(y.data()).item<double>();
  CHECK(kept_mean == doctest::Approx(1.0).epsilon(0.05));
  CHECK(dropout(Variable(x), 0.5, false, gen).data().shares_storage(x));
}

TEST_CASE("gradcheck: reports a wrong backward with the worst element") {
  // d/dx (x^2) deliberately computed as 3x: gradcheck must fail and say where.
  const auto wrong_square = [](const Vars& v) {
    const Tensor xd = v[0].data();
    return make_result("wrong_square", selfsup::core::square(xd), {v[0]}, [xd](const Tensor& dy, Gradients& g) {
      g.accumulate(0, selfsup::core::mul(selfsup::core::mul(dy, xd), 3.0));
    });
  };
  const GradcheckReport report = gradcheck(wrong_square, {uniform({2, 3}, 90, 0.5, 1.0)});
  CHECK_FALSE(report.ok);
  CHECK(report.op == "wrong_square");
  CHECK(report.worst_index >= 0);
  CHECK(report.to_string().find("FAILED") != std::string::npos);
  CHECK(report.worst_analytic == doctest::Approx(report.worst_numeric * 1.5).epsilon(1e-6));
  CHECK_THROWS_AS(gradcheck(wrong_square, {Tensor::ones({2})}), selfsup::core::DTypeError);
}

TEST_CASE("gradcheck: the four-point stencil and check_inputs options") {
  GradcheckOptions options;
  options.four_point = true;
  options.check_inputs = {1};
  expect_gradcheck([](const Vars& v) { return exp(v[0]) * tanh(v[1]); }, {randn({3}, 91), randn({3}, 92)}, options);
}
