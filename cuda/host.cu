// Host layer of the CUDA backend (host.h). Linked with the static CUDA runtime, which loads
// libcuda.so itself: without a driver every runtime call fails cleanly, and info() says why.
#include "host.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>

#include "kernels.h"

namespace mish {
namespace cuda {

void check(int status, const char* doing) {
  auto e = static_cast<cudaError_t>(status);
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clears the error unless CUDA made it sticky
  std::string name = cudaGetErrorName(e);
  throw Error(name, "mish cuda: " + name + ": " + cudaGetErrorString(e) + " (" + doing + ")");
}

namespace {

std::string version_text(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

Info probe() {
  Info r;
  cudaRuntimeGetVersion(&r.runtime_version);
  if (cudaDriverGetVersion(&r.driver_version) != cudaSuccess) r.driver_version = 0;
  cudaGetLastError();
  if (r.driver_version == 0) {
    r.reason = "no CUDA driver found (libcuda.so could not be loaded)";
    return r;
  }
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  cudaGetLastError();
  if (e == cudaErrorInsufficientDriver) {
    r.reason = "driver too old for this CUDA runtime (driver supports " +
               version_text(r.driver_version) + ", runtime is " +
               version_text(r.runtime_version) + ")";
    return r;
  }
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    r.reason = "no CUDA device";
    return r;
  }
  if (e != cudaSuccess) {
    r.reason = std::string("CUDA could not be initialised: ") + cudaGetErrorName(e) + ": " +
               cudaGetErrorString(e);
    return r;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    DeviceInfo di;
    di.name = p.name;
    di.major = p.major;
    di.minor = p.minor;
    di.total_memory = p.totalGlobalMem;
    r.devices.push_back(di);
  }
  if (r.devices.empty()) {
    r.reason = "no CUDA device (properties could not be read)";
    return r;
  }
  r.available = true;
  return r;
}

void check_op_dtype(int op, int dtype) {
  if (op < 0 || op >= kOpCount) throw std::invalid_argument("mish cuda: unknown op");
  if (dtype < 0 || dtype >= kDtypeCount) throw std::invalid_argument("mish cuda: unknown dtype");
}

}  // namespace

const Info& info() {
  static const Info r = probe();
  return r;
}

void require_available() {
  const Info& i = info();
  if (!i.available) {
    throw Error("ERR_CUDA_UNAVAILABLE", "mish cuda: CUDA is not available: " + i.reason);
  }
}

void* device_alloc(size_t bytes) {
  require_available();
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "allocating device memory");
  return p;
}

void device_free(void* p) noexcept {
  if (!p) return;
  cudaFree(p);
  cudaGetLastError();
}

MemInfo mem_info() {
  require_available();
  size_t f = 0, t = 0;
  check(cudaMemGetInfo(&f, &t), "reading device memory use");
  return {f, t};
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  require_available();
  if (bytes == 0) return;
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copying to the device");
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
  require_available();
  if (bytes == 0) return;
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copying from the device");
}

void copy_to_device_async(void* dst, const void* src, size_t bytes, Stream stream) {
  require_available();
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream),
        "copying to the device");
}

void copy_to_host_async(void* dst, const void* src, size_t bytes, Stream stream) {
  require_available();
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream),
        "copying from the device");
}

void run_device(int op, int dtype, const void* x, const void* dy, void* out, size_t n,
                Stream stream) {
  require_available();
  check_op_dtype(op, dtype);
  check(launch(op, dtype, x, dy, out, n, stream), "launching the mish kernel");
}

// ---- Sequencer ---------------------------------------------------------------------------

namespace {

struct SequencerState {
  std::atomic<uint64_t> next{0};
  std::mutex m;
  std::condition_variable cv;
  uint64_t turn = 0;
  std::set<uint64_t> skipped;
  cudaStream_t stream = nullptr;

  // Under m: moves the turn past tickets given up.
  void advance() {
    while (!skipped.empty() && *skipped.begin() == turn) {
      skipped.erase(skipped.begin());
      ++turn;
    }
  }
};

SequencerState& seq() {
  static SequencerState* s = new SequencerState;  // never destroyed: used until exit
  return *s;
}

}  // namespace

Sequencer& Sequencer::instance() {
  static Sequencer s;
  return s;
}

uint64_t Sequencer::take() { return seq().next++; }

void Sequencer::skip(uint64_t ticket) {
  SequencerState& s = seq();
  std::lock_guard<std::mutex> l(s.m);
  s.skipped.insert(ticket);
  s.advance();
  s.cv.notify_all();
}

