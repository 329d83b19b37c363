// Async calls: correct values, off the main thread, and inputs kept alive by the library while
// the caller holds no reference (run with --expose-gc, see vitest.config.mts).
import { afterAll, describe, expect, it } from 'vitest';

import { mish, mishAsync, mishBackward, mishBackwardAsync } from '../lib/index';
import { configs, firstDifference, reset, sample } from './helpers/backends';

afterAll(reset);

const gc = (globalThis as { gc?: () => void }).gc;

describe.each(configs)('$name', (config) => {
  it.each(['float32', 'float64'] as const)(
    '%s: async results equal sync results',
    async (dtype) => {
      config.use();
      for (const n of [1, 17, 1000, 2 ** 18 + 5]) {
        const x = sample(dtype, n, n);
        const dy = sample(dtype, n, n + 3);
        const [y, dx] = await Promise.all([mishAsync(x), mishBackwardAsync(dy, x)]);
        expect(firstDifference(y, mish(x))).toBeNull();
        expect(firstDifference(dx, mishBackward(dy, x))).toBeNull();
        const inPlace = x.slice();
        expect(await mishAsync(inPlace, inPlace)).toBe(inPlace);
        expect(firstDifference(inPlace, y)).toBeNull();
      }
    },
  );

  it('inputs survive garbage collection while the call is pending', async () => {
    expect(gc).toBeTypeOf('function');
    config.use();
    const n = 2 ** 20;
    const want = mish(sample('float32', n, 42));
    const pending: Promise<Float32Array | Float64Array>[] = [];
    for (let i = 0; i < 8; i++) {
      // The arrays exist only inside the call; the returned promise is all we keep.
      pending.push(mishAsync(sample('float32', n, 42)));
      pending.push(mishBackwardAsync(sample('float32', n, 42).fill(1), sample('float32', n, 42)));
    }
    for (let i = 0; i < 5; i++) {
      gc!();
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(pending);
    for (let i = 0; i < results.length; i += 2)
      expect(firstDifference(results[i], want)).toBeNull();
  });

  it('many concurrent calls all resolve', async () => {
    config.use();
    const x = sample('float64', 4096, 3);
    const want = mish(x);
    const all = await Promise.all(Array.from({ length: 500 }, () => mishAsync(x)));
    for (const y of all) expect(firstDifference(y, want)).toBeNull();
  });
});

describe('native async', () => {
  it('does not block the event loop while computing', async () => {
    reset();
    const x = sample('float32', 2 ** 22, 9);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const started = Date.now();
    await Promise.all([mishAsync(x), mishAsync(x), mishAsync(x), mishAsync(x)]);
    clearInterval(timer);
    // Only meaningful if the work took a while; the event loop must have turned meanwhile.
    if (Date.now() - started >= 20) expect(ticks).toBeGreaterThan(0);
  });
});

// A buffer transferred (detached) while its call is pending: the call computes from its own
// copy of x and dy, and writes out only if out is still attached (issue 5). The transferred
// memory is dropped and collected meanwhile, so a kernel still using it would read freed memory
// (valgrind and ASan see that; here the values would come out wrong or the process would die).
describe.each(configs.filter((c) => c.name.startsWith('cpu/')))('$name, detach', (config) => {
  const n = 2 ** 21;
  const transfer = (a: Float32Array) => {
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  };

  it('x transferred while pending: computed from the kept copy', async () => {
    config.use();
    const x = sample('float32', n, 5) as Float32Array;
    const dy = sample('float32', n, 6) as Float32Array;
    const want = mish(x);
    const wantB = mishBackward(dy, x);
    const out = new Float32Array(n);
    const outB = new Float32Array(n);
    const p = mishAsync(x, out);
    const q = mishBackwardAsync(dy, x, outB);
    transfer(x);
    transfer(dy);
    expect(x.length).toBe(0);
    for (let i = 0; i < 3; i++) gc!();
    expect(await p).toBe(out);
    expect(firstDifference(out, want)).toBeNull();
    expect(await q).toBe(outB);
    expect(firstDifference(outB, wantB)).toBeNull();
  });

  it('out transferred while pending: the promise rejects and nothing is written', async () => {
    config.use();
    const x = sample('float32', n, 7) as Float32Array;
    const out = new Float32Array(n);
    const p = mishAsync(x, out);
    const inPlace = x.slice();
    const q = mishAsync(inPlace, inPlace);
    transfer(out);
    transfer(inPlace);
    for (let i = 0; i < 3; i++) gc!();
    const errors = await Promise.all(
      [p, q].map((r) =>
        r.then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect(String(errors[0])).toMatch(/out was detached \(transferred\)/);
    expect(errors[1]).toBeInstanceOf(TypeError);
    // The library works on afterwards.
    expect(firstDifference(await mishAsync(x), mish(x))).toBeNull();
  });
});

describe('10,000 concurrent async calls under forced garbage collection', () => {
  it('all resolve with the right values, and memory returns to its band', async () => {
    reset();
    const x = sample('float32', 1024, 11) as Float32Array;
    const want = mish(x);
    const settle = async () => {
      for (let i = 0; i < 4; i++) {
        gc!();
        await new Promise((r) => setImmediate(r));
      }
    };
    await settle();
    const before = process.memoryUsage();
    // In a function of its own, so no frame of this test still holds the last round's results.
    const round = async () => {
      const pending: Promise<Float32Array>[] = [];
      for (let i = 0; i < 10000; i++) {
        pending.push(mishAsync(x.slice()));
        if (i % 1000 === 0) gc!();
      }
      const results = await Promise.all(pending);
      let wrong = 0;
      for (const y of results) if (firstDifference(y, want) !== null) wrong++;
      return wrong;
    };
    expect(await round()).toBe(0);
    expect(await round()).toBe(0);
    await settle();
    const after = process.memoryUsage();
    expect(after.external - before.external).toBeLessThan(16 * 2 ** 20);
    // Under AddressSanitizer (npm run test:asan) freed memory waits in its quarantine, so RSS
    // says nothing there.
    if (!process.env.MISH_SANITIZED) expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
  }, 60000);
});
