// Shapes, memory and agreement between backends: every length around the vector widths, in
// place, offset views, Node Buffer pool memory, SharedArrayBuffer, and no write outside out.
import { afterAll, describe, expect, it } from 'vitest';

import {
  info,
  mish,
  mishBackward,
  mishDerivative,
  mishSecondDerivative,
  setBackend,
  setIsa,
} from '../lib/index';
import { configs, firstDifference, make, nativeIsas, reset, sample } from './helpers/backends';
import type { DtypeName } from './helpers/backends';
import { ulpError } from './helpers/golden';

afterAll(reset);

// Around the vector widths (4, 8, 16) and the unrolled steps (16, 32, 64 elements).
const LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 129, 1000, 2 ** 20 + 3];

type Unary = (
  x: Float32Array | Float64Array,
  out?: Float32Array | Float64Array,
) => Float32Array | Float64Array;
const unary: [string, Unary][] = [
  ['mish', mish],
  ['mishDerivative', mishDerivative],
  ['mishSecondDerivative', mishSecondDerivative],
];

/** The scalar kernel's results (or the js path's without the addon): the reference here. */
function reference(
  fn: Unary | 'backward',
  dtype: DtypeName,
  x: Float32Array | Float64Array,
  dy?: Float32Array | Float64Array,
) {
  if (nativeIsas.length > 0) {
    setBackend('cpu');
    setIsa('scalar');
  } else {
    setBackend('js');
  }
  const out = fn === 'backward' ? mishBackward(dy!, x) : fn(x);
  reset();
  return out;
}

/** Backends agree with the reference within the contract (4 ulp each side, or tiny absolute). */
function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  dtype: DtypeName,
  ulps: number,
) {
  expect(got.length).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    if (got[i] === want[i] || (got[i] !== got[i] && want[i] !== want[i])) continue;
    const e = ulpError(got[i], want[i], 0, dtype);
    const abs = Math.abs(got[i] - want[i]);
    if (e > ulps && abs > (dtype === 'float32' ? 2 ** -22 : 2 ** -50)) {
      if (bad.length < 5) bad.push(`[${i}] got ${got[i]}, want ${want[i]}`);
    }
  }
  expect(bad).toEqual([]);
}

describe.each(configs)('$name', (config) => {
  describe.each(['float32', 'float64'] as const)('%s', (dtype) => {
    it.each(LENGTHS)('length %i: every op agrees with the reference, in place too', (n) => {
      const x = sample(dtype, n, n + 7);
      const dy = sample(dtype, n, n + 11);
      const refs = unary.map(([, fn]) => reference(fn, dtype, x));
      const refBack = reference('backward', dtype, x, dy);

      config.use();
      unary.forEach(([, fn], k) => {
        const out = fn(x);
        expect(out).toBeInstanceOf(x.constructor);
        expectClose(out, refs[k], dtype, 8);
        const inPlace = x.slice();
        expect(fn(inPlace, inPlace)).toBe(inPlace);
        expect(firstDifference(inPlace, out)).toBeNull();
      });
      const dx = mishBackward(dy, x);
      expectClose(dx, refBack, dtype, 8);
      const dyCopy = dy.slice();
      expect(firstDifference(mishBackward(dyCopy, x, dyCopy), dx)).toBeNull();
      const xCopy = x.slice();
      expect(firstDifference(mishBackward(dy, xCopy, xCopy), dx)).toBeNull();
    });

    it('never writes outside out, never changes x or dy', () => {
      config.use();
      for (const n of [1, 5, 8, 13, 16, 29, 64, 100, 70001]) {
        for (const offset of [0, 1, 3, 7]) {
          const bytes = dtype === 'float32' ? 4 : 8;
          const pad = 32;
          const backing = make(dtype, n + 2 * pad + offset).fill(12345);
          const out = new (backing.constructor as Float32ArrayConstructor)(
            backing.buffer,
            (pad + offset) * bytes,
            n,
          ) as unknown as Float32Array | Float64Array;
          const x = sample(dtype, n, n);
          const dy = sample(dtype, n, n + 1);
          const x0 = x.slice();
          const dy0 = dy.slice();
          mish(x, out);
          mishBackward(dy, x, out);
          const outside = [
            ...backing.subarray(0, pad + offset),
            ...backing.subarray(pad + offset + n),
          ];
          expect(outside.every((v) => v === 12345)).toBe(true);
          expect(firstDifference(x, x0)).toBeNull();
          expect(firstDifference(dy, dy0)).toBeNull();
        }
      }
    });

    it('views with a byteOffset, Node Buffer pool memory and SharedArrayBuffer', () => {
      const n = 1003;
      const x = sample(dtype, n, 99);
      const want = reference(mish, dtype, x);
      config.use();
      const bytes = dtype === 'float32' ? 4 : 8;
      const Ctor = (dtype === 'float32' ? Float32Array : Float64Array) as unknown as new (
        b: ArrayBufferLike,
        o: number,
        n: number,
      ) => Float32Array | Float64Array;

      const big = new ArrayBuffer((n + 5) * bytes);
      const view = new Ctor(big, 5 * bytes, n);
      view.set(x);
      expectClose(mish(view, view), want, dtype, 8);

      // Buffer.allocUnsafe shares a pool: views start at arbitrary 8-byte-aligned offsets.
      Buffer.allocUnsafe(24);
      const pooled = Buffer.allocUnsafe(n * bytes);
      const pv = new Ctor(pooled.buffer, pooled.byteOffset, n);
      pv.set(x);
      expectClose(mish(pv), want, dtype, 8);

      const sab = new SharedArrayBuffer(n * bytes);
      const sv = new Ctor(sab, 0, n);
      sv.set(x);
      const so = new Ctor(new SharedArrayBuffer(n * bytes), 0, n);
      expect(mish(sv, so)).toBe(so);
      expectClose(so, want, dtype, 8);
    });
  });
});

