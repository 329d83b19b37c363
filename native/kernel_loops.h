// Builds a KernelTable from a lane type L of one instruction set. The table must be constexpr:
// a table built at load time would run code compiled for AVX-512 (vectorised stores) on CPUs
// that lack it, before dispatch has looked at CPUID.
//   L::V                vector of W = L::kWidth elements of L::T
//   L::load(p), L::store(p, v)                      full vectors, unaligned
//   L::load_tail(p, n), L::store_tail(p, v, n)      the last n < W elements, masked: nothing
//                                                   outside [p, p + n) is read or written
// Included by one translation unit per instruction set; internal linkage (see mish_math.h).
#pragma once

#include "kernels.h"
#include "mish_math.h"

namespace mish {
namespace {

template <class L, Op op>
MISH_HD typename L::V apply(typename L::V x, typename L::V dy) {
  if constexpr (op == Op::kForward) return forward(x);
  if constexpr (op == Op::kBackward) return backward(dy, x);
  if constexpr (op == Op::kDerivative) return derivative(x);
  if constexpr (op == Op::kSecond) return second_derivative(x);
}

template <class L, Op op>
void run(const typename L::T* x, const typename L::T* dy, typename L::T* out, size_t n) {
  using V = typename L::V;
  constexpr size_t w = L::kWidth;
  // kUnroll independent vectors a step: the formulas are one long dependency chain, so a
  // core only fills its FMA ports with several in flight. Every load of a step comes before
  // its stores, which keeps out == x and out == dy correct.
  constexpr size_t u = L::kUnroll;
  size_t i = 0;
  for (; i + u * w <= n; i += u * w) {
    V r[u];
    for (size_t j = 0; j < u; ++j) {
      V a = L::load(x + i + j * w);
      r[j] = apply<L, op>(a, op == Op::kBackward ? L::load(dy + i + j * w) : a);
    }
    for (size_t j = 0; j < u; ++j) L::store(out + i + j * w, r[j]);
  }
  for (; i + w <= n; i += w) {
    V a = L::load(x + i);
    V da = op == Op::kBackward ? L::load(dy + i) : a;
    L::store(out + i, apply<L, op>(a, da));
  }
  if (i < n) {
    size_t rest = n - i;
    V a = L::load_tail(x + i, rest);
    V da = op == Op::kBackward ? L::load_tail(dy + i, rest) : a;
    L::store_tail(out + i, apply<L, op>(a, da), rest);
  }
}

template <class L32, class L64>
constexpr KernelTable make_table(const char* isa, size_t parallel_min_f32,
                                 size_t parallel_min_f64) {
  return KernelTable{
      isa,
      {run<L32, Op::kForward>, run<L32, Op::kBackward>, run<L32, Op::kDerivative>,
       run<L32, Op::kSecond>},
      {run<L64, Op::kForward>, run<L64, Op::kBackward>, run<L64, Op::kDerivative>,
       run<L64, Op::kSecond>},
      parallel_min_f32,
      parallel_min_f64,
  };
}

}  // namespace
}  // namespace mish
