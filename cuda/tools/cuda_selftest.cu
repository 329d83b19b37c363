// GPU self-test: device kernels against the host emulation (bit for bit), bounds, in-place,
// memory, errors and stream order. One line per check; exit 0 when all pass, 1 when one fails,
// 77 (skip) without a usable device.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../emulate.h"
#include "../host.h"
#include "../kernels.h"

using namespace mish::cuda;

namespace {

int g_failures = 0;

void report(bool ok, const std::string& what, const std::string& detail = "") {
  std::printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.empty() ? "" : ": ",
              detail.c_str());
  std::fflush(stdout);
  if (!ok) ++g_failures;
}

void cuda_ok(cudaError_t e, const char* doing) { check(e, doing); }

// Inputs as doubles: special values first, then a log-uniform spread over both signs.
std::vector<double> make_values(size_t n, unsigned seed) {
  static const double specials[] = {0.0, -0.0, 1.0, -1.0, 20.0, -20.0, NAN, INFINITY, -INFINITY,
                                    -1.1924, -2.2, 1.5, 0.8, 12.0, 22.0, 60.0, 61.0, -115.0,
                                    -116.0, 400.0, -760.0, -800.0, 1e-40, -1e-40, 1e-310,
                                    5e-324, 65504.0, -65520.0, 1e30, -1e30, 88.8, -88.8};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mag(-12.0, 6.0);
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (i < sizeof specials / sizeof specials[0]) {
      v[i] = specials[i];
    } else {
      double m = std::exp2(mag(rng));
      v[i] = (rng() & 1) ? m : -m;
    }
  }
  return v;
}

std::vector<uint8_t> to_storage(const std::vector<double>& v, int dtype) {
  size_t es = element_size(dtype);
  std::vector<uint8_t> out(v.size() * es);
  for (size_t i = 0; i < v.size(); ++i) {
    uint8_t* p = out.data() + i * es;
    if (dtype == kFloat64) {
      memcpy(p, &v[i], 8);
    } else {
      float f = static_cast<float>(v[i]);
      if (dtype == kFloat32) memcpy(p, &f, 4);
      uint16_t h = dtype == kFloat16 ? float_to_half(f) : float_to_bfloat16(f);
      if (dtype >= kFloat16) memcpy(p, &h, 2);
    }
  }
  return out;
}

// Equal bits, or NaN on both sides (GPUs return a canonical NaN, x86 propagates payloads; the
// 16-bit stores canonicalise on both sides, so there bits must match exactly).
bool same(int dtype, const uint8_t* a, const uint8_t* b) {
  size_t es = element_size(dtype);
  if (memcmp(a, b, es) == 0) return true;
  if (dtype == kFloat32) {
    float x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return std::isnan(x) && std::isnan(y);
  }
  if (dtype == kFloat64) {
    double x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return std::isnan(x) && std::isnan(y);
  }
  return false;
}

std::string hex(const uint8_t* p, size_t es) {
  uint64_t v = 0;
  memcpy(&v, p, es);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", int(es * 2), static_cast<unsigned long long>(v));
  return buf;
}

const size_t kLengths[] = {0, 1, 2, 3, 31, 32, 33, 1000, (size_t(1) << 20) + 3};
constexpr size_t kGuard = 16;  // elements of sentinel on each side
constexpr uint8_t kSentinel = 0xA5;

