// Builds a KernelTable from a lane type L of one instruction set. The table must be constexpr:
// a table built at load time would run code compiled for AVX-512 (vectorised stores) on CPUs
// that lack it, before dispatch has looked at CPUID.
//   L::V                vector of W = L::kWidth elements of L::T
//   L::load(p), L::store(p, v)                      full vectors, unaligned
//   L::load_tail(p, n), L::store_tail(p, v, n)      the last n < W elements, masked: nothing
//                                                   outside [p, p + n) is read or written
//   L::kCanStream, L::stream(p, v), L::fence()      non-temporal store of a full vector to a
//                                                   vector-aligned p, and the fence after them
//   L::prefetch(p)                                  a hint to load the line at address p; never
//                                                   faults, so p may lie past an array's end
// Included by one translation unit per instruction set; internal linkage (see mish_math.h).
#pragma once



#include <cstdint>

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

template <class L, Op op, bool kStream>
void run(const typename L::T* x, const typename L::T* dy, typename L::T* out, size_t n) {
  using V = typename L::V;
  constexpr size_t w = L::kWidth;
  // kUnroll independent vectors a step: the formulas are one long dependency chain, so a
  // core only fills its FMA ports with several in flight. Every load of a step comes before
  // its stores, which keeps out == x and out == dy correct.
  constexpr size_t u = L::kUnroll;
  size_t i = 0;
  if constexpr (kStream) {
    // Beyond the caches one core's own loads keep too few misses in flight: x (and dy) are
    // prefetched 4 KiB ahead (1, 4 and 16 KiB measured; 4 best, +20-25 % over none).
    // (The address is formed as an integer: it may lie past the end of the array.)
    auto ahead = [](const typename L::T* p) {
      return reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + 4096);
    };
    // Non-temporal stores write `out` without first reading each of its cache lines into the
    // cache (a third memory transfer per element). They need out + i aligned to a whole
    // vector: the elements before that boundary go through one masked step. `out` is aligned
    // to its element size (typed arrays are), so the boundary is reached within a vector.
    size_t past = reinterpret_cast<uintptr_t>(out) / sizeof(typename L::T) % w;
    if (past != 0 && n > 0) {
      size_t head = w - past < n ? w - past : n;
      V a = L::load_tail(x, head);
      V da = op == Op::kBackward ? L::load_tail(dy, head) : a;
      L::store_tail(out, apply<L, op>(a, da), head);
      i = head;
    }
    for (; i + u * w <= n; i += u * w) {
      V r[u];
      for (size_t j = 0; j < u; ++j) {
        L::prefetch(ahead(x + i + j * w));
        if (op == Op::kBackward) L::prefetch(ahead(dy + i + j * w));
        V a = L::load(x + i + j * w);
        r[j] = apply<L, op>(a, op == Op::kBackward ? L::load(dy + i + j * w) : a);
      }
      for (size_t j = 0; j < u; ++j) L::stream(out + i + j * w, r[j]);
    }
    // Non-temporal stores are weakly ordered: drain them before the call reports completion
    // to another thread.
    L::fence();
  }
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
  constexpr bool s32 = L32::kCanStream, s64 = L64::kCanStream;
  return KernelTable{
      isa,
      {run<L32, Op::kForward, false>, run<L32, Op::kBackward, false>,
       run<L32, Op::kDerivative, false>, run<L32, Op::kSecond, false>},
      {run<L64, Op::kForward, false>, run<L64, Op::kBackward, false>,
       run<L64, Op::kDerivative, false>, run<L64, Op::kSecond, false>},
      {run<L32, Op::kForward, s32>, run<L32, Op::kBackward, s32>, run<L32, Op::kDerivative, s32>,
       run<L32, Op::kSecond, s32>},
      {run<L64, Op::kForward, s64>, run<L64, Op::kBackward, s64>, run<L64, Op::kDerivative, s64>,
       run<L64, Op::kSecond, s64>},
      parallel_min_f32,
      parallel_min_f64,
  };
}

}  // namespace
}  // namespace mish
