// Runs only where a CUDA GPU is usable (skipped here and in CI, which have none): every kernel
// and dtype on the device against the same formulas compiled for the host (bit for bit) and
// against the accuracy contract, lengths around the block and vector sizes, in place, the
// DeviceArray lifecycle, out-of-memory, async ordering and the host-array path.
// The same checks exist without Node as build-cuda/Release/cuda_selftest.
import { afterAll, describe, expect, it } from 'vitest';

import {
  cuda,
  info,
  mish,
  mishAsync,
  mishBackward,
  mishBackwardAsync,
  mishDerivative,
  mishSecondDerivative,
  setBackend,
} from '../lib/index';
import type { DeviceArray, DeviceDtype, HostArray } from '../lib/index';
import { emulate } from '../lib/cuda';
import { Op } from '../lib/types';
import { firstDifference, reset, sample } from './helpers/backends';
import { loadGolden, ulpError } from './helpers/golden';

const gpu = info().cuda.available;
afterAll(reset);

function hostSample(dtype: DeviceDtype, n: number, seed: number): HostArray {
  if (dtype === 'float32' || dtype === 'float64') return sample(dtype, n, seed);
  // 16-bit: the bits of float32 samples, truncated (any bit pattern is a valid input).
  const f = sample('float32', n, seed) as Float32Array;
  const u32 = new Uint32Array(f.buffer);
  return Uint16Array.from(u32, (b) => (dtype === 'bfloat16' ? b >>> 16 : (b >>> 13) & 0xffff));
}

const ops = [
  ['mish', Op.Forward],
  ['mishBackward', Op.Backward],
  ['mishDerivative', Op.Derivative],
  ['mishSecondDerivative', Op.Second],
] as const;

function onDevice(op: Op, x: DeviceArray, dy: DeviceArray, out?: DeviceArray): DeviceArray {
  if (op === Op.Forward) return mish(x, out);
  if (op === Op.Backward) return mishBackward(dy, x, out);
  if (op === Op.Derivative) return mishDerivative(x, out);
  return mishSecondDerivative(x, out);
}

describe.skipIf(!gpu)('on the GPU', () => {
  const dtypes = ['float32', 'float64', 'float16', 'bfloat16'] as const;

  describe.each(dtypes)('%s', (dtype) => {
    it.each([0, 1, 2, 3, 31, 32, 33, 255, 257, 1000, 2 ** 20 + 3])(
      'length %i: every op equals the host-compiled device math bit for bit, in place too',
      (n) => {
        const x = hostSample(dtype, n, n + 1);
        const dy = hostSample(dtype, n, n + 2);
        const dx = cuda.toDevice(x, { dtype });
        const ddy = cuda.toDevice(dy, { dtype });
        for (const [, op] of ops) {
          const want = x.slice();
          emulate(op, dtype, x, op === Op.Backward ? dy : null, want);
          const got = onDevice(op, dx, ddy).toHost();
          expect(firstDifference(got, want)).toBeNull();
          const inPlace = cuda.toDevice(x, { dtype });
          expect(onDevice(op, inPlace, ddy, inPlace)).toBe(inPlace);
          expect(firstDifference(inPlace.toHost(), want)).toBeNull();
          inPlace.dispose();
        }
        dx.dispose();
        ddy.dispose();
      },
    );
  });

  it.each(['float32', 'float64'] as const)(
    '%s meets the accuracy contract on the golden set',
    (dtype) => {
      const g = loadGolden(dtype);
      const d = cuda.toDevice(g.x);
      for (const [fn, f, bound] of [
        ['forward', mish, 4],
        ['derivative', mishDerivative, 4],
        ['second', mishSecondDerivative, 16],
      ] as const) {
        const got = f(d).toHost();
        const { round, err } = g.fns[fn];
        for (let i = 0; i < got.length; i++) {
          const x = g.x[i];
          const near = fn !== 'forward' && x > -3 && x < 2;
          const e = ulpError(got[i], round[i], err[i], dtype);
          if (e > bound && !(near && Math.abs(got[i] - round[i]) < 2 ** -22)) {
            if (Math.abs(round[i]) < 1e-37 && Math.abs(got[i] - round[i]) < 2 ** -126) continue;
            expect.fail(`${dtype} ${fn}(${x}): got ${got[i]}, want ${round[i]} (${e} ulp)`);
          }
        }
      }
      d.dispose();
    },
  );

  it('mixing host and device arrays is a TypeError that says so', () => {
    const d = cuda.toDevice(new Float32Array(4));
    expect(() => mish(d, new Float32Array(4) as unknown as DeviceArray)).toThrow(
      /out is Float32Array\(4\) but x is a DeviceArray/,
    );
    expect(() => mishBackward(new Float32Array(4) as unknown as DeviceArray, d)).toThrow(TypeError);
    d.dispose();
    expect(() => mish(d)).toThrow(/disposed/);
    d.dispose(); // idempotent
  });

  it('10,000 arrays allocated and dropped leave device memory where it started', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const before = cuda.memInfo().free;
    for (let i = 0; i < 10000; i++) {
      const d = cuda.toDevice(new Float32Array(1024));
      if (i % 2 === 0) d.dispose();
    }
    for (let i = 0; i < 5 && gc; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    const after = cuda.memInfo().free;
    expect(Math.abs(before - after)).toBeLessThan(64 * 2 ** 20);
  });

  it('a request larger than the card is a CUDA out-of-memory Error, and work goes on', () => {
    const total = cuda.memInfo().total;
    let error: unknown;
    try {
      cuda.empty(Math.ceil((2 * total) / 4));
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('cudaErrorMemoryAllocation');
    const d = cuda.toDevice(new Float32Array([1, 2, 3]));
    expect(Math.abs(mish(d).toHost()[0] - 0.8650983882673103)).toBeLessThan(2 ** -22);
    d.dispose();
    expect(Math.abs(mish(new Float32Array([1]))[0] - 0.8650983882673103)).toBeLessThan(2 ** -22);
  });

  it('async calls resolve in order with the right values', async () => {
    const x = sample('float32', 2 ** 20, 9) as Float32Array;
    const d = cuda.toDevice(x);
    const y = await mishAsync(d);
    const dx = await mishBackwardAsync(y, d);
    const want = mishBackward(mish(x), x);
    const got = await dx.toHostAsync();
    let worst = 0;
    for (let i = 0; i < got.length; i += 7) {
      worst = Math.max(worst, ulpError(got[i], want[i], 0, 'float32'));
    }
    expect(worst).toBeLessThanOrEqual(8);
    for (const a of [d, y, dx]) a.dispose();
  });

  it('host arrays through the GPU (backend cuda) agree with the device path', async () => {
    const x = sample('float32', 3 * 2 ** 22 + 5, 4) as Float32Array;
    setBackend('cuda');
    expect(info().backend).toBe('cuda');
    const y = mish(x);
    const ya = await mishAsync(x);
    reset();
    const d = cuda.toDevice(x);
    const want = mish(d).toHost();
    expect(firstDifference(y, want)).toBeNull();
    expect(firstDifference(ya, want)).toBeNull();
    d.dispose();
  });
});