// Device against emulation for one op and dtype, every length, offsets 0 and 1, in place.
void check_op_dtype(int op, int dtype) {
  size_t es = element_size(dtype);
  std::string fail;
  size_t cases = 0;
  for (size_t n : kLengths) {
    std::vector<uint8_t> x = to_storage(make_values(n, 1 + n), dtype);
    std::vector<uint8_t> dy = to_storage(make_values(n, 7 + n), dtype);
    std::vector<uint8_t> want(n * es);
    emulate(op, dtype, x.data(), dy.data(), want.data(), n);
    for (size_t off : {size_t(0), size_t(1)}) {
      for (bool in_place : {false, true}) {
        ++cases;
        size_t total = (n + off + 2 * kGuard) * es;
        size_t at = (kGuard + off) * es;
        std::vector<uint8_t> hx(total, kSentinel), hdy(total, kSentinel), hout(total, kSentinel);
        if (n) memcpy(hx.data() + at, x.data(), n * es);
        if (n) memcpy(hdy.data() + at, dy.data(), n * es);
        uint8_t *dx = nullptr, *ddy = nullptr, *dout = nullptr;
        cuda_ok(cudaMalloc(&dx, total), "alloc");
        cuda_ok(cudaMalloc(&ddy, total), "alloc");
        cuda_ok(cudaMalloc(&dout, total), "alloc");
        cuda_ok(cudaMemcpy(dx, hx.data(), total, cudaMemcpyHostToDevice), "copy");
        cuda_ok(cudaMemcpy(ddy, hdy.data(), total, cudaMemcpyHostToDevice), "copy");
        cuda_ok(cudaMemcpy(dout, hout.data(), total, cudaMemcpyHostToDevice), "copy");
        uint8_t* out = in_place ? dx : dout;
        cuda_ok(launch(op, dtype, dx + at, ddy + at, out + at, n, nullptr), "launch");
        cuda_ok(cudaDeviceSynchronize(), "kernel");
        std::vector<uint8_t> got(total), gx(total), gdy(total);
        cuda_ok(cudaMemcpy(got.data(), out, total, cudaMemcpyDeviceToHost), "copy back");
        cuda_ok(cudaMemcpy(gx.data(), dx, total, cudaMemcpyDeviceToHost), "copy back");
        cuda_ok(cudaMemcpy(gdy.data(), ddy, total, cudaMemcpyDeviceToHost), "copy back");
        cudaFree(dx);
        cudaFree(ddy);
        cudaFree(dout);

        std::string where = "n=" + std::to_string(n) + " offset=" + std::to_string(off) +
                            (in_place ? " in place" : "");
        for (size_t i = 0; i < total && fail.empty(); ++i) {
          bool inside = i >= at && i < at + n * es;
          if (!inside && got[i] != kSentinel) fail = where + ": wrote outside [p, p+n)";
          if (!in_place && gx[i] != hx[i]) fail = where + ": changed x";
          if (gdy[i] != hdy[i]) fail = where + ": changed dy";
        }
        for (size_t i = 0; i < n && fail.empty(); ++i) {
          const uint8_t* g = got.data() + at + i * es;
          const uint8_t* w = want.data() + i * es;
          if (!same(dtype, g, w)) {
            fail = where + ": element " + std::to_string(i) + " x=" + hex(x.data() + i * es, es) +
                   " device " + hex(g, es) + " emulation " + hex(w, es);
          }
        }
      }
    }
  }
  report(fail.empty(),
         std::string(op_name(op)) + " " + dtype_name(dtype) + " device == emulation (" +
             std::to_string(cases) + " cases)",
         fail);
}

int order_of(uint16_t h) { return (h & 0x8000) ? -int(h & 0x7FFF) : int(h); }

