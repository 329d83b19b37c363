// mish-native: the Mish activation and its derivatives over Float32Array / Float64Array.
import { jsBackend } from './js-backend';
import { loadNative, nativeBackend } from './native';
import type { NativeAddon } from './native';
import { Op } from './types';
import type { Backend, BackendChoice, BackendName, FloatArray, Isa } from './types';
import { binaryArgs, count, oneOf, unaryArgs } from './validate';

export type { BackendChoice, BackendName, FloatArray, Isa } from './types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version: string = require('../package.json').version;

const BACKENDS = ['auto', 'cpu', 'js'] as const;
const ISAS = ['auto', 'scalar', 'avx2', 'avx512'] as const;
const MAX_THREADS = 1024;

const loaded = loadNative();
const addon: NativeAddon | null = loaded.addon;
const cpu: Backend | null = addon ? nativeBackend(addon) : null;
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

/** y = mish(x) = x·tanh(ln(1 + eˣ)). Returns out (a new array when omitted; out may be x). */
export function mish<T extends FloatArray>(x: T, out?: T): T {
  const [xa, oa] = unaryArgs('mish', x, out);
  if (xa.length > 0) current().run(Op.Forward, xa, null, oa);
  return oa as T;
}

/** dx = dy·mish′(x), gradient first like torch's mish_backward. out may be dy or x. */
export function mishBackward<T extends FloatArray>(dy: T, x: T, out?: T): T {
  const [dya, xa, oa] = binaryArgs('mishBackward', dy, x, out);
  if (xa.length > 0) current().run(Op.Backward, xa, dya, oa);
  return oa as T;
}

/** mish′(x). */
export function mishDerivative<T extends FloatArray>(x: T, out?: T): T {
  const [xa, oa] = unaryArgs('mishDerivative', x, out);
  if (xa.length > 0) current().run(Op.Derivative, xa, null, oa);
  return oa as T;
}

/** mish″(x). */
export function mishSecondDerivative<T extends FloatArray>(x: T, out?: T): T {
  const [xa, oa] = unaryArgs('mishSecondDerivative', x, out);
  if (xa.length > 0) current().run(Op.Second, xa, null, oa);
  return oa as T;
}

/**
 * mish(x) computed off the main thread (native backend). x and out stay referenced until the
 * promise settles. Invalid arguments reject the promise.
 */
export function mishAsync<T extends FloatArray>(x: T, out?: T): Promise<T> {
  try {
    const [xa, oa] = unaryArgs('mishAsync', x, out);
    if (xa.length === 0) return Promise.resolve(oa as T);
    return current()
      .runAsync(Op.Forward, xa, null, oa)
      .then(() => oa as T);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** mishBackward computed off the main thread (native backend). */
export function mishBackwardAsync<T extends FloatArray>(dy: T, x: T, out?: T): Promise<T> {
  try {
    const [dya, xa, oa] = binaryArgs('mishBackwardAsync', dy, x, out);
    if (xa.length === 0) return Promise.resolve(oa as T);
    return current()
      .runAsync(Op.Backward, xa, dya, oa)
      .then(() => oa as T);
  } catch (e) {
    return Promise.reject(e);
  }
}

// Environment settings, applied once at load. A bad value is an error, not a silent default.
function applyEnv(): void {
  const env = process.env;
  if (env.MISH_BACKEND !== undefined && env.MISH_BACKEND !== '') {
    setBackend(oneOf('MISH_BACKEND', 'the value', env.MISH_BACKEND, BACKENDS));
  }
  if (env.MISH_THREADS !== undefined && env.MISH_THREADS !== '') {
    const n = Number(env.MISH_THREADS);
    setThreads(
      count('MISH_THREADS', 'the value', Number.isFinite(n) ? n : env.MISH_THREADS, MAX_THREADS),
    );
  }
  if (env.MISH_ISA !== undefined && env.MISH_ISA !== '') {
    setIsa(oneOf('MISH_ISA', 'the value', env.MISH_ISA, ISAS));
  }
  if (!addon && choice !== 'js') {
    process.emitWarning(
      'mish-native: the native addon did not load; using the pure-TypeScript path ' +
        '(correct, 20-90x slower). Set NODE_DEBUG=mish for details.',
      { code: 'MISH_NATIVE_UNAVAILABLE', detail: loaded.errors.join('\n') },
    );
  }
}

applyEnv();
