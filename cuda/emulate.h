// The CUDA kernels' arithmetic, compiled for the host: the reference that device results are
// compared with bit for bit, and what tests use where there is no GPU. Slow (one element at a
// time, library fma calls); no CUDA needed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops.h"

namespace mish {
namespace cuda {

// out[i] = op(x[i]) (op(dy[i], x[i]) for kBackward; dy is unused otherwise) over host memory
// of n elements of `dtype` (float16 / bfloat16 as uint16_t bit patterns). out may equal x or
// dy. Throws std::invalid_argument for an unknown op or dtype, or a null dy for kBackward.
void emulate(int op, int dtype, const void* x, const void* dy, void* out, size_t n);

// The storage conversions the kernels use, in software: round to nearest even, subnormals
// kept, NaN stored as 0x7FFF.
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bfloat16_to_float(uint16_t h);
uint16_t float_to_bfloat16(float f);

}  // namespace cuda
}  // namespace mish
