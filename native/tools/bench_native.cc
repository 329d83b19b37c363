// Times the kernel tables without Node.js, so binding overhead and kernel speed can be told
// apart: for each instruction set this CPU has, dtype, op and size, the median G elements/s
// of one thread and of the pool (all threads), beside memcpy of the same bytes.
//   build: npm run build:cmake;  run: npm run bench:native [-- --quick] [--json FILE]
//   [--isa NAME] [--sizes A-B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../dispatch.h"
#include "../pool.h"

using namespace mish;

namespace {

using Clock = std::chrono::steady_clock;

// Median rate (elements/s) of fn over `samples` samples of about 20 ms each.
template <class Fn>
double median_rate(size_t n, int samples, Fn fn) {
  fn();
  auto t0 = Clock::now();
  int reps = 0;
  do {
    fn();
    ++reps;
  } while (Clock::now() - t0 < std::chrono::milliseconds(5));
  double per = std::chrono::duration<double>(Clock::now() - t0).count() / reps;
  int calls = std::max(1, static_cast<int>(0.02 / per));

  std::vector<double> rates;
  for (int s = 0; s < samples; ++s) {
    auto a = Clock::now();
    for (int i = 0; i < calls; ++i) fn();
    double dt = std::chrono::duration<double>(Clock::now() - a).count() / calls;
    rates.push_back(n / dt);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

template <class T>
void fill(std::vector<T>& v, uint32_t seed) {
  for (auto& e : v) {
    seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
    e = static_cast<T>(seed / 4294967296.0 * 20 - 10);
  }
}

struct Row {
  std::string isa, dtype, op;
  int exp;
  double one, all, copy;
};

template <class T>
void run_dtype(const KernelTable* t, const char* dtype, const std::vector<int>& exps, int samples,
               std::vector<Row>* rows) {
  const char* names[] = {"forward", "backward"};
  for (int e : exps) {
    size_t n = size_t(1) << e;
    std::vector<T> x(n), dy(n), out(n);
    fill(x, 1);
    fill(dy, 2);
    for (int op : {0, 1}) {
      Kernel<T> k;
      size_t cutoff;
      k = kernel_for<T>(t, static_cast<Op>(op), n);
      if constexpr (sizeof(T) == 4) {
        cutoff = t->parallel_min_f32;
      } else {
        cutoff = t->parallel_min_f64;
      }
      Row r{t->isa, dtype, names[op], e, 0, 0, 0};
      set_threads(1);
      r.one = median_rate(n, samples, [&] { k(x.data(), dy.data(), out.data(), n); });
      set_threads(0);
      r.all = median_rate(n, samples, [&] {
        parallel_for(n, cutoff, 64 / sizeof(T), [&](size_t b, size_t end) {
          k(x.data() + b, dy.data() + b, out.data() + b, end - b);
        });
      });
      // The copy moves the op's bytes: n read + n written (forward), 2n read + n written.
      size_t inputs = op == 1 ? 2 : 1;
      r.copy = median_rate(n, samples, [&] {
        memcpy(out.data(), x.data(), n * sizeof(T));
        if (inputs == 2) memcpy(out.data(), dy.data(), n * sizeof(T));
      });
      rows->push_back(r);
      fprintf(stderr, "\r%-7s %-8s %-9s 2^%-2d", r.isa.c_str(), dtype, names[op], e);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  const char* json = nullptr;
  const char* only = nullptr;
  int lo = 0, hi = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json = argv[++i];
    } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc &&
               sscanf(argv[i + 1], "%d-%d", &lo, &hi) == 2 && 4 <= lo && lo <= hi && hi <= 28) {
      ++i;
    } else {
      bool help = strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
      fprintf(help ? stdout : stderr,
              "usage: bench_native [--quick] [--json FILE] [--isa scalar|avx2|avx512] "
              "[--sizes A-B (powers of two, 4 <= A <= B <= 28)]\n");
      return help ? 0 : 2;
    }
  }
  std::vector<int> exps = quick ? std::vector<int>{10, 16, 22} : std::vector<int>{10, 12, 14, 16,
                                                                                18, 20, 22, 24};
  if (hi != 0) {
    exps.clear();
    for (int e = lo; e <= hi; ++e) exps.push_back(e);
  }
  int samples = quick ? 3 : 7;

  std::vector<Row> rows;
  for (const char* isa : {"scalar", "avx2", "avx512"}) {
    if (only && strcmp(only, isa) != 0) continue;
    std::string why;
    const KernelTable* t = table_for(isa, &why);
    if (!t) {
      fprintf(stderr, "%s: skipped (%s)\n", isa, why.c_str());
      continue;
    }
    run_dtype<float>(t, "float32", exps, samples, &rows);
    run_dtype<double>(t, "float64", exps, samples, &rows);
  }
  fprintf(stderr, "\r%40s\r", "");

  printf("G elements/s, median of %d samples; threads: 1 and all (%d); copy = memcpy of the same "
         "bytes, 1 thread\n",
         samples, hardware_threads());
  printf("%-7s %-8s %-9s %5s %9s %9s %9s\n", "isa", "dtype", "op", "size", "1 thread", "all",
         "copy");
  for (const Row& r : rows) {
    printf("%-7s %-8s %-9s  2^%-2d %9.3f %9.3f %9.3f\n", r.isa.c_str(), r.dtype.c_str(),
           r.op.c_str(), r.exp, r.one / 1e9, r.all / 1e9, r.copy / 1e9);
  }
  if (json) {
    FILE* f = fopen(json, "w");
    if (!f) {
      perror(json);
      return 1;
    }
    fprintf(f, "{\"threads\": %d, \"rows\": [\n", hardware_threads());
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      fprintf(f,
              "  {\"isa\": \"%s\", \"dtype\": \"%s\", \"op\": \"%s\", \"size\": %zu, "
              "\"oneThread\": %.6g, \"allThreads\": %.6g, \"copy\": %.6g}%s\n",
              r.isa.c_str(), r.dtype.c_str(), r.op.c_str(), size_t(1) << r.exp, r.one, r.all,
              r.copy, i + 1 < rows.size() ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
  }
  return 0;
}
