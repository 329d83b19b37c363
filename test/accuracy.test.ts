// Every backend and kernel against the mpmath reference (test/golden, scripts/make_golden.py)
// and the shared edge cases, under the numerical contract of the README.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { mish, mishBackward, mishDerivative, mishSecondDerivative } from '../lib/index';
import { configs, make, reset } from './helpers/backends';
import { loadGolden, ulpError } from './helpers/golden';
import type { Dtype, FnName, Golden } from './helpers/golden';

// MISH_REPORT=1 npx vitest run test/accuracy.test.ts prints the worst error of each
// configuration (the figures in the README's numerical contract).
const worst: string[] = [];
afterAll(() => {
  reset();
  if (process.env.MISH_REPORT) console.log(['config dtype fn maxUlps at', ...worst].join('\n'));
});

interface Bound {
  ulps: number;
  /** Absolute tolerance near the function's zeros (x in one of the ranges). */
  nearZero?: { abs: number; ranges: [number, number][] };
}

const MIN_NORMAL = { float32: 2 ** -126, float64: 2 ** -1022 };

const contract: Record<Dtype, Record<FnName, Bound>> = {
  float32: {
    forward: { ulps: 4 },
    derivative: { ulps: 4, nearZero: { abs: 2 ** -24, ranges: [[-2, -0.5]] } },
    second: {
      ulps: 16,
      nearZero: {
        abs: 2 ** -22,
        ranges: [
          [-3, -1.5],
          [1, 2],
        ],
      },
    },
  },
  float64: {
    forward: { ulps: 4 },
    derivative: { ulps: 4, nearZero: { abs: 2 ** -53, ranges: [[-2, -0.5]] } },
    second: {
      ulps: 16,
      nearZero: {
        abs: 2 ** -50,
        ranges: [
          [-3, -1.5],
          [1, 2],
        ],
      },
    },
  },
};

interface Report {
  maxUlps: number;
  at: number;
  failures: string[];
}

function check(g: Golden, fn: FnName, out: ArrayLike<number>): Report {
  const bound = contract[g.dtype][fn];
  const { round, err } = g.fns[fn];
  const report: Report = { maxUlps: 0, at: NaN, failures: [] };
  for (let i = 0; i < g.x.length; i++) {
    const x = g.x[i];
    const exact = round[i] + err[i];
    const c = out[i];
    const u = ulpError(c, round[i], err[i], g.dtype);
    const abs = Math.abs(c - exact);
    if (u <= bound.ulps) {
      if (u > report.maxUlps) {
        report.maxUlps = u;
        report.at = x;
      }
      continue;
    }
    // Subnormal results: absolute error up to the smallest normal, sign kept.
    if (Math.abs(exact) < MIN_NORMAL[g.dtype] && abs <= MIN_NORMAL[g.dtype]) {
      if (!(exact < 0) || c < 0 || Object.is(c, -0)) continue;
    }
    const nz = bound.nearZero;
    if (nz && abs <= nz.abs && nz.ranges.some(([a, b]) => x >= a && x <= b)) continue;
    if (report.failures.length < 10) {
      report.failures.push(`x=${x}: got ${c}, want ${round[i]} (${u.toFixed(2)} ulp)`);
    }
  }
  return report;
}

const apply: Record<FnName, (x: Float32Array | Float64Array) => Float32Array | Float64Array> = {
  forward: (x) => mish(x),
  derivative: (x) => mishDerivative(x),
  second: (x) => mishSecondDerivative(x),
};

