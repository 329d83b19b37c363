// CUDA kernels: out[i] = op(x[i]) (op(dy[i], x[i]) for backward) over device memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "ops.h"

namespace mish {
namespace cuda {

// Enqueues op over n elements of `dtype` on `stream`. x, dy and out are device pointers aligned
// to the element size; dy is read only for kBackward. out may equal x or dy; nothing outside
// [p, p + n) of any of them is read or written. Returns the launch's error (cudaSuccess for
// n == 0, which launches nothing); the caller validates op and dtype (else
// cudaErrorInvalidValue).
cudaError_t launch(int op, int dtype, const void* x, const void* dy, void* out, size_t n,
                   cudaStream_t stream);

}  // namespace cuda
}  // namespace mish
