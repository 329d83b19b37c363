// Node-API binding of the CUDA backend (mish_cuda.node). The TypeScript facade validates every
// argument first; the checks here are the second line: whatever a direct caller passes, no
// host or device memory outside the arrays it gave is read or written.
//
// Errors: TypeError (wrong kind, naming the argument), RangeError (bad value or size), and
// Error with .code for the rest: the CUDA error's name ('cudaErrorMemoryAllocation', ...),
// 'ERR_CUDA_UNAVAILABLE' (no driver or device: message gives the reason) or
// 'ERR_DEVICE_ARRAY_DISPOSED'.
//
// Device-array operations (upload, download, run and their Async forms) run on one CUDA stream
// in the order they were called, from whichever thread: runAsync issued after uploadAsync sees
// the uploaded data without awaiting it (host.h, Sequencer).
#include <napi.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emulate.h"
#include "host.h"

namespace mish {
namespace cuda {
namespace {

// Marks the handle objects this addon made; nothing else passes as a DeviceArray.
constexpr napi_type_tag kDeviceArrayTag = {0x6d6973685f637564ull, 0x6465766963656172ull};

struct Allocation {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~Allocation() { device_free(ptr); }
};

// What a handle holds. mem is reset by free(); operations in flight hold their own reference,
// so the memory goes when the last of them finishes.
struct DeviceArray {
  std::shared_ptr<Allocation> mem;
  size_t bytes = 0;
};

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "mish cuda: " + message);
}

[[noreturn]] void range_error(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "mish cuda: " + message);
}

// Every export but info goes through this: host-layer errors become JavaScript errors with a
// code. Those that need CUDA check it first, so without a driver or device they all say why.
template <Napi::Value (*F)(const Napi::CallbackInfo&), bool kNeedsCuda = true>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    if (kNeedsCuda) require_available();
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw coded_error(info.Env(), e.code(), e.what());
  } catch (const std::invalid_argument& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  } catch (const std::bad_alloc&) {
    throw coded_error(info.Env(), "ERR_OUT_OF_MEMORY", "mish cuda: out of host memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("mish cuda: ") + e.what());
  }
}

// ---- arguments ---------------------------------------------------------------------------

Napi::Value arg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsTypedArray()) return "a typed array of another kind";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// A non-negative integer up to 2^53 - 1.
size_t size_arg(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) {
    type_error(v.Env(), std::string(name) + " must be a number, got " + describe(v));
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d) {
    range_error(v.Env(), std::string(name) + " must be a non-negative integer, got " +
                             v.ToString().Utf8Value());
  }
  return static_cast<size_t>(d);
}

int enum_arg(const Napi::Value& v, const char* name, int count) {
  if (!v.IsNumber()) {
    type_error(v.Env(), std::string(name) + " must be a number, got " + describe(v));
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < count) || std::floor(d) != d) {
    range_error(v.Env(), std::string(name) + " must be an integer from 0 to " +
                             std::to_string(count - 1) + ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int>(d);
}

DeviceArray* handle_arg(const Napi::Value& v, const char* name) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kDeviceArrayTag)) {
    type_error(v.Env(), std::string(name) + " must be a DeviceArray handle from alloc(), got " +
                            describe(v));
  }
  void* p = nullptr;
  NAPI_THROW_IF_FAILED(v.Env(), napi_unwrap(v.Env(), v, &p), nullptr);
  return static_cast<DeviceArray*>(p);
}

// The live allocation behind a handle, or the disposed error.
std::shared_ptr<Allocation> live(const Napi::Value& v, const char* name) {
  DeviceArray* a = handle_arg(v, name);
  if (!a->mem) {
    throw coded_error(v.Env(), "ERR_DEVICE_ARRAY_DISPOSED",
                      std::string("mish cuda: DeviceArray was disposed (") + name + ")");
  }
  return a->mem;
}

struct HostArray {
  void* data = nullptr;
  size_t length = 0;  // elements
  size_t bytes = 0;
  napi_typedarray_type type = napi_uint8_array;
};

HostArray typed_array(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray()) {
    type_error(v.Env(), std::string(name) + " must be a TypedArray, got " + describe(v));
  }
  HostArray h;
  napi_value ab;
  size_t offset;
  NAPI_THROW_IF_FAILED(v.Env(),
                       napi_get_typedarray_info(v.Env(), v, &h.type, &h.length, &h.data, &ab,
                                                &offset),
                       h);
  h.bytes = h.length * v.As<Napi::TypedArray>().ElementSize();
  if (h.length == 0) h.data = nullptr;
  return h;
}

