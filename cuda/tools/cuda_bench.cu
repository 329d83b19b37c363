// GPU benchmark: device-resident forward and backward beside the same run's device-to-device
// copy of the same bytes, and the host-array path beside pinned copy bandwidth. Medians of
// kReps timed repetitions after warm-up. `--json FILE` also writes the results as JSON.
// Exit 77 (skip) without a usable device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../device_math.h"
#include "../host.h"
#include "../kernels.h"

using namespace mish::cuda;

namespace {

constexpr int kWarmup = 3;
constexpr int kReps = 15;

// Inputs spread over [-12, 12] from a hash of the index, stored in the dtype.
template <int dtype>
__global__ void fill(typename mish::Storage<dtype>::Mem* p, size_t n, unsigned salt) {
  using St = mish::Storage<dtype>;
  size_t stride = size_t(gridDim.x) * blockDim.x;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    unsigned h = static_cast<unsigned>(i) * 2654435761u ^ salt;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    float v = (static_cast<float>(h >> 8) * 0x1p-24f - 0.5f) * 24.0f;
    p[i] = St::store(typename St::V(v));
  }
}

void fill_any(int dtype, void* p, size_t n, unsigned salt) {
  switch (dtype) {
    case kFloat32: fill<kFloat32><<<1024, 256>>>(static_cast<float*>(p), n, salt); break;
    case kFloat64: fill<kFloat64><<<1024, 256>>>(static_cast<double*>(p), n, salt); break;
    case kFloat16: fill<kFloat16><<<1024, 256>>>(static_cast<uint16_t*>(p), n, salt); break;
    default: fill<kBFloat16><<<1024, 256>>>(static_cast<uint16_t*>(p), n, salt); break;
  }
  check(cudaGetLastError(), "fill");
}

