// A persistent thread pool shared by every context of the process (main thread, worker
// threads, the libuv threads of async calls). A call splits [0, n) into contiguous chunks; the
// calling thread works on its own chunks too, so concurrent callers always make progress and
// never wait on each other's work.
#pragma once

#include <cstddef>
#include <functional>

namespace mish {

constexpr int kMaxThreads = 1024;

// Number of threads a call may use (caller included), 0 to kMaxThreads. 0 restores the
// default: all cores.
void set_threads(int n);
int threads();
int hardware_threads();

// Calls fn(begin, end) over disjoint ranges covering [0, n), on the calling thread alone when
// n < min_parallel. Each range but the last starts and ends on a multiple of `align` elements
// (a cache line's worth).
void parallel_for(size_t n, size_t min_parallel, size_t align,
                  const std::function<void(size_t, size_t)>& fn);

}  // namespace mish
