// mish-native: the Mish activation and its derivatives over Float32Array / Float64Array.
import {
  CALIBRATION_MIN,
  DeviceArray,
  cudaInfo,
  deviceArgs,
  empty,
  gpuThreshold,
  memInfo,
  runDevice,
  runDeviceAsync,
  runHost,
  runHostAsync,
  toDevice,
} from './cuda';
import type { CudaInfo } from './cuda';
import { jsBackend } from './js-backend';
import { override } from './testing';
import { loadNative, nativeBackend } from './native';
import type { NativeAddon } from './native';
import { Op } from './types';
import type { Backend, BackendChoice, BackendName, FloatArray, Isa } from './types';
import { asyncArgs, binaryArgs, count, memory, oneOf, unaryArgs } from './validate';
import type { Args } from './validate';

export type { BackendChoice, BackendName, FloatArray, Isa } from './types';
export { DeviceArray } from './cuda';
export type { CudaDevice, CudaInfo, DeviceDtype, HostArray } from './cuda';

/** The CUDA backend's own functions (everything else takes DeviceArrays as they are). */
export const cuda = {
  /** Copies a Float32Array / Float64Array (or a Uint16Array with dtype float16/bfloat16). */
  toDevice,
  /** An uninitialised DeviceArray of a length and dtype (default float32). */
  empty,
  /** Free and total device memory in bytes. */
  memInfo,
  /** The GPU, or why there is none: the same as info().cuda. */
  info: cudaInfo,
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version: string = require('../package.json').version;

const BACKENDS = ['auto', 'cpu', 'js', 'cuda'] as const;
const ISAS = ['auto', 'scalar', 'avx2', 'avx512'] as const;
const MAX_THREADS = 1024;

const loaded = loadNative();
const addon: NativeAddon | null = loaded.addon;
const cpu: Backend | null = addon ? nativeBackend(addon) : null;
if (addon) memory.relation = (a, b) => addon.memoryRelation(a, b);
let choice: BackendChoice = 'auto';

function nativeMissing(what: string): Error {
  return new Error(
    `mish-native: ${what} needs the native addon, which did not load:\n  ` +
      loaded.errors.join('\n  '),
  );
}

const cudaHost: Backend = { name: 'cuda', run: runHost, runAsync: runHostAsync };

function current(): Backend {
  if (override.backend) return override.backend;
  if (choice === 'js') return jsBackend;
  if (choice === 'cuda') return cudaHost;
  if (cpu) return cpu;
  if (choice === 'cpu') throw nativeMissing("backend 'cpu'");
  return jsBackend;
}

// The backend for one call on host arrays: under 'auto', the GPU from the size where it
// measured faster than the CPU path (lib/cuda.ts gpuThreshold), and only with a usable GPU.
function backendFor(n: number): Backend {
  const b = current();
  if (choice !== 'auto' || b !== cpu || n < CALIBRATION_MIN) return b;
  const from = gpuThreshold((x, out) => cpu.run(Op.Forward, x, null, out));
  return n >= from ? cudaHost : b;
}

/**
 * Chooses the backend for host arrays: 'cpu' (the native addon; an Error if it did not load),
 * 'js' (pure TypeScript), 'cuda' (the GPU through pinned staging buffers; an Error that says
 * why when no GPU is usable) or 'auto' (native when it loaded, else TypeScript; large arrays on
 * the GPU where it measured faster). DeviceArrays always run on the GPU. Env: MISH_BACKEND.
 */
export function setBackend(backend: BackendChoice): void {
  const b = oneOf('setBackend', 'backend', backend, BACKENDS);
  override.backend = null;
  if (b === 'cpu' && !cpu) throw nativeMissing("setBackend('cpu')");
  if (b === 'cuda') {
    const c = cudaInfo();
    if (!c.available) {
      const e = new Error(
        `mish-native: setBackend('cuda') needs a usable CUDA GPU: ${c.reason} ('auto' uses ` +
          'the GPU when there is one and the CPU otherwise)',
      );
      (e as Error & { code: string }).code = 'MISH_CUDA_UNAVAILABLE';
      throw e;
    }
  }
  choice = b;
}

/**
 * Caps the threads a native call may use (the calling thread included). 0 restores the
 * default: all cores. Env: MISH_THREADS. Process-wide.
 */
export function setThreads(n: number): void {
  const t = count('setThreads', 'n', n, MAX_THREADS);
  addon?.setThreads(t);
}

/**
 * Forces a native kernel ('scalar', 'avx2', 'avx512') for tests and benchmarks, or 'auto'
 * for the best this CPU has. A kernel the CPU lacks is a RangeError, never a silent fallback.
 * Env: MISH_ISA. Process-wide.
 */
export function setIsa(isa: Isa | 'auto'): void {
  const name = oneOf('setIsa', 'isa', isa, ISAS);
  if (!addon) throw nativeMissing(`setIsa('${name}')`);
  addon.setIsa(name);
}

export interface Info {
  /** The backend calls use now. */
  backend: BackendName;
  /** The native kernel in use, or null on the js backend. */
  isa: Isa | null;
  /** Every native kernel this CPU can run ([] without the addon). */
  isas: Isa[];
  /** Threads a large native call may use (1 on the js backend). */
  threads: number;
  version: string;
  /** Why the native addon did not load, or null. */
  nativeError: string | null;
  /** The GPU part: whether it is usable, and why not. */
  cuda: CudaInfo;
}

export function info(): Info {
  const b = current();
  const n = addon?.info();
  return {
    backend: b.name,
    isa: b.name === 'cpu' && n ? n.isa : null,
    isas: n ? n.isas : [],
    threads: b.name === 'cpu' && n ? n.threads : 1,
    version,
    nativeError: addon ? null : loaded.errors.join('; '),
    cuda: cudaInfo(),
  };
}

function run(op: Op, a: Args): FloatArray {
  if (a.x.length > 0) backendFor(a.x.length).run(op, a.x, a.dy, a.out);
  return a.result;
}

function runAsync(fn: string, op: Op, build: () => Args): Promise<FloatArray> {
  try {
    const a = asyncArgs(fn, build());
    if (a.x.length === 0) return Promise.resolve(a.result);
    return backendFor(a.x.length)
      .runAsync(op, a.x, a.dy, a.out)
      .then(() => a.result);
  } catch (e) {
    return Promise.reject(e);
  }
}

const isDevice = (...v: unknown[]) => v.some((a) => a instanceof DeviceArray);

function unary(fn: string, op: Op, x: unknown, out: unknown): FloatArray | DeviceArray {
  if (isDevice(x, out)) return runDevice(fn, op, deviceArgs(fn, undefined, x, out, false));
  return run(op, unaryArgs(fn, x, out));
}

function unaryAsync(fn: string, op: Op, x: unknown, out: unknown) {
  if (isDevice(x, out)) {
    try {
      return runDeviceAsync(fn, op, deviceArgs(fn, undefined, x, out, false));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return runAsync(fn, op, () => unaryArgs(fn, x, out));
}

/**
 * y = mish(x) = x·tanh(ln(1 + eˣ)). Returns out (a new array when omitted; out may be x).
 * DeviceArrays in, DeviceArray out, computed on the GPU with no host copy.
 */
export function mish(x: DeviceArray, out?: DeviceArray): DeviceArray;
export function mish<T extends FloatArray>(x: T, out?: T): T;
export function mish(x: FloatArray | DeviceArray, out?: FloatArray | DeviceArray) {
  return unary('mish', Op.Forward, x, out);
}

/** dx = dy·mish′(x), gradient first like torch's mish_backward. out may be dy or x. */
export function mishBackward(dy: DeviceArray, x: DeviceArray, out?: DeviceArray): DeviceArray;
export function mishBackward<T extends FloatArray>(dy: T, x: T, out?: T): T;
export function mishBackward(
  dy: FloatArray | DeviceArray,
  x: FloatArray | DeviceArray,
  out?: FloatArray | DeviceArray,
) {
  const fn = 'mishBackward';
  if (isDevice(dy, x, out)) return runDevice(fn, Op.Backward, deviceArgs(fn, dy, x, out, true));
  return run(Op.Backward, binaryArgs(fn, dy, x, out));
}

/** mish′(x). */
export function mishDerivative(x: DeviceArray, out?: DeviceArray): DeviceArray;
export function mishDerivative<T extends FloatArray>(x: T, out?: T): T;
export function mishDerivative(x: FloatArray | DeviceArray, out?: FloatArray | DeviceArray) {
  return unary('mishDerivative', Op.Derivative, x, out);
}

/** mish″(x). */
export function mishSecondDerivative(x: DeviceArray, out?: DeviceArray): DeviceArray;
export function mishSecondDerivative<T extends FloatArray>(x: T, out?: T): T;
export function mishSecondDerivative(x: FloatArray | DeviceArray, out?: FloatArray | DeviceArray) {
  return unary('mishSecondDerivative', Op.Second, x, out);
}

/**
 * mish(x) computed off the main thread (native backend; DeviceArrays: resolves when the GPU
 * stream has finished). x and out stay referenced until the promise settles. Invalid
 * arguments reject the promise; so does an array on a resizable ArrayBuffer, which could
 * shrink while the call runs.
 */
export function mishAsync(x: DeviceArray, out?: DeviceArray): Promise<DeviceArray>;
export function mishAsync<T extends FloatArray>(x: T, out?: T): Promise<T>;
export function mishAsync(x: FloatArray | DeviceArray, out?: FloatArray | DeviceArray) {
  return unaryAsync('mishAsync', Op.Forward, x, out);
}

/** mishBackward computed off the main thread (native backend, or the GPU for DeviceArrays). */
export function mishBackwardAsync(
  dy: DeviceArray,
  x: DeviceArray,
  out?: DeviceArray,
): Promise<DeviceArray>;
export function mishBackwardAsync<T extends FloatArray>(dy: T, x: T, out?: T): Promise<T>;
export function mishBackwardAsync(
  dy: FloatArray | DeviceArray,
  x: FloatArray | DeviceArray,
  out?: FloatArray | DeviceArray,
) {
  const fn = 'mishBackwardAsync';
  if (isDevice(dy, x, out)) {
    try {
      return runDeviceAsync(fn, Op.Backward, deviceArgs(fn, dy, x, out, true));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return runAsync(fn, Op.Backward, () => binaryArgs(fn, dy, x, out));
}

// Environment settings, applied once at load. A bad value is an error, not a silent default.
// The error of a setting made from an environment variable names the variable first.
function fromEnv(name: string, apply: (value: string) => void): void {
  const value = process.env[name];
  if (value === undefined || value === '') return;
  try {
    apply(value);
  } catch (e) {
    if (e instanceof Error && !e.message.startsWith(name)) {
      e.message = `${name}=${JSON.stringify(value.slice(0, 40))}: ${e.message}`;
    }
    throw e;
  }
}

function applyEnv(): void {
  fromEnv('MISH_BACKEND', (v) => setBackend(oneOf('MISH_BACKEND', 'the value', v, BACKENDS)));
  fromEnv('MISH_THREADS', (v) => {
    const text = v.trim();
    if (!/^\d{1,4}$/.test(text) || Number(text) > MAX_THREADS) {
      throw new RangeError(
        `MISH_THREADS: the value must be an integer from 0 to ${MAX_THREADS}, ` +
          `received ${JSON.stringify(v.slice(0, 40))}`,
      );
    }
    setThreads(Number(text));
  });
  fromEnv('MISH_ISA', (v) => setIsa(oneOf('MISH_ISA', 'the value', v, ISAS)));
  if (!addon && choice !== 'js') {
    process.emitWarning(
      'mish-native: the native addon did not load; using the pure-TypeScript path ' +
        '(correct, up to 240x slower). Set NODE_DEBUG=mish for details.',
      { code: 'MISH_NATIVE_UNAVAILABLE', detail: loaded.errors.join('\n') },
    );
  }
}

applyEnv();