// Median milliseconds of `body` timed with events on the default stream.
template <class F>
double median_ms(F body) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  for (int i = 0; i < kWarmup; ++i) body();
  check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> t;
  for (int i = 0; i < kReps; ++i) {
    check(cudaEventRecord(a), "record");
    body();
    check(cudaEventRecord(b), "record");
    check(cudaEventSynchronize(b), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "elapsed");
    t.push_back(ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Row {
  std::string what, dtype;
  double elements, bytes, ms, gbps, copy_gbps;
};

std::vector<Row> g_rows;

void print_row(const Row& r) {
  std::printf("%-22s %-9s %12.0f %9.3f %9.1f %9.1f %7.1f%%\n", r.what.c_str(), r.dtype.c_str(),
              r.elements, r.ms, r.gbps, r.copy_gbps, 100.0 * r.gbps / r.copy_gbps);
  std::fflush(stdout);
  g_rows.push_back(r);
}

void bench_device(int dtype, size_t n) {
  size_t es = element_size(dtype);
  size_t bytes = n * es;
  void *x = device_alloc(bytes), *dy = device_alloc(bytes), *out = device_alloc(bytes);
  void* copy_from = device_alloc(bytes + bytes / 2);
  void* copy_to = device_alloc(bytes + bytes / 2);
  fill_any(dtype, x, n, 1);
  fill_any(dtype, dy, n, 2);

  for (int op : {int(kForward), int(kBackward)}) {
    size_t inputs = op == kBackward ? 2 : 1;
    // Bytes moved: inputs read plus out written. The copy moves the same: it reads and writes
    // half of that each (forward: N elements' bytes; backward: 1.5 N).
    double moved = double(bytes) * (inputs + 1);
    size_t copy_bytes = static_cast<size_t>(moved / 2);
    double ms = median_ms([&] { check(launch(op, dtype, x, dy, out, n, nullptr), "launch"); });
    double copy_ms = median_ms([&] {
      check(cudaMemcpyAsync(copy_to, copy_from, copy_bytes, cudaMemcpyDeviceToDevice), "copy");
    });
    print_row({std::string(op_name(op)) + " (device)", dtype_name(dtype), double(n), moved, ms,
               moved / ms / 1e6, moved / copy_ms / 1e6});
  }
  device_free(x);
  device_free(dy);
  device_free(out);
  device_free(copy_from);
  device_free(copy_to);
}

void bench_host(size_t n) {
  size_t bytes = n * 4;
  std::vector<float> x(n), out(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 4096) / 256.0f - 8.0f;
  void* pin = nullptr;
  check(cudaMallocHost(&pin, bytes), "pinned alloc");
  memset(pin, 0, bytes);
  void* dev = device_alloc(bytes);
  double h2d =
      median_ms([&] { check(cudaMemcpy(dev, pin, bytes, cudaMemcpyHostToDevice), "h2d"); });
  double d2h =
      median_ms([&] { check(cudaMemcpy(pin, dev, bytes, cudaMemcpyDeviceToHost), "d2h"); });
  double ms = median_ms([&] { run_host(kForward, kFloat32, x.data(), nullptr, out.data(), n); });
  cudaFreeHost(pin);
  device_free(dev);
  // The host path moves bytes in and bytes out; its bound is the slower direction when both
  // overlap (full duplex), the sum of both when they do not.
  double moved = 2.0 * bytes;
  double bound_ms = std::max(h2d, d2h);
  std::printf("pinned H2D %.1f GB/s, D2H %.1f GB/s (%.0f MiB)\n", bytes / h2d / 1e6,
              bytes / d2h / 1e6, bytes / 1048576.0);
  print_row({"forward (host arrays)", "float32", double(n), moved, ms, moved / ms / 1e6,
             moved / bound_ms / 1e6});
}

}  // namespace

int main(int argc, char** argv) {
  const char* json = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
  }
  const Info& info = mish::cuda::info();
  if (!info.available) {
    std::printf("SKIP  %s\n", info.reason.c_str());
    return 77;
  }
  const DeviceInfo& d = info.devices[0];
  std::printf("%s (sm_%d%d, %.1f GiB), driver %d, runtime %d; medians of %d reps\n",
              d.name.c_str(), d.major, d.minor, d.total_memory / 1073741824.0,
              info.driver_version, info.runtime_version, kReps);
  std::printf("%-22s %-9s %12s %9s %9s %9s %8s\n", "operation", "dtype", "elements", "ms", "GB/s",
              "copy GB/s", "of copy");
  try {
    bench_device(kFloat32, size_t(1) << 28);
    bench_device(kFloat16, size_t(1) << 28);
    bench_device(kBFloat16, size_t(1) << 28);
    bench_device(kFloat64, size_t(1) << 27);
    bench_host(size_t(1) << 26);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_bench: %s\n", e.what());
    return 1;
  }
  if (json) {
    FILE* f = std::fopen(json, "w");
    if (!f) {
      std::fprintf(stderr, "cuda_bench: cannot write %s\n", json);
      return 1;
    }
    std::fprintf(f, "{\n  \"device\": \"%s\",\n  \"computeCapability\": \"%d.%d\",\n",
                 d.name.c_str(), d.major, d.minor);
    std::fprintf(f, "  \"driverVersion\": %d,\n  \"runtimeVersion\": %d,\n  \"reps\": %d,\n",
                 info.driver_version, info.runtime_version, kReps);
    std::fprintf(f, "  \"results\": [\n");
    for (size_t i = 0; i < g_rows.size(); ++i) {
      const Row& r = g_rows[i];
      std::fprintf(f,
                   "    {\"operation\": \"%s\", \"dtype\": \"%s\", \"elements\": %.0f, "
                   "\"bytesMoved\": %.0f, \"ms\": %.4f, \"gbps\": %.2f, \"copyGbps\": %.2f}%s\n",
                   r.what.c_str(), r.dtype.c_str(), r.elements, r.bytes, r.ms, r.gbps,
                   r.copy_gbps, i + 1 < g_rows.size() ? "," : "");
    }
    std::fprintf(f, "  ]\n}\n");
    std::fclose(f);
  }
  return 0;
}
