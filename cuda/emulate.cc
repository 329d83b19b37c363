// Host build of the device formulas (device_math.h): the same source as kernels.cu, compiled by
// the host compiler with -ffp-contract=off, so it rounds exactly where the device does.
#include "emulate.h"

#include <stdexcept>

#include "device_math.h"

namespace mish {
namespace cuda {
namespace {

template <int op, int dtype>
void emulate_typed(const void* x, const void* dy, void* out, size_t n) {
  using Mem = typename Storage<dtype>::Mem;
  auto* xs = static_cast<const Mem*>(x);
  auto* dys = static_cast<const Mem*>(dy);
  auto* outs = static_cast<Mem*>(out);
  for (size_t i = 0; i < n; ++i) {
    Mem d = op == kBackward ? dys[i] : Mem(0);
    outs[i] = apply_element<op, dtype>(xs[i], d);
  }
}

template <int op>
void emulate_op(int dtype, const void* x, const void* dy, void* out, size_t n) {
  switch (dtype) {
    case kFloat32: return emulate_typed<op, kFloat32>(x, dy, out, n);
    case kFloat64: return emulate_typed<op, kFloat64>(x, dy, out, n);
    case kFloat16: return emulate_typed<op, kFloat16>(x, dy, out, n);
    case kBFloat16: return emulate_typed<op, kBFloat16>(x, dy, out, n);
  }
  throw std::invalid_argument("mish emulate: unknown dtype");
}

}  // namespace

void emulate(int op, int dtype, const void* x, const void* dy, void* out, size_t n) {
  if (dtype < 0 || dtype >= kDtypeCount) throw std::invalid_argument("mish emulate: unknown dtype");
  if (op == kBackward && dy == nullptr && n > 0) {
    throw std::invalid_argument("mish emulate: backward needs dy");
  }
  switch (op) {
    case kForward: return emulate_op<kForward>(dtype, x, dy, out, n);
    case kBackward: return emulate_op<kBackward>(dtype, x, dy, out, n);
    case kDerivative: return emulate_op<kDerivative>(dtype, x, dy, out, n);
    case kSecond: return emulate_op<kSecond>(dtype, x, dy, out, n);
  }
  throw std::invalid_argument("mish emulate: unknown op");
}

float half_to_float(uint16_t h) { return half_bits_to_float(h); }
uint16_t float_to_half(float f) { return float_to_half_bits(f); }
float bfloat16_to_float(uint16_t h) { return bf16_bits_to_float(h); }
uint16_t float_to_bfloat16(float f) { return float_to_bf16_bits(f); }

}  // namespace cuda
}  // namespace mish
