// Scalar "vectors" for the CUDA kernels and for their host emulation, and the storage types.
//
// mish_math.h writes its formulas over a vector type V and finds the operations by argument-
// dependent lookup. Its generic templates, meant for the CPU scalar reference, compute fma_ as
// a * b + c with two roundings; the AVX2/AVX-512 kernels fuse every fma_ (and every fnma_).
// The GPU has FMA everywhere, so the device must round exactly like the AVX kernels, not like
// the scalar reference: plain float and double must never reach those templates here.
// DevF32 and DevF64 wrap them and supply their own overloads, in which
//   - every fma_, fnma_ and *_exact is one fused operation (fmaf / fma), as written;
//   - every +, -, *, / is one IEEE operation rounded to nearest; on the device through the _rn
//     intrinsics, which nvcc never contracts into an FMA whatever --fmad says, and which stay
//     IEEE (division included) under --use_fast_math or --prec-div=false;
//   - vmax/vmin keep x86 MAXPS/MINPS semantics (the second operand when either is NaN), which
//     is what lets a NaN x flow through the clamps;
//   - pow2 builds 2^k from exponent bits, as the AVX2 kernel does.
// So the same source gives the same bits on the device and when this header is compiled for
// the host by g++ (emulate.cc), and the same bits as the AVX2/AVX-512 kernels for float32 and
// float64 (NaN payloads aside: GPUs return a canonical NaN, x86 propagates the input's).
// The composite helpers of mish_math.h (round_mul, scale, scale_with, mul_pow2, exp_for_sums,
// select_zero, mask_mul, select_mul) stay the header's templates: they are built from the
// primitives below and only ever see DevF32 / DevF64.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

#include "../native/mish_math.h"
#include "ops.h"

