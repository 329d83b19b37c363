// Node-API binding. The TypeScript facade (lib/native.ts) validates every argument and is the
// only caller; the checks here are a second line that keeps a direct caller from reaching
// memory outside the buffers it passed.
#include <napi.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <mutex>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "dispatch.h"
#include "kernels.h"
#include "pool.h"

namespace mish {
namespace {

std::atomic<const KernelTable*> g_table{nullptr};

const KernelTable* table() {
  const KernelTable* t = g_table.load();
  if (!t) {
    t = best_table();
    const KernelTable* expected = nullptr;
    g_table.compare_exchange_strong(expected, t);
    t = g_table.load();
  }
  return t;
}

// Node unloads an addon when the last worker that loaded it exits, but the pool's threads
// live in this library: opening it once more with RTLD_NODELETE keeps it mapped for the rest
// of the process, so they never run unmapped code (and later loads reuse the same pool).
void pin_library() {
#if defined(__unix__) || defined(__APPLE__)
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info self;
    if (dladdr(reinterpret_cast<void*>(&pin_library), &self) && self.dli_fname) {
      dlopen(self.dli_fname, RTLD_NOW | RTLD_NODELETE);
    }
  });
#endif
}

enum class Dtype { kFloat32, kFloat64 };

struct Buffer {
  void* data = nullptr;
  size_t length = 0;
  Dtype dtype = Dtype::kFloat32;
  size_t bytes() const { return length * (dtype == Dtype::kFloat32 ? 4 : 8); }
};

bool as_buffer(const Napi::Value& v, Buffer* out) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  napi_typedarray_type type = ta.TypedArrayType();
  if (type != napi_float32_array && type != napi_float64_array) return false;
  out->dtype = type == napi_float32_array ? Dtype::kFloat32 : Dtype::kFloat64;
  napi_typedarray_type ignored;
  napi_value ab;
  size_t offset;
  NAPI_THROW_IF_FAILED(v.Env(),
                       napi_get_typedarray_info(v.Env(), v, &ignored, &out->length,
                                                &out->data, &ab, &offset),
                       false);
  if (out->length == 0) out->data = nullptr;
  return true;
}

bool overlaps_partly(const Buffer& a, const Buffer& b) {
  if (a.length == 0 || b.length == 0 || a.data == b.data) return false;
  auto pa = reinterpret_cast<uintptr_t>(a.data);
  auto pb = reinterpret_cast<uintptr_t>(b.data);
  return pa < pb + b.bytes() && pb < pa + a.bytes();
}

struct Call {
  Op op;
  Buffer x, dy, out;
};