const char* array_kind(int dtype) {
  switch (dtype) {
    case kFloat32: return "Float32Array";
    case kFloat64: return "Float64Array";
    default: return "Uint16Array";
  }
}

napi_typedarray_type array_type(int dtype) {
  switch (dtype) {
    case kFloat32: return napi_float32_array;
    case kFloat64: return napi_float64_array;
    default: return napi_uint16_array;
  }
}

HostArray dtype_array(const Napi::Value& v, const char* name, int dtype) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != array_type(dtype)) {
    type_error(v.Env(), std::string(name) + " must be a " + array_kind(dtype) + " for " +
                            dtype_name(dtype) + ", got " + describe(v));
  }
  return typed_array(v, name);
}

bool overlaps_partly(const HostArray& a, const HostArray& b) {
  if (a.bytes == 0 || b.bytes == 0 || a.data == b.data) return false;
  auto pa = reinterpret_cast<uintptr_t>(a.data);
  auto pb = reinterpret_cast<uintptr_t>(b.data);
  return pa < pb + b.bytes && pb < pa + a.bytes;
}

// (op, dtype, x, dy | null, out) over host arrays of one length.
struct HostCall {
  int op = 0, dtype = 0;
  HostArray x, dy, out;
};

HostCall host_call(const Napi::CallbackInfo& info) {
  HostCall c;
  c.op = enum_arg(arg(info, 0), "op", kOpCount);
  c.dtype = enum_arg(arg(info, 1), "dtype", kDtypeCount);
  c.x = dtype_array(arg(info, 2), "x", c.dtype);
  c.out = dtype_array(arg(info, 4), "out", c.dtype);
  if (c.op == kBackward) {
    c.dy = dtype_array(arg(info, 3), "dy", c.dtype);
  } else if (!arg(info, 3).IsNull() && !arg(info, 3).IsUndefined()) {
    c.dy = dtype_array(arg(info, 3), "dy", c.dtype);  // checked, then unused
  }
  if (c.out.length != c.x.length || (c.op == kBackward && c.dy.length != c.x.length)) {
    range_error(info.Env(), "x, dy and out must have one length (x has " +
                                std::to_string(c.x.length) + ", out " +
                                std::to_string(c.out.length) +
                                (c.op == kBackward ? ", dy " + std::to_string(c.dy.length) : "") +
                                ")");
  }
  if (overlaps_partly(c.x, c.out) || (c.op == kBackward && overlaps_partly(c.dy, c.out))) {
    range_error(info.Env(), "out partly overlaps an input (it may only be the same array)");
  }
  if (c.op != kBackward) c.dy = HostArray{};
  return c;
}

// (op, dtype, x, dy | null, out, n) over device arrays.
struct DeviceCall {
  int op = 0, dtype = 0;
  size_t n = 0;
  std::shared_ptr<Allocation> x, dy, out;
};

DeviceCall device_call(const Napi::CallbackInfo& info) {
  DeviceCall c;
  c.op = enum_arg(arg(info, 0), "op", kOpCount);
  c.dtype = enum_arg(arg(info, 1), "dtype", kDtypeCount);
  handle_arg(arg(info, 2), "x");
  bool backward = c.op == kBackward;
  bool has_dy = backward || !(arg(info, 3).IsNull() || arg(info, 3).IsUndefined());
  if (has_dy) handle_arg(arg(info, 3), "dy");
  handle_arg(arg(info, 4), "out");
  c.n = size_arg(arg(info, 5), "n");
  c.x = live(arg(info, 2), "x");
  if (backward) c.dy = live(arg(info, 3), "dy");
  c.out = live(arg(info, 4), "out");
  size_t need = c.n * element_size(c.dtype);
  auto fits = [&](const std::shared_ptr<Allocation>& a, const char* name) {
    if (a && need > a->bytes) {
      range_error(info.Env(), "n = " + std::to_string(c.n) + " " + dtype_name(c.dtype) +
                                  " elements need " + std::to_string(need) + " bytes but " +
                                  name + " holds " + std::to_string(a->bytes));
    }
  };
  fits(c.x, "x");
  fits(c.dy, "dy");
  fits(c.out, "out");
  return c;
}

void enqueue_device_call(const DeviceCall& c, Stream s) {
  run_device(c.op, c.dtype, c.x->ptr, c.dy ? c.dy->ptr : nullptr, c.out->ptr, c.n, s);
}

// (handle, byteOffset, typedArray) for upload and download.
struct CopyCall {
  std::shared_ptr<Allocation> mem;
  size_t offset = 0;
  HostArray host;
};