namespace mish {
namespace {

struct DevF32 {
  using Scalar = float;
  float v;
  DevF32() = default;
  MISH_HD DevF32(float s) : v(s) {}
};

struct DevF64 {
  using Scalar = double;
  double v;
  DevF64() = default;
  MISH_HD DevF64(double s) : v(s) {}
};

#if defined(__CUDA_ARCH__)
MISH_HD DevF32 operator+(DevF32 a, DevF32 b) { return __fadd_rn(a.v, b.v); }
MISH_HD DevF32 operator-(DevF32 a, DevF32 b) { return __fsub_rn(a.v, b.v); }
MISH_HD DevF32 operator*(DevF32 a, DevF32 b) { return __fmul_rn(a.v, b.v); }
MISH_HD DevF32 operator/(DevF32 a, DevF32 b) { return __fdiv_rn(a.v, b.v); }
MISH_HD DevF32 fused(float a, float b, float c) { return __fmaf_rn(a, b, c); }
MISH_HD DevF64 operator+(DevF64 a, DevF64 b) { return __dadd_rn(a.v, b.v); }
MISH_HD DevF64 operator-(DevF64 a, DevF64 b) { return __dsub_rn(a.v, b.v); }
MISH_HD DevF64 operator*(DevF64 a, DevF64 b) { return __dmul_rn(a.v, b.v); }
MISH_HD DevF64 operator/(DevF64 a, DevF64 b) { return __ddiv_rn(a.v, b.v); }
MISH_HD DevF64 fused(double a, double b, double c) { return __fma_rn(a, b, c); }
#else
// Host: built with -ffp-contract=off, so each operator is one rounding; std::fma is the
// correctly rounded library fma (the FMA instruction where the CPU has one).
MISH_HD DevF32 operator+(DevF32 a, DevF32 b) { return a.v + b.v; }
MISH_HD DevF32 operator-(DevF32 a, DevF32 b) { return a.v - b.v; }
MISH_HD DevF32 operator*(DevF32 a, DevF32 b) { return a.v * b.v; }
MISH_HD DevF32 operator/(DevF32 a, DevF32 b) { return a.v / b.v; }
MISH_HD DevF32 fused(float a, float b, float c) { return std::fma(a, b, c); }
MISH_HD DevF64 operator+(DevF64 a, DevF64 b) { return a.v + b.v; }
MISH_HD DevF64 operator-(DevF64 a, DevF64 b) { return a.v - b.v; }
MISH_HD DevF64 operator*(DevF64 a, DevF64 b) { return a.v * b.v; }
MISH_HD DevF64 operator/(DevF64 a, DevF64 b) { return a.v / b.v; }
MISH_HD DevF64 fused(double a, double b, double c) { return std::fma(a, b, c); }
#endif

MISH_HD uint32_t bits_of(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}
MISH_HD uint64_t bits_of(double f) {
  uint64_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}
MISH_HD float float_from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}
MISH_HD double double_from_bits(uint64_t b) {
  double f;
  memcpy(&f, &b, sizeof f);
  return f;
}

// Bit operations on both sides (the global-namespace names have device overloads).
MISH_HD float sign_copy(float y, float x) { return copysignf(y, x); }
MISH_HD double sign_copy(double y, double x) { return copysign(y, x); }
MISH_HD float magnitude(float a) { return fabsf(a); }
MISH_HD double magnitude(double a) { return fabs(a); }

// The primitives, once per wrapper type (D is DevF32 or DevF64; S its scalar).
#define MISH_DEV_PRIMITIVES(D, S)                                                            \
  MISH_HD D fma_(D a, D b, D c) { return fused(a.v, b.v, c.v); }                             \
  MISH_HD D fma_exact(D a, D b, D c) { return fused(a.v, b.v, c.v); }                        \
  MISH_HD D fms_exact(D a, D b, D c) { return fused(a.v, b.v, -c.v); }                       \
  MISH_HD D fnma_exact(D a, D b, D c) { return fused(-a.v, b.v, c.v); }                      \
  MISH_HD D fnma_(D a, D b, D c) { return fused(-a.v, b.v, c.v); }                           \
  MISH_HD D copy_sign(D y, D x) { return sign_copy(y.v, x.v); }                             \
  MISH_HD D vmax(D a, D b) { return a.v > b.v ? a : b; }                                     \
  MISH_HD D vmin(D a, D b) { return a.v < b.v ? a : b; }                                     \
  MISH_HD D neg_abs(D a) { return -magnitude(a.v); }                                        \
  MISH_HD bool lt(D a, D b) { return a.v < b.v; }                                            \
  MISH_HD bool ge(D a, D b) { return a.v >= b.v; }                                           \
  MISH_HD D select(bool m, D a, D b) { return m ? a : b; }                                   \
  MISH_HD D select_zero(bool m, D a) { return m ? a : D(S(0)); }                             \
  MISH_HD D mask_mul(bool m, D a, D b) { return m ? a * b : a; }                             \
  MISH_HD D select_mul(bool m, D a, D b, D c) { return m ? a * b : c; }                      \
  /* Nearest integer, ties to even, for |a| < 2^22 (float) or 2^51 (double). */              \
  MISH_HD D round_int(D a) {                                                                 \
    return (a + D(Consts<S>::round_magic)) - D(Consts<S>::round_magic);                      \
  }

MISH_DEV_PRIMITIVES(DevF32, float)
MISH_DEV_PRIMITIVES(DevF64, double)
#undef MISH_DEV_PRIMITIVES

// 2^k for an integral k in the normal exponent range.
MISH_HD DevF32 pow2(DevF32 k) {
  auto e = static_cast<int32_t>(k.v);
  return float_from_bits(static_cast<uint32_t>(e + 127) << 23);
}
MISH_HD DevF64 pow2(DevF64 k) {
  auto e = static_cast<int64_t>(k.v);
  return double_from_bits(static_cast<uint64_t>(e + 1023) << 52);
}

// Storage types. 16-bit values are computed in float and rounded once, to nearest even. A NaN
// result is stored as the canonical 0x7FFF on both sides (the device's conversions produce it;
// the host's are made to), so device and emulation agree bit for bit there too.
MISH_HD float half_bits_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1Fu;
  uint32_t m = h & 0x3FFu;
  if (e == 0x1F) return float_from_bits(sign | 0x7F800000u | (m << 13));
  if (e == 0) {
    float mag = static_cast<float>(m) * 0x1p-24f;  // exact: m < 2^10
    return sign ? -mag : mag;
  }
  return float_from_bits(sign | ((e + 112) << 23) | (m << 13));
#endif
}

