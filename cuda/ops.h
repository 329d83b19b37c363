// Operations and storage dtypes of the CUDA backend, as numbered in its JavaScript API.
// No CUDA header needed: included by the host emulation and the Node binding alike.
#pragma once

#include <cstddef>

namespace mish {
namespace cuda {

enum Op : int { kForward = 0, kBackward = 1, kDerivative = 2, kSecond = 3 };
constexpr int kOpCount = 4;

// float16 and bfloat16 are stored as their 16-bit patterns and computed in float32.
enum Dtype : int { kFloat32 = 0, kFloat64 = 1, kFloat16 = 2, kBFloat16 = 3 };
constexpr int kDtypeCount = 4;

constexpr size_t element_size(int dtype) {
  return dtype == kFloat64 ? 8 : dtype == kFloat32 ? 4 : 2;
}

inline const char* op_name(int op) {
  static const char* const names[] = {"forward", "backward", "derivative", "second"};
  return op >= 0 && op < kOpCount ? names[op] : "?";
}

inline const char* dtype_name(int dtype) {
  static const char* const names[] = {"float32", "float64", "float16", "bfloat16"};
  return dtype >= 0 && dtype < kDtypeCount ? names[dtype] : "?";
}

}  // namespace cuda
}  // namespace mish
