// The CUDA backend: device-resident arrays and the GPU path for host arrays. The GPU part is a
// separate addon (build-cuda/Release/mish_cuda.node, from `npm run build:cuda`), loaded on
// first use, so a CPU-only install never pays for it and loads fine without it.
import * as path from 'path';
import { debuglog, types } from 'util';

import { Op } from './types';
import type { FloatArray } from './types';
import { describe as describeValue } from './validate';

const debug = debuglog('mish');

export type DeviceDtype = 'float32' | 'float64' | 'float16' | 'bfloat16';
/** Host arrays a DeviceArray copies from and to: 16-bit dtypes travel as raw bits. */
export type HostArray = Float32Array | Float64Array | Uint16Array;

const DTYPES: readonly DeviceDtype[] = ['float32', 'float64', 'float16', 'bfloat16'];
const CODE: Record<DeviceDtype, number> = { float32: 0, float64: 1, float16: 2, bfloat16: 3 };
const BYTES: Record<DeviceDtype, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2 };

export interface CudaDevice {
  name: string;
  /** "major.minor", e.g. "9.0". */
  computeCapability: string;
  /** Bytes. */
  totalMemory: number;
}

export interface CudaInfo {
  /** Whether the GPU part was built and loaded (`npm run build:cuda`). */
  compiled: boolean;
  /** Whether calls can run on a GPU now. */
  available: boolean;
  /** Why not, in words; null when available. */
  reason: string | null;
  /** As CUDA reports them (e.g. 13000 for 13.0); null when unknown. */
  driverVersion: number | null;
  runtimeVersion: number | null;
  devices: CudaDevice[];
}

type Handle = object;

/** The GPU addon's exports (cuda/binding_cuda.cc). */
export interface CudaAddon {
  info(): Omit<CudaInfo, 'compiled'>;
  alloc(byteLength: number): Handle;
  free(h: Handle): void;
  upload(h: Handle, byteOffset: number, src: HostArray): void;
  download(h: Handle, byteOffset: number, dst: HostArray): void;
  uploadAsync(h: Handle, byteOffset: number, src: HostArray): Promise<void>;
  downloadAsync(h: Handle, byteOffset: number, dst: HostArray): Promise<void>;
  run(op: Op, dtype: number, x: Handle, dy: Handle | null, out: Handle, n: number): void;
  runAsync(
    op: Op,
    dtype: number,
    x: Handle,
    dy: Handle | null,
    out: Handle,
    n: number,
  ): Promise<void>;
  runHost(op: Op, dtype: number, x: HostArray, dy: HostArray | null, out: HostArray): void;
  runHostAsync(
    op: Op,
    dtype: number,
    x: HostArray,
    dy: HostArray | null,
    out: HostArray,
  ): Promise<void>;
  emulate(op: Op, dtype: number, x: HostArray, dy: HostArray | null, out: HostArray): void;
  memInfo(): { free: number; total: number };
}

const addonPath = path.join(__dirname, '..', 'build-cuda', 'Release', 'mish_cuda.node');
let loaded: { addon: CudaAddon | null; error: string | null } | undefined;

/** The GPU addon, loaded on first use; null (with the reason in cudaInfo()) when absent. */
export function cudaAddon(): CudaAddon | null {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = { addon: require(addonPath) as CudaAddon, error: null };
      debug('CUDA addon loaded from %s', addonPath);
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      const missing = (e as { code?: string }).code === 'MODULE_NOT_FOUND';
      loaded = {
        addon: null,
        error: missing
          ? 'the GPU part was not built: run `npm run build:cuda` (needs the CUDA toolkit, ' +
            'CUDA 12 or 13)'
          : `the GPU part did not load: ${message}`,
      };
      debug('CUDA addon unavailable: %s', loaded.error);
    }
  }
  return loaded.addon;
}

export function cudaInfo(): CudaInfo {
  const a = cudaAddon();
  if (!a) {
    return {
      compiled: false,
      available: false,
      reason: loaded!.error,
      driverVersion: null,
      runtimeVersion: null,
      devices: [],
    };
  }
  return { compiled: true, ...a.info() };
}

/** The addon when a GPU is usable; otherwise an Error that says why. */
function ready(what: string): CudaAddon {
  const a = cudaAddon();
  const i = cudaInfo();
  if (!a || !i.available) {
    const e = new Error(`mish-native: ${what} needs a usable CUDA GPU: ${i.reason}`);
    (e as Error & { code: string }).code = 'MISH_CUDA_UNAVAILABLE';
    throw e;
  }
  return a;
}

export function cudaAvailable(): boolean {
  return cudaInfo().available;
}

const token = Symbol('DeviceArray');