MISH_HD uint16_t float_to_half_bits(float f) {
  if (f != f) return 0x7FFF;
#if defined(__CUDA_ARCH__)
  return __half_as_ushort(__float2half_rn(f));
#else
  uint32_t b = bits_of(f);
  auto sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  uint32_t a = b & 0x7FFFFFFFu;
  // From 65520 (halfway between 65504 and 2^16, rounding to the even 2^16) up: infinity.
  if (a >= 0x477FF000u) return sign | 0x7C00u;
  if (a >= 0x38800000u) {  // 2^-14 and up: normal; rebias the exponent from 127 to 15
    uint32_t m = a - 0x38000000u;
    return static_cast<uint16_t>(sign | ((m + 0xFFFu + ((m >> 13) & 1u)) >> 13));
  }
  // Subnormal half (units of 2^-24) or zero: the value is (2^23 + mantissa) * 2^(e - 150).
  uint32_t e = a >> 23;
  uint32_t shift = 126 - e;  // >= 14 here
  if (shift > 24) return sign;  // below 2^-25: rounds to zero
  uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
  uint32_t q = m >> shift;
  uint32_t rest = m & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
#endif
}

MISH_HD float bf16_bits_to_float(uint16_t h) {
  return float_from_bits(static_cast<uint32_t>(h) << 16);
}

MISH_HD uint16_t float_to_bf16_bits(float f) {
  if (f != f) return 0x7FFF;
#if defined(__CUDA_ARCH__)
  return __bfloat16_as_ushort(__float2bfloat16_rn(f));
#else
  uint32_t b = bits_of(f);
  return static_cast<uint16_t>((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
#endif
}

// How each dtype is stored (Mem) and computed (V).
template <int dtype>
struct Storage;
template <>
struct Storage<cuda::kFloat32> {
  using Mem = float;
  using V = DevF32;
  static MISH_HD V load(Mem m) { return m; }
  static MISH_HD Mem store(V v) { return v.v; }
};
template <>
struct Storage<cuda::kFloat64> {
  using Mem = double;
  using V = DevF64;
  static MISH_HD V load(Mem m) { return m; }
  static MISH_HD Mem store(V v) { return v.v; }
};
template <>
struct Storage<cuda::kFloat16> {
  using Mem = uint16_t;
  using V = DevF32;
  static MISH_HD V load(Mem m) { return half_bits_to_float(m); }
  static MISH_HD Mem store(V v) { return float_to_half_bits(v.v); }
};
template <>
struct Storage<cuda::kBFloat16> {
  using Mem = uint16_t;
  using V = DevF32;
  static MISH_HD V load(Mem m) { return bf16_bits_to_float(m); }
  static MISH_HD Mem store(V v) { return float_to_bf16_bits(v.v); }
};

// out = op(x) (op(dy, x) for backward) for one stored element.
template <int op, int dtype>
MISH_HD typename Storage<dtype>::Mem apply_element(typename Storage<dtype>::Mem x,
                                                   typename Storage<dtype>::Mem dy) {
  using St = Storage<dtype>;
  using V = typename St::V;
  V xv = St::load(x);
  if constexpr (op == cuda::kForward) return St::store(forward(xv));
  if constexpr (op == cuda::kBackward) return St::store(backward(St::load(dy), xv));
  if constexpr (op == cuda::kDerivative) return St::store(derivative(xv));
  if constexpr (op == cuda::kSecond) return St::store(second_derivative(xv));
}

}  // namespace
}  // namespace mish
