// Host side of the CUDA backend: availability, device memory, copies, and runs over device or
// host arrays. No CUDA header needed (the Node binding includes this alone). Every function
// checks availability first and throws cuda::Error instead of touching a missing driver; every
// CUDA error becomes a cuda::Error, and the process keeps working after one (out-of-memory,
// say), except after errors CUDA itself makes sticky (a kernel fault).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ops.h"

struct CUstream_st;

namespace mish {
namespace cuda {

using Stream = CUstream_st*;  // cudaStream_t

// code: the CUDA error's name (cudaGetErrorName), or "ERR_CUDA_UNAVAILABLE" when there is no
// usable driver or device. what(): "mish cuda: <name>: <description> (<what was being done>)".
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  uint64_t total_memory = 0;
};

struct Info {
  bool available = false;
  std::string reason;       // why not, in words; empty when available
  int driver_version = 0;   // as CUDA reports it (12040 is 12.4); 0 without a driver
  int runtime_version = 0;  // of the runtime linked in
  std::vector<DeviceInfo> devices;
};

// Probed once per process; never throws.
const Info& info();

// Throws Error("ERR_CUDA_UNAVAILABLE", ...) when info().available is false.
void require_available();

// Device memory on the current device (device 0 unless the caller set another).
void* device_alloc(size_t bytes);
void device_free(void* p) noexcept;  // errors ignored; null is a no-op

struct MemInfo {
  uint64_t free = 0, total = 0;
};
MemInfo mem_info();

// Blocking copies between device memory and any host memory.
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);

// The same enqueued on `stream` (with pageable host memory CUDA may finish the copy before
// returning; the host memory must stay valid until the stream has passed the copy).
void copy_to_device_async(void* dst, const void* src, size_t bytes, Stream stream);
void copy_to_host_async(void* dst, const void* src, size_t bytes, Stream stream);

// op over n device elements (kernels.h), enqueued on `stream`; validates op and dtype.
void run_device(int op, int dtype, const void* x, const void* dy, void* out, size_t n,
                Stream stream);

// op over n host elements: chunks move through pinned staging buffers on three streams, so the
// copy in, the kernel and the copy out of different chunks overlap. Returns when out is
// complete. out may equal x or dy (not overlap them partly). Calls from several threads take
// turns (the staging buffers are shared).
void run_host(int op, int dtype, const void* x, const void* dy, void* out, size_t n);

// Device work in call order: take() hands out tickets (on the calling thread, in the order the
// caller's operations were issued); run(ticket, enqueue) waits for the earlier tickets to have
// enqueued their work, enqueues its own on the one shared stream, lets the next ticket go on,
// then waits (outside the turn) for its own work to finish. Work issued from different threads
// is thus ordered as the tickets were taken, like calls on one CUDA stream. A ticket that will
// never run must be given up with skip(), or the tickets after it wait forever.
class Sequencer {
 public:
  static Sequencer& instance();
  uint64_t take();
  void run(uint64_t ticket, const std::function<void(Stream)>& enqueue);
  void skip(uint64_t ticket);
};

// Turns a CUDA status into Error (clearing CUDA's last-error state); for host.cu and the tools.
void check(int status, const char* doing);

}  // namespace cuda
}  // namespace mish
