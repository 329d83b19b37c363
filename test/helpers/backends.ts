// The configurations every numerical test runs under: the pure-TypeScript path and each
// native kernel this CPU can run.
import { info, setBackend, setIsa } from '../../lib/index';
import type { Isa } from '../../lib/index';
import { emulatedCuda, override } from '../../lib/testing';

export interface Config {
  name: string;
  use(): void;
}

export const nativeIsas: Isa[] = info().isas;

export const configs: Config[] = [
  { name: 'js', use: () => setBackend('js') },
  ...nativeIsas.map((isa) => ({
    name: `cpu/${isa}`,
    use: () => {
      setBackend('cpu');
      setIsa(isa);
    },
  })),
  // The CUDA device formulas compiled for the host, where the GPU part is built.
  ...(info().cuda.compiled
    ? [{ name: 'cuda/emulated', use: () => void (override.backend = emulatedCuda) }]
    : []),
];

export function reset(): void {
  override.backend = null;
  setBackend('auto');
  if (nativeIsas.length > 0) setIsa('auto');
}

export const dtypes = ['float32', 'float64'] as const;
export type DtypeName = (typeof dtypes)[number];

export function make(dtype: DtypeName, n: number | ArrayLike<number>): Float32Array | Float64Array {
  if (typeof n === 'number') return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  return dtype === 'float32' ? Float32Array.from(n) : Float64Array.from(n);
}

/** Deterministic values spread over [-lo, hi] with some specials mixed in. */
export function sample(dtype: DtypeName, n: number, seed = 1): Float32Array | Float64Array {
  const a = make(dtype, n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = (s / 4294967296) * 60 - 40;
  }
  return a;
}

/** Bitwise equality of two arrays, fast for millions of elements (toEqual is not). */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) return `[${i}]: ${a[i]} vs ${b[i]}`;
  }
  return null;
}
