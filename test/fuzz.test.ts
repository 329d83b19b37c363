// Every exported function called with random argument lists: wrong types and counts, huge,
// negative and non-integral numbers, proxies, getters that throw, detached and resizable
// buffers, SharedArrayBuffer views, frozen objects, mismatched arrays. The process must never
// crash (a crash fails this file), and every rejection must be a TypeError or RangeError (or
// the documented MISH_CUDA_UNAVAILABLE Error of a GPU call without a GPU).
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';

import * as lib from '../lib/index';
import { reset } from './helpers/backends';

afterAll(reset);

function detached(): Float32Array {
  const a = new Float32Array(8);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

function resizable(): Float32Array {
  const Ctor = ArrayBuffer as unknown as new (
    n: number,
    o: { maxByteLength: number },
  ) => ArrayBuffer;
  return new Float32Array(new Ctor(32, { maxByteLength: 64 }));
}

// Values a caller might pass by mistake or on purpose. Functions build fresh ones per call.
const values: (() => unknown)[] = [
  () => undefined,
  () => null,
  () => 0,
  () => -1,
  () => 1.5,
  () => NaN,
  () => Infinity,
  () => 2 ** 53,
  () => 1e300,
  () => 4,
  () => 'float32',
  () => 'avx512',
  () => 'js',
  () => 'cuda',
  () => '',
  () => Symbol('s'),
  () => 10n,
  () => ({}),
  () => [],
  () => [1, 2, 3],
  () => () => 1,
  () => new Float32Array(4),
  () => new Float64Array(4),
  () => new Float32Array(5),
  () => new Float32Array(0),
  () => new Int32Array(4),
  () => new Uint16Array(4),
  () => new Uint8Array(16),
  () => new DataView(new ArrayBuffer(16)),
  () => new ArrayBuffer(16),
  () => Buffer.alloc(16),
  () => new Float32Array(new SharedArrayBuffer(16)),
  () => Object.freeze(new Float32Array(0)),
  () => detached(),
  () => resizable(),
  () => new Proxy(new Float32Array(4), {}),
  () => Object.create(Float32Array.prototype),
  () =>
    Object.defineProperty({}, 'length', {
      get() {
        throw new Error('getter that throws');
      },
    }),
  () => {
    const a = new Float32Array(8);
    return a.subarray(2, 6);
  },
  () => ({ dtype: 'float16' }),
  () => ({ dtype: 'int8' }),
];

type Fn = (...a: unknown[]) => unknown;
const functions: [string, Fn][] = [
  ['mish', lib.mish as Fn],
  ['mishBackward', lib.mishBackward as Fn],
  ['mishDerivative', lib.mishDerivative as Fn],
  ['mishSecondDerivative', lib.mishSecondDerivative as Fn],
  ['mishAsync', lib.mishAsync as Fn],
  ['mishBackwardAsync', lib.mishBackwardAsync as Fn],
  ['setBackend', lib.setBackend as Fn],
  ['setThreads', lib.setThreads as Fn],
  ['setIsa', lib.setIsa as Fn],
  ['info', lib.info as Fn],
  ['cuda.toDevice', lib.cuda.toDevice as Fn],
  ['cuda.empty', lib.cuda.empty as Fn],
  ['cuda.memInfo', lib.cuda.memInfo as Fn],
];

function acceptable(e: unknown): boolean {
  if (e instanceof TypeError || e instanceof RangeError) return true;
  return e instanceof Error && (e as { code?: string }).code === 'MISH_CUDA_UNAVAILABLE';
}

it('random calls of every export: no crash, only TypeError / RangeError', async () => {
  const bad: string[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...functions),
      fc.array(fc.nat(values.length - 1), { maxLength: 5 }),
      async ([name, fn], picks) => {
        const args = picks.map((i) => values[i]());
        // A valid thread count above the cores would grow the pool for the rest of the file.
        if (name === 'setThreads' && typeof args[0] === 'number' && args[0] > 8) return;
        try {
          const r = fn(...args);
          if (r instanceof Promise) await r;
        } catch (e) {
          if (!acceptable(e) && bad.length < 10) {
            bad.push(`${name}(${args.map((a) => String(a)).join(', ')}): ${String(e)}`);
          }
        } finally {
          reset();
          lib.setThreads(0);
        }
      },
    ),
    { numRuns: 3000, seed: 5 },
  );
  expect(bad).toEqual([]);
}, 60000);
