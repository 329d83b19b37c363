#include "pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace mish {
namespace {

struct Job {
  const std::function<void(size_t, size_t)>* fn;
  size_t n;
  size_t chunk;
  size_t chunks;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex m;
  std::condition_variable finished;

  // Runs chunks until none is left to claim; returns false once the job is exhausted.
  void work() {
    for (;;) {
      size_t c = next.fetch_add(1);
      if (c >= chunks) return;
      size_t begin = c * chunk;
      size_t end = std::min(n, begin + chunk);
      (*fn)(begin, end);
      if (done.fetch_add(1) + 1 == chunks) {
        std::lock_guard<std::mutex> lock(m);
        finished.notify_all();
      }
    }
  }
};

class Pool {
 public:
  // Grows to `helpers` threads; never shrinks (idle threads sleep on a condition variable).
  // When the system refuses a thread, the pool stays smaller: the caller's own thread still
  // completes every chunk nobody else takes.
  void ensure(int helpers) {
    std::lock_guard<std::mutex> lock(m_);
    while (!refused_ && static_cast<int>(threads_.size()) < helpers) {
      try {
        threads_.emplace_back([this] { loop(); });
        threads_.back().detach();
      } catch (const std::system_error&) {
        refused_ = true;
      }
    }
  }

  void submit(const std::shared_ptr<Job>& job, int helpers) {
    {
      std::lock_guard<std::mutex> lock(m_);
      for (int i = 0; i < helpers; ++i) queue_.push_back(job);
      queued_.store(queue_.size(), std::memory_order_release);
    }
    if (helpers == 1) {
      ready_.notify_one();
    } else {
      ready_.notify_all();
    }
  }

  // Returns once ready() holds or kSpin has passed.
  template <class Ready>
  static void spin_until(Ready ready) {
    auto until = std::chrono::steady_clock::now() + kSpin;
    while (!ready() && std::chrono::steady_clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }

 private:
  void loop() {
    for (;;) {
      // A helper that just finished watches the queue for a short while before it sleeps:
      // waking a sleeping thread took 35-95 us on the development VM, a fifth of a 2^20-element
      // call, and training code calls again right away. Bounded, so an idle process stops
      // spending CPU within kSpin of its last call.
      spin_until([this] { return queued_.load(std::memory_order_acquire) != 0; });
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(m_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        job = std::move(queue_.front());
        queue_.pop_front();
        queued_.store(queue_.size(), std::memory_order_release);
      }
      job->work();
    }
  }

  // 100 us: with it, two threads at 2^20 float32 elements run 1.99x one thread (1.58x with
  // helpers that sleep at once), and splitting pays from 2^14 elements instead of 2^19
  // (bench_native, development VM).
  static constexpr std::chrono::microseconds kSpin{100};
  std::atomic<size_t> queued_{0};

  std::mutex m_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> threads_;
  bool refused_ = false;
};

// Leaked on purpose: its detached threads may still be parked when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

std::atomic<int> g_threads{0};

}  // namespace

int hardware_threads() {
  static const int n = std::max(1u, std::thread::hardware_concurrency());
  return n;
}

void set_threads(int n) { g_threads.store(std::min(std::max(0, n), kMaxThreads)); }

int threads() {
  int n = g_threads.load();
  return n > 0 ? n : hardware_threads();
}

void parallel_for(size_t n, size_t min_parallel, size_t align,
                  const std::function<void(size_t, size_t)>& fn) {
  int t = threads();
  if (t <= 1 || n < min_parallel) {
    if (n > 0) fn(0, n);
    return;
  }

  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  size_t per = (n + t - 1) / t;
  job->chunk = (per + align - 1) / align * align;
  job->chunks = (n + job->chunk - 1) / job->chunk;

  int helpers = static_cast<int>(std::min(job->chunks, static_cast<size_t>(t))) - 1;
  pool().ensure(helpers);
  pool().submit(job, helpers);
  job->work();

  // The helpers finish their chunks within microseconds of the caller: watch before sleeping.
  Pool::spin_until([&] { return job->done.load(std::memory_order_acquire) == job->chunks; });
  std::unique_lock<std::mutex> lock(job->m);
  job->finished.wait(lock, [&] { return job->done.load() == job->chunks; });
}

}  // namespace mish