/**
 * An array in GPU memory. Made by cuda.toDevice or cuda.empty, or returned by mish and the
 * other functions when given DeviceArrays. Its memory is freed by dispose() or, failing that,
 * when the object is garbage-collected; never twice.
 */
export class DeviceArray {
  readonly length: number;
  readonly dtype: DeviceDtype;
  readonly byteLength: number;
  #handle: Handle | null;

  /** @internal Use cuda.toDevice or cuda.empty. */
  constructor(t: symbol, handle: Handle, length: number, dtype: DeviceDtype) {
    if (t !== token) throw new TypeError('DeviceArray: use cuda.toDevice() or cuda.empty()');
    this.#handle = handle;
    this.length = length;
    this.dtype = dtype;
    this.byteLength = length * BYTES[dtype];
  }

  get disposed(): boolean {
    DeviceArray.#check(this, 'DeviceArray.disposed');
    return this.#handle === null;
  }

  // A TypeError for an object that only looks like a DeviceArray (Object.create of the
  // prototype, or a method borrowed onto something else).
  static #check(v: unknown, fn: string): void {
    if (typeof v !== 'object' || v === null || !(#handle in v)) {
      throw new TypeError(`${fn}: called on ${describeValue(v)}, not a DeviceArray`);
    }
  }

  /** @internal The native handle; an Error once disposed. */
  handle(fn: string, name: string): Handle {
    DeviceArray.#check(this, fn);
    if (this.#handle === null) {
      throw new Error(`${fn}: ${name} is a DeviceArray that was disposed`);
    }
    return this.#handle;
  }

  /** Copies to the host: into out (same element type and length) or a new array. */
  toHost<T extends HostArray>(out?: T): T {
    DeviceArray.#check(this, 'DeviceArray.toHost');
    const dst = hostTarget('DeviceArray.toHost', this, out);
    if (this.length > 0) cudaAddon()!.download(this.handle('DeviceArray.toHost', 'this'), 0, dst);
    return dst as T;
  }

  /** toHost without blocking the event loop. */
  async toHostAsync<T extends HostArray>(out?: T): Promise<T> {
    const fn = 'DeviceArray.toHostAsync';
    DeviceArray.#check(this, fn);
    const dst = hostTarget(fn, this, out);
    if (this.length > 0) {
      // Into memory of its own, then into dst: see own() below.
      const mine = types.isSharedArrayBuffer(dst.buffer)
        ? dst
        : new (dst.constructor as Float32ArrayConstructor)(dst.length);
      await cudaAddon()!.downloadAsync(this.handle(fn, 'this'), 0, mine);
      deliver(fn, mine, dst);
    }
    return dst as T;
  }

  /** Frees the device memory now. Idempotent; the array is unusable afterwards. */
  dispose(): void {
    DeviceArray.#check(this, 'DeviceArray.dispose');
    const h = this.#handle;
    this.#handle = null;
    if (h) cudaAddon()!.free(h);
  }

  get [Symbol.toStringTag](): string {
    return 'DeviceArray';
  }
}

function hostCtor(dtype: DeviceDtype) {
  return dtype === 'float32' ? Float32Array : dtype === 'float64' ? Float64Array : Uint16Array;
}

function hostTarget(fn: string, d: DeviceArray, out: unknown): HostArray {
  const Ctor = hostCtor(d.dtype);
  if (out === undefined) return new Ctor(d.length);
  if (!(out instanceof Ctor) || types.isProxy(out)) {
    throw new TypeError(
      `${fn}: out must be a ${Ctor.name} for a ${d.dtype} DeviceArray, received ` +
        describeValue(out),
    );
  }
  if (out.length !== d.length) {
    throw new RangeError(
      `${fn}: out must have the DeviceArray's length ${d.length}, received length ${out.length}`,
    );
  }
  return out;
}

function dtypeFor(fn: string, a: HostArray, dtype: unknown): DeviceDtype {
  if (dtype !== undefined && !(DTYPES as readonly unknown[]).includes(dtype)) {
    throw new TypeError(
      `${fn}: options.dtype must be one of ${DTYPES.join(', ')}, received ${describeValue(dtype)}`,
    );
  }
  const natural = types.isFloat32Array(a) ? 'float32' : types.isFloat64Array(a) ? 'float64' : null;
  if (natural) {
    if (dtype !== undefined && dtype !== natural) {
      throw new TypeError(
        `${fn}: a ${natural === 'float32' ? 'Float32Array' : 'Float64Array'} holds ${natural}; ` +
          `options.dtype ${JSON.stringify(dtype)} needs a Uint16Array of raw bits`,
      );
    }
    return natural;
  }
  if (dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new TypeError(
      `${fn}: a Uint16Array needs options.dtype 'float16' or 'bfloat16' (its bits), received ` +
        describeValue(dtype),
    );
  }
  return dtype;
}

