// Self-test of the golden reference data (test/golden/*.json) and of test/helpers/golden.ts.
import { describe, it, expect } from 'vitest';
import { loadGolden, ulp, ulpError, checkAgainst, type Dtype, type FnName } from './helpers/golden';

const DTYPES: readonly Dtype[] = ['float32', 'float64'];
const FNS: readonly FnName[] = ['forward', 'derivative', 'second'];
const EPS = 2 ** -52;

// Plain double-precision Mish pieces (no cancellation in g or 1 − g²):
//   A = eˣ(eˣ + 2), g = tanh(log1p(eˣ)) = A/(A + 2),
//   1 − g² = 4(A + 1)/(A + 2)², σ = eˣ/(1 + eˣ)
// Only used where they are trustworthy (moderate |x|).
function parts(x: number) {
  const e = Math.exp(x);
  const A = e * (e + 2);
  const g = A / (A + 2);
  const omg2 = (4 * (A + 1)) / ((A + 2) * (A + 2));
  const s = e / (1 + e);
  const oms = 1 / (1 + e);
  return { g, omg2, s, oms };
}
/** value and a magnitude bound of the terms it is built from (for cancellation-aware slack) */
function ref(fn: FnName, x: number): { v: number; scale: number } {
  const { g, omg2, s, oms } = parts(x);
  if (fn === 'forward') {
    const v = x * Math.tanh(Math.log1p(Math.exp(x)));
    return { v, scale: Math.abs(v) };
  }
  if (fn === 'derivative') {
    const t = x * s * omg2;
    return { v: g + t, scale: Math.abs(g) + Math.abs(t) };
  }
  const inner = x * (oms - 2 * g * s);
  return { v: omg2 * s * (2 + inner), scale: omg2 * s * (2 + Math.abs(x) * (oms + 2 * g * s)) };
}

function isNegZero(v: number): boolean {
  return v === 0 && Object.is(v, -0);
}

