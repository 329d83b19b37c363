// Scalar kernels: the reference implementation, built for the baseline ISA of the target.
#include "kernel_loops.h"

namespace mish {
namespace {

// float is stored as float but computed in double: the scalar path runs where speed matters
// least (CPUs without AVX2, arm64 builds, forced for tests), and double arithmetic there costs
// about the same as float while bringing float32 results within 0.5 ulp + 2^-40.
template <class Storage, class Compute>
struct ScalarLanes {
  using T = Storage;
  using V = Compute;
  static constexpr size_t kWidth = 1;
  static constexpr size_t kUnroll = 2;
  static constexpr bool kCanStream = false;
  static V load(const T* p) { return *p; }
  static void store(T* p, V v) { *p = static_cast<T>(v); }
  static V load_tail(const T*, size_t) { return V(0); }  // never called: width 1 has no tail
  static void store_tail(T*, V, size_t) {}
};

constexpr KernelTable kTable = make_table<ScalarLanes<float, double>, ScalarLanes<double, double>>(
    "scalar", size_t(1) << 10, size_t(1) << 10);

}  // namespace

const KernelTable* scalar_kernels() { return &kTable; }

}  // namespace mish
