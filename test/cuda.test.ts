// The CUDA backend where no GPU is usable (this machine and CI): the library loads, says why,
// refuses GPU calls clearly and keeps computing on the CPU. Where the GPU part is built, the
// device formulas compiled for the host run through every accuracy and shape test as the
// config "cuda/emulated" (test/helpers/backends.ts), and here, exhaustively, for float16 and
// bfloat16. test/cuda-gpu.test.ts runs on a machine with a GPU.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { cuda, info, mish, setBackend, DeviceArray } from '../lib/index';
import { emulate } from '../lib/cuda';
import type { DeviceDtype } from '../lib/cuda';
import { derivative, forward, secondDerivative } from '../lib/math';
import { Op } from '../lib/types';
import { reset } from './helpers/backends';

const gpu = info().cuda.available;

describe.skipIf(gpu)('without a usable GPU', () => {
  it('info().cuda says so, in words', () => {
    const c = info().cuda;
    expect(c.available).toBe(false);
    expect(typeof c.reason).toBe('string');
    expect(c.reason!.length).toBeGreaterThan(10);
    expect(c.devices).toEqual([]);
    expect(cuda.info()).toEqual(c);
  });

  it('GPU calls are refused with the reason; the CPU path keeps working', () => {
    const reason = info().cuda.reason!;
    for (const call of [
      () => cuda.toDevice(new Float32Array(4)),
      () => cuda.empty(4),
      () => cuda.memInfo(),
      () => setBackend('cuda'),
    ]) {
      expect(call).toThrow(reason);
      try {
        call();
      } catch (e) {
        expect((e as { code?: string }).code).toBe('MISH_CUDA_UNAVAILABLE');
      }
    }
    reset();
    const x = new Float32Array(2 ** 21).fill(1);
    expect(Math.abs(mish(x)[2 ** 21 - 1] - forward(1))).toBeLessThan(2 ** -22);
    expect(info().backend).not.toBe('cuda');
  });
});

describe('cuda API arguments', () => {
  it('bad arguments are TypeErrors or RangeErrors naming them, GPU or not', () => {
    expect(() => cuda.toDevice([1, 2] as unknown as Float32Array)).toThrow(
      /cuda.toDevice: the array must be a Float32Array, Float64Array or Uint16Array .*an Array/,
    );
    expect(() => cuda.toDevice(new Uint16Array(2))).toThrow(
      /needs options.dtype 'float16' or 'bfloat16'/,
    );
    expect(() => cuda.toDevice(new Float32Array(2), { dtype: 'float16' })).toThrow(TypeError);
    expect(() =>
      cuda.toDevice(new Float32Array(2), { dtype: 'int8' as unknown as DeviceDtype }),
    ).toThrow(/options.dtype must be one of float32, float64, float16, bfloat16/);
    expect(() => cuda.empty(-1)).toThrow(RangeError);
    expect(() => cuda.empty(1.5)).toThrow(RangeError);
    expect(() => cuda.empty(4, 'half' as unknown as DeviceDtype)).toThrow(TypeError);
    const Ctor = DeviceArray as unknown as new (...a: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('x'), {}, 1, 'float32')).toThrow(TypeError);
    // An object that only inherits from DeviceArray.prototype is refused by name.
    const fake = Object.create(DeviceArray.prototype) as DeviceArray;
    expect(() => fake.toHost()).toThrow(/DeviceArray.toHost: called on .*not a DeviceArray/);
    expect(() => fake.dispose()).toThrow(TypeError);
    expect(() => fake.disposed).toThrow(TypeError);
    expect(() => mish(fake)).toThrow(TypeError);
  });
});

// Round a float64 value to a binary format with `mant` fraction bits, smallest normal
// exponent `emin` and largest finite `max` (round to nearest, ties to even): the correctly
// rounded result the 16-bit kernels should be within one unit of.
function roundTo(v: number, mant: number, emin: number, max: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const q = 2 ** (Math.max(e, emin) - mant);
  const r = a / q;
  let f = Math.floor(r);
  const d = r - f;
  if (d > 0.5 || (d === 0.5 && f % 2 === 1)) f++;
  const out = f * q;
  const limit = max + 2 ** (Math.floor(Math.log2(max)) - mant - 1);
  return Math.sign(v) * (out >= limit ? Infinity : out);
}

/** The spacing of the format at |v| (its ulp). */
function unit(v: number, mant: number, emin: number): number {
  const a = Math.abs(v);
  if (a === 0) return 2 ** (emin - mant);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  return 2 ** (Math.max(e, emin) - mant);
}