// 16-bit results within 1 ulp of the float32 emulation of the widened inputs, rounded once.
void check_rounding(int op, int dtype) {
  size_t n = 100000;
  std::vector<uint8_t> x = to_storage(make_values(n, 11), dtype);
  std::vector<uint8_t> dy = to_storage(make_values(n, 13), dtype);
  std::vector<float> xf(n), dyf(n), want(n);
  auto widen = [&](const uint8_t* p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return dtype == kFloat16 ? half_to_float(h) : bfloat16_to_float(h);
  };
  for (size_t i = 0; i < n; ++i) {
    xf[i] = widen(x.data() + 2 * i);
    dyf[i] = widen(dy.data() + 2 * i);
  }
  emulate(op, kFloat32, xf.data(), dyf.data(), want.data(), n);
  std::vector<uint16_t> got(n);
  uint16_t *dx, *ddy;
  cuda_ok(cudaMalloc(&dx, n * 2), "alloc");
  cuda_ok(cudaMalloc(&ddy, n * 2), "alloc");
  cuda_ok(cudaMemcpy(dx, x.data(), n * 2, cudaMemcpyHostToDevice), "copy");
  cuda_ok(cudaMemcpy(ddy, dy.data(), n * 2, cudaMemcpyHostToDevice), "copy");
  cuda_ok(launch(op, dtype, dx, ddy, dx, n, nullptr), "launch");
  cuda_ok(cudaMemcpy(got.data(), dx, n * 2, cudaMemcpyDeviceToHost), "copy back");
  cudaFree(dx);
  cudaFree(ddy);
  int worst = 0;
  std::string fail;
  for (size_t i = 0; i < n; ++i) {
    uint16_t w = dtype == kFloat16 ? float_to_half(want[i]) : float_to_bfloat16(want[i]);
    if (std::isnan(want[i])) {
      if (got[i] != 0x7FFF && fail.empty()) fail = "NaN expected at " + std::to_string(i);
      continue;
    }
    int d = std::abs(order_of(got[i]) - order_of(w));
    if (d > worst) worst = d;
  }
  if (worst > 1 && fail.empty()) fail = "worst " + std::to_string(worst) + " ulp";
  report(fail.empty(),
         std::string(op_name(op)) + " " + dtype_name(dtype) +
             " within 1 ulp of float32 rounded once (worst " + std::to_string(worst) + ")",
         fail);
}

void check_alloc_free() {
  MemInfo before = mem_info();
  std::string fail;
  try {
    for (int i = 0; i < 10000; ++i) device_free(device_alloc(size_t(1) << 20));
  } catch (const Error& e) {
    fail = e.what();
  }
  MemInfo after = mem_info();
  if (fail.empty() && after.free != before.free) {
    fail = "free memory " + std::to_string(before.free) + " -> " + std::to_string(after.free);
  }
  report(fail.empty(), "10000 x alloc/free of 1 MiB leaves free memory unchanged", fail);
}

void check_oom() {
  MemInfo m = mem_info();
  std::string fail;
  try {
    void* p = device_alloc(m.total + (size_t(1) << 30));
    device_free(p);
    fail = "allocation larger than the device succeeded";
  } catch (const Error& e) {
    if (e.code() != "cudaErrorMemoryAllocation") fail = std::string("wrong error: ") + e.what();
  }
  report(fail.empty(), "allocation beyond total memory fails with cudaErrorMemoryAllocation",
         fail);
  fail.clear();
  try {
    device_free(device_alloc(size_t(1) << 20));
    cuda_ok(cudaGetLastError(), "last error after the failed allocation");
  } catch (const Error& e) {
    fail = e.what();
  }
  report(fail.empty(), "next allocation works", fail);
}

