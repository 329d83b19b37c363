// Bad input: the error class, a message naming the argument, what was expected and what was
// received; and nothing written to out when a call is rejected.
import { runInNewContext } from 'node:vm';
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
import { join } from 'node:path';

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

describe('objects that pretend', () => {
  it('a Proxy or an object with a typed array prototype is a TypeError naming x', () => {
    const proxy = new Proxy(new Float32Array(3), {});
    expect(() => mish(proxy)).toThrow(TypeError);
    expect(() => mish(proxy)).toThrow(
      /mish: x must be a Float32Array or Float64Array, received a Proxy/,
    );
    const fake = Object.create(Float32Array.prototype) as Float32Array;
    expect(() => mish(fake)).toThrow(
      /received an object that inherits from a typed array prototype/,
    );
  });

  it('a Float32Array from another realm works like one of this realm', () => {
    const foreign = runInNewContext('new Float32Array([-1, 0, 1])') as Float32Array;
    const y = mish(foreign);
    expect(Array.from(y)).toEqual(Array.from(mish(new Float32Array([-1, 0, 1]))));
    expect(mish(foreign, foreign)).toBe(foreign);
  });

  it('a subclass lying about its length or buffer cannot move the computation', () => {
    class Liar extends Float32Array {
      override get length(): number {
        return 1 << 20;
      }
    }
    const backing = new Float32Array(8).fill(99);
    const out = new Liar(backing.buffer, 8, 4);
    const x = new Float32Array([1, 1, 1, 1]);
    const y = mish(new Float32Array([1]))[0];
    expect(mish(x, out)).toBe(out);
    expect(Array.from(backing)).toEqual([99, 99, ...Array(4).fill(y), 99, 99]);
  });

  it('two SharedArrayBuffer objects over one memory: partial overlap is still caught', async () => {
    const { port1, port2 } = new MessageChannel();
    const sab = new SharedArrayBuffer(64);
    const twin = await new Promise<SharedArrayBuffer>((resolve) => {
      port2.once('message', resolve);
      port1.postMessage(sab);
    });
    port1.close();
    expect(twin).not.toBe(sab);
    for (const config of configs) {
      config.use();
      expect(() => mish(new Float32Array(sab, 0, 8), new Float32Array(twin, 4, 8))).toThrow(
        /mish: out partly overlaps x \(two SharedArrayBuffer objects over one memory\)/,
      );
      const same = new Float32Array(twin, 0, 8).fill(1);
      expect(() => mish(new Float32Array(sab, 0, 8), same)).not.toThrow();
      expect(same[0]).toBe(mish(new Float32Array([1]))[0]);
    }
    reset();
  });

  it('async calls refuse resizable ArrayBuffers, which could shrink meanwhile', async () => {
    // ES2024 resizable buffers: Node 20 has them, the ES2022 lib types do not.
    const Resizable = ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer;
    const rab = new Resizable(64, { maxByteLength: 128 });
    const x = new Float32Array(rab, 0, 16);
    await expect(mishAsync(x)).rejects.toThrow(TypeError);
    await expect(mishAsync(x)).rejects.toThrow(/mishAsync: x is backed by a resizable ArrayBuffer/);
    await expect(mishAsync(new Float32Array(16), x)).rejects.toThrow(
      /out is backed by a resizable/,
    );
    expect(mish(x)).toHaveLength(16); // synchronous calls cannot see it shrink
  });
});

describe('the raw addon', () => {
  it('refuses ops, thread counts and names it cannot use', async () => {
    const { info: i } = await import('../lib/index');
    if (i().isas.length === 0) return;
    const addon = require('node-gyp-build')(join(__dirname, '..'));
    const x = new Float32Array(4);
    for (const op of [NaN, Infinity, 2 ** 32, -0.5, 3.99, 4]) {
      expect(() => addon.run(op, x, null, x)).toThrow(RangeError);
    }
    expect(() => addon.setThreads(1e10)).toThrow(/setThreads\(n\) needs an integer from 0 to 1024/);
    expect(() => addon.setIsa('x'.repeat(100000))).toThrow(RangeError);
    try {
      addon.setIsa('x'.repeat(100000));
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(200);
    }
  });
});

describe('settings', () => {
  it('setBackend, setThreads and setIsa validate their argument', () => {
    expect(() => setBackend('gpu' as 'cpu')).toThrow(RangeError);
    expect(() => setBackend('gpu' as 'cpu')).toThrow(
      /setBackend: backend must be one of 'auto', 'cpu', 'js', 'cuda', received 'gpu'/,
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