describe.each(DTYPES)('golden data %s', (dtype) => {
  const g = loadGolden(dtype);
  const n = g.x.length;
  const toDtype = dtype === 'float32' ? Math.fround : (v: number) => v;

  it('has consistent sizes and a realistic number of points', () => {
    expect(n).toBeGreaterThan(8000);
    expect(g.dtype).toBe(dtype);
    expect(g.x).toBeInstanceOf(dtype === 'float32' ? Float32Array : Float64Array);
    for (const fn of FNS) {
      expect(g.fns[fn].round.length).toBe(n);
      expect(g.fns[fn].err.length).toBe(n);
    }
  });

  it('inputs are sorted ascending, unique, −0 before +0, NaN once at the end', () => {
    expect(Number.isNaN(g.x[n - 1]!)).toBe(true);
    for (let i = 1; i < n - 1; i++) {
      const a = g.x[i - 1]!;
      const b = g.x[i]!;
      const ok = a < b || (a === 0 && b === 0 && isNegZero(a) && !isNegZero(b));
      if (!ok) throw new Error(`not strictly ascending at ${i}: ${a}, ${b}`);
    }
    for (const v of [0, -0, Infinity, -Infinity, 1, -1]) {
      expect(g.x.findIndex((y) => Object.is(y, v))).toBeGreaterThanOrEqual(0);
    }
  });

  it('has the special values and limits', () => {
    const at = (v: number) => g.x.findIndex((y) => Object.is(y, v));
    const F = g.fns.forward.round;
    const D = g.fns.derivative.round;
    const S = g.fns.second.round;
    const iz = at(0);
    const inz = at(-0);
    expect(Object.is(F[iz], 0)).toBe(true);
    expect(Object.is(F[inz], -0)).toBe(true);
    expect(D[iz]).toBe(toDtype(0.6));
    expect(D[inz]).toBe(toDtype(0.6));
    expect(S[iz]).toBe(toDtype(0.64));
    expect(S[inz]).toBe(toDtype(0.64));
    const ip = at(Infinity);
    const im = at(-Infinity);
    expect(F[ip]).toBe(Infinity);
    expect(D[ip]).toBe(1);
    expect(Object.is(S[ip], -0)).toBe(true); // f″ → 0⁻ as x → +∞
    expect(Object.is(F[im], -0)).toBe(true);
    expect(D[im] === 0).toBe(true); // f′ → 0⁻ (stored as −0; either sign is acceptable)
    expect(Object.is(S[im], -0)).toBe(true);
    for (const fn of FNS) {
      expect(Number.isNaN(g.fns[fn].round[n - 1]!)).toBe(true);
      expect(g.fns[fn].err[n - 1]).toBe(0);
    }
  });

  it('err is within half an ULP of round, and 0 for non-finite results', () => {
    for (const fn of FNS) {
      const { round, err } = g.fns[fn];
      for (let i = 0; i < n; i++) {
        const r = round[i]!;
        const e = err[i]!;
        if (!Number.isFinite(r)) {
          expect(e).toBe(0);
          continue;
        }
        if (!(Math.abs(e) <= 0.5 * ulp(r, dtype))) {
          throw new Error(`${fn}: |err| ${e} > ulp/2 at x=${g.x[i]} (round ${r})`);
        }
      }
    }
  });

  it('round values are representable in the dtype', () => {
    for (const fn of FNS) {
      for (const r of g.fns[fn].round) {
        if (!Number.isNaN(r)) expect(toDtype(r)).toBe(r);
      }
    }
  });

  it('agrees with plain double-precision Math on [−5, 5]', () => {
    let checked = 0;
    for (const fn of FNS) {
      const { round, err } = g.fns[fn];
      for (let i = 0; i < n; i++) {
        const x = g.x[i]!;
        if (!(Math.abs(x) <= 5)) continue;
        const { v, scale } = ref(fn, x);
        const r = round[i]!;
        const e = err[i]!;
        const dist = Math.abs(v - r - e); // |double value − exact|
        if (dtype === 'float64') {
          // f has no cancellation: a few ULP. f′, f″ cancel near their zeros:
          // relative to the terms.
          const ok = fn === 'forward' ? ulpError(v, r, e, dtype) <= 4 : dist <= 32 * EPS * scale;
          if (!ok) throw new Error(`${fn}(${x}): double ${v}, golden ${r} + ${e}`);
        } else {
          // The double is far more accurate than float32, so |double − exact| must be within
          // half a float32 ULP of round (i.e. round is the correctly rounded value), up to the
          // double's own error.
          const bound = 0.5 * ulp(r, dtype) + 32 * EPS * Math.max(scale, Math.abs(x));
          if (!(dist <= bound)) {
            throw new Error(
              `${fn}(${x}): double ${v} is ${dist} from exact ${r} + ${e}, bound ${bound}`,
            );
          }
          // and the double rounded to float32 matches round except possibly at near-ties
          const f = Math.fround(v);
          if (f !== r)
            expect(Math.abs(Math.abs(v - f) - Math.abs(v - r))).toBeLessThan(
              1e-6 * ulp(r, dtype) + 64 * EPS * scale,
            );
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3 * 1000);
  });

  it('f = x·g with g ≈ 1 for large x, f ≈ x·eˣ·(2+eˣ)/(…) far left, signs right', () => {
    const F = g.fns.forward.round;
    const D = g.fns.derivative.round;
    const S = g.fns.second.round;
    for (let i = 0; i < n; i++) {
      const x = g.x[i]!;
      if (Number.isNaN(x) || x === 0) continue;
      // sign of f is the sign of x (−0 where it underflows below zero)
      if (x < 0) expect(F[i]! < 0 || isNegZero(F[i]!)).toBe(true);
      else expect(F[i]! > 0).toBe(true);
      if (Number.isFinite(x) && x >= 30) {
        // x·(1 − 2e^(−2x)): below half an ULP for x ≥ 30 in both dtypes
        expect(F[i]).toBe(x);
      }
      if (x > 10) expect(D[i]! >= 1).toBe(true);
      if (x > 1.5) expect(S[i]! < 0 || isNegZero(S[i]!)).toBe(true);
      if (x < -2.3) {
        expect(D[i]! < 0 || isNegZero(D[i]!)).toBe(true);
        expect(S[i]! < 0 || isNegZero(S[i]!)).toBe(true);
      }
    }
  });

  it('checkAgainst accepts the golden values themselves and flags perturbations', () => {
    for (const fn of FNS) {
      const { round } = g.fns[fn];
      const exact = checkAgainst(fn, g, round, { ulps: 0.5 });
      expect(exact.violations).toEqual([]);
      expect(exact.worst).toBeNull();
      expect(exact.maxUlps).toBeLessThanOrEqual(0.5);

      const bad = Float64Array.from(round);
      const k = g.x.findIndex((y) => y === 1);
      bad[k] = round[k]! + 3 * ulp(round[k]!, dtype);
      const r1 = checkAgainst(fn, g, bad, { ulps: 1 });
      expect(r1.violations.map((v) => v.index)).toEqual([k]);
      expect(r1.worst?.index).toBe(k);
      expect(r1.worst?.x).toBe(1);
      expect(r1.worst?.ulps).toBeGreaterThanOrEqual(2.5);
      expect(r1.worst?.ulps).toBeLessThanOrEqual(3.5);
      expect(r1.maxUlps).toBe(r1.worst?.ulps);
      expect(checkAgainst(fn, g, bad, { ulps: 4 }).violations).toEqual([]);
      expect(
        checkAgainst(fn, g, bad, { ulps: 1, abs: (x) => (x === 1 ? 1e-3 : 0) }).violations,
      ).toEqual([]);

      bad[k] = NaN;
      const r2 = checkAgainst(fn, g, bad, { ulps: 1, abs: () => 1 });
      expect(r2.violations.length).toBe(1);
      expect(r2.worst?.ulps).toBe(Infinity);
      expect(r2.maxUlps).toBe(Infinity);
    }
    expect(() => checkAgainst('forward', g, new Float64Array(3), { ulps: 1 })).toThrow();
  });
});

describe('ulp', () => {
  it('float64', () => {
    expect(ulp(1, 'float64')).toBe(2 ** -52);
    expect(ulp(1.5, 'float64')).toBe(2 ** -52);
    expect(ulp(-3, 'float64')).toBe(2 ** -51);
    expect(ulp(2 - 2 ** -52, 'float64')).toBe(2 ** -52);
    expect(ulp(0, 'float64')).toBe(5e-324);
    expect(ulp(-0, 'float64')).toBe(5e-324);
    expect(ulp(5e-324, 'float64')).toBe(5e-324);
    expect(ulp(2 ** -1022, 'float64')).toBe(5e-324);
    expect(ulp(2 ** -1000, 'float64')).toBe(2 ** -1052);
    expect(ulp(Number.MAX_VALUE, 'float64')).toBe(2 ** 971);
    expect(ulp(Infinity, 'float64')).toBe(Infinity);
    expect(ulp(NaN, 'float64')).toBeNaN();
  });
  it('float32', () => {
    expect(ulp(1, 'float32')).toBe(2 ** -23);
    expect(ulp(Math.fround(0.1), 'float32')).toBe(2 ** -27);
    expect(ulp(-8, 'float32')).toBe(2 ** -20);
    expect(ulp(0, 'float32')).toBe(2 ** -149);
    expect(ulp(2 ** -149, 'float32')).toBe(2 ** -149);
    expect(ulp(2 ** -126, 'float32')).toBe(2 ** -149);
    expect(ulp(2 ** -125, 'float32')).toBe(2 ** -148);
    expect(ulp(1e-300, 'float32')).toBe(2 ** -149);
    expect(ulp(Math.fround(3.4028234663852886e38), 'float32')).toBe(2 ** 104);
  });
});

describe('ulpError', () => {
  it('measures finite errors against round + err', () => {
    expect(ulpError(1 + 2 ** -52, 1, 0, 'float64')).toBe(1);
    expect(ulpError(1, 1, 2 ** -53, 'float64')).toBe(0.5);
    expect(ulpError(1 + 2 ** -52, 1, 2 ** -53, 'float64')).toBe(0.5);
    expect(ulpError(1 - 2 ** -53, 1, 0, 'float64')).toBe(0.5);
    expect(ulpError(1 + 2 ** -23, 1, -(2 ** -30), 'float32')).toBeCloseTo(1 + 2 ** -7, 12);
    expect(ulpError(Math.fround(1.1), Math.fround(1.1), 0, 'float32')).toBe(0);
    expect(ulpError(2 ** -148, 2 ** -149, 0, 'float32')).toBe(1);
    expect(ulpError(0, 2 ** -149, 0, 'float32')).toBe(1);
    expect(ulpError(1e-300, 0, 0, 'float32')).toBeLessThan(1e-100);
  });
  it('signed zeros are equal', () => {
    expect(ulpError(-0, 0, 0, 'float32')).toBe(0);
    expect(ulpError(0, -0, 0, 'float64')).toBe(0);
  });
  it('non-finite values', () => {
    expect(ulpError(NaN, NaN, 0, 'float64')).toBe(0);
    expect(ulpError(NaN, 1, 0, 'float64')).toBe(Infinity);
    expect(ulpError(1, NaN, 0, 'float64')).toBe(Infinity);
    expect(ulpError(Infinity, Infinity, 0, 'float32')).toBe(0);
    expect(ulpError(-Infinity, -Infinity, 0, 'float32')).toBe(0);
    expect(ulpError(-Infinity, Infinity, 0, 'float32')).toBe(Infinity);
    expect(ulpError(Infinity, 3.4e38, 0, 'float32')).toBe(Infinity);
    expect(ulpError(1, Infinity, 0, 'float64')).toBe(Infinity);
    expect(ulpError(NaN, Infinity, 0, 'float64')).toBe(Infinity);
  });
});
