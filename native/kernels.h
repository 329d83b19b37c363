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
  // Smallest call (elements) worth splitting across threads, for float32 and float64: about
  // 250 us of one thread's work, where waking the pool (35-95 us on the development VM) stops
  // costing more than it saves. From the thread sweep of `npm run bench` (bench/RESULTS.md).
  size_t parallel_min_f32;
  size_t parallel_min_f64;
};

// Defined in kernels_<isa>.cc; the SIMD ones return nullptr when the file was built for a CPU
// family that lacks the instruction set (arm64 builds compile the scalar kernels only).
const KernelTable* scalar_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();

}  // namespace mish
