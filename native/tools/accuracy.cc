// The accuracy certificate (npm run accuracy): every float32 input, or those whose bit pattern
// is a multiple of a stride, through each kernel table this CPU runs and through the CUDA
// device formulas compiled for the host, for mish, mish' and mish''; and seeded random float64
// inputs over every binade plus the thresholds of the formulas and their neighbours. The
// reference evaluates the textbook definitions with the C library's exp/log1p/tanh, in double
// for float32 inputs (about 2^-29 float32 ulp) and in long double for float64 (64-bit
// significand: about 2^-11 float64 ulp), independent of the kernels' formulas. Every rule of
// the README's numerical contract is checked on every input; the maximum error, where it
// occurs and a histogram are reported.
//   accuracy [--stride N] [--f64 COUNT] [--threads N] [--json FILE] [--check]
//            [--emit-f32 FILE] [--ts-f32 FILE]
// --stride 1 (the default) is the exhaustive float32 run. --check: exit 1 on any violation.
// --emit-f32 writes the float32 inputs of this stride (raw, in order) and exits; --ts-f32 reads
// another implementation's f, f', f'' for those inputs (three float32 arrays one after the
// other) and checks them as one more contender: how scripts/accuracy.js checks the TS path.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../../cuda/emulate.h"
#include "../dispatch.h"

using namespace mish;

namespace {

constexpr int kFns = 3;
const char* const kFnNames[kFns] = {"forward", "derivative", "second"};
const Op kFnOps[kFns] = {Op::kForward, Op::kDerivative, Op::kSecond};

// The reference's own type: double for float32 inputs (2^-29 float32 ulp, and 4x quicker),
// long double for float64 (2^-11 float64 ulp).
template <class T>
using RefT = std::conditional_t<sizeof(T) == 4, double, long double>;

template <class R>
struct Ref {
  R v[kFns];
};

// The textbook definitions, in R. For x > 60, where 1 - g^2 and 1 - sigma are too small to
// hold as differences from 1, the same quantities in u = e^-x, exactly: g = (1 + 2u) / Q,
// 1 - g^2 = 4u^2 (1 + u)^2 / Q^2, sigma = 1 / (1 + u), Q = 1 + 2u + 2u^2.
template <class R>
Ref<R> reference(R x) {
  if (x > 60) {
    R u = std::exp(-x);
    R q = 1 + 2 * u + 2 * u * u;
    R g = (1 + 2 * u) / q;
    R s = 1 / (1 + u);
    R omg = 4 * u * u * (1 + u) * (1 + u) / (q * q);
    return {{x * g, g + x * s * omg, omg * s * (2 + x * (u * s - 2 * g * s))}};
  }
  R e = std::exp(x);
  R g = std::tanh(std::log1p(e));
  R s = e / (1 + e);
  R a = (1 + e) * (1 + e);
  R sech2 = 4 * a / ((a + 1) * (a + 1));
  return {{x * g, g + x * s * sech2, sech2 * s * (2 + x * ((1 - s) - 2 * g * s))}};
}

template <class T>
struct Limits {
  static constexpr int digits = std::numeric_limits<T>::digits;
  static constexpr int min_exp = std::numeric_limits<T>::min_exponent;
  static constexpr long double min_normal = std::numeric_limits<T>::min();
};

// One unit in the last place of T at |v| (the subnormal spacing below the normal range).
template <class T, class R>
R ulp_at(R v) {
  int e;
  std::frexp(std::fabs(v), &e);
  return std::ldexp(R(1), std::max(e, Limits<T>::min_exp) - Limits<T>::digits);
}

// The contract (README "Numerical contract"): ulps, and the absolute bound next to the zeros.
struct Bound {
  double ulps;
  long double near_abs;
  std::vector<std::pair<double, double>> near;
};

template <class T>
Bound bound(int fn) {
  bool f32 = sizeof(T) == 4;
  if (fn == 0) return {4, 0, {}};
  if (fn == 1) return {4, ldexpl(1.0L, f32 ? -24 : -53), {{-2, -0.5}}};
  return {16, ldexpl(1.0L, f32 ? -22 : -50), {{-3, -1.5}, {1, 2}}};
}

constexpr int kBuckets = 9;
const char* const kBucketNames[kBuckets] = {"<= 0.5", "<= 1",  "<= 1.5", "<= 2", "<= 3",
                                            "<= 4",   "<= 8",  "<= 16",  "> 16"};
int bucket(double u) {
  const double edges[kBuckets - 1] = {0.5, 1, 1.5, 2, 3, 4, 8, 16};
  for (int i = 0; i < kBuckets - 1; ++i) {
    if (u <= edges[i]) return i;
  }
  return kBuckets - 1;
}

struct Stats {
  uint64_t checked = 0;
  uint64_t violations = 0;
  double max_ulps = 0;  // normal-range results outside the absolute zones
  double max_x = NAN;
  long double max_zone_abs = 0;  // largest error accepted by an absolute zone
  uint64_t hist[kBuckets] = {};
  std::vector<std::string> examples;  // the first violations