CopyCall copy_call(const Napi::CallbackInfo& info) {
  CopyCall c;
  handle_arg(arg(info, 0), "handle");
  c.offset = size_arg(arg(info, 1), "byteOffset");
  c.host = typed_array(arg(info, 2), "array");
  c.mem = live(arg(info, 0), "handle");
  if (c.offset > c.mem->bytes || c.host.bytes > c.mem->bytes - c.offset) {
    range_error(info.Env(), "byteOffset " + std::to_string(c.offset) + " + " +
                                std::to_string(c.host.bytes) + " bytes lies outside the " +
                                std::to_string(c.mem->bytes) + "-byte DeviceArray");
  }
  return c;
}

char* at(const CopyCall& c) { return static_cast<char*>(c.mem->ptr) + c.offset; }

// ---- async work --------------------------------------------------------------------------

// Settles a promise from a libuv thread's job: either `job`, or a device job (`enqueue`) run
// through the Sequencer under its ticket, which is given up if the job never starts. Keeps
// every JavaScript object of the call referenced until then.
class Work : public Napi::AsyncWorker {
 public:
  Work(const Napi::CallbackInfo& info, Napi::Value result)
      : Napi::AsyncWorker(info.Env(), "mish_cuda"), deferred_(info.Env()) {
    for (size_t i = 0; i < info.Length(); ++i) {
      if (info[i].IsObject()) refs_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
    }
    if (result.IsObject()) result_ = Napi::Persistent(result.As<Napi::Object>());
  }
  ~Work() override {
    if (has_ticket_ && !started_) Sequencer::instance().skip(ticket_);
  }

  // Queues the job; returns the promise.
  static Napi::Value start_host(const Napi::CallbackInfo& info, Napi::Value result,
                                std::function<void()> job) {
    auto* w = new Work(info, result);
    w->job_ = std::move(job);
    return w->start();
  }
  static Napi::Value start_device(const Napi::CallbackInfo& info, Napi::Value result,
                                  std::function<void(Stream)> enqueue) {
    auto* w = new Work(info, result);
    w->enqueue_ = std::move(enqueue);
    w->ticket_ = Sequencer::instance().take();
    w->has_ticket_ = true;
    return w->start();
  }

  void Execute() override {
    started_ = true;
    try {
      if (has_ticket_) {
        Sequencer::instance().run(ticket_, enqueue_);
      } else {
        job_();
      }
    } catch (const Error& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(std::string("mish cuda: ") + e.what());
    }
  }
  // These also run during environment teardown, when settling fails; that must not escape.
  void OnOK() override {
    try {
      deferred_.Resolve(result_.IsEmpty() ? Env().Undefined() : result_.Value());
    } catch (const Napi::Error&) {
    }
  }
  void OnError(const Napi::Error& e) override {
    try {
      if (code_.empty()) {
        deferred_.Reject(e.Value());
      } else {
        deferred_.Reject(coded_error(Env(), code_, e.Message()).Value());
      }
    } catch (const Napi::Error&) {
    }
  }

 private:
  Napi::Value start() {
    Napi::Promise p = deferred_.Promise();
    try {
      Queue();
    } catch (...) {
      delete this;
      throw;
    }
    return p;
  }

  std::function<void()> job_;
  std::function<void(Stream)> enqueue_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
  Napi::ObjectReference result_;
  std::string code_;
  uint64_t ticket_ = 0;
  bool has_ticket_ = false;
  bool started_ = false;
};

// Runs a device job synchronously, in call order with the queued ones.
void run_sequenced(const std::function<void(Stream)>& enqueue) {
  Sequencer& s = Sequencer::instance();
  s.run(s.take(), enqueue);
}

// ---- exports -----------------------------------------------------------------------------

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
  try {
    const cuda::Info& i = cuda::info();
    o.Set("available", i.available);
    o.Set("reason", i.reason);
    o.Set("driverVersion", i.driver_version);
    o.Set("runtimeVersion", i.runtime_version);
    for (size_t d = 0; d < i.devices.size(); ++d) {
      Napi::Object dev = Napi::Object::New(env);
      dev.Set("name", i.devices[d].name);
      dev.Set("computeCapability",
              std::to_string(i.devices[d].major) + "." + std::to_string(i.devices[d].minor));
      dev.Set("totalMemory", static_cast<double>(i.devices[d].total_memory));
      devices.Set(static_cast<uint32_t>(d), dev);
    }
  } catch (const std::exception& e) {
    o.Set("available", false);
    o.Set("reason", std::string("CUDA could not be probed: ") + e.what());
    o.Set("driverVersion", 0);
    o.Set("runtimeVersion", 0);
  }
  o.Set("devices", devices);
  return o;
}