function hostArray(fn: string, name: string, v: unknown): HostArray {
  if (
    types.isProxy(v) ||
    !(types.isFloat32Array(v) || types.isFloat64Array(v) || types.isUint16Array(v))
  ) {
    throw new TypeError(
      `${fn}: ${name} must be a Float32Array, Float64Array or Uint16Array (float16/bfloat16 ` +
        `bits), received ${describeValue(v)}`,
    );
  }
  return v as HostArray;
}

function allocate(a: CudaAddon, length: number, dtype: DeviceDtype): DeviceArray {
  return new DeviceArray(token, a.alloc(Math.max(1, length * BYTES[dtype])), length, dtype);
}

/** Copies a host array to the GPU. */
export function toDevice(a: unknown, options?: { dtype?: DeviceDtype }): DeviceArray {
  const fn = 'cuda.toDevice';
  const src = hostArray(fn, 'the array', a);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${fn}: options must be an object, received ${describeValue(options)}`);
  }
  const dtype = dtypeFor(fn, src, options?.dtype);
  const addon = ready(fn);
  const d = allocate(addon, src.length, dtype);
  try {
    if (src.length > 0) addon.upload(d.handle(fn, 'the array'), 0, src);
  } catch (e) {
    d.dispose();
    throw e;
  }
  return d;
}

/** An uninitialised DeviceArray, e.g. for outputs. */
export function empty(length: unknown, dtype: unknown = 'float32'): DeviceArray {
  const fn = 'cuda.empty';
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(
      `${fn}: length must be a non-negative integer, received ${describeValue(length)}`,
    );
  }
  if (!(DTYPES as readonly unknown[]).includes(dtype)) {
    throw new TypeError(
      `${fn}: dtype must be one of ${DTYPES.join(', ')}, received ${describeValue(dtype)}`,
    );
  }
  return allocate(ready(fn), length, dtype as DeviceDtype);
}

/** Free and total device memory in bytes. */
export function memInfo(): { free: number; total: number } {
  return ready('cuda.memInfo').memInfo();
}

/** The arguments of one device call, checked: all DeviceArrays of one dtype and length. */
export interface DeviceArgs {
  x: DeviceArray;
  dy: DeviceArray | null;
  out: DeviceArray;
}

function deviceArray(fn: string, name: string, v: unknown, host: string): DeviceArray {
  if (v instanceof DeviceArray) return v;
  throw new TypeError(
    `${fn}: ${name} is ${describeValue(v)} but ${host} is a DeviceArray: pass DeviceArrays ` +
      'for every array argument, or host arrays for every one (cuda.toDevice / toHost copy)',
  );
}

export function deviceArgs(
  fn: string,
  dyArg: unknown | undefined,
  xArg: unknown,
  outArg: unknown,
  binary: boolean,
): DeviceArgs {
  // The first DeviceArray argument, named in the error for a host array beside it.
  const named: [string, unknown][] = binary
    ? [
        ['dy', dyArg],
        ['x', xArg],
        ['out', outArg],
      ]
    : [
        ['x', xArg],
        ['out', outArg],
      ];
  const firstDevice = named.find(([, v]) => v instanceof DeviceArray)![0];
  const x = deviceArray(fn, 'x', xArg, firstDevice);
  const dy = binary ? deviceArray(fn, 'dy', dyArg, firstDevice) : null;
  for (const [name, d] of [
    ['x', x],
    ['dy', dy],
  ] as const) {
    if (d) d.handle(fn, name);
  }
  if (dy && (dy.dtype !== x.dtype || dy.length !== x.length)) {
    throw new RangeError(
      `${fn}: dy (${dy.dtype}, length ${dy.length}) and x (${x.dtype}, length ${x.length}) ` +
        'must have one dtype and length',
    );
  }
  let out: DeviceArray;
  if (outArg === undefined) {
    out = allocate(ready(fn), x.length, x.dtype);
  } else {
    out = deviceArray(fn, 'out', outArg, firstDevice);
    out.handle(fn, 'out');
    if (out.dtype !== x.dtype || out.length !== x.length) {
      throw new RangeError(
        `${fn}: out (${out.dtype}, length ${out.length}) must match x (${x.dtype}, length ` +
          `${x.length})`,
      );
    }
  }
  return { x, dy, out };
}

// The addon's run arguments after op: dtype code, handles (an Error if one was disposed), n.
function launchArgs(fn: string, a: DeviceArgs) {
  const dy = a.dy ? a.dy.handle(fn, 'dy') : null;
  return [CODE[a.x.dtype], a.x.handle(fn, 'x'), dy, a.out.handle(fn, 'out'), a.x.length] as const;
}

export function runDevice(fn: string, op: Op, a: DeviceArgs): DeviceArray {
  const addon = ready(fn);
  if (a.x.length > 0) addon.run(op, ...launchArgs(fn, a));
  return a.out;
}

export async function runDeviceAsync(fn: string, op: Op, a: DeviceArgs): Promise<DeviceArray> {
  const addon = ready(fn);
  if (a.x.length > 0) await addon.runAsync(op, ...launchArgs(fn, a));
  return a.out;
}

/** The GPU path for host float arrays (pinned staging, overlapped copies). */
export function runHost(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): void {
  ready('the cuda backend').runHost(op, types.isFloat32Array(x) ? 0 : 1, x, dy, out);
}

// Async calls work on arrays of their own (as the CPU addon's async calls do): an ArrayBuffer
// transferred while the GPU reads or writes it could be freed under the copy engine. The
// result reaches out at the end, if out is still attached; SharedArrayBuffer memory, which
// cannot be detached, is used in place.
function own<T extends HostArray>(a: T): T {
  return types.isSharedArrayBuffer(a.buffer) ? a : (a.slice() as T);
}

function deliver(fn: string, result: HostArray, out: HostArray): void {
  if (result === out) return;
  if (out.length !== result.length) {
    throw new TypeError(
      `${fn}: out was detached (transferred) or resized while the call ran; nothing was written`,
    );
  }
  out.set(result as never);
}

export async function runHostAsync(
  op: Op,
  x: FloatArray,
  dy: FloatArray | null,
  out: FloatArray,
): Promise<void> {
  const addon = ready('the cuda backend');
  const result = types.isSharedArrayBuffer(out.buffer)
    ? out
    : new (out.constructor as Float32ArrayConstructor)(out.length);
  await addon.runHostAsync(
    op,
    types.isFloat32Array(x) ? 0 : 1,
    own(x),
    dy ? own(dy) : null,
    result,
  );
  deliver('the cuda backend', result, out);
}

/**
 * The device formulas compiled for the host (for tests without a GPU): out[i] = op(x[i]) for
 * one dtype, with float16/bfloat16 in Uint16Array bits. Needs the GPU part built, not a GPU.
 */
export function emulate(
  op: Op,
  dtype: DeviceDtype,
  x: HostArray,
  dy: HostArray | null,
  out: HostArray,
): void {
  const a = cudaAddon();
  if (!a) throw new Error(`mish-native: emulate needs the GPU part: ${loaded!.error}`);
  a.emulate(op, CODE[dtype], x, dy, out);
}

// When `auto` sends host arrays to the GPU: from the size where the GPU path measured faster
// than the native CPU path, found once per process at the first large call (calibrate below).
export const CALIBRATION_MIN = 2 ** 20;

/**
 * The smallest n at which a + b n (GPU) beats c + d n (CPU), from times measured at two sizes;
 * Infinity when the GPU never wins. Times in seconds.
 */
export function crossover(
  sizes: [number, number],
  gpu: [number, number],
  cpuTimes: [number, number],
): number {
  const slope = (t: [number, number]) => (t[1] - t[0]) / (sizes[1] - sizes[0]);
  const bg = slope(gpu);
  const bc = slope(cpuTimes);
  const ag = gpu[0] - bg * sizes[0];
  const ac = cpuTimes[0] - bc * sizes[0];
  if (!(bc > bg)) return Infinity;
  const n = (ag - ac) / (bc - bg);
  return Math.max(CALIBRATION_MIN, Math.ceil(n));
}

let gpuFrom: number | undefined;

/**
 * The host-array size from which `auto` uses the GPU: measured at first need with float32
 * forward at 2^20 and 2^23 elements (median of 3 each), both paths, then cached for the process.
 */
export function gpuThreshold(cpuRun: (x: Float32Array, out: Float32Array) => void): number {
  if (gpuFrom !== undefined) return gpuFrom;
  if (!cudaAvailable()) return Infinity;
  const sizes: [number, number] = [2 ** 20, 2 ** 23];
  const time = (f: () => void) => {
    const t: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = process.hrtime.bigint();
      f();
      t.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    t.shift(); // warm-up
    return t.sort((a, b) => a - b)[1];
  };
  try {
    const g: number[] = [];
    const c: number[] = [];
    for (const n of sizes) {
      const x = new Float32Array(n).map((_, i) => (i % 1000) / 50 - 10);
      const out = new Float32Array(n);
      g.push(time(() => runHost(Op.Forward, x, null, out)));
      c.push(time(() => cpuRun(x, out)));
    }
    gpuFrom = crossover(sizes, [g[0], g[1]], [c[0], c[1]]);
  } catch (e) {
    debug('GPU calibration failed, auto stays on the CPU: %s', (e as Error).message);
    gpuFrom = Infinity;
  }
  debug('auto sends host arrays of %d elements and more to the GPU', gpuFrom);
  return gpuFrom;
}
