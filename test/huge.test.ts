// Opt-in (MISH_HUGE=1; needs about 9 GB of memory): a Float32Array longer than 2^31 elements,
// so every index and length in the addon, the pool's split and the kernels' loops must be
// 64-bit. Checks elements on both sides of index 2^31 and at the very end, in place.
import { expect, it } from 'vitest';

import { mish, mishBackward } from '../lib/index';
import { reset } from './helpers/backends';

it.runIf(process.env.MISH_HUGE === '1')(
  'a Float32Array of 2^31 + 37 elements, past index 2^31',
  () => {
    reset();
    const n = 2 ** 31 + 37;
    const x = new Float32Array(n);
    const probes = [0, 2 ** 31 - 17, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 31 + 20, n - 1];
    const values = probes.map((_, k) => -3 + k);
    probes.forEach((i, k) => (x[i] = values[k]));
    const want = mish(Float32Array.from(values));
    expect(mish(x, x)).toBe(x);
    probes.forEach((i, k) => expect(x[i]).toBe(want[k]));
    expect(x[2 ** 31 + 5]).toBe(0); // mish(0)
    // backward over the same length, out = dy
    x.fill(1, 2 ** 31 - 4, 2 ** 31 + 4);
    const dx = mishBackward(x, x, x);
    const one = mishBackward(Float32Array.of(1), Float32Array.of(1))[0]; // 1 · mish′(1)
    expect(dx[2 ** 31 + 3]).toBe(one);
    expect(dx[2 ** 31 - 4]).toBe(one);
  },
  600000,
);