// Upload, run and download on one stream without host synchronisation in between.
void check_stream_order() {
  size_t n = (size_t(1) << 22) + 5;
  std::vector<float> x(n), want(n);
  std::vector<double> v = make_values(n, 3);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(v[i]);
  emulate(kForward, kFloat32, x.data(), nullptr, want.data(), n);
  float *pin, *dev;
  cudaStream_t s;
  cuda_ok(cudaMallocHost(&pin, n * 4), "pinned alloc");
  cuda_ok(cudaMalloc(&dev, n * 4), "alloc");
  cuda_ok(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream");
  memcpy(pin, x.data(), n * 4);
  cuda_ok(cudaMemcpyAsync(dev, pin, n * 4, cudaMemcpyHostToDevice, s), "upload");
  cuda_ok(launch(kForward, kFloat32, dev, nullptr, dev, n, s), "launch");
  cuda_ok(cudaMemcpyAsync(pin, dev, n * 4, cudaMemcpyDeviceToHost, s), "download");
  cuda_ok(cudaStreamSynchronize(s), "sync");
  bool ok = true;
  for (size_t i = 0; i < n && ok; ++i) {
    ok = same(kFloat32, reinterpret_cast<uint8_t*>(pin + i), reinterpret_cast<uint8_t*>(&want[i]));
  }
  cudaStreamDestroy(s);
  cudaFree(dev);
  cudaFreeHost(pin);
  report(ok, "async upload, run, download on one stream");

  // The same through the Sequencer (the binding's path), issued from the host layer.
  std::vector<float> back(n);
  float* d2 = static_cast<float*>(device_alloc(n * 4));
  Sequencer& q = Sequencer::instance();
  uint64_t t1 = q.take(), t2 = q.take(), t3 = q.take();
  q.run(t1, [&](Stream st) { copy_to_device_async(d2, x.data(), n * 4, st); });
  q.run(t2, [&](Stream st) { run_device(kForward, kFloat32, d2, nullptr, d2, n, st); });
  q.run(t3, [&](Stream st) { copy_to_host_async(back.data(), d2, n * 4, st); });
  device_free(d2);
  ok = true;
  for (size_t i = 0; i < n && ok; ++i) {
    ok = same(kFloat32, reinterpret_cast<uint8_t*>(&back[i]), reinterpret_cast<uint8_t*>(&want[i]));
  }
  report(ok, "sequenced upload, run, download");
}

// The host-array path over several chunks, and in place.
void check_run_host(int op, int dtype) {
  size_t n = 3 * (size_t(16) << 20) / element_size(dtype) + 5;
  size_t es = element_size(dtype);
  std::vector<uint8_t> x = to_storage(make_values(n, 5), dtype);
  std::vector<uint8_t> dy = to_storage(make_values(n, 6), dtype);
  std::vector<uint8_t> want(n * es), got(n * es);
  emulate(op, dtype, x.data(), dy.data(), want.data(), n);
  run_host(op, dtype, x.data(), dy.data(), got.data(), n);
  std::string fail;
  for (size_t i = 0; i < n && fail.empty(); ++i) {
    if (!same(dtype, got.data() + i * es, want.data() + i * es)) {
      fail = "element " + std::to_string(i);
    }
  }
  run_host(op, dtype, x.data(), dy.data(), x.data(), n);
  for (size_t i = 0; i < n && fail.empty(); ++i) {
    if (!same(dtype, x.data() + i * es, want.data() + i * es)) {
      fail = "in place: element " + std::to_string(i);
    }
  }
  report(fail.empty(),
         std::string("runHost ") + op_name(op) + " " + dtype_name(dtype) + " n=" +
             std::to_string(n) + " (and in place) == emulation",
         fail);
}

}  // namespace

int main() {
  const Info& i = info();
  if (!i.available) {
    std::printf("SKIP  %s\n", i.reason.c_str());
    return 77;
  }
  std::printf("device 0: %s (sm_%d%d), driver %d, runtime %d\n", i.devices[0].name.c_str(),
              i.devices[0].major, i.devices[0].minor, i.driver_version, i.runtime_version);
  try {
    for (int op = 0; op < kOpCount; ++op) {
      for (int dtype = 0; dtype < kDtypeCount; ++dtype) check_op_dtype(op, dtype);
    }
    for (int op = 0; op < kOpCount; ++op) {
      check_rounding(op, kFloat16);
      check_rounding(op, kBFloat16);
    }
    check_alloc_free();
    check_oom();
    check_stream_order();
    check_run_host(kForward, kFloat32);
    check_run_host(kBackward, kFloat32);
    check_run_host(kBackward, kFloat16);
    check_run_host(kSecond, kFloat64);
  } catch (const std::exception& e) {
    report(false, "unexpected error", e.what());
  }
  std::printf("%s (%d failed)\n", g_failures ? "FAIL" : "PASS", g_failures);
  return g_failures ? 1 : 0;
}
