// The autograd engine: accumulation, shared subgraphs, detach, no-grad, freed graphs, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "autograd/functions.h"
#include "core/error.h"
#include "tests/support/allclose.h"

using namespace selfsup::autograd;
using selfsup::core::AutogradError;
using selfsup::core::ShapeError;
using selfsup::test::check_allclose;

namespace {
Variable leaf(std::vector<double> values, Shape shape) {
  return Variable(Tensor::from_vector(values, std::move(shape)), true);
}
}  // namespace

TEST_CASE("engine: gradients of a diamond graph add up") {
  const Variable x = leaf({1, 2, 3}, {3});
  const Variable y = x * x;            // dy/dx = 2x
  const Variable z = sum(y + y * 3.0);  // dz/dx = 8x
  z.backward();
  check_allclose(x.grad(), Tensor::from_vector<double>({8, 16, 24}), 0, 0);
}

TEST_CASE("engine: the graph does not keep intermediate results that no backward needs") {
  const Variable x = leaf({0.5, 1, 2}, {3});
  std::weak_ptr<VariableImpl> mid_weak, exp_weak;
  Variable out;
  {
    const Variable mid = x * 2.0;  // mul by a scalar saves nothing
    const Variable e = exp(mid);   // exp saves its output's tensor, not the Variable
    mid_weak = mid.impl_ptr();
    exp_weak = e.impl_ptr();
    out = sum(e);
  }
  CHECK(mid_weak.expired());
  CHECK(exp_weak.expired());
  out.backward();
  check_allclose(x.grad(), Tensor::from_vector<double>({2 * std::exp(1.0), 2 * std::exp(2.0), 2 * std::exp(4.0)}),
                 1e-12, 0);
}

TEST_CASE("engine: a second backward accumulates into leaves") {
  const Variable x = leaf({2}, {1});
  sum(x * 3.0).backward();
  sum(x * 3.0).backward();
  CHECK(x.grad().item<double>() == 6.0);
  Variable(x).zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("engine: broadcast inputs receive gradients of their own shape") {
  const Variable a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const Variable b = leaf({10, 20, 30}, {3});
  sum(a * b).backward();
  CHECK(b.grad().shape() == Shape{3});
  check_allclose(b.grad(), Tensor::from_vector<double>({5, 7, 9}), 0, 0);
  check_allclose(a.grad(), Tensor::from_vector<double>({10, 20, 30, 10, 20, 30}, {2, 3}), 0, 0);
}

TEST_CASE("engine: detach and no-grad stop history") {
  const Variable x = leaf({1, 2}, {2});
  const Variable d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.data().shares_storage(x.data()));
  {
    NoGradGuard guard;
    const Variable y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  CHECK((x * 2.0).requires_grad());
  const Variable mixed = sum(x * d);  // gradient flows only through x
  mixed.backward();
  check_allclose(x.grad(), Tensor::from_vector<double>({1, 2}), 0, 0);
  CHECK_FALSE(Variable(d).grad().defined());
}

TEST_CASE("engine: backward errors name the problem") {
  const Variable x = leaf({1, 2}, {2});
  const Variable y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("pass a seed gradient"), AutogradError);
  CHECK_THROWS_WITH_AS(y.backward(Tensor::ones({3}, DType::f64)), doctest::Contains("seed gradient shape [3]"),
                       ShapeError);
  const Variable z = sum(exp(x));
  z.backward();
  CHECK_THROWS_WITH_AS(z.backward(), doctest::Contains("already freed"), AutogradError);
  const Variable c(Tensor::ones({1}, DType::f64));
  CHECK_THROWS_WITH_AS(c.backward(), doctest::Contains("does not require grad"), AutogradError);
  CHECK_THROWS_AS(Variable(Tensor::zeros({1}, DType::i64), true), selfsup::core::DTypeError);
  CHECK_THROWS_WITH_AS(Variable(y).set_requires_grad(false), doctest::Contains("only leaves"), AutogradError);
}

TEST_CASE("engine: retain_graph allows a second pass") {
  const Variable x = leaf({3}, {1});
  const Variable z = sum(x * x);
  z.backward(true);
  z.backward();
  CHECK(x.grad().item<double>() == 12.0);
}

TEST_CASE("engine: a deep chain does not overflow the stack") {
  Variable x = leaf({1}, {1});
  Variable y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0;
  sum(y).backward();
  CHECK(x.grad().item<double>() == 1.0);
}

TEST_CASE("engine: a backward function returning a wrong shape is rejected") {
  const Variable x = leaf({1, 2, 3}, {3});
  const Variable bad = make_result("bad_op", x.data().clone(), {x}, [](const Tensor& dy, Gradients& g) {
    g.accumulate(0, Tensor::ones({2}, DType::f64));
  });
  CHECK_THROWS_WITH_AS(sum(bad).backward(), doctest::Contains("bad_op backward"), AutogradError);
}
