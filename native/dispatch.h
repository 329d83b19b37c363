// Chooses the kernel table once: the newest instruction set the CPU and OS support, or the
// one named by MISH_ISA (an error when the CPU lacks it).
#pragma once

#include <string>

#include "kernels.h"

namespace mish {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA + OS-enabled YMM state
  bool avx512f = false;   // AVX-512F + OS-enabled ZMM/opmask state
};

CpuFeatures detect_cpu();

// The table for an ISA name ("scalar", "avx2", "avx512"), or nullptr with *why set when the
// name is unknown or the CPU/build lacks it.
const KernelTable* table_for(const std::string& isa, std::string* why);

// The best table this CPU supports.
const KernelTable* best_table();

}  // namespace mish