// Reads (op, x, dy, out); throws a JavaScript error and returns false on anything the facade
// should have rejected.
bool parse(const Napi::CallbackInfo& info, Call* call) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "mish native: expected (op, x, dy, out)")
        .ThrowAsJavaScriptException();
    return false;
  }
  double opd = info[0].As<Napi::Number>().DoubleValue();
  int op = static_cast<int>(opd);
  if (!(opd >= 0 && opd < kOpCount) || op != opd) {
    Napi::RangeError::New(env, "mish native: unknown op").ThrowAsJavaScriptException();
    return false;
  }
  call->op = static_cast<Op>(op);
  bool backward = call->op == Op::kBackward;
  if (!as_buffer(info[1], &call->x) || !as_buffer(info[3], &call->out) ||
      (backward && !as_buffer(info[2], &call->dy))) {
    Napi::TypeError::New(env, "mish native: x, dy and out must be Float32Array or Float64Array")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (!backward) call->dy = call->x;
  if (call->x.dtype != call->out.dtype || call->dy.dtype != call->x.dtype) {
    Napi::TypeError::New(env, "mish native: x, dy and out must share one dtype")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (call->x.length != call->out.length || call->dy.length != call->x.length) {
    Napi::RangeError::New(env, "mish native: x, dy and out must have one length")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (overlaps_partly(call->x, call->out) || overlaps_partly(call->dy, call->out)) {
    Napi::RangeError::New(env, "mish native: out partly overlaps an input")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

template <class T>
void run_typed(Kernel<T> k, size_t min_parallel, const Call& c) {
  const T* x = static_cast<const T*>(c.x.data);
  const T* dy = static_cast<const T*>(c.dy.data);
  T* out = static_cast<T*>(c.out.data);
  parallel_for(c.x.length, min_parallel, 64 / sizeof(T), [&](size_t begin, size_t end) {
    k(x + begin, dy + begin, out + begin, end - begin);
  });
}

void execute(const KernelTable* t, const Call& c) {
  if (c.x.length == 0) return;
  if (c.x.dtype == Dtype::kFloat32) {
    run_typed<float>(kernel_for<float>(t, c.op, c.x.length), t->parallel_min_f32, c);
  } else {
    run_typed<double>(kernel_for<double>(t, c.op, c.x.length), t->parallel_min_f64, c);
  }
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  Call call;
  if (!parse(info, &call)) return info.Env().Undefined();
  try {
    execute(table(), call);
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string("mish: ") + e.what()).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// An async call must not compute on memory that the caller can take away while it runs: an
// ArrayBuffer transferred to another thread (postMessage) is detached here and may be freed
// there, and Node-API cannot prevent that. So the call copies x and dy (where they are
// ArrayBuffer-backed) into memory of its own when it is made, computes into memory of its own,
// and copies the result into out on the main thread when it finishes, after checking that
// out is still attached and as long: a detached out rejects the promise and nothing is written.
// SharedArrayBuffer memory cannot be detached and stays alive while referenced: it is used in
// place. x, dy and out stay referenced until the promise settles.
class AsyncRun : public Napi::AsyncWorker {
 public:
  AsyncRun(Napi::Env env, const Call& call, const Napi::CallbackInfo& info)
      : Napi::AsyncWorker(env, "mish"), call_(call), table_(table()), deferred_(env) {
    for (int i = 1; i <= 3; ++i) {
      if (info[i].IsObject()) refs_[i - 1] = Napi::Persistent(info[i].As<Napi::Object>());
    }
    // Inputs first, so in place (out == x or dy) reads the values as they were at the call.
    bool backward = call_.op == Op::kBackward;
    keep(info[1], &call_.x, &x_copy_);
    if (backward) keep(info[2], &call_.dy, &dy_copy_);
    if (!backward) call_.dy = call_.x;
    if (detachable(info[3]) && call_.out.length > 0) {
      out_copy_.reset(new unsigned char[call_.out.bytes()]);
      call_.out.data = out_copy_.get();
    }
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      execute(table_, call_);
    } catch (const std::exception& e) {
      SetError(std::string("mish: ") + e.what());
    }
  }
  // These run during environment teardown too (a worker terminated while a call is pending),
  // when resolving fails; that failure must not escape and abort the process.
  void OnOK() override {
    try {
      if (out_copy_) {
        Buffer now;
        bool same = false;
        try {
          same = as_buffer(refs_[2].Value(), &now) && now.length == call_.out.length &&
                 now.data != nullptr;
        } catch (const Napi::Error&) {
        }
        if (!same) {
          deferred_.Reject(Napi::TypeError::New(Env(),
                                                "mish: out was detached (transferred) or "
                                                "resized while the async call ran; nothing "
                                                "was written")
                               .Value());
          return;
        }
        memcpy(now.data, out_copy_.get(), call_.out.bytes());
      }
      deferred_.Resolve(refs_[2].Value());
    } catch (const Napi::Error&) {
    }
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }

 private:
  // Whether v's memory is an ArrayBuffer's (detachable), not a SharedArrayBuffer's.
  static bool detachable(const Napi::Value& v) {
    napi_value ab;
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &ab, &offset) != napi_ok) {
      return true;
    }
    bool is_ab = false;
    napi_is_arraybuffer(v.Env(), ab, &is_ab);
    return is_ab;
  }
  void keep(const Napi::Value& v, Buffer* b, std::unique_ptr<unsigned char[]>* copy) {
    if (b->length == 0 || !detachable(v)) return;
    copy->reset(new unsigned char[b->bytes()]);
    memcpy(copy->get(), b->data, b->bytes());
    b->data = copy->get();
  }

  Call call_;
  const KernelTable* table_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference refs_[3];
  std::unique_ptr<unsigned char[]> x_copy_, dy_copy_, out_copy_;
};

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  Call call;
  if (!parse(info, &call)) return info.Env().Undefined();
  AsyncRun* work;
  try {
    work = new AsyncRun(info.Env(), call, info);
  } catch (const std::bad_alloc&) {
    Napi::RangeError::New(info.Env(), "mish: not enough memory for the async call's own copy "
                                      "of its arrays")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Promise p = work->promise();
  work->Queue();
  return p;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", table()->isa);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t i = 0;
  for (const char* name : {"scalar", "avx2", "avx512"}) {
    std::string why;
    if (table_for(name, &why)) isas.Set(i++, name);
  }
  o.Set("isas", isas);
  o.Set("threads", threads());
  o.Set("hardwareThreads", hardware_threads());
  Napi::Object cutoff = Napi::Object::New(env);
  cutoff.Set("float32", static_cast<double>(table()->parallel_min_f32));
  cutoff.Set("float64", static_cast<double>(table()->parallel_min_f64));
  o.Set("parallelMin", cutoff);
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "mish native: setThreads(n) needs a number")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= kMaxThreads) || n != static_cast<int>(n)) {
    Napi::RangeError::New(info.Env(), "mish native: setThreads(n) needs an integer from 0 to " +
                                          std::to_string(kMaxThreads))
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// setIsa(name): "auto" picks the best; a name the CPU lacks throws a RangeError.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "mish native: setIsa(name) needs a string")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name == "auto") {
    g_table.store(best_table());
    return env.Undefined();
  }
  std::string why;
  const KernelTable* t = table_for(name, &why);
  if (!t) {
    if (name.size() > 40) name = name.substr(0, 40) + "...";
    Napi::RangeError::New(env, "cannot use instruction set '" + name + "': " + why)
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  g_table.store(t);
  return env.Undefined();
}