  void merge(const Stats& o) {
    checked += o.checked;
    violations += o.violations;
    if (o.max_ulps > max_ulps) max_ulps = o.max_ulps, max_x = o.max_x;
    max_zone_abs = std::max(max_zone_abs, o.max_zone_abs);
    for (int i = 0; i < kBuckets; ++i) hist[i] += o.hist[i];
    for (const auto& e : o.examples) {
      if (examples.size() < 10) examples.push_back(e);
    }
  }
};

template <class T>
std::string show(T x) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.*g", sizeof(T) == 4 ? 9 : 17, static_cast<double>(x));
  return buf;
}

// Checks one result c = fn(x) against the reference r (finite x) or the special-value rules.
template <class T, class R = RefT<T>>
void judge(Stats* st, int fn, T x, T c, R r) {
  st->checked++;
  auto fail = [&](const char* why) {
    st->violations++;
    if (st->examples.size() < 10) {
      st->examples.push_back(std::string(kFnNames[fn]) + "(" + show(x) + ") = " + show(c) +
                             ": " + why + " (reference " + show(static_cast<double>(r)) + ")");
    }
  };
  if (std::isnan(x)) {
    if (!std::isnan(c)) fail("NaN in, not NaN out");
    return;
  }
  if (std::isinf(x)) {
    bool ok = fn == 0 ? (x > 0 ? c == x : (c == 0 && std::signbit(c)))
                      : fn == 1 ? (x > 0 ? c == 1 : c == 0) : c == 0;
    if (!ok) fail("wrong value at infinity");
    return;
  }
  if (x == 0) {
    T want = fn == 0 ? x : fn == 1 ? T(0.6L) : T(0.64L);
    if (!(c == want && std::signbit(c) == std::signbit(want))) fail("wrong value at zero");
    return;
  }
  if (std::isnan(c)) return fail("NaN for a number");
  T rounded = static_cast<T>(r);
  // Large x: f(x) = x and f'(x) = 1 exactly once rounding says so, and not before. Not judged
  // where the reference itself lies within 2^-9 ulp of a rounding midpoint (float64 only: the
  // long double reference cannot tell which way such a value rounds).
  R half = ulp_at<T>(R(rounded)) / 2;
  bool decidable = std::fabs(std::fabs(r - R(rounded)) - half) > half / 256;
  if (decidable && x > 1 && fn == 0 && (c == x) != (rounded == x)) return fail("f(x) = x rule");
  if (decidable && x > 1 && fn == 1 && (c == 1) != (rounded == 1)) return fail("f'(x) = 1 rule");

  R err = std::fabs(R(c) - r);
  if (std::fabs(r) < Limits<T>::min_normal) {
    // Subnormal results: within the smallest normal number, with the sign kept.
    if (err > Limits<T>::min_normal) return fail("subnormal result off by more than 2^emin");
    if (r < 0 && !std::signbit(c)) return fail("sign of a tiny negative result lost");
    return;
  }
  Bound b = bound<T>(fn);
  double u = static_cast<double>(err / ulp_at<T>(r));
  if (u <= 0.5) {  // the common case, cheaply
    st->hist[0]++;
    if (u > st->max_ulps) st->max_ulps = u, st->max_x = static_cast<double>(x);
    return;
  }
  for (auto [lo, hi] : b.near) {
    if (x >= lo && x <= hi && err <= b.near_abs) {
      if (u > b.ulps) st->max_zone_abs = std::max(st->max_zone_abs, static_cast<long double>(err));
      return;
    }
  }
  st->hist[bucket(u)]++;
  if (u > st->max_ulps) st->max_ulps = u, st->max_x = static_cast<double>(x);
  if (u > b.ulps) fail("over the ulp bound");
}