describe('native choice', () => {
  it('the addon loaded and picked the newest kernel this CPU has', () => {
    reset();
    const i = info();
    expect(i.nativeError).toBeNull();
    expect(i.backend).toBe('cpu');
    expect(i.isas[0]).toBe('scalar');
    expect(i.isa).toBe(i.isas[i.isas.length - 1]);
  });

  it('results do not depend on the thread count', async () => {
    const { setThreads } = await import('../lib/index');
    const x = sample('float32', 2 ** 20 + 3, 5);
    reset();
    setThreads(1);
    const one = mish(x);
    setThreads(0);
    const all = mish(x);
    setThreads(2);
    const two = mishBackward(x, x);
    setThreads(1);
    expect(firstDifference(mishBackward(x, x), two)).toBeNull();
    setThreads(0);
    expect(firstDifference(all, one)).toBeNull();
  });
});

// Outputs of 48 MiB and more are written with non-temporal stores after a masked head step
// that aligns out (native/kernels.h kStreamMinBytes). Each ISA's result there must be the
// one its plain path gives piecewise, at every alignment of out, in place too, and nothing
// next to out may change.
describe.each(nativeIsas.filter((isa) => isa !== 'scalar'))('streaming stores, cpu/%s', (isa) => {
  it.each(['float32', 'float64'] as const)('%s: same values as the plain path', (dtype) => {
    const bytes = dtype === 'float32' ? 4 : 8;
    const n = (48 * 2 ** 20) / bytes + 37;
    const x = sample(dtype, n, 3);
    const dy = sample(dtype, n, 4);
    setBackend('cpu');
    setIsa(isa);
    // The plain path: pieces well under the cutoff.
    const piece = 2 ** 20;
    const wantF = make(dtype, n);
    const wantB = make(dtype, n);
    for (let i = 0; i < n; i += piece) {
      mish(x.subarray(i, i + piece), wantF.subarray(i, i + piece));
      mishBackward(
        dy.subarray(i, i + piece),
        x.subarray(i, i + piece),
        wantB.subarray(i, i + piece),
      );
    }
    const pad = 16;
    for (const offset of [0, 1, 5]) {
      const backing = make(dtype, n + 2 * pad).fill(777);
      const out = backing.subarray(pad + offset, pad + offset + n);
      expect(mish(x, out)).toBe(out);
      expect(firstDifference(out, wantF)).toBeNull();
      expect(mishBackward(dy, x, out)).toBe(out);
      expect(firstDifference(out, wantB)).toBeNull();
      const around = [...backing.subarray(0, pad + offset), ...backing.subarray(pad + offset + n)];
      expect(around.every((v) => v === 777)).toBe(true);
      out.set(x);
      mish(out, out);
      expect(firstDifference(out, wantF)).toBeNull();
    }
    reset();
  });
});
