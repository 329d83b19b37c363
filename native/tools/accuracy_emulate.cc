// cuda/emulate.cc compiled for the accuracy tool with -mfma (CMakeLists.txt): std::fma then
// becomes the FMA instruction instead of glibc's software fallback, some 20x faster, with the
// same results (both are correctly rounded). The tool therefore needs a CPU with FMA.
#include "../../cuda/emulate.cc"
