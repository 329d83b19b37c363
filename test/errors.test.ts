// Bad input: the error class, a message naming the argument, what was expected and what was
// received; and nothing written to out when a call is rejected.
import { MessageChannel } from 'node:worker_threads';

import { afterAll, describe, expect, it } from 'vitest';

import {
  mish,
  mishAsync,
  mishBackward,
  mishBackwardAsync,
  mishDerivative,
  mishSecondDerivative,
  setBackend,
  setIsa,
  setThreads,
} from '../lib/index';
import { configs, reset } from './helpers/backends';

afterAll(reset);

function detached(n: number): Float32Array {
  const a = new Float32Array(n);
  const { port1 } = new MessageChannel();
  port1.postMessage(a.buffer, [a.buffer]);
  port1.close();
  return a;
}

const wrongKinds: [string, unknown, RegExp][] = [
  ['a plain array', [1, 2, 3], /received an Array of length 3/],
  ['an Int32Array', new Int32Array(3), /received Int32Array\(3\)/],
  ['a Uint8Array', new Uint8Array(3), /received Uint8Array\(3\)/],
  ['a DataView', new DataView(new ArrayBuffer(8)), /received a DataView of 8 bytes/],
  ['a Buffer', Buffer.alloc(12), /received a Buffer of 12 bytes/],
  ['undefined', undefined, /received undefined/],
  ['null', null, /received null/],
  ['a number', 3, /received the number 3/],
  ['a string', 'x', /received the string "x"/],
  ['an ArrayBuffer', new ArrayBuffer(8), /received an ArrayBuffer of 8 bytes/],
];

describe.each(configs)('$name', (config) => {
  it.each(wrongKinds)('x as %s is a TypeError naming x', (_, value, received) => {
    config.use();
    for (const fn of [mish, mishDerivative, mishSecondDerivative] as const) {
      expect(() => fn(value as Float32Array)).toThrow(TypeError);
      expect(() => fn(value as Float32Array)).toThrow(/x must be a Float32Array or Float64Array/);
      expect(() => fn(value as Float32Array)).toThrow(received);
    }
    expect(() => mishBackward(value as Float32Array, new Float32Array(3))).toThrow(
      /mishBackward: dy must be/,
    );
    expect(() => mishBackward(new Float32Array(3), value as Float32Array)).toThrow(
      /mishBackward: x must be/,
    );
  });

  it('out of the wrong kind, dtype or length is rejected and left untouched', () => {
    config.use();
    const x = new Float32Array([1, 2, 3]);
    expect(() => mish(x, [0, 0, 0] as unknown as Float32Array)).toThrow(
      /mish: out must be a Float32Array or Float64Array, received an Array/,
    );
    const f64 = new Float64Array(3).fill(7);
    expect(() => mish(x, f64 as unknown as Float32Array)).toThrow(TypeError);
    expect(() => mish(x, f64 as unknown as Float32Array)).toThrow(
      /out must be a Float32Array like x, received Float64Array/,
    );
    expect([...f64]).toEqual([7, 7, 7]);
    const short = new Float32Array(2).fill(7);
    expect(() => mish(x, short)).toThrow(RangeError);
    expect(() => mish(x, short)).toThrow(/out must have the length of x \(3\), received length 2/);
    expect([...short]).toEqual([7, 7]);
  });

  it('mixed dtypes and lengths in mishBackward', () => {
    config.use();
    expect(() =>
      mishBackward(new Float32Array(3), new Float64Array(3) as unknown as Float32Array),
    ).toThrow(/mishBackward: x must be a Float32Array like dy, received Float64Array/);
    expect(() => mishBackward(new Float32Array(3), new Float32Array(4))).toThrow(RangeError);
    expect(() =>
      mishBackward(new Float32Array(3), new Float32Array(3), new Float32Array(2)),
    ).toThrow(/out must have the length of x \(3\), received length 2/);
  });

  it('an out that partly overlaps x or dy is a RangeError; nothing is written', () => {
    config.use();
    const buf = new Float32Array(10).fill(0.5);
    const x = buf.subarray(0, 8);
    const out = buf.subarray(2, 10);
    expect(() => mish(x, out)).toThrow(RangeError);
    expect(() => mish(x, out)).toThrow(/out partly overlaps x/);
    expect([...buf].every((v) => v === 0.5)).toBe(true);
    const dy = buf.subarray(1, 9);
    const x2 = new Float32Array(8);
    expect(() => mishBackward(dy, x2, buf.subarray(0, 8))).toThrow(/out partly overlaps dy/);
    // The same memory through another view object is in place, not overlap.
    const same = new Float32Array(buf.buffer, 0, 8);
    expect(() => mish(x, same)).not.toThrow();
  });

  it('detached buffers are a TypeError, sync and async', async () => {
    config.use();
    const d = detached(4);
    expect(() => mish(d)).toThrow(TypeError);
    expect(() => mish(d)).toThrow(/x is backed by a detached ArrayBuffer/);
    expect(() => mish(new Float32Array(0), detached(0))).toThrow(/out is backed by a detached/);
    await expect(mishAsync(detached(4))).rejects.toThrow(/detached/);
    await expect(mishBackwardAsync(new Float32Array(4), detached(4))).rejects.toThrow(TypeError);
  });

  it('async calls reject (never throw) on bad input', async () => {
    config.use();
    const p = mishAsync([1] as unknown as Float32Array);
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow(/mishAsync: x must be/);
    await expect(mishBackwardAsync(new Float32Array(2), new Float32Array(3))).rejects.toThrow(
      RangeError,
    );
  });

  it('zero-length arrays give an empty result', async () => {
    config.use();
    expect(mish(new Float32Array(0))).toEqual(new Float32Array(0));
    expect(mishBackward(new Float64Array(0), new Float64Array(0))).toEqual(new Float64Array(0));
    expect(await mishAsync(new Float64Array(0))).toEqual(new Float64Array(0));
  });
});

describe('settings', () => {
  it('setBackend, setThreads and setIsa validate their argument', () => {
    expect(() => setBackend('gpu' as 'cpu')).toThrow(RangeError);
    expect(() => setBackend('gpu' as 'cpu')).toThrow(
      /setBackend: backend must be one of 'auto', 'cpu', 'js', received 'gpu'/,
    );
    expect(() => setBackend(1 as unknown as 'cpu')).toThrow(TypeError);
    expect(() => setThreads(-1)).toThrow(
      /setThreads: n must be an integer from 0 to 1024, received -1/,
    );
    expect(() => setThreads(1.5)).toThrow(RangeError);
    expect(() => setThreads('2' as unknown as number)).toThrow(TypeError);
    expect(() => setIsa('sse2' as 'scalar')).toThrow(/setIsa: isa must be one of/);
  });
});