// copy(src, dst): dst = src, split over the pool like the kernels' calls (same cutoff as the
// current float32 kernel): the bandwidth ceiling the benchmark compares against.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buffer src, dst;
  if (info.Length() < 2 || !as_buffer(info[0], &src) || !as_buffer(info[1], &dst) ||
      src.dtype != dst.dtype || src.length != dst.length || overlaps_partly(src, dst)) {
    Napi::TypeError::New(env, "mish native: copy(src, dst) needs two disjoint float arrays of "
                              "one dtype and length")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (src.length == 0 || src.data == dst.data) return env.Undefined();
  auto* from = static_cast<const char*>(src.data);
  auto* to = static_cast<char*>(dst.data);
  size_t width = src.dtype == Dtype::kFloat32 ? 4 : 8;
  parallel_for(src.bytes() / width, table()->parallel_min_f32, 64 / width,
               [&](size_t begin, size_t end) {
                 memcpy(to + begin * width, from + begin * width, (end - begin) * width);
               });
  return env.Undefined();
}

// memoryRelation(a, b): "disjoint", "same" or "partial", from the arrays' addresses.
Napi::Value MemoryRelation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Buffer a, b;
  if (info.Length() < 2 || !as_buffer(info[0], &a) || !as_buffer(info[1], &b)) {
    Napi::TypeError::New(env, "mish native: memoryRelation(a, b) needs two float arrays")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (a.length > 0 && a.data == b.data && a.bytes() == b.bytes()) {
    return Napi::String::New(env, "same");
  }
  return Napi::String::New(env, overlaps_partly(a, b) ? "partial" : "disjoint");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pin_library();
  exports.Set("run", Napi::Function::New(env, Run, "run"));
  exports.Set("runAsync", Napi::Function::New(env, RunAsync, "runAsync"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("memoryRelation", Napi::Function::New(env, MemoryRelation, "memoryRelation"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  return exports;
}

}  // namespace
}  // namespace mish

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return mish::Init(env, exports);
}

// Node-API modules hold no per-process JavaScript state, so this loads in worker threads and
// in several contexts at once; the kernel choice and the thread pool are process-wide.
NODE_API_MODULE(mish_native, InitModule)
