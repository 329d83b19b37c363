// Developer tool: samples inputs and reports the worst ULP error of every kernel table
// against a long double evaluation of the textbook definitions. The tests use the mpmath
// golden files instead; this is for quick feedback while tuning kernels.
//   build: cmake target ulp_scan, or see scripts in README; run: ulp_scan [stride]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../dispatch.h"

using namespace mish;

namespace {

struct Ref {
  long double f, d1, d2;
};

Ref reference(long double x) {
  if (x > 60) {
    long double u2 = expl(-2 * x);
    return {x - 2 * x * u2, 1 + (4 * x - 2) * u2, -8 * x * u2};
  }
  long double e = expl(x);
  long double sp = log1pl(e);
  long double g = tanhl(sp);
  long double s = e / (1 + e);
  long double a = (1 + e) * (1 + e);
  long double sech2 = 4 * a / ((a + 1) * (a + 1));
  return {x * g, g + x * s * sech2, sech2 * s * (2 + x * ((1 - s) - 2 * g * s))};
}

template <class T>
double ulp_of(long double v) {
  int e;
  frexpl(fabsl(v), &e);
  int mant = std::numeric_limits<T>::digits;
  int emin = std::numeric_limits<T>::min_exponent;
  return std::ldexp(1.0, std::max(e, emin) - mant);
}

template <class T>
void scan(const KernelTable* t, const std::vector<T>& xs) {
  const char* names[] = {"forward", "backward", "derivative", "second"};
  std::vector<T> out(xs.size()), ones(xs.size(), T(1));
  for (int op = 0; op < kOpCount; ++op) {
    Kernel<T> k;
    if constexpr (sizeof(T) == 4) k = t->f32[op]; else k = t->f64[op];
    k(xs.data(), ones.data(), out.data(), xs.size());
    double worst = 0;
    T worst_x = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      Ref r = reference(xs[i]);
      long double want = op == 0 ? r.f : op == 3 ? r.d2 : r.d1;
      long double err = fabsl((long double)out[i] - want);
      double abs_tol = op == 0 ? 0 : op == 3 ? std::ldexp(1.0, sizeof(T) == 4 ? -22 : -50)
                                          : std::ldexp(1.0, sizeof(T) == 4 ? -24 : -53);
      if (op != 0 && err <= abs_tol && fabsl(want) < 0.05) continue;
      double u = err / ulp_of<T>(want);
      if (std::isnan((double)want) != std::isnan((double)out[i])) u = INFINITY;
      if (u > worst) worst = u, worst_x = xs[i];
    }
    printf("  %-6s %-8s %-10s max %.3f ulp at x = %.9g\n", t->isa,
           sizeof(T) == 4 ? "float32" : "float64", names[op], worst, (double)worst_x);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t stride = 1009;
  if (argc > 1) {
    char* end = nullptr;
    stride = strtoull(argv[1], &end, 10);
    if (argc > 2 || *end != '\0' || stride == 0) {
      fprintf(stderr,
              "usage: ulp_scan [stride]\n"
              "  Runs every float32 input whose bit pattern is a multiple of stride (default\n"
              "  1009), and as many random float64 inputs, through each kernel table this CPU\n"
              "  supports; prints the worst ulp error against a long double reference.\n");
      return argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? 0 : 2;
    }
  }
  std::vector<float> xs32;
  for (uint64_t b = 0; b < (1ull << 32); b += stride) {
    uint32_t bits = static_cast<uint32_t>(b);
    float x;
    memcpy(&x, &bits, 4);
    if (std::isfinite(x)) xs32.push_back(x);
  }
  std::vector<double> xs64;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < xs32.size(); ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    // every binade, both signs, with extra weight on [-800, 800]
    double unit = (double)(state >> 11) / 9007199254740992.0;  // [0, 1)
    double x = (i & 1) ? std::ldexp(unit, (int)(state % 2100) - 1075) : (unit - 0.5) * 1600;
    if (state & 2) x = -x;
    xs64.push_back(x);
  }
  for (const char* isa : {"scalar", "avx2", "avx512"}) {
    std::string why;
    const KernelTable* t = table_for(isa, &why);
    if (!t) { printf("%s: skipped (%s)\n", isa, why.c_str()); continue; }
    scan<float>(t, xs32);
    scan<double>(t, xs64);
  }
}