template <class T>
struct Contender {
  std::string name;
  // out = fn(x) over n elements; x may be anything; called from several threads at once.
  std::function<void(int fn, const T* x, T* out, size_t n)> run;
};

template <class T>
std::vector<Contender<T>> contenders() {
  std::vector<Contender<T>> cs;
  for (const char* isa : {"scalar", "avx2", "avx512"}) {
    std::string why;
    const KernelTable* t = table_for(isa, &why);
    if (!t) {
      fprintf(stderr, "accuracy: %s skipped (%s)\n", isa, why.c_str());
      continue;
    }
    cs.push_back({isa, [t](int fn, const T* x, T* out, size_t n) {
                    int op = static_cast<int>(kFnOps[fn]);
                    if constexpr (sizeof(T) == 4) {
                      t->f32[op](x, x, out, n);
                    } else {
                      t->f64[op](x, x, out, n);
                    }
                  }});
  }
  cs.push_back({"cuda (device formulas on the host)", [](int fn, const T* x, T* out, size_t n) {
                  cuda::emulate(static_cast<int>(kFnOps[fn]),
                                sizeof(T) == 4 ? cuda::kFloat32 : cuda::kFloat64, x, x, out, n);
                }});
  return cs;
}

struct Progress {
  std::atomic<uint64_t> done{0};
  uint64_t total = 0;
  const char* what = "";
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::mutex m;
  int last = -1;

  void add(uint64_t n) {
    if (total == 0) return;
    uint64_t d = done += n;
    int pct = static_cast<int>(100.0 * d / total);
    std::lock_guard<std::mutex> lock(m);
    if (pct == last) return;
    last = pct;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double eta = d ? s * (total - d) / d : 0;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; ++i) bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r%s [%s] %3d%%  %.0f s, about %.0f s left  ", what, bar, pct, s, eta);
    if (d >= total) fprintf(stderr, "\n");
  }
};

