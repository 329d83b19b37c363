// mish-native: the Mish activation and its derivatives over Float32Array / Float64Array.
import { jsBackend } from './js-backend';
import { loadNative, nativeBackend } from './native';
import type { NativeAddon } from './native';
import { Op } from './types';
import type { Backend, BackendChoice, BackendName, FloatArray, Isa } from './types';
import { asyncArgs, binaryArgs, count, memory, oneOf, unaryArgs } from './validate';
import type { Args } from './validate';

export type { BackendChoice, BackendName, FloatArray, Isa } from './types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version: string = require('../package.json').version;

const BACKENDS = ['auto', 'cpu', 'js'] as const;
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

function current(): Backend {
  if (choice === 'js') return jsBackend;
  if (cpu) return cpu;
  if (choice === 'cpu') throw nativeMissing("backend 'cpu'");
  return jsBackend;
}

/**
 * Chooses the compute backend: 'cpu' (the native addon; an Error if it did not load), 'js'
 * (pure TypeScript) or 'auto' (native when it loaded, else TypeScript). Env: MISH_BACKEND.
 */
export function setBackend(backend: BackendChoice): void {
  const b = oneOf('setBackend', 'backend', backend, BACKENDS);
  if (b === 'cpu' && !cpu) throw nativeMissing("setBackend('cpu')");
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
  };
}

function run(op: Op, a: Args): FloatArray {
  if (a.x.length > 0) current().run(op, a.x, a.dy, a.out);
  return a.result;
}

function runAsync(fn: string, op: Op, build: () => Args): Promise<FloatArray> {
  try {
    const a = asyncArgs(fn, build());
    if (a.x.length === 0) return Promise.resolve(a.result);
    return current()
      .runAsync(op, a.x, a.dy, a.out)
      .then(() => a.result);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** y = mish(x) = x·tanh(ln(1 + eˣ)). Returns out (a new array when omitted; out may be x). */
export function mish<T extends FloatArray>(x: T, out?: T): T {
  return run(Op.Forward, unaryArgs('mish', x, out)) as T;
}

/** dx = dy·mish′(x), gradient first like torch's mish_backward. out may be dy or x. */
export function mishBackward<T extends FloatArray>(dy: T, x: T, out?: T): T {
  return run(Op.Backward, binaryArgs('mishBackward', dy, x, out)) as T;
}

/** mish′(x). */
export function mishDerivative<T extends FloatArray>(x: T, out?: T): T {
  return run(Op.Derivative, unaryArgs('mishDerivative', x, out)) as T;
}

/** mish″(x). */
export function mishSecondDerivative<T extends FloatArray>(x: T, out?: T): T {
  return run(Op.Second, unaryArgs('mishSecondDerivative', x, out)) as T;
}

/**
 * mish(x) computed off the main thread (native backend). x and out stay referenced until the
 * promise settles. Invalid arguments reject the promise; so does an array on a resizable
 * ArrayBuffer, which could shrink while the call runs.
 */
export function mishAsync<T extends FloatArray>(x: T, out?: T): Promise<T> {
  return runAsync('mishAsync', Op.Forward, () => unaryArgs('mishAsync', x, out)) as Promise<T>;
}

/** mishBackward computed off the main thread (native backend). */
export function mishBackwardAsync<T extends FloatArray>(dy: T, x: T, out?: T): Promise<T> {
  return runAsync('mishBackwardAsync', Op.Backward, () =>
    binaryArgs('mishBackwardAsync', dy, x, out),
  ) as Promise<T>;
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
        '(correct, up to 140x slower). Set NODE_DEBUG=mish for details.',
      { code: 'MISH_NATIVE_UNAVAILABLE', detail: loaded.errors.join('\n') },
    );
  }
}

applyEnv();
