#include "dispatch.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace mish {

CpuFeatures detect_cpu() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool fma = c & (1u << 12);
  bool osxsave = c & (1u << 27);
  bool avx = c & (1u << 28);
  if (!osxsave || !avx) return f;

  // XGETBV(0): which register states the OS saves on context switches.
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  bool ymm_state = (lo & 0x6) == 0x6;           // SSE + AVX
  bool zmm_state = (lo & 0xe6) == 0xe6;         // + opmask, ZMM0-15 upper, ZMM16-31
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  bool avx2 = b & (1u << 5);
  bool avx512f = b & (1u << 16);

  f.avx2_fma = ymm_state && avx2 && fma;
  f.avx512f = zmm_state && avx512f && f.avx2_fma;
#endif
  return f;
}

const KernelTable* table_for(const std::string& isa, std::string* why) {
  CpuFeatures f = detect_cpu();
  if (isa == "scalar") return scalar_kernels();
  if (isa == "avx2") {
    if (f.avx2_fma && avx2_kernels()) return avx2_kernels();
    *why = "this CPU (or OS) lacks AVX2 with FMA";
    return nullptr;
  }
  if (isa == "avx512") {
    if (f.avx512f && avx512_kernels()) return avx512_kernels();
    *why = "this CPU (or OS) lacks AVX-512F";
    return nullptr;
  }
  *why = "unknown instruction set (expected scalar, avx2 or avx512)";
  return nullptr;
}

const KernelTable* best_table() {
  CpuFeatures f = detect_cpu();
  if (f.avx512f && avx512_kernels()) return avx512_kernels();
  if (f.avx2_fma && avx2_kernels()) return avx2_kernels();
  return scalar_kernels();
}

}  // namespace mish