// Runs `inputs(begin, end, xs)` chunk by chunk on `threads` threads through every contender.
template <class T>
std::vector<Stats> run(const std::vector<Contender<T>>& cs, uint64_t count, int threads,
                       const std::function<void(uint64_t, uint64_t, std::vector<T>*)>& inputs,
                       const char* what,
                       const std::function<void(uint64_t, uint64_t, const std::vector<T>&,
                                                const std::vector<Ref<RefT<T>>>&,
                                                std::vector<Stats>*)>& extra) {
  constexpr uint64_t kChunk = 1 << 18;
  std::vector<Stats> total(cs.size() * kFns + (extra ? kFns : 0));
  std::mutex m;
  std::atomic<uint64_t> next{0};
  Progress progress;
  progress.total = count;
  progress.what = what;
  auto worker = [&] {
    std::vector<Stats> mine(total.size());
    std::vector<T> xs, out;
    std::vector<Ref<RefT<T>>> refs;
    for (;;) {
      uint64_t begin = next.fetch_add(kChunk);
      if (begin >= count) break;
      uint64_t end = std::min(count, begin + kChunk);
      inputs(begin, end, &xs);
      refs.resize(xs.size());
      for (size_t i = 0; i < xs.size(); ++i) {
        refs[i] = std::isfinite(xs[i]) ? reference<RefT<T>>(xs[i]) : Ref<RefT<T>>{};
      }
      out.resize(xs.size());
      for (size_t c = 0; c < cs.size(); ++c) {
        for (int fn = 0; fn < kFns; ++fn) {
          cs[c].run(fn, xs.data(), out.data(), xs.size());
          Stats* st = &mine[c * kFns + fn];
          for (size_t i = 0; i < xs.size(); ++i) judge<T>(st, fn, xs[i], out[i], refs[i].v[fn]);
        }
      }
      if (extra) extra(begin, end, xs, refs, &mine);
      progress.add(end - begin);
    }
    std::lock_guard<std::mutex> lock(m);
    for (size_t i = 0; i < total.size(); ++i) total[i].merge(mine[i]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return total;
}

float f32_of(uint64_t bits) {
  uint32_t b = static_cast<uint32_t>(bits);
  float x;
  memcpy(&x, &b, 4);
  return x;
}

// Thresholds of the formulas and of the contract, each with its 64 neighbours on both sides.
template <class T>
std::vector<T> thresholds() {
  const double points[] = {0, -115, 60, 12, -760, 400, 22, -1.1924218292045593,
                           -2.2, 1.5, 8.7065, 10.144, 18.7955, 20.561, -16.6, -5,
                           -0.6, -87.3, -91.86, -103.3, -708.4, -745.1, 88.7, 29.6,
                           1, -1, 0.5, 0.8, -0.5, -2, 2};
  std::vector<T> out;
  for (double p : points) {
    T v = static_cast<T>(p);
    T up = v, down = v;
    out.push_back(v);
    for (int i = 0; i < 64; ++i) {
      up = std::nextafter(up, std::numeric_limits<T>::infinity());
      down = std::nextafter(down, -std::numeric_limits<T>::infinity());
      out.push_back(up);
      out.push_back(down);
    }
  }
  for (T s : {T(1), T(-1)}) {
    for (T v : {std::numeric_limits<T>::min(), std::numeric_limits<T>::denorm_min(),
                std::numeric_limits<T>::max(), std::numeric_limits<T>::infinity()}) {
      out.push_back(s * v);
    }
  }
  out.push_back(std::numeric_limits<T>::quiet_NaN());
  return out;
}

void print_stats(FILE* f, const char* dtype, const std::string& name, int fn, const Stats& s) {
  fprintf(f, "  %-8s %-36s %-10s max %7.3f ulp at x = %-16.9g checked %-11llu violations %llu\n",
          dtype, name.c_str(), kFnNames[fn], s.max_ulps, s.max_x,
          static_cast<unsigned long long>(s.checked),
          static_cast<unsigned long long>(s.violations));
  for (const auto& e : s.examples) fprintf(f, "      %s\n", e.c_str());
}

void json_stats(FILE* f, const char* dtype, const std::string& name, int fn, const Stats& s,
                bool last) {
  fprintf(f,
          "    {\"dtype\": \"%s\", \"contender\": \"%s\", \"fn\": \"%s\", \"checked\": %llu, "
          "\"violations\": %llu, \"maxUlps\": %.6f, \"maxAt\": %.17g, \"maxZoneAbs\": %.6Lg, "
          "\"histogram\": {",
          dtype, name.c_str(), kFnNames[fn], static_cast<unsigned long long>(s.checked),
          static_cast<unsigned long long>(s.violations), s.max_ulps,
          std::isnan(s.max_x) ? 0.0 : s.max_x, s.max_zone_abs);
  for (int i = 0; i < kBuckets; ++i) {
    fprintf(f, "%s\"%s\": %llu", i ? ", " : "", kBucketNames[i],
            static_cast<unsigned long long>(s.hist[i]));
  }
  fprintf(f, "}, \"examples\": [");
  for (size_t i = 0; i < s.examples.size(); ++i) {
    std::string e;
    for (char ch : s.examples[i]) {
      if (ch == '"' || ch == '\\') e += '\\';
      e += ch;
    }
    fprintf(f, "%s\"%s\"", i ? ", " : "", e.c_str());
  }
  fprintf(f, "]}%s\n", last ? "" : ",");
}

int usage() {
  fprintf(stderr,
          "usage: accuracy [--stride N] [--f64 COUNT] [--threads N] [--json FILE] [--check]\n"
          "                [--emit-f32 FILE] [--ts-f32 FILE]\n"
          "  --stride 1 checks all 2^32 float32 inputs (default); N > 1 those whose bits are a\n"
          "  multiple of N. --f64: random float64 inputs (default 1e9). --check: exit 1 on any\n"
          "  violation of the contract.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t stride = 1, f64_count = 1000000000;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const char* json = nullptr;
  const char* emit = nullptr;
  const char* ts = nullptr;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has = i + 1 < argc;
    if (a == "--stride" && has) {
      stride = strtoull(argv[++i], nullptr, 10);
    } else if (a == "--f64" && has) {
      f64_count = static_cast<uint64_t>(strtod(argv[++i], nullptr));
    } else if (a == "--threads" && has) {
      threads = atoi(argv[++i]);
    } else if (a == "--json" && has) {
      json = argv[++i];
    } else if (a == "--emit-f32" && has) {
      emit = argv[++i];
    } else if (a == "--ts-f32" && has) {
      ts = argv[++i];
    } else if (a == "--check") {
      check = true;
    } else {
      return usage();
    }
  }
  if (stride == 0 || threads < 1 || threads > 1024) return usage();
  uint64_t count32 = ((1ull << 32) + stride - 1) / stride;

  if (emit) {
    FILE* f = fopen(emit, "wb");
    if (!f) return perror(emit), 1;
    for (uint64_t i = 0; i < count32; ++i) {
      float x = f32_of(i * stride);
      fwrite(&x, 4, 1, f);
    }
    return fclose(f) == 0 ? 0 : 1;
  }
  std::vector<float> ts_out;
  if (ts) {
    FILE* f = fopen(ts, "rb");
    if (!f) return perror(ts), 1;
    ts_out.resize(count32 * kFns);
    size_t got = fread(ts_out.data(), 4, ts_out.size(), f);
    fclose(f);
    if (got != ts_out.size()) {
      fprintf(stderr, "accuracy: %s holds %zu floats, expected %zu\n", ts, got, ts_out.size());
      return 1;
    }
  }

  // float32: all inputs of the stride (every bit pattern, NaN and infinities included), then
  // the threshold neighbourhoods.
  auto cs32 = contenders<float>();
  auto extra32 = [&](uint64_t begin, uint64_t end, const std::vector<float>& xs,
                     const std::vector<Ref<double>>& refs, std::vector<Stats>* st) {
    for (uint64_t i = begin; i < end; ++i) {
      size_t k = i - begin;
      for (int fn = 0; fn < kFns; ++fn) {
        judge<float>(&(*st)[cs32.size() * kFns + fn], fn, xs[k], ts_out[fn * count32 + i],
                     refs[k].v[fn]);
      }
    }
  };
  char what32[64];
  snprintf(what32, sizeof what32, "float32 (%s)", stride == 1 ? "every input" : "stride");
  auto s32 = run<float>(
      cs32, count32, threads,
      [&](uint64_t b, uint64_t e, std::vector<float>* xs) {
        xs->clear();
        for (uint64_t i = b; i < e; ++i) xs->push_back(f32_of(i * stride));
      },
      what32, ts ? std::function(extra32) : nullptr);
  std::vector<float> t32 = thresholds<float>();
  auto s32t = run<float>(
      cs32, t32.size(), 1,
      [&](uint64_t b, uint64_t e, std::vector<float>* xs) {
        xs->assign(t32.begin() + b, t32.begin() + e);
      },
      "float32 thresholds", nullptr);
  for (size_t i = 0; i < s32t.size(); ++i) s32[i].merge(s32t[i]);

  // float64: seeded random inputs, half uniform on [-800, 800], half spread over every binade,
  // both signs; then the threshold neighbourhoods.
  auto cs64 = contenders<double>();
  auto s64 = run<double>(
      cs64, f64_count, threads,
      [](uint64_t b, uint64_t e, std::vector<double>* xs) {
        xs->clear();
        for (uint64_t i = b; i < e; ++i) {
          uint64_t s = (i + 1) * 0x9E3779B97F4A7C15ull;
          s ^= s >> 31, s *= 0xBF58476D1CE4E5B9ull, s ^= s >> 27, s *= 0x94D049BB133111EBull;
          s ^= s >> 33;
          double unit = static_cast<double>(s >> 11) / 9007199254740992.0;
          double x = (i & 1) ? std::ldexp(1 + unit, static_cast<int>(s % 2098) - 1074)
                             : (unit - 0.5) * 1600;
          xs->push_back((s & 2) ? -x : x);
        }
      },
      "float64 (random)", nullptr);
  std::vector<double> t64 = thresholds<double>();
  auto s64t = run<double>(
      cs64, t64.size(), 1,
      [&](uint64_t b, uint64_t e, std::vector<double>* xs) {
        xs->assign(t64.begin() + b, t64.begin() + e);
      },
      "float64 thresholds", nullptr);
  for (size_t i = 0; i < s64t.size(); ++i) s64[i].merge(s64t[i]);

  uint64_t violations = 0;
  printf("accuracy: float32 %s (%llu inputs), float64 %llu random inputs, thresholds +-64 ulp\n",
         stride == 1 ? "every input" : "every input whose bits are a multiple of the stride",
         static_cast<unsigned long long>(count32), static_cast<unsigned long long>(f64_count));
  std::vector<std::string> names32, names64;
  for (auto& c : cs32) names32.push_back(c.name);
  if (ts) names32.push_back("TS path");
  for (auto& c : cs64) names64.push_back(c.name);
  for (size_t c = 0; c < names32.size(); ++c) {
    for (int fn = 0; fn < kFns; ++fn) {
      print_stats(stdout, "float32", names32[c], fn, s32[c * kFns + fn]);
      violations += s32[c * kFns + fn].violations;
    }
  }
  for (size_t c = 0; c < names64.size(); ++c) {
    for (int fn = 0; fn < kFns; ++fn) {
      print_stats(stdout, "float64", names64[c], fn, s64[c * kFns + fn]);
      violations += s64[c * kFns + fn].violations;
    }
  }
  if (json) {
    FILE* f = fopen(json, "w");
    if (!f) return perror(json), 1;
    fprintf(f, "{\n  \"stride\": %llu,\n  \"float32Inputs\": %llu,\n  \"float64Inputs\": %llu,\n",
            static_cast<unsigned long long>(stride), static_cast<unsigned long long>(count32),
            static_cast<unsigned long long>(f64_count));
    fprintf(f, "  \"violations\": %llu,\n  \"results\": [\n",
            static_cast<unsigned long long>(violations));
    size_t rows = (names32.size() + names64.size()) * kFns, row = 0;
    for (size_t c = 0; c < names32.size(); ++c) {
      for (int fn = 0; fn < kFns; ++fn) {
        json_stats(f, "float32", names32[c], fn, s32[c * kFns + fn], ++row == rows);
      }
    }
    for (size_t c = 0; c < names64.size(); ++c) {
      for (int fn = 0; fn < kFns; ++fn) {
        json_stats(f, "float64", names64[c], fn, s64[c * kFns + fn], ++row == rows);
      }
    }
    fprintf(f, "  ]\n}\n");
    fclose(f);
  }
  printf("accuracy: %llu violations\n", static_cast<unsigned long long>(violations));
  return check && violations ? 1 : 0;
}