void Sequencer::run(uint64_t ticket, const std::function<void(Stream)>& enqueue) {
  SequencerState& s = seq();
  {
    std::unique_lock<std::mutex> l(s.m);
    s.cv.wait(l, [&] { return s.turn == ticket; });
  }
  // This ticket holds the turn until it passes it on; the lock stays free meanwhile, so take()
  // and skip() never wait for an enqueue (a copy from pageable memory blocks until done).
  auto pass_turn = [&] {
    std::lock_guard<std::mutex> l(s.m);
    ++s.turn;
    s.advance();
    s.cv.notify_all();
  };
  cudaEvent_t done = nullptr;
  try {
    require_available();
    if (!s.stream) {
      check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "creating a stream");
    }
    enqueue(s.stream);
    check(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "creating an event");
    check(cudaEventRecord(done, s.stream), "recording an event");
  } catch (...) {
    if (done) cudaEventDestroy(done);
    pass_turn();
    throw;
  }
  pass_turn();
  cudaError_t e = cudaEventSynchronize(done);
  cudaEventDestroy(done);
  check(e, "waiting for device work");
}

// ---- run_host ----------------------------------------------------------------------------

namespace {

constexpr int kSlots = 3;
// 16 MiB a chunk and array (2^22 float32 elements): large enough that a copy runs at full
// bandwidth, small enough that the first copy in and the last copy out (not overlapped) stay
// short.
constexpr size_t kChunkBytes = size_t(16) << 20;

struct Staging {
  std::mutex m;
  cudaStream_t streams[kSlots] = {};
  void* host_x[kSlots] = {};
  void* host_dy[kSlots] = {};
  void* dev_x[kSlots] = {};
  void* dev_dy[kSlots] = {};

  // Allocates what is missing; what was allocated stays for the next call.
  void ensure(bool need_dy) {
    for (int s = 0; s < kSlots; ++s) {
      if (!streams[s]) {
        check(cudaStreamCreateWithFlags(&streams[s], cudaStreamNonBlocking),
              "creating a staging stream");
      }
      if (!host_x[s]) check(cudaMallocHost(&host_x[s], kChunkBytes), "allocating pinned memory");
      if (!dev_x[s]) check(cudaMalloc(&dev_x[s], kChunkBytes), "allocating staging memory");
      if (need_dy) {
        if (!host_dy[s]) {
          check(cudaMallocHost(&host_dy[s], kChunkBytes), "allocating pinned memory");
        }
        if (!dev_dy[s]) check(cudaMalloc(&dev_dy[s], kChunkBytes), "allocating staging memory");
      }
    }
  }

  void drain() noexcept {
    for (cudaStream_t s : streams) {
      if (s) cudaStreamSynchronize(s);
    }
    cudaGetLastError();
  }
};

Staging& staging() {
  static Staging* s = new Staging;  // never destroyed: the runtime may be gone at exit
  return *s;
}

}  // namespace

void run_host(int op, int dtype, const void* x, const void* dy, void* out, size_t n) {
  require_available();
  check_op_dtype(op, dtype);
  if (n == 0) return;
  bool backward = op == kBackward;
  if (!x || !out || (backward && !dy)) throw std::invalid_argument("mish cuda: null array");

  Staging& st = staging();
  std::lock_guard<std::mutex> lock(st.m);
  st.ensure(backward);

  size_t es = element_size(dtype);
  size_t chunk = kChunkBytes / es;
  auto* xs = static_cast<const char*>(x);
  auto* dys = static_cast<const char*>(dy);
  auto* outs = static_cast<char*>(out);
  struct Pending {
    bool busy = false;
    size_t begin = 0, bytes = 0;
  } pending[kSlots];
  auto finish = [&](int s) {
    if (!pending[s].busy) return;
    check(cudaStreamSynchronize(st.streams[s]), "running a chunk");
    memcpy(outs + pending[s].begin, st.host_x[s], pending[s].bytes);
    pending[s].busy = false;
  };

  try {
    size_t chunks = (n + chunk - 1) / chunk;
    for (size_t c = 0; c < chunks; ++c) {
      int s = static_cast<int>(c % kSlots);
      cudaStream_t stream = st.streams[s];
      finish(s);

      // While this thread copies into the pinned buffers, the other slots' chunks are on the
      // device or on the bus.
      size_t begin = c * chunk * es;
      size_t count = std::min(chunk, n - c * chunk);
      size_t bytes = count * es;
      memcpy(st.host_x[s], xs + begin, bytes);
      check(cudaMemcpyAsync(st.dev_x[s], st.host_x[s], bytes, cudaMemcpyHostToDevice, stream),
            "copying a chunk to the device");
      if (backward) {
        memcpy(st.host_dy[s], dys + begin, bytes);
        check(cudaMemcpyAsync(st.dev_dy[s], st.host_dy[s], bytes, cudaMemcpyHostToDevice,
                              stream),
              "copying a chunk to the device");
      }
      check(launch(op, dtype, st.dev_x[s], st.dev_dy[s], st.dev_x[s], count, stream),
            "launching the mish kernel");
      check(cudaMemcpyAsync(st.host_x[s], st.dev_x[s], bytes, cudaMemcpyDeviceToHost, stream),
            "copying a chunk from the device");
      pending[s] = {true, begin, bytes};
    }
    for (size_t c = chunks; c < chunks + kSlots; ++c) finish(static_cast<int>(c % kSlots));
  } catch (...) {
    st.drain();
    throw;
  }
}

}  // namespace cuda
}  // namespace mish
