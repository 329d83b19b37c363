// Property tests (fast-check): for random arrays, dtypes, lengths, offsets and in-place
// choices, every backend agrees with the scalar kernel within the contract, never writes
// outside out, and leaves x and dy unchanged unless they are out.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import {
  mish,
  mishBackward,
  mishDerivative,
  mishSecondDerivative,
  setBackend,
  setIsa,
} from '../lib/index';
import { configs, nativeIsas, reset } from './helpers/backends';
import type { DtypeName } from './helpers/backends';
import { ulpError } from './helpers/golden';

afterAll(reset);

type Fn = 'mish' | 'mishBackward' | 'mishDerivative' | 'mishSecondDerivative';
const FNS: Fn[] = ['mish', 'mishBackward', 'mishDerivative', 'mishSecondDerivative'];
type F = Float32Array | Float64Array;

function call(fn: Fn, x: F, dy: F, out: F): F {
  if (fn === 'mish') return mish(x, out);
  if (fn === 'mishBackward') return mishBackward(dy, x, out);
  if (fn === 'mishDerivative') return mishDerivative(x, out);
  return mishSecondDerivative(x, out);
}

const GUARD = 7;
const SENTINEL = -12345.5;

interface Case {
  dtype: DtypeName;
  fn: Fn;
  values: number[];
  scale: number;
  offsets: [number, number, number];
  inPlace: 'none' | 'x' | 'dy';
}

// One random case: values (anything, specials included), where x, dy and out sit in their
// buffers, and which of them are the same memory.
const caseArb: fc.Arbitrary<Case> = fc.record({
  dtype: fc.constantFrom<DtypeName>('float32', 'float64'),
  fn: fc.constantFrom(...FNS),
  values: fc.array(fc.double({ noDefaultInfinity: false, noNaN: false }), { maxLength: 300 }),
  scale: fc.constantFrom(1, 1e-3, 30, 1e30),
  offsets: fc.tuple(fc.nat(5), fc.nat(5), fc.nat(5)),
  inPlace: fc.constantFrom<'none' | 'x' | 'dy'>('none', 'x', 'dy'),
});

function build(c: Case) {
  const Ctor = c.dtype === 'float32' ? Float32Array : Float64Array;
  const n = c.values.length;
  const place = (offset: number, fill: (i: number) => number) => {
    const backing = new Ctor(n + offset + 2 * GUARD).fill(SENTINEL);
    const view = backing.subarray(GUARD + offset, GUARD + offset + n) as F;
    for (let i = 0; i < n; i++) view[i] = fill(i);
    return { backing, view };
  };
  const x = place(c.offsets[0], (i) => c.values[i] * c.scale);
  const dy = place(c.offsets[1], (i) => c.values[(i * 7 + 3) % n] ?? 1);
  const out =
    c.inPlace === 'x'
      ? x
      : c.inPlace === 'dy' && c.fn === 'mishBackward'
        ? dy
        : place(c.offsets[2], () => 0);
  return { x, dy, out };
}

function reference(c: Case): F {
  const { x, dy } = build(c);
  if (nativeIsas.length > 0) {
    setBackend('cpu');
    setIsa('scalar');
  } else {
    setBackend('js');
  }
  const r = call(
    c.fn,
    x.view,
    dy.view,
    new (x.view.constructor as Float64ArrayConstructor)(x.view.length) as F,
  );
  reset();
  return r;
}

function close(got: number, want: number, dtype: DtypeName, fn: Fn, dy: number): boolean {
  if (Object.is(got, want) || (got !== got && want !== want)) return true;
  if (!Number.isFinite(want) || !Number.isFinite(got)) return false;
  const abs = Math.abs(got - want);
  // Next to the zeros of mish′ and mish″ (for backward scaled by dy) and for subnormal
  // results, the contract's absolute bounds; the scalar kernel is itself within 0.5 ulp
  // (float32) / 2.9 ulp (float64) of the truth, so 8 ulp between the two is the 4-ulp contract.
  const tiny = dtype === 'float32' ? 2 ** -22 : 2 ** -50;
  const scale = fn === 'mishBackward' ? Math.abs(dy) : 1;
  if (Math.abs(want) <= 0.05 * scale && abs <= tiny * scale) return true;
  return ulpError(got, want, 0, dtype) <= (fn === 'mishSecondDerivative' ? 24 : 8);
}

describe.each(configs)('$name', (config) => {
  it('agrees with the scalar kernel, writes only out, keeps its inputs', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const want = reference(c);
        const { x, dy, out } = build(c);
        const dyValues = dy.view.slice();
        const x0 = x.backing.slice();
        const dy0 = dy.backing.slice();
        config.use();
        const r = call(c.fn, x.view, dy.view, out.view);
        reset();
        if (r !== out.view) return false;
        for (let i = 0; i < want.length; i++) {
          if (!close(r[i], want[i], c.dtype, c.fn, dyValues[i])) {
            throw new Error(`${c.fn}[${i}]: got ${r[i]}, want ${want[i]}`);
          }
        }
        // x and dy (and their guard bands) unchanged unless they are out; out's guard bands
        // untouched.
        if (out.backing !== x.backing) expect(x.backing).toEqual(x0);
        if (out.backing !== dy.backing) expect(dy.backing).toEqual(dy0);
        const ob = out.backing;
        const start = out.view.byteOffset / out.view.BYTES_PER_ELEMENT;
        for (let i = 0; i < ob.length; i++) {
          if (i >= start && i < start + c.values.length) continue;
          if (ob[i] !== SENTINEL) throw new Error(`wrote outside out at ${i - start}`);
        }
        return true;
      }),
      { numRuns: 150, seed: 20261204 },
    );
  });
});