describe.each(configs)('$name', (config) => {
  describe.each(['float32', 'float64'] as const)('%s', (dtype) => {
    const g = loadGolden(dtype);

    it.each(['forward', 'derivative', 'second'] as const)('%s meets the contract', (fn) => {
      config.use();
      const r = check(g, fn, apply[fn](g.x));
      worst.push(`${config.name} ${dtype} ${fn} ${r.maxUlps.toFixed(3)} ${r.at}`);
      expect(r.failures).toEqual([]);
    });

    it('backward with dy = 1 equals the derivative bit for bit', () => {
      config.use();
      const ones = make(dtype, g.x.length).fill(1);
      expect(mishBackward(ones, g.x)).toEqual(mishDerivative(g.x));
    });

    it('backward with dy != 1 is dy·mish′ within 4.5 ulp', () => {
      config.use();
      const dy = make(dtype, g.x.length);
      for (let i = 0; i < dy.length; i++) dy[i] = ((i % 7) - 3) * 0.37 + 0.01;
      const dx = mishBackward(dy, g.x);
      const { round, err } = g.fns.derivative;
      let worst = 0;
      for (let i = 0; i < dx.length; i++) {
        const exact = dy[i] * (round[i] + err[i]);
        if (
          !Number.isFinite(exact) ||
          Math.abs(exact) < 1e-300 ||
          Math.abs(exact) < MIN_NORMAL[dtype]
        )
          continue;
        const x = g.x[i];
        // Near the zero of mish′: covered by the derivative test.
        if (x >= -2 && x <= -0.5) continue;
        const u = ulpError(dx[i], exact, 0, dtype) - (dtype === 'float64' ? 0.5 : 0);
        worst = Math.max(worst, u);
      }
      expect(worst).toBeLessThanOrEqual(4.5);
    });

    it('mish(x) = x and mish′(x) = 1 exactly where rounding says so, and not before', () => {
      config.use();
      const f = mish(g.x);
      const d = mishDerivative(g.x);
      for (let i = 0; i < g.x.length; i++) {
        const x = g.x[i];
        if (!(x > 1) || !Number.isFinite(x)) continue;
        expect(f[i] === x, `mish(${x})`).toBe(g.fns.forward.round[i] === x);
        expect(d[i] === 1, `mish′(${x})`).toBe(g.fns.derivative.round[i] === 1);
      }
    });
  });

  it('backward keeps infinities and signed zeros of dy', () => {
    config.use();
    for (const dtype of ['float32', 'float64'] as const) {
      // -150 and -800: below the float32 / float64 cut-offs where mish′ is too small for any
      // finite dy to lift the product out of zero; an infinite dy still gives -∞ there.
      const x = make(dtype, [0, 0.25, Infinity, 100, 3, -3, -0.5, -150, -800]);
      const inf = mishBackward(make(dtype, Array(9).fill(Infinity)), x);
      expect(Array.from(inf)).toEqual([
        Infinity,
        Infinity,
        Infinity,
        Infinity,
        Infinity,
        -Infinity,
        Infinity,
        -Infinity,
        -Infinity,
      ]);
      const negZero = mishBackward(make(dtype, Array(9).fill(-0)), x);
      expect(Array.from(negZero, (v) => Object.is(v, -0))).toEqual([
        true,
        true,
        true,
        true,
        true,
        false,
        true,
        false,
        false,
      ]);
    }
  });

  it('backward with a huge dy where mish′ is subnormal is rounded once', () => {
    config.use();
    // dy = 1e30, x = -100 (float32): mish′(x) ≈ -3.68e-42 is subnormal, the product is not.
    const dx = mishBackward(make('float32', [1e30]), make('float32', [-100]));
    const exact = -3.682875271678568e-12; // mpmath: fround(1e30) * mish′(-100)
    expect(ulpError(dx[0], Math.fround(exact), exact - Math.fround(exact), 'float32')).toBeLessThan(
      1,
    );
  });

  it('special values', () => {
    config.use();
    for (const dtype of ['float32', 'float64'] as const) {
      const x = make(dtype, [NaN, Infinity, -Infinity, -0, 0]);
      const f = mish(x);
      expect(f[0]).toBeNaN();
      expect(f[1]).toBe(Infinity);
      expect(Object.is(f[2], -0)).toBe(true);
      expect(Object.is(f[3], -0)).toBe(true);
      expect(Object.is(f[4], 0)).toBe(true);
      const d = mishDerivative(x);
      expect(d[0]).toBeNaN();
      expect(d[1]).toBe(1);
      expect(d[2] === 0, 'mish′(-∞) is a zero of either sign').toBe(true);
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      expect(d[3]).toBe(round(0.6));
      expect(d[4]).toBe(round(0.6));
      const s = mishSecondDerivative(x);
      expect(s[0]).toBeNaN();
      expect(s[1] === 0 && s[2] === 0, 'mish″(±∞) is a zero of either sign').toBe(true);
      expect(s[4]).toBe(round(0.64));
      const dx = mishBackward(make(dtype, [1, 1, 1, 1, 1]), x);
      expect(dx[0]).toBeNaN();
      expect(dx[1]).toBe(1);
    }
  });

  it('the shared edge inputs (where other implementations failed)', () => {
    config.use();
    const path = join(__dirname, '..', '..', 'shared', 'cases', 'edge-inputs.json');
    const rows = JSON.parse(readFileSync(path, 'utf8')) as {
      kind: string;
      dtype: string;
      input: string;
      expected_forward: string;
      expected_grad: string;
    }[];
    const failures: string[] = [];
    let checked = 0;
    for (const dtype of ['float32', 'float64'] as const) {
      const mine = rows.filter((r) => r.dtype === dtype);
      const x = make(
        dtype,
        mine.map((r) => Number(r.input)),
      );
      const f = mish(x);
      const d = mishDerivative(x);
      const want = (s: string) => (dtype === 'float32' ? Math.fround(Number(s)) : Number(s));
      mine.forEach((r, i) => {
        checked++;
        for (const [got, exp, what] of [
          [f[i], want(r.expected_forward), 'forward'],
          [d[i], want(r.expected_grad), 'grad'],
        ] as const) {
          const nearZero =
            what === 'grad' && Math.abs(got - exp) <= (dtype === 'float32' ? 2 ** -24 : 2 ** -53);
          const ok =
            nearZero ||
            (Number.isNaN(exp)
              ? Number.isNaN(got)
              : !Number.isFinite(exp) || exp === 0
                ? Object.is(got, exp) || (exp === 0 && got === 0 && what === 'grad')
                : ulpError(got, exp, 0, dtype) <= 4.5 ||
                  (Math.abs(exp) < MIN_NORMAL[dtype] && Math.abs(got - exp) <= MIN_NORMAL[dtype]));
          if (!ok) failures.push(`${r.kind} ${dtype} ${what}(${r.input}): got ${got}, want ${exp}`);
        }
      });
    }
    expect(checked).toBeGreaterThan(100);
    expect(failures).toEqual([]);
  });
});
