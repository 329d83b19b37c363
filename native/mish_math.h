// Mish and its derivatives, written once for every backend.
//
//   f(x)  = x * g(x),            g(x) = tanh(softplus(x)) = tanh(ln(1 + e^x))
//   f'(x) = g + x * sigma(x) * (1 - g^2)
//   f''(x) = (1 - g^2) * sigma * (2 + x * ((1 - sigma) - 2 * g * sigma))
//
// Every formula below uses the single exponential u = e^-|x| (so 0 < u <= 1 and nothing can
// overflow) and is free of cancellation except next to the zeros of f' and f''. With
// q = (1 + e^x)^2 + 1 rewritten in u:
//
//   x < 0 (e^x = u):   Q = u^2 + 2u + 2
//     f   = x * u (u + 2) / Q
//     f'  = u * (4x(1 + u) + u^3 + 4u^2 + 6u + 4) / Q^2
//     f'' = 4u * ((2u^3 + 6u^2 + 8u + 4) + x (-2u^3 - 3u^2 + 2u + 2)) / Q^3
//   x >= 0 (e^x = 1/u): Q = 2u^2 + 2u + 1
//     f   = x * (1 + 2u) / Q
//     f'  = 1 + u^2 * (4x(1 + u) - 4u^2 - 4u - 2) / Q^2
//     f'' = 4u^2 * ((4u^3 + 8u^2 + 6u + 2) + x (2u^3 + 2u^2 - 3u - 2)) / Q^3
//
// The two branches share their shape, so a vector kernel selects coefficients per lane
// instead of computing both. u is kept as r * 2^k (r in [0.70, 1.42]); the factor that makes
// a result tiny (u or u^2) is applied last as a power of two in two exact steps, so results
// near and below the smallest normal number are rounded once instead of being built from a
// subnormal u that has lost its digits. Where u only enters a sum next to constants it is
// clamped to the normal range, which changes nothing after rounding.
//
// f' is the exception: it is evaluated in n = e^x for both signs (derivative_parts below), so
// one set of polynomials serves every lane; for x > 0 nothing in it cancels and n^4 cannot
// overflow once x is clamped to dhi, where f' has rounded to 1.
//
// The kernels evaluate these in forms that round less: f as x - x h with h = u(u + 1) / Q or
// 2u^2 / Q (one FMA where g is near 1), the numerator of f' as 4(x + 1) + n(...) so the pair
// that cancels next to its zero is exact, f' - 1 for x >= 0 as its own small quotient, and the
// last product and quotient of f' with their rounding errors recovered by FMA. Worst errors
// measured against mpmath on the golden inputs (test/accuracy.test.ts): float32 f 2.2 ulp,
// f' 3.3 ulp; float64 f 1.7, f' 2.5. Over every float32 input and 10^9 float64 inputs
// (docs/ACCURACY.md): float32 f 2.68, f' 3.84, f'' 8.5; float64 f 2.57, f' 3.60, f'' 7.8.
// Alternatives tried and rejected:
//   - log1p(exp(x)) then tanh: three transcendental calls, and exp overflows for x > 88.7;
//   - tanh(sp) = 1 - 2 / ((1 + e^x)^2 + 1): cancels completely for x < -16.6 in float32;
//   - e^x, e^2x, e^3x formulations (the classic f' formula): overflow from x = 29.6 (float32);
//   - 1 - g^2 for f'': cancels for large x; the closed forms above have the u^2 factored out;
//   - x * p / Q and u W / Q^2 evaluated plainly: 3.5 ulp (f) and 4.7 ulp (f'), float32;
//   - float32 computed in double in the vector kernels: 0.5 ulp, but 2.8x slower; only the
//     scalar kernel (and the TypeScript path) do that.
//
// exp on [lo, dhi]: k = round(a / ln2), s = a - k ln2 with a Cody-Waite split (ln2_hi has
// trailing zero bits, so k * ln2_hi is exact), exp(s) = 1 + s + s^2 P(s). P is a Chebyshev fit
// of degree 4 (float32) or 9 (float64); scripts/exp_constants.py derives every constant here
// and prints the fit error: 0.08 ulp (float32) and 0.07 ulp (float64) of exp(s).
//
// Division: each of f and f' takes one correctly rounded IEEE division per element (f'' one
// more in Q^3's place). The divider runs beside the FMA ports; with AVX-512 the loops are bound
// by ports 0 and 5 (llvm-mca -mcpu=sapphirerapids: ~34 instructions a vector for f, ~55 for
// f'), not by the divider, and a reciprocal estimate (VRCP14) refined by a Newton step measured
// no faster in bench_native while adding up to an ulp, so the kernels keep the division.
// What did pay was fewer instructions: per-lane coefficient selects, masked multiplies, FNMA
// forms and VSCALEF for every power of two (AVX-512), and k rounded within its FMA.
//
// The header is included by translation units compiled with different instruction sets, so
// everything in it has internal linkage: no inline function compiled for AVX-512 can be
// picked by the linker for the scalar path.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Forced inline: GCC otherwise calls forward() from each unrolled step of the kernel loop,
// which serialises the two vectors the unrolling is there to overlap.
#if defined(__CUDACC__)
#define MISH_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define MISH_HD inline __attribute__((always_inline))
#else
#define MISH_HD inline
#endif

