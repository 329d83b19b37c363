// AVX-512F kernels: 16 floats or 8 doubles a vector; tails through masked loads and stores.
// Built with -mavx512f -mfma; called only when dispatch.cc has seen AVX-512F and the OS's ZMM
// state. VSCALEFPS/PD apply the final power of two with a single rounding.
#include "kernels.h"

#if defined(__x86_64__) || defined(_M_X64)

// GCC 12's avx512fintrin.h trips its own -W(maybe-)uninitialized (the '__Y' of its
// _mm512_undefined_* helpers) wherever its intrinsics are inlined, so for this whole file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernel_loops.h"

namespace mish {
namespace {

struct F32x16 {
  using Scalar = float;
  __m512 v;
  F32x16() = default;
  F32x16(__m512 a) : v(a) {}
  F32x16(float s) : v(_mm512_set1_ps(s)) {}
};
inline F32x16 operator+(F32x16 a, F32x16 b) { return _mm512_add_ps(a.v, b.v); }
inline F32x16 operator-(F32x16 a, F32x16 b) { return _mm512_sub_ps(a.v, b.v); }
inline F32x16 operator*(F32x16 a, F32x16 b) { return _mm512_mul_ps(a.v, b.v); }
inline F32x16 operator/(F32x16 a, F32x16 b) { return _mm512_div_ps(a.v, b.v); }
inline F32x16 fma_(F32x16 a, F32x16 b, F32x16 c) { return _mm512_fmadd_ps(a.v, b.v, c.v); }
inline F32x16 fma_exact(F32x16 a, F32x16 b, F32x16 c) { return _mm512_fmadd_ps(a.v, b.v, c.v); }
inline F32x16 fms_exact(F32x16 a, F32x16 b, F32x16 c) { return _mm512_fmsub_ps(a.v, b.v, c.v); }
inline F32x16 fnma_exact(F32x16 a, F32x16 b, F32x16 c) { return _mm512_fnmadd_ps(a.v, b.v, c.v); }
inline F32x16 copy_sign(F32x16 y, F32x16 x) {
  // Bitwise (y & ~sign) | (x & sign) in one VPTERNLOG: 0xE4 selects by the third operand.
  __m512i sign = _mm512_set1_epi32(INT32_MIN);
  __m512i xi = _mm512_castps_si512(x.v), yi = _mm512_castps_si512(y.v);
  __m512i r = _mm512_ternarylogic_epi32(xi, yi, sign, 0xE4);
  return _mm512_castsi512_ps(r);
}
inline F32x16 vmax(F32x16 a, F32x16 b) { return _mm512_max_ps(a.v, b.v); }
inline F32x16 vmin(F32x16 a, F32x16 b) { return _mm512_min_ps(a.v, b.v); }
inline F32x16 neg_abs(F32x16 a) {
  return _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(a.v), _mm512_set1_epi32(INT32_MIN)));
}
inline __mmask16 lt(F32x16 a, F32x16 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
inline __mmask16 ge(F32x16 a, F32x16 b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
inline F32x16 select(__mmask16 m, F32x16 a, F32x16 b) { return _mm512_mask_blend_ps(m, b.v, a.v); }
inline F32x16 round_int(F32x16 a) {
  return _mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline F32x16 pow2(F32x16 k) { return _mm512_scalef_ps(_mm512_set1_ps(1.0f), k.v); }
inline F32x16 scale(F32x16 v, F32x16 k) { return _mm512_scalef_ps(v.v, k.v); }
inline F32x16 mul_pow2(F32x16 v, F32x16 k) { return _mm512_scalef_ps(v.v, k.v); }
inline F32x16 vanish(F32x16 v) { return _mm512_scalef_ps(v.v, _mm512_set1_ps(-400.0f)); }
inline F32x16 scale_with(F32x16 d, F32x16 v, F32x16 k) {
  __m512 half = _mm512_mul_ps(k.v, _mm512_set1_ps(0.5));
  __m512 y = _mm512_mul_ps(d.v, _mm512_scalef_ps(v.v, half));
  return _mm512_scalef_ps(y, _mm512_add_ps(half, _mm512_set1_ps(0.5)));
}
inline F32x16 exp_for_sums(F32x16 r, F32x16 k) { return _mm512_scalef_ps(r.v, k.v); }
inline F32x16 fnma_(F32x16 a, F32x16 b, F32x16 c) { return _mm512_fnmadd_ps(a.v, b.v, c.v); }
inline F32x16 mask_mul(__mmask16 m, F32x16 a, F32x16 b) {
  return _mm512_mask_mul_ps(a.v, m, a.v, b.v);
}
inline F32x16 select_zero(__mmask16 m, F32x16 a) { return _mm512_maskz_mov_ps(m, a.v); }
inline F32x16 select_mul(__mmask16 m, F32x16 a, F32x16 b, F32x16 c) {
  return _mm512_mask_mul_ps(c.v, m, a.v, b.v);
}

struct F64x8 {
  using Scalar = double;
  __m512d v;
  F64x8() = default;
  F64x8(__m512d a) : v(a) {}
  F64x8(double s) : v(_mm512_set1_pd(s)) {}
};
inline F64x8 operator+(F64x8 a, F64x8 b) { return _mm512_add_pd(a.v, b.v); }
inline F64x8 operator-(F64x8 a, F64x8 b) { return _mm512_sub_pd(a.v, b.v); }
inline F64x8 operator*(F64x8 a, F64x8 b) { return _mm512_mul_pd(a.v, b.v); }
inline F64x8 operator/(F64x8 a, F64x8 b) { return _mm512_div_pd(a.v, b.v); }
inline F64x8 fma_(F64x8 a, F64x8 b, F64x8 c) { return _mm512_fmadd_pd(a.v, b.v, c.v); }
inline F64x8 fma_exact(F64x8 a, F64x8 b, F64x8 c) { return _mm512_fmadd_pd(a.v, b.v, c.v); }
inline F64x8 fms_exact(F64x8 a, F64x8 b, F64x8 c) { return _mm512_fmsub_pd(a.v, b.v, c.v); }
inline F64x8 fnma_exact(F64x8 a, F64x8 b, F64x8 c) { return _mm512_fnmadd_pd(a.v, b.v, c.v); }
inline F64x8 copy_sign(F64x8 y, F64x8 x) {
  // Bitwise (y & ~sign) | (x & sign) in one VPTERNLOG: 0xE4 selects by the third operand.
  __m512i sign = _mm512_set1_epi64(INT64_MIN);
  __m512i xi = _mm512_castpd_si512(x.v), yi = _mm512_castpd_si512(y.v);
  __m512i r = _mm512_ternarylogic_epi64(xi, yi, sign, 0xE4);
  return _mm512_castsi512_pd(r);
}
inline F64x8 vmax(F64x8 a, F64x8 b) { return _mm512_max_pd(a.v, b.v); }
inline F64x8 vmin(F64x8 a, F64x8 b) { return _mm512_min_pd(a.v, b.v); }
inline F64x8 neg_abs(F64x8 a) {
  return _mm512_castsi512_pd(
      _mm512_or_si512(_mm512_castpd_si512(a.v), _mm512_set1_epi64(INT64_MIN)));
}
inline __mmask8 lt(F64x8 a, F64x8 b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_LT_OQ); }
inline __mmask8 ge(F64x8 a, F64x8 b) { return _mm512_cmp_pd_mask(a.v, b.v, _CMP_GE_OQ); }
inline F64x8 select(__mmask8 m, F64x8 a, F64x8 b) { return _mm512_mask_blend_pd(m, b.v, a.v); }
inline F64x8 round_int(F64x8 a) {
  return _mm512_roundscale_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline F64x8 pow2(F64x8 k) { return _mm512_scalef_pd(_mm512_set1_pd(1.0), k.v); }
inline F64x8 scale(F64x8 v, F64x8 k) { return _mm512_scalef_pd(v.v, k.v); }
inline F64x8 mul_pow2(F64x8 v, F64x8 k) { return _mm512_scalef_pd(v.v, k.v); }
inline F64x8 vanish(F64x8 v) { return _mm512_scalef_pd(v.v, _mm512_set1_pd(-3200.0)); }
inline F64x8 scale_with(F64x8 d, F64x8 v, F64x8 k) {
  __m512d half = _mm512_mul_pd(k.v, _mm512_set1_pd(0.5));
  __m512d y = _mm512_mul_pd(d.v, _mm512_scalef_pd(v.v, half));
  return _mm512_scalef_pd(y, _mm512_add_pd(half, _mm512_set1_pd(0.5)));
}
inline F64x8 exp_for_sums(F64x8 r, F64x8 k) { return _mm512_scalef_pd(r.v, k.v); }
inline F64x8 fnma_(F64x8 a, F64x8 b, F64x8 c) { return _mm512_fnmadd_pd(a.v, b.v, c.v); }
inline F64x8 mask_mul(__mmask8 m, F64x8 a, F64x8 b) {
  return _mm512_mask_mul_pd(a.v, m, a.v, b.v);
}
inline F64x8 select_zero(__mmask8 m, F64x8 a) { return _mm512_maskz_mov_pd(m, a.v); }
inline F64x8 select_mul(__mmask8 m, F64x8 a, F64x8 b, F64x8 c) {
  return _mm512_mask_mul_pd(c.v, m, a.v, b.v);
}

struct Lanes32 {
  using T = float;
  using V = F32x16;
  static constexpr size_t kWidth = 16;
  static constexpr size_t kUnroll = 4;
  static constexpr bool kCanStream = true;
  static __mmask16 mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v.v); }
  static void stream(T* p, V v) { _mm512_stream_ps(p, v.v); }
  static void fence() { _mm_sfence(); }
  static void prefetch(const void* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  static V load_tail(const T* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_tail(T* p, V v, size_t n) { _mm512_mask_storeu_ps(p, mask(n), v.v); }
};
struct Lanes64 {
  using T = double;
  using V = F64x8;
  static constexpr size_t kWidth = 8;
  static constexpr size_t kUnroll = 4;
  static constexpr bool kCanStream = true;
  static __mmask8 mask(size_t n) { return static_cast<__mmask8>((1u << n) - 1); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v.v); }
  static void stream(T* p, V v) { _mm512_stream_pd(p, v.v); }
  static void fence() { _mm_sfence(); }
  static void prefetch(const void* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  static V load_tail(const T* p, size_t n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void store_tail(T* p, V v, size_t n) { _mm512_mask_storeu_pd(p, mask(n), v.v); }
};

constexpr KernelTable kTable = make_table<Lanes32, Lanes64>("avx512", size_t(1) << 14,
                                                                  size_t(1) << 13);

}  // namespace

const KernelTable* avx512_kernels() { return &kTable; }

}  // namespace mish

#else

namespace mish {
const KernelTable* avx512_kernels() { return nullptr; }
}  // namespace mish

#endif