void finalize_device_array(napi_env, void* data, void*) {
  delete static_cast<DeviceArray*>(data);
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t bytes = size_arg(arg(info, 0), "byteLength");
  auto mem = std::make_shared<Allocation>();
  mem->ptr = device_alloc(bytes);
  mem->bytes = bytes;
  auto* holder = new DeviceArray{std::move(mem), bytes};
  Napi::Object handle = Napi::Object::New(env);
  napi_status st = napi_wrap(env, handle, holder, finalize_device_array, nullptr, nullptr);
  if (st != napi_ok) {
    delete holder;
    NAPI_THROW_IF_FAILED(env, st, Napi::Value());
  }
  handle.TypeTag(&kDeviceArrayTag);
  return handle;
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  handle_arg(arg(info, 0), "handle")->mem.reset();
  return info.Env().Undefined();
}

Napi::Value ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           static_cast<double>(handle_arg(arg(info, 0), "handle")->bytes));
}

Napi::Value Upload(const Napi::CallbackInfo& info) {
  CopyCall c = copy_call(info);
  run_sequenced([&](Stream s) { copy_to_device_async(at(c), c.host.data, c.host.bytes, s); });
  return info.Env().Undefined();
}

Napi::Value Download(const Napi::CallbackInfo& info) {
  CopyCall c = copy_call(info);
  run_sequenced([&](Stream s) { copy_to_host_async(c.host.data, at(c), c.host.bytes, s); });
  return arg(info, 2);
}

Napi::Value UploadAsync(const Napi::CallbackInfo& info) {
  CopyCall c = copy_call(info);
  require_available();
  return Work::start_device(info, info.Env().Undefined(), [c](Stream s) {
    copy_to_device_async(at(c), c.host.data, c.host.bytes, s);
  });
}

Napi::Value DownloadAsync(const Napi::CallbackInfo& info) {
  CopyCall c = copy_call(info);
  require_available();
  return Work::start_device(info, arg(info, 2), [c](Stream s) {
    copy_to_host_async(c.host.data, at(c), c.host.bytes, s);
  });
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  DeviceCall c = device_call(info);
  run_sequenced([&](Stream s) { enqueue_device_call(c, s); });
  return info.Env().Undefined();
}

Napi::Value RunAsync(const Napi::CallbackInfo& info) {
  DeviceCall c = device_call(info);
  require_available();
  return Work::start_device(info, info.Env().Undefined(),
                            [c](Stream s) { enqueue_device_call(c, s); });
}

Napi::Value RunHost(const Napi::CallbackInfo& info) {
  HostCall c = host_call(info);
  run_host(c.op, c.dtype, c.x.data, c.dy.data, c.out.data, c.x.length);
  return arg(info, 4);
}

Napi::Value RunHostAsync(const Napi::CallbackInfo& info) {
  HostCall c = host_call(info);
  require_available();
  return Work::start_host(info, arg(info, 4), [c] {
    run_host(c.op, c.dtype, c.x.data, c.dy.data, c.out.data, c.x.length);
  });
}

Napi::Value Emulate(const Napi::CallbackInfo& info) {
  HostCall c = host_call(info);
  emulate(c.op, c.dtype, c.x.data, c.dy.data, c.out.data, c.x.length);
  return arg(info, 4);
}

Napi::Value MemInfo(const Napi::CallbackInfo& info) {
  cuda::MemInfo m = mem_info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("free", static_cast<double>(m.free));
  o.Set("total", static_cast<double>(m.total));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto add = [&](const char* name, Napi::Value (*f)(const Napi::CallbackInfo&)) {
    exports.Set(name, Napi::Function::New(env, f, name));
  };
  add("info", Info);
  add("alloc", guarded<Alloc>);
  add("free", guarded<Free>);
  add("byteLength", guarded<ByteLength>);
  add("upload", guarded<Upload>);
  add("download", guarded<Download>);
  add("uploadAsync", guarded<UploadAsync>);
  add("downloadAsync", guarded<DownloadAsync>);
  add("run", guarded<Run>);
  add("runAsync", guarded<RunAsync>);
  add("runHost", guarded<RunHost>);
  add("runHostAsync", guarded<RunHostAsync>);
  add("emulate", guarded<Emulate, false>);
  add("memInfo", guarded<MemInfo>);
  return exports;
}

}  // namespace
}  // namespace cuda
}  // namespace mish

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return mish::cuda::Init(env, exports);
}

// No per-process JavaScript state: loads in worker threads too. Device state (the stream of
// the Sequencer, the staging buffers) is process-wide.
NODE_API_MODULE(mish_cuda, InitModule)