namespace mish {
namespace {

template <class T>
struct Consts;

template <>
struct Consts<float> {
  using Bits = uint32_t;
  // Inputs below lo give -0 for f, f' and f'' (|f(-115)| < 2^-155); inputs above hi give
  // the same f', f'' as hi (f'(60) == 1 and f''(60) == -0 after rounding). f itself is x * g
  // with g == 1 there, so it is computed from x unclamped.
  static constexpr float lo = -115.0f;
  static constexpr float hi = 60.0f;
  // Above dhi, f' rounds to 1: f'(x) - 1 < 4x e^-2x < 2^-30 there.
  static constexpr float dhi = 12.0f;
  static constexpr float emin = -126.0f;  // smallest normal exponent
  static constexpr float round_magic = 0x1.8p23f;
  static constexpr Bits round_magic_bits = 0x4B400000u;
  static constexpr Bits exp_bias = 127;
  static constexpr int mant_bits = 23;
  static constexpr float log2e = 0x1.715476p+0f;
  static constexpr float ln2_hi = 0x1.62e4p-1f;
  static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
  static constexpr int poly_degree = 4;
  static constexpr float poly[] = {0x1p-1f, 0x1.5554dep-3f, 0x1.55551ap-5f, 0x1.120b62p-7f,
                                   0x1.6d10fcp-10f};
};

template <>
struct Consts<double> {
  using Bits = uint64_t;
  static constexpr double lo = -760.0;  // |f(-760)| < 2^-1090
  static constexpr double hi = 400.0;   // f'(400) == 1, |f''(400)| < 2^-1140
  static constexpr double dhi = 22.0;   // f'(x) - 1 < 4x e^-2x < 2^-56 above
  static constexpr double emin = -1022.0;
  static constexpr double round_magic = 0x1.8p52;
  static constexpr Bits round_magic_bits = 0x4338000000000000ull;
  static constexpr Bits exp_bias = 1023;
  static constexpr int mant_bits = 52;
  static constexpr double log2e = 0x1.71547652b82fep+0;
  static constexpr double ln2_hi = 0x1.62e42fefa4p-1;
  static constexpr double ln2_lo = -0x1.8432a1b0e2634p-43;
  static constexpr int poly_degree = 9;
  static constexpr double poly[] = {
      0x1.0000000000001p-1,  0x1.5555555555556p-3,  0x1.5555555553d68p-5, 0x1.11111111109b5p-7,
      0x1.6c16c17889ef1p-10, 0x1.a01a01a7c2efep-13, 0x1.a019b9149a41cp-16, 0x1.71de0db2f6b19p-19,
      0x1.28917c89a43a7p-22, 0x1.af389ecfc4b9cp-26};
};

// The scalar "vector": plain float and double. Vector backends define a wrapper type with the
// same operations (found by argument-dependent lookup) and a `Scalar` member type.
template <class V>
struct ScalarOf {
  using type = typename V::Scalar;
};
template <>
struct ScalarOf<float> {
  using type = float;
};
template <>
struct ScalarOf<double> {
  using type = double;
};
template <class V>
using scalar_t = typename ScalarOf<V>::type;

// a * b + c. The scalar reference keeps two roundings on purpose: it must build and behave the
// same on CPUs without FMA; the error bounds hold for both.
template <class T>
MISH_HD T fma_(T a, T b, T c) {
  return a * b + c;
}
// a * b + c rounded once, where a compensation step needs the exact product error. On CPUs
// without FMA this is a library call (glibc dispatches to the FMA instruction where present).
template <class T>
MISH_HD T fma_exact(T a, T b, T c) {
  return std::fma(a, b, c);
}
// a * b - c and c - a * b, rounded once.
template <class T>
MISH_HD T fms_exact(T a, T b, T c) {
  return std::fma(a, b, -c);
}
template <class T>
MISH_HD T fnma_exact(T a, T b, T c) {
  return std::fma(-a, b, c);
}
// Returns b when either is NaN, like x86 MAXPS(a, b): with the clamp bounds as a, a NaN x
// flows through every formula and comes out as NaN.
template <class T>
MISH_HD T vmax(T a, T b) {
  return a > b ? a : b;
}
template <class T>
MISH_HD T vmin(T a, T b) {
  return a < b ? a : b;
}
template <class T>
MISH_HD T neg_abs(T a) {
  return a < T(0) ? a : -a;
}
template <class T>
MISH_HD bool lt(T a, T b) {
  return a < b;
}
template <class T>
MISH_HD bool ge(T a, T b) {
  return a >= b;
}
template <class T>
MISH_HD T select(bool m, T a, T b) {
  return m ? a : b;
}
// y with the sign of x (f has the sign of x: this also makes f(-0) = -0).
template <class T>
MISH_HD T copy_sign(T y, T x) {
  return std::copysign(y, x);
}
// c - a * b (one FNMA in the vector backends).
template <class T>
MISH_HD T fnma_(T a, T b, T c) {
  return c - a * b;
}
// m ? a * b : a (one masked multiply with AVX-512).
template <class M, class T>
MISH_HD T mask_mul(M m, T a, T b) {
  return select(m, a * b, a);
}
// m ? a * b : c (one masked multiply with AVX-512).
template <class M, class T>
MISH_HD T select_mul(M m, T a, T b, T c) {
  return select(m, a * b, c);
}
// m ? a : 0 (one zero-masked move with AVX-512, one AND with AVX2).
template <class M, class T>
MISH_HD T select_zero(M m, T a) {
  return select(m, a, T(0));
}
// Nearest integer (ties to even) for |a| < 2^22 (float) or 2^51 (double).
template <class T>
MISH_HD T round_int(T a) {
  return (a + Consts<T>::round_magic) - Consts<T>::round_magic;
}
// Nearest integer to a * c for |a * c| < 2^22 (float) or 2^51 (double): with FMA the product
// is rounded straight to an integer, one instruction fewer than round_int(a * c).
template <class T>
MISH_HD T round_mul(T a, T c) {
  using S = scalar_t<T>;
  return fma_(a, c, T(Consts<S>::round_magic)) - T(Consts<S>::round_magic);
}
// 2^k for an integral k in the normal exponent range, built from the exponent bits.
template <class T>
MISH_HD T pow2(T k) {
  using C = Consts<T>;
  using Bits = typename C::Bits;
  T biased = k + C::round_magic;
  Bits b;
  memcpy(&b, &biased, sizeof b);
  b = (b - C::round_magic_bits + C::exp_bias) << C::mant_bits;
  T out;
  memcpy(&out, &b, sizeof out);
  return out;
}

// P(s) by Horner from coefficient I up. Each coefficient is read as a constant expression
// (no array access at run time), so the same code compiles for CUDA devices.
template <class V, int I>
MISH_HD V poly_from(V s) {
  using C = Consts<scalar_t<V>>;
  constexpr scalar_t<V> c = C::poly[I];
  if constexpr (I == C::poly_degree) {
    return V(c);
  } else {
    return fma_(poly_from<V, I + 1>(s), s, V(c));
  }
}

template <class V>
struct Exp2k {
  V r;  // e^a / 2^k, in [0.70, 1.42]
  V k;  // integral
};

// e^a for a in [lo, 0], as r * 2^k.
template <class V>
MISH_HD Exp2k<V> exp_parts(V a) {
  using C = Consts<scalar_t<V>>;
  V k = round_mul(a, V(C::log2e));
  V s = fma_(k, V(-C::ln2_hi), a);
  s = fma_(k, V(-C::ln2_lo), s);

  V p = poly_from<V, 0>(s);
  V r = fma_(s * s, p, s) + V(1);
  return {r, k};
}

// v * 2^k for integral k >= 2 * emin, in two exact steps so the result is rounded once even
// when it is subnormal.
template <class V>
MISH_HD V scale(V v, V k) {
  V half = round_int(k * V(0.5));
  return (v * pow2(half)) * pow2(k - half);
}

// (d * (v 2^h)) * 2^(k-h) with h = floor(k / 2), for integral k >= 2 * emin and v in the
// normal range: d * v * 2^k rounded once, even when the result is subnormal, and with no
// overflow of d * v where 2^k is small. AVX-512's VSCALEF floors its exponent, so there
// 2^h and 2^(k-h) are scalef by k/2 and by k/2 + 1/2.
template <class V>
MISH_HD V scale_with(V d, V v, V k) {
  V h = round_mul(k - V(0.5), V(0.5));
  return (d * (v * pow2(h))) * pow2(k - h);
}

// v scaled by a power of two so small that every finite v becomes a zero of its sign, while
// infinities and NaN stay as they are (AVX-512: one VSCALEF).
template <class V>
MISH_HD V vanish(V v) {
  using C = Consts<scalar_t<V>>;
  V tiny = pow2(V(C::emin));
  return ((v * tiny) * tiny) * tiny;
}

// v * 2^k for integral k in the normal exponent range (AVX-512: one VSCALEF).
template <class V>
MISH_HD V mul_pow2(V v, V k) {
  return v * pow2(k);
}

// r * 2^k (u = e^-|x|) where u only enters sums next to constants, so below the normal range
// any value under 2^emin will do: here r * 2^emin. AVX-512's VSCALEF gives the subnormal
// itself in one instruction, which serves as well.
template <class V>
MISH_HD V exp_for_sums(V r, V k) {
  using C = Consts<scalar_t<V>>;
  return r * pow2(vmax(k, V(C::emin)));
}

// What every function needs from x: the clamped argument, the branch and u = e^-|x|.
template <class V>
struct Parts {
  V xd;  // x clamped to [lo, hi]
  V r;   // u = r * 2^k
  V k;
  V u;   // u, clamped to the normal range (for sums only)
  V q;   // Q of the branch
  V c2;  // its u^2 coefficient: 1 (x < 0) or 2
  decltype(lt(V(0), V(0))) neg;
};

template <class V>
MISH_HD Parts<V> parts(V x) {
  using C = Consts<scalar_t<V>>;
  Parts<V> p;
  p.xd = vmin(V(C::hi), vmax(V(C::lo), x));
  p.neg = lt(x, V(0));
  Exp2k<V> e = exp_parts(neg_abs(p.xd));
  p.r = e.r;
  p.k = e.k;
  p.u = exp_for_sums(e.r, e.k);

  // x < 0: u^2 + 2u + 2;  x >= 0: 2u^2 + 2u + 1. Per-lane coefficients, one Horner form.
  p.c2 = select(p.neg, V(1), V(2));
  p.q = fma_(fma_(p.c2, p.u, V(2)), p.u, select(p.neg, V(2), V(1)));
  return p;
}

template <class V>
MISH_HD V forward(V x) {
  Parts<V> p = parts(x);

  // x < 0: f = x u (1 - h) with h = u(u + 1) / Q;  x >= 0: f = x (1 - h) with h = 2u^2 / Q.
  // x - x h in one FMA keeps the error near one rounding where h is small.
  // The numerator u(c2 u + [x < 0]) is u(u + 1) or 2u^2.
  V h = (p.u * fma_(p.c2, p.u, select_zero(p.neg, V(1)))) / p.q;
  V a = mask_mul(p.neg, p.xd, p.r);
  V b = select(p.neg, a, x);
  V y = scale(fnma_(a, h, b), select_zero(p.neg, p.k));
  return copy_sign(y, x);
}

// What f' needs from x, from one set of polynomials in n = e^x (x clamped to [lo, dhi]) with
// no per-lane coefficients to select:
//   f' = n W / Q^2,  W = 4(x + 1) + n (4x + 6 + n (n + 4)),  Q^2 = (n^2 + 2n + 2)^2,
//   f' = 1 + D / Q^2,  D = n W - Q^2 = n (n (4x - 2) + 4x - 4) - 4.
// x < 0 takes the first form (the header comment's, with u = n): f' = v * 2^k. x >= 0 takes
// the second, one = 1 + D / Q^2, whose small part keeps its relative accuracy, so f' becomes
// exactly 1 where rounding says so and not before; nothing in D cancels except next to the
// crossing of f' = 1 (x near 0.8), where D / Q^2 is tiny beside the 1. At dhi, f' rounds to 1;
// n^4 stays far from overflow.
template <class V>
struct Derivative {
  V v;    // x < 0: f' = v * 2^k
  V k;
  V one;  // x >= 0: f'
  decltype(lt(V(0), V(0))) pos;  // x >= 0 (false for NaN, whose v is NaN)
};

template <class V>
MISH_HD Derivative<V> derivative_parts(V x) {
  using C = Consts<scalar_t<V>>;
  V xd = vmin(V(C::dhi), vmax(V(C::lo), x));
  Exp2k<V> e = exp_parts(xd);
  V n = exp_for_sums(e.r, e.k);

  // The pair that cancels next to the zero of f' (x near -1.19) is 4(x + 1), exact there:
  // 4x + 4 rounds as 4 (x + 1) does, since scaling by 4 commutes with rounding.
  // (4x exact, then one rounding per sum: no FMA whose three inputs all stay live, each of
  // which costs a register copy.)
  // The Horner steps are fused even in the scalar reference (fma_exact, std::fma there): with
  // two roundings a step, float64 f' reached 4.2 ulp there (npm run accuracy).
  V x4 = V(4) * xd;
  V n4 = n + V(4);
  V w = fma_exact(fma_exact(n4, n, x4 + V(6)), n, x4 + V(4));
  V q2 = fma_exact(fma_exact(fma_exact(n4, n, V(8)), n, V(8)), n, V(4));  // (n^2 + 2n + 2)^2
  V inv = V(1) / q2;
  V d = fma_exact(n, fma_exact(n, x4 - V(2), x4 - V(4)), V(-4));

  // r w / Q^2 with the product's and the quotient's rounding errors recovered by FMA and
  // added back: without this the chain of roundings reaches 3.9 ulp (float32).
  V mw = e.r * w;
  V mw_err = fms_exact(e.r, w, mw);
  V t = mw * inv;
  V rem = fnma_exact(t, q2, mw);
  return {fma_(rem + mw_err, inv, t), e.k, fma_(d, inv, V(1)), ge(x, V(0))};
}

// dy * f'(x). x < 0: (dy * v 2^h) * 2^(k-h), with v 2^h exact and normal, so dy is applied
// before the result becomes tiny: one rounding even where f' alone would be subnormal, and no
// overflow where dy is huge and f' small. Below lo, f' is below 2^-155 (float32) and the
// product is a signed zero (an infinity for infinite dy). x >= 0: dy * f'.
template <class V>
MISH_HD V backward(V dy, V x) {
  using C = Consts<scalar_t<V>>;
  Derivative<V> p = derivative_parts(x);
  V r = select_mul(p.pos, dy, p.one, scale_with(dy, p.v, p.k));
  // Below lo, f' is a negative number too small for any finite dy to lift out of zero: the
  // product is -dy scaled to zero, so finite dy gives a signed zero and an infinite dy keeps
  // its infinity (infinity times -0 would be NaN).
  return select(lt(x, V(C::lo)), vanish(V(-0.0) - dy), r);
}

template <class V>
MISH_HD V derivative(V x) {
  return backward(V(1), x);
}

template <class V>
MISH_HD V second_derivative(V x) {
  Parts<V> p = parts(x);

  // S = sum_i u^i (A_i + x B_i). A_0 + x B_0 is 2(x + 2) or -2(x - 1), exact next to the zeros
  // of f'' (x near -2.2 and 1.5) where it cancels.
  // Highest power first: x < 0: A = (2, 6, 8, 4), B = (-2, -3, 2, 2);
  //                      x >= 0: A = (4, 8, 6, 2), B = (2, 2, -3, -2).
  V s = fma_(p.xd, select(p.neg, V(-2), V(2)), select(p.neg, V(2), V(4)));
  s = fma_(s, p.u, fma_(p.xd, select(p.neg, V(-3), V(2)), select(p.neg, V(6), V(8))));
  s = fma_(s, p.u, fma_(p.xd, select(p.neg, V(2), V(-3)), select(p.neg, V(8), V(6))));
  s = fma_(s, p.u, fma_(p.xd, select(p.neg, V(2), V(-2)), select(p.neg, V(4), V(2))));

  V m = select(p.neg, p.r, p.r * p.r);
  V k = select(p.neg, p.k, p.k + p.k);
  return scale(V(4) * m * (s / (p.q * p.q * p.q)), k);
}

}  // namespace
}  // namespace mish
