// The kernel table: one per instruction set, chosen once at load time by dispatch.cc.
#pragma once

#include <cstddef>

namespace mish {

enum class Op { kForward = 0, kBackward = 1, kDerivative = 2, kSecond = 3 };
constexpr int kOpCount = 4;

// out[i] = op(x[i]) (op(dy[i], x[i]) for kBackward; dy is unused otherwise). out may equal x
// or dy; partial overlap is rejected before a kernel is called.
template <class T>
using Kernel = void (*)(const T* x, const T* dy, T* out, size_t n);

struct KernelTable {
  const char* isa;
  Kernel<float> f32[kOpCount];
  Kernel<double> f64[kOpCount];
  // The same with non-temporal stores for `out` (the scalar table repeats f32 and f64).
  Kernel<float> f32_stream[kOpCount];
  Kernel<double> f64_stream[kOpCount];
  // Smallest call (elements) worth splitting across threads, for float32 and float64: about
  // 5-10 us of one thread's work, where two threads first beat one in back-to-back calls
  // (the pool's helpers spin briefly between calls; pool.cc). From a forced two-thread sweep
  // of bench_native on the development VM, 2^8 to 2^19 elements (bench/RESULTS.md).
  size_t parallel_min_f32;
  size_t parallel_min_f64;
};

// Calls whose output is at least this large write it with non-temporal stores. Measured on the
// development VM (2 vCPUs, bench/RESULTS.md "Non-temporal stores"): with 64 MiB per array,
// streaming stores beat plain stores by 25-45 % (the plain store first reads each line it
// writes); with 32 MiB the arrays still live in the last-level cache between calls and plain
// stores win by 10-15 %. The cutoff sits between the two.
constexpr size_t kStreamMinBytes = size_t(48) << 20;

template <class T>
Kernel<T> kernel_for(const KernelTable* t, Op op, size_t n) {
  int i = static_cast<int>(op);
  bool stream = n >= kStreamMinBytes / sizeof(T);
  if constexpr (sizeof(T) == 4) {
    return stream ? t->f32_stream[i] : t->f32[i];
  } else {
    return stream ? t->f64_stream[i] : t->f64[i];
  }
}

// Defined in kernels_<isa>.cc; the SIMD ones return nullptr when the file was built for a CPU
// family that lacks the instruction set (arm64 builds compile the scalar kernels only).
const KernelTable* scalar_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();

}  // namespace mish
