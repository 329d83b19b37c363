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
