// AVX2 + FMA kernels: 8 floats or 4 doubles a vector; tails through maskload/maskstore.
// Built with -mavx2 -mfma (binding.gyp, CMakeLists.txt); called only when dispatch.cc has
// seen AVX2, FMA and the OS's YMM state.
#include "kernels.h"

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include "kernel_loops.h"

namespace mish {
namespace {

struct F32x8 {
  using Scalar = float;
  __m256 v;
  F32x8() = default;
  F32x8(__m256 a) : v(a) {}
  F32x8(float s) : v(_mm256_set1_ps(s)) {}
};
struct M32x8 {
  __m256 m;
};
inline F32x8 operator+(F32x8 a, F32x8 b) { return _mm256_add_ps(a.v, b.v); }
inline F32x8 operator-(F32x8 a, F32x8 b) { return _mm256_sub_ps(a.v, b.v); }
inline F32x8 operator*(F32x8 a, F32x8 b) { return _mm256_mul_ps(a.v, b.v); }
inline F32x8 operator/(F32x8 a, F32x8 b) { return _mm256_div_ps(a.v, b.v); }
inline F32x8 fma_(F32x8 a, F32x8 b, F32x8 c) { return _mm256_fmadd_ps(a.v, b.v, c.v); }
inline F32x8 fma_exact(F32x8 a, F32x8 b, F32x8 c) { return _mm256_fmadd_ps(a.v, b.v, c.v); }
inline F32x8 fms_exact(F32x8 a, F32x8 b, F32x8 c) { return _mm256_fmsub_ps(a.v, b.v, c.v); }
inline F32x8 fnma_exact(F32x8 a, F32x8 b, F32x8 c) { return _mm256_fnmadd_ps(a.v, b.v, c.v); }
// Only valid where y already has the sign of x or is +0 (all that forward needs).
inline F32x8 copy_sign(F32x8 y, F32x8 x) {
  return _mm256_or_ps(y.v, _mm256_and_ps(x.v, _mm256_set1_ps(-0.0f)));
}
inline F32x8 vmax(F32x8 a, F32x8 b) { return _mm256_max_ps(a.v, b.v); }
inline F32x8 vmin(F32x8 a, F32x8 b) { return _mm256_min_ps(a.v, b.v); }
inline F32x8 neg_abs(F32x8 a) { return _mm256_or_ps(a.v, _mm256_set1_ps(-0.0f)); }
inline M32x8 lt(F32x8 a, F32x8 b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline M32x8 ge(F32x8 a, F32x8 b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline F32x8 select(M32x8 m, F32x8 a, F32x8 b) { return _mm256_blendv_ps(b.v, a.v, m.m); }
inline F32x8 select_zero(M32x8 m, F32x8 a) { return _mm256_and_ps(m.m, a.v); }
inline F32x8 fnma_(F32x8 a, F32x8 b, F32x8 c) { return _mm256_fnmadd_ps(a.v, b.v, c.v); }
inline F32x8 round_int(F32x8 a) {
  return _mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
inline F32x8 pow2(F32x8 k) {
  __m256i e = _mm256_cvtps_epi32(k.v);
  e = _mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23);
  return _mm256_castsi256_ps(e);
}

struct F64x4 {
  using Scalar = double;
  __m256d v;
  F64x4() = default;
  F64x4(__m256d a) : v(a) {}
  F64x4(double s) : v(_mm256_set1_pd(s)) {}
};
struct M64x4 {
  __m256d m;
};
inline F64x4 operator+(F64x4 a, F64x4 b) { return _mm256_add_pd(a.v, b.v); }
inline F64x4 operator-(F64x4 a, F64x4 b) { return _mm256_sub_pd(a.v, b.v); }
inline F64x4 operator*(F64x4 a, F64x4 b) { return _mm256_mul_pd(a.v, b.v); }
inline F64x4 operator/(F64x4 a, F64x4 b) { return _mm256_div_pd(a.v, b.v); }
inline F64x4 fma_(F64x4 a, F64x4 b, F64x4 c) { return _mm256_fmadd_pd(a.v, b.v, c.v); }
inline F64x4 fma_exact(F64x4 a, F64x4 b, F64x4 c) { return _mm256_fmadd_pd(a.v, b.v, c.v); }
inline F64x4 fms_exact(F64x4 a, F64x4 b, F64x4 c) { return _mm256_fmsub_pd(a.v, b.v, c.v); }
inline F64x4 fnma_exact(F64x4 a, F64x4 b, F64x4 c) { return _mm256_fnmadd_pd(a.v, b.v, c.v); }
// Only valid where y already has the sign of x or is +0 (all that forward needs).
inline F64x4 copy_sign(F64x4 y, F64x4 x) {
  return _mm256_or_pd(y.v, _mm256_and_pd(x.v, _mm256_set1_pd(-0.0)));
}
inline F64x4 vmax(F64x4 a, F64x4 b) { return _mm256_max_pd(a.v, b.v); }
inline F64x4 vmin(F64x4 a, F64x4 b) { return _mm256_min_pd(a.v, b.v); }
inline F64x4 neg_abs(F64x4 a) { return _mm256_or_pd(a.v, _mm256_set1_pd(-0.0)); }
inline M64x4 lt(F64x4 a, F64x4 b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_LT_OQ)}; }
inline M64x4 ge(F64x4 a, F64x4 b) { return {_mm256_cmp_pd(a.v, b.v, _CMP_GE_OQ)}; }
inline F64x4 select(M64x4 m, F64x4 a, F64x4 b) { return _mm256_blendv_pd(b.v, a.v, m.m); }
inline F64x4 select_zero(M64x4 m, F64x4 a) { return _mm256_and_pd(m.m, a.v); }
inline F64x4 fnma_(F64x4 a, F64x4 b, F64x4 c) { return _mm256_fnmadd_pd(a.v, b.v, c.v); }
inline F64x4 round_int(F64x4 a) {
  return _mm256_round_pd(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
// AVX2 has no double -> int64 conversion: k + 1.5 * 2^52 holds k in its low bits.
inline F64x4 pow2(F64x4 k) {
  __m256i e = _mm256_castpd_si256(_mm256_add_pd(k.v, _mm256_set1_pd(0x1.8p52)));
  e = _mm256_sub_epi64(e, _mm256_set1_epi64x(0x4338000000000000ll - 1023));
  return _mm256_castsi256_pd(_mm256_slli_epi64(e, 52));
}

// Lane masks for the tail: the first n lanes all ones.
inline __m256i tail_mask32(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i tail_mask64(size_t n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)),
                            _mm256_setr_epi64x(0, 1, 2, 3));
}

struct Lanes32 {
  using T = float;
  using V = F32x8;
  static constexpr size_t kWidth = 8;
  static constexpr size_t kUnroll = 4;
  static constexpr bool kCanStream = true;
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v.v); }
  static void stream(T* p, V v) { _mm256_stream_ps(p, v.v); }
  static void fence() { _mm_sfence(); }
  static void prefetch(const void* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  static V load_tail(const T* p, size_t n) { return _mm256_maskload_ps(p, tail_mask32(n)); }
  static void store_tail(T* p, V v, size_t n) { _mm256_maskstore_ps(p, tail_mask32(n), v.v); }
};
struct Lanes64 {
  using T = double;
  using V = F64x4;
  static constexpr size_t kWidth = 4;
  static constexpr size_t kUnroll = 4;
  static constexpr bool kCanStream = true;
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v.v); }
  static void stream(T* p, V v) { _mm256_stream_pd(p, v.v); }
  static void fence() { _mm_sfence(); }
  static void prefetch(const void* p) {
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
  }
  static V load_tail(const T* p, size_t n) { return _mm256_maskload_pd(p, tail_mask64(n)); }
  static void store_tail(T* p, V v, size_t n) { _mm256_maskstore_pd(p, tail_mask64(n), v.v); }
};

constexpr KernelTable kTable = make_table<Lanes32, Lanes64>("avx2", size_t(1) << 14,
                                                                size_t(1) << 13);

}  // namespace

const KernelTable* avx2_kernels() { return &kTable; }

}  // namespace mish

#else

namespace mish {
const KernelTable* avx2_kernels() { return nullptr; }
}  // namespace mish

#endif