const formats = {
  float16: {
    mant: 10,
    emin: -14,
    max: 65504,
    decode(bits: number): number {
      const s = bits & 0x8000 ? -1 : 1;
      const e = (bits >> 10) & 0x1f;
      const f = bits & 0x3ff;
      if (e === 0x1f) return f ? NaN : s * Infinity;
      return s * (e === 0 ? f * 2 ** -24 : (1 + f / 1024) * 2 ** (e - 15));
    },
  },
  bfloat16: {
    mant: 7,
    emin: -126,
    max: 3.3895313892515355e38,
    decode(bits: number): number {
      const u = new Uint32Array([bits << 16]);
      return new Float32Array(u.buffer)[0];
    },
  },
} as const;

describe.skipIf(!info().cuda.compiled)('the device math compiled for the host', () => {
  describe.each(['float16', 'bfloat16'] as const)('%s, every one of the 65,536 inputs', (dt) => {
    const fmt = formats[dt];
    const bits = new Uint16Array(65536).map((_, i) => i);
    const x = Array.from(bits, (b) => fmt.decode(b));

    it.each([
      ['mish', Op.Forward, forward, 0],
      ['mish′', Op.Derivative, derivative, 2 ** -24],
      ['mish″', Op.Second, secondDerivative, 2 ** -22],
    ] as const)('%s is within 1 unit of the correctly rounded value', (_, op, f, nearZero) => {
      const out = new Uint16Array(65536);
      emulate(op, dt, bits, null, out);
      const bad: string[] = [];
      for (let i = 0; i < 65536; i++) {
        const got = fmt.decode(out[i]);
        const exact = x[i] !== x[i] ? NaN : f(x[i]);
        const want = roundTo(exact, fmt.mant, fmt.emin, fmt.max);
        if (Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want)) continue;
        if (want === 0 && got === 0) continue;
        const off = Math.abs(got - want);
        if (Number.isFinite(want) && off <= unit(want, fmt.mant, fmt.emin)) continue;
        if (Number.isFinite(want) && Math.abs(got - exact) <= nearZero) continue;
        if (bad.length < 5) bad.push(`x=${x[i]}: got ${got}, want ${want}`);
      }
      expect(bad).toEqual([]);
    });

    it.runIf(dt === 'float16')('the shared float16 edge inputs', () => {
      const file = join(__dirname, '..', '..', 'shared', 'cases', 'edge-inputs.json');
      const rows = (
        JSON.parse(readFileSync(file, 'utf8')) as {
          dtype: string;
          input: string;
          expected_forward: string;
          expected_grad: string;
        }[]
      ).filter((r) => r.dtype === 'float16');
      expect(rows.length).toBeGreaterThan(5);
      const index = (v: number) => x.findIndex((h) => Object.is(h, v));
      const xb = Uint16Array.from(rows, (r) => bits[index(Number(r.input))]);
      const f = new Uint16Array(xb.length);
      const d = new Uint16Array(xb.length);
      emulate(Op.Forward, dt, xb, null, f);
      emulate(Op.Derivative, dt, xb, null, d);
      rows.forEach((r, i) => {
        for (const [got, want] of [
          [fmt.decode(f[i]), Number(r.expected_forward)],
          [fmt.decode(d[i]), Number(r.expected_grad)],
        ]) {
          const w = roundTo(want, fmt.mant, fmt.emin, fmt.max);
          const ok =
            want === 0 ? Object.is(got, want) : Math.abs(got - w) <= unit(w, fmt.mant, fmt.emin);
          expect(ok, `float16 x=${r.input}: got ${got}, want ${r.expected_forward}`).toBe(true);
        }
      });
    });

    it('backward is dy·mish′ within 1 unit', () => {
      const dy = bits.slice().reverse();
      const out = new Uint16Array(65536);
      emulate(Op.Backward, dt, bits, dy, out);
      const bad: string[] = [];
      for (let i = 0; i < 65536; i++) {
        const d = fmt.decode(dy[i]);
        const got = fmt.decode(out[i]);
        const exact = x[i] !== x[i] || d !== d ? NaN : d * derivative(x[i]);
        const want = roundTo(exact, fmt.mant, fmt.emin, fmt.max);
        if (Number.isNaN(want) ? Number.isNaN(got) : got === want) continue;
        if (Number.isFinite(want) && Math.abs(got - want) <= unit(want, fmt.mant, fmt.emin)) {
          continue;
        }
        // Next to the zero of mish′, its float32 absolute error, scaled by dy.
        if (Math.abs(got - exact) <= Math.abs(d) * 2 ** -24) continue;
        if (bad.length < 5) bad.push(`x=${x[i]}, dy=${d}: got ${got}, want ${want}`);
      }
      expect(bad).toEqual([]);
    });
  });
});
