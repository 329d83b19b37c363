// Grid-stride kernels over the formulas of native/mish_math.h through device_math.h's wrappers.
// Each thread loads 16 bytes of x (and dy) at a time (4 floats, 2 doubles, 8 halves) where all
// pointers share their alignment modulo 16 bytes; the unaligned head and the tail (and every
// element where the pointers' alignments differ) go one element at a time.
#include <cstdint>

#include "device_math.h"
#include "kernels.h"

namespace mish {
namespace cuda {
namespace {

constexpr int kBlock = 256;
constexpr uintptr_t kVecBytes = 16;

template <class Mem>
struct alignas(kVecBytes) Pack {
  static constexpr size_t kCount = kVecBytes / sizeof(Mem);
  Mem v[kCount];
};

// [0, head) and [head + vecs * W, n): scalar; [head, head + vecs * W): vectors of W elements.
template <int op, int dtype>
__global__ void __launch_bounds__(kBlock)
    mish_kernel(const typename Storage<dtype>::Mem* x, const typename Storage<dtype>::Mem* dy,
                typename Storage<dtype>::Mem* out, size_t n, size_t head, size_t vecs) {
  using Mem = typename Storage<dtype>::Mem;
  using P = Pack<Mem>;
  constexpr size_t w = P::kCount;
  size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t tid = size_t(blockIdx.x) * blockDim.x + threadIdx.x;

  // out may equal x or dy (no __restrict__): each element is read by the one thread that
  // writes it, before it writes it.
  const P* xv = reinterpret_cast<const P*>(x + head);
  const P* dyv = reinterpret_cast<const P*>(dy + head);
  P* outv = reinterpret_cast<P*>(out + head);
  for (size_t i = tid; i < vecs; i += stride) {
    P a = xv[i];
    P d = op == kBackward ? dyv[i] : a;
    P r;
#pragma unroll
    for (size_t j = 0; j < w; ++j) r.v[j] = apply_element<op, dtype>(a.v[j], d.v[j]);
    outv[i] = r;
  }

  size_t rest = n - vecs * w;
  for (size_t j = tid; j < rest; j += stride) {
    size_t i = j < head ? j : j + vecs * w;
    Mem d = op == kBackward ? dy[i] : Mem(0);
    out[i] = apply_element<op, dtype>(x[i], d);
  }
}

int sm_count() {
  int device = 0, count = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    cudaGetLastError();
    return 80;
  }
  return count;
}

template <int op, int dtype>
cudaError_t launch_typed(const void* x, const void* dy, void* out, size_t n, cudaStream_t s) {
  using Mem = typename Storage<dtype>::Mem;
  constexpr size_t w = kVecBytes / sizeof(Mem);
  auto misalign = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % kVecBytes; };
  size_t head = n, vecs = 0;
  uintptr_t m = misalign(x);
  if (misalign(out) == m && (op != kBackward || misalign(dy) == m)) {
    head = (kVecBytes - m) % kVecBytes / sizeof(Mem);
    if (head > n) head = n;
    vecs = (n - head) / w;
  }
  size_t work = vecs + (n - vecs * w);
  // Enough blocks to fill the device several times over; the grid stride covers the rest.
  size_t blocks = (work + kBlock - 1) / kBlock;
  size_t cap = size_t(sm_count()) * 16;
  if (blocks > cap) blocks = cap;
  mish_kernel<op, dtype><<<static_cast<unsigned>(blocks), kBlock, 0, s>>>(
      static_cast<const Mem*>(x), static_cast<const Mem*>(op == kBackward ? dy : x),
      static_cast<Mem*>(out), n, head, vecs);
  return cudaGetLastError();
}

template <int op>
cudaError_t launch_op(int dtype, const void* x, const void* dy, void* out, size_t n,
                      cudaStream_t s) {
  switch (dtype) {
    case kFloat32: return launch_typed<op, kFloat32>(x, dy, out, n, s);
    case kFloat64: return launch_typed<op, kFloat64>(x, dy, out, n, s);
    case kFloat16: return launch_typed<op, kFloat16>(x, dy, out, n, s);
    case kBFloat16: return launch_typed<op, kBFloat16>(x, dy, out, n, s);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch(int op, int dtype, const void* x, const void* dy, void* out, size_t n,
                   cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (op) {
    case kForward: return launch_op<kForward>(dtype, x, dy, out, n, stream);
    case kBackward: return launch_op<kBackward>(dtype, x, dy, out, n, stream);
    case kDerivative: return launch_op<kDerivative>(dtype, x, dy, out, n, stream);
    case kSecond: return launch_op<kSecond>(dtype, x, dy, out, n, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace mish
