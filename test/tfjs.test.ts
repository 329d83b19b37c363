// Tests for mish-native/tfjs (lib/tfjs.ts) on the tfjs cpu and wasm backends.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installMish, KERNEL_NAME, GRAD_KERNEL_NAME } from '../lib/tfjs';
import * as core from '../lib/index';
import { loadGolden, checkAgainst } from './helpers/golden';

// Reference values: test/golden (correctly rounded mish, mish′, mish″ at 8,952
// float32 inputs including ±0, subnormals, ±Infinity and NaN), and for random
// inputs a float64 computation written without cancellation:
//   tanh(softplus(x)) = n / (n + 2)   with n = eˣ(eˣ + 2)
//   sech²(softplus(x)) = 1 − t² = 4(n + 1) / (n + 2)²
// ---------------------------------------------------------------------------
function parts(x: number): { t: number; s2: number; sig: number; sigNeg: number } {
  if (x > 40) return { t: 1, s2: 0, sig: 1, sigNeg: Math.exp(-x) };
  const e = Math.exp(x);
  const n = e * (e + 2);
  const sig = x >= 0 ? 1 / (1 + Math.exp(-x)) : e / (1 + e);
  const sigNeg = x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + e);
  return { t: n / (n + 2), s2: (4 * (n + 1)) / ((n + 2) * (n + 2)), sig, sigNeg };
}
const refMish = (x: number): number => x * parts(x).t;
const refD1 = (x: number): number => {
  const p = parts(x);
  return p.t + x * p.s2 * p.sig;
};
const refD2 = (x: number): number => {
  const p = parts(x);
  return p.s2 * p.sig * (2 + x * p.sigNeg - 2 * x * p.t * p.sig);
};

// Small deterministic PRNG (mulberry32) for test inputs.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inputs(): Float32Array {
  const xs: number[] = [
    0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 1, -1, 2, -2, 5, -5, 10, -10, 15, -15, 19.5, 20.5,
    -20.5, 30, -30, 50, -50, 87, -87, 100, -100, 1e4, -1e4,
  ];
  for (let v = -12; v <= 12; v += 0.0625) xs.push(v);
  const r = prng(7);
  for (let i = 0; i < 300; i++) xs.push((r() - 0.5) * 24);
  return Float32Array.from(xs);
}

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const err = Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (!(err <= worstErr)) {
      worstErr = err;
      worst = i;
    }
  }
  if (!(worstErr <= 1)) {
    throw new Error(
      `${what}: element ${worst}: got ${actual[worst]}, expected ${expected[worst]} ` +
        `(rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Runs fn and checks that it leaves no tensors behind. */
function noLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const out = fn();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** In-memory IOHandler round trip; returns the saved artifacts as well. */
async function saveAndLoad(
  model: tf.LayersModel,
): Promise<{ loaded: tf.LayersModel; artifacts: tf.io.ModelArtifacts }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved === undefined) throw new Error('save handler was not called');
  // Serialize the topology through JSON text, as a file would.
  const artifacts: tf.io.ModelArtifacts = {
    ...saved,
    modelTopology: JSON.parse(JSON.stringify(saved.modelTopology)),
  };
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return { loaded, artifacts };
}

const m = installMish(tf);

describe('installMish', () => {
  it('is idempotent and registers cpu, wasm and tensorflow kernels up front', () => {
    expect(installMish(tf)).toBe(m);
    for (const backend of ['cpu', 'wasm', 'tensorflow']) {
      expect(tf.getKernel(KERNEL_NAME, backend), backend).toBeTruthy();
      expect(tf.getKernel(GRAD_KERNEL_NAME, backend), backend).toBeTruthy();
    }
    expect(tf.getGradient(KERNEL_NAME)).toBeTruthy();
    expect(m.kernelName).toBe('MishNative');
    expect(m.gradKernelName).toBe('MishNativeGrad');
    expect(m.activation).toBe('mishNative');
  });

  it('rejects something that is not a tfjs namespace', () => {
    expect(() => installMish({} as unknown as typeof tf)).toThrow(TypeError);
  });

  it('leaves the built-in "mish" activation alone', () => {
    const layer = tf.layers.dense({ units: 1, activation: 'mish' });
    expect(layer.getConfig()['activation']).toBe('mish');
    const ours = tf.layers.dense({ units: 1, activation: m.activation as never });
    expect(ours.getConfig()['activation']).toBe('mishNative');
  });
});

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`backend ${backendName}`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      await tf.ready();
      expect(tf.getBackend()).toBe(backendName);
    });

    it('forward: bit-identical to the core library and within 4 ulps of the golden values', () => {
      const g = loadGolden('float32');
      const x = g.x as Float32Array;
      const before = m.stats().forward.calls;
      const y = noLeak(() => tf.tidy(() => m.mish(tf.tensor1d(x)).dataSync()));
      expect(m.stats().forward.calls).toBe(before + 1);
      expect(new Uint32Array(y.buffer, y.byteOffset, y.length)).toEqual(
        new Uint32Array(core.mish(x).buffer),
      );
      const r = checkAgainst('forward', g, y, { ulps: 4, abs: () => 2 ** -149 });
      expect(r.violations.slice(0, 5)).toEqual([]);
      // signs of zero survive the round trip through the backend
      expect(Object.is(y[x.findIndex((v) => Object.is(v, -0))], -0)).toBe(true);
      expect(Number.isNaN(y[x.length - 1] as number)).toBe(true);
    });

    it('gradient and second derivative: bit-identical to the library, close to golden', () => {
      const g = loadGolden('float32');
      const x = g.x as Float32Array;
      const ones = new Float32Array(x.length).fill(1);
      const [d1, d2] = noLeak(() =>
        tf.tidy(() => {
          const xt = tf.tensor1d(x);
          const first = (v: tf.Tensor) => tf.grad((w: tf.Tensor) => m.mish(w).sum())(v);
          return [
            first(xt).dataSync(),
            tf
              .grad((v: tf.Tensor) => first(v).sum())(xt)
              .dataSync(),
          ];
        }),
      );
      const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
      expect(bits(d1 as Float32Array)).toEqual(bits(core.mishBackward(ones, x)));
      expect(bits(d2 as Float32Array)).toEqual(bits(core.mishSecondDerivative(x)));
      // Near the roots of mish′ and mish″ an ulp bound means nothing:
      // allow 2⁻²⁴ absolute there.
      const tol = { ulps: 8, abs: () => 2 ** -24 };
      expect(checkAgainst('derivative', g, d1 as Float32Array, tol).violations.slice(0, 5)).toEqual(
        [],
      );
      expect(checkAgainst('second', g, d2 as Float32Array, tol).violations.slice(0, 5)).toEqual([]);
    });

    it('does not modify its inputs', () => {
      const xs = inputs();
      const expected = Array.from(xs); // tfjs may keep xs itself as the tensor's storage
      const x = tf.tensor1d(xs);
      const dy = tf.tensor1d(xs.map((v) => v / 3));
      const dyExpected = Array.from(dy.dataSync());
      tf.dispose([
        m.mish(x),
        tf.grad((v: tf.Tensor) => m.mish(v).sum())(x),
        tf.engine().runKernel(GRAD_KERNEL_NAME, { dy, x }) as tf.Tensor,
        tf.grad((v: tf.Tensor) =>
          tf
            .grad((w: tf.Tensor) => m.mish(w).sum())(v)
            .sum(),
        )(x),
      ]);
      expect(Array.from(x.dataSync())).toEqual(expected);
      expect(Array.from(dy.dataSync())).toEqual(dyExpected);
      tf.dispose([x, dy]);
    });

    it('keeps shapes of every rank, scalars and empty tensors included', () => {
      const shapes: number[][] = [
        [],
        [1],
        [7],
        [3, 4],
        [2, 3, 4],
        [2, 1, 3, 2],
        [1, 2, 1, 2, 3],
        [2, 0, 3],
        [0],
      ];
      for (const shape of shapes) {
        noLeak(() =>
          tf.tidy(() => {
            const size = shape.reduce((a, b) => a * b, 1);
            const x = tf.tensor(
              Float32Array.from({ length: size }, (_, i) => (i - size / 2) / 3),
              shape,
            );
            const y = m.mish(x);
            expect(y.shape).toEqual(shape);
            expect(y.dtype).toBe('float32');
            expectClose(
              y.dataSync(),
              Array.from(x.dataSync(), refMish),
              4e-6,
              1e-30,
              `shape [${shape}]`,
            );
            const g = tf.grad((v: tf.Tensor) => m.mish(v).sum())(x);
            expect(g.shape).toEqual(shape);
          }),
        );
      }
    });

    it('accepts plain arrays; non-float32 tensors are a TypeError naming the argument', () => {
      const y = m.mish([1, 2, 3]);
      expect(y.shape).toEqual([3]);
      y.dispose();
      const before = tf.memory().numTensors;
      const xi = tf.tensor1d([1, 2, 3], 'int32');
      expect(() => m.mish(xi)).toThrow(TypeError);
      expect(() => m.mish(xi)).toThrow(/'x'.*int32/);
      const xb = tf.tensor1d([1, 0], 'bool');
      expect(() => m.mish(xb)).toThrow(/'x'.*bool/);
      // The kernels themselves check too, when reached directly.
      expect(() => tf.engine().runKernel(KERNEL_NAME, { x: xi })).toThrow(/'x'.*int32/);
      const xf = tf.tensor1d([1, 2, 3]);
      expect(() => tf.engine().runKernel(GRAD_KERNEL_NAME, { dy: xi, x: xf })).toThrow(
        /'dy'.*int32/,
      );
      expect(() => tf.engine().runKernel(GRAD_KERNEL_NAME, { dy: xf, x: xi })).toThrow(
        /'x'.*int32/,
      );
      const short = tf.ones([2]);
      expect(() => tf.engine().runKernel(GRAD_KERNEL_NAME, { dy: short, x: xf })).toThrow(/shape/);
      tf.dispose([xi, xb, xf, short]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('gradient matches central finite differences', () => {
      const r = prng(11);
      const xs = Float32Array.from({ length: 400 }, () => (r() - 0.5) * 16);
      const ws = Float32Array.from({ length: 400 }, () => r() * 2 - 1);
      const h = 1e-2;
      noLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor1d(xs);
          const w = tf.tensor1d(ws);
          const grad = tf
            .grad((v: tf.Tensor) => m.mish(v).mul(w).sum())(x)
            .dataSync();
          const fd = m
            .mish(x.add(h))
            .sub(m.mish(x.sub(h)))
            .div(2 * h)
            .mul(w)
            .dataSync();
          // O(h²)·mish‴ truncation plus float32 rounding / h
          expectClose(grad, fd, 1e-3, 2e-3, 'grad vs finite differences');
          // and the analytic derivative in float64
          expectClose(
            grad,
            Array.from(xs, (v, i) => refD1(v) * (ws[i] as number)),
            1e-5,
            1e-6,
            'grad vs reference',
          );
        }),
      );
    });

    it("gradient matches tfjs's own composite x·tanh(softplus(x))", () => {
      const r = prng(5);
      const xs = Float32Array.from({ length: 500 }, () => (r() - 0.5) * 24);
      noLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor1d(xs);
          const ours = tf.grad((v: tf.Tensor) => m.mish(v).square().sum())(x);
          const theirs = tf.grad((v: tf.Tensor) =>
            v
              .mul(tf.tanh(tf.softplus(v)))
              .square()
              .sum(),
          )(x);
          expectClose(ours.dataSync(), theirs.dataSync(), 1e-4, 1e-5, 'grad vs composite');
          const yo = m.mish(x).dataSync();
          const yt = x.mul(tf.tanh(tf.softplus(x))).dataSync();
          expectClose(yo, yt, 1e-5, 1e-6, 'forward vs composite');
        }),
      );
    });

    it('second derivative through tf.grad(tf.grad(...)) matches the reference', () => {
      const xs = Float32Array.from({ length: 161 }, (_, i) => -10 + i * 0.125);
      noLeak(() =>
        tf.tidy(() => {
          const x = tf.tensor1d(xs);
          const d1 = (v: tf.Tensor) => tf.grad((w: tf.Tensor) => m.mish(w).sum())(v);
          const d2 = tf.grad((v: tf.Tensor) => d1(v).sum())(x);
          expectClose(d2.dataSync(), Array.from(xs, refD2), 1e-4, 1e-6, 'mish″');
          // with weights on both levels: ∂/∂x Σ b·(a·mish′(x)) = a·b·mish″(x)
          const r = prng(3);
          const a = Float32Array.from(xs, () => r() * 4 - 2);
          const b = Float32Array.from(xs, () => r() * 4 - 2);
          const at = tf.tensor1d(a);
          const bt = tf.tensor1d(b);
          const inner = (v: tf.Tensor) => tf.grad((w: tf.Tensor) => m.mish(w).mul(at).sum())(v);
          const weighted = tf.grad((v: tf.Tensor) => inner(v).mul(bt).sum())(x);
          expectClose(
            weighted.dataSync(),
            Array.from(xs, (v, i) => (a[i] as number) * (b[i] as number) * refD2(v)),
            1e-4,
            1e-5,
            'a·b·mish″',
          );
          // and the dy path of the gradient kernel: ∂/∂dy (dy·mish′(x)) = mish′(x)
          const dy = tf.tensor1d(Float32Array.from(xs, () => 0.5));
          const viaDy = tf.grad((d: tf.Tensor) =>
            (tf.engine().runKernel(GRAD_KERNEL_NAME, { dy: d, x }) as tf.Tensor).sum(),
          )(dy);
          expectClose(viaDy.dataSync(), Array.from(xs, refD1), 1e-5, 1e-6, 'mish′ via dy');
        }),
      );
    });

    it('leaks no tensors in forward, backward and layer use', () => {
      const x = tf.randomNormal([4, 8], 0, 3, 'float32', 1);
      noLeak(() =>
        tf.tidy(() => {
          m.mish(x);
        }),
      );
      noLeak(() => m.mish(x).dispose());
      noLeak(() => {
        const g = tf.grad((v: tf.Tensor) => m.mish(v).sum())(x);
        expect(g.shape).toEqual([4, 8]);
        g.dispose();
      });
      const v = tf.variable(x.clone());
      noLeak(() => {
        const { value, grads } = tf.variableGrads(() => m.mish(v.mul(2)).sum() as tf.Scalar, [v]);
        expect(Object.keys(grads)).toHaveLength(1);
        tf.dispose(grads);
        value.dispose();
      });
      noLeak(() => {
        const d2 = tf.grad((u: tf.Tensor) =>
          tf
            .grad((w: tf.Tensor) => m.mish(w).sum())(u)
            .sum(),
        )(x);
        d2.dispose();
      });
      const opt = tf.train.sgd(0.1);
      noLeak(() => {
        const cost = opt.minimize(() => m.mish(v).square().mean() as tf.Scalar, true);
        cost?.dispose();
      });
      opt.dispose();
      v.dispose();
      const layer = new m.Mish();
      noLeak(() =>
        tf.tidy(() => {
          layer.apply(x);
        }),
      );
      x.dispose();
    });

    it('layer and activation train, and survive save and load', async () => {
      const seed = backendName === 'cpu' ? 1 : 2;
      // Two interleaved spirals-ish classes: needs the nonlinearity to separate.
      const r = prng(seed);
      const n = 256;
      const xs = new Float32Array(n * 2);
      const ys = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const cls = i % 2;
        const t = r() * 3 + 0.3;
        const a = t * 2 + cls * Math.PI;
        xs[2 * i] = t * Math.cos(a) + (r() - 0.5) * 0.2;
        xs[2 * i + 1] = t * Math.sin(a) + (r() - 0.5) * 0.2;
        ys[2 * i + cls] = 1;
      }
      const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
      const model = tf.sequential();
      model.add(
        tf.layers.dense({
          units: 24,
          inputShape: [2],
          activation: m.activation as never,
          kernelInitializer: init(1),
        }),
      );
      model.add(tf.layers.dense({ units: 24, kernelInitializer: init(2) }));
      model.add(new m.Mish({ name: 'mish_layer' }));
      model.add(tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init(3) }));
      model.compile({
        optimizer: tf.train.adam(0.02),
        loss: 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });

      const xT = tf.tensor2d(xs, [n, 2]);
      const yT = tf.tensor2d(ys, [n, 2]);
      const kernelCalls = m.stats().backward.calls;
      const hist = await model.fit(xT, yT, {
        epochs: 40,
        batchSize: 32,
        shuffle: false,
        verbose: 0,
      });
      // The first fit allocates Adam's moment slots; a further fit must not add anything.
      const tensorsAfterFirstFit = tf.memory().numTensors;
      await model.fit(xT, yT, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
      expect(tf.memory().numTensors).toBe(tensorsAfterFirstFit);
      // both Mish uses went through our gradient kernel: 2 per batch
      expect(m.stats().backward.calls - kernelCalls).toBe(41 * (n / 32) * 2);
      const loss = hist.history['loss'] as number[];
      expect(loss[loss.length - 1]).toBeLessThan((loss[0] as number) * 0.6);
      expect(hist.history['acc']?.at(-1) as number).toBeGreaterThan(0.8);

      const { loaded, artifacts } = await saveAndLoad(model);
      const topology = JSON.stringify(artifacts.modelTopology);
      expect(topology).toContain('"activation":"mish_native"'); // snake_case on disk
      expect(topology).toContain('"class_name":"MishNative"');
      const firstConfig = loaded.layers[0]?.getConfig();
      // camelCase again, not tfjs's built-in 'mish'
      expect(firstConfig?.['activation']).toBe('mishNative');
      expect(loaded.layers[2]).toBeInstanceOf(m.Mish);
      expect(loaded.layers[2]?.name).toBe('mish_layer');

      const probe = tf.randomUniform([64, 2], -3, 3, 'float32', 3);
      const p1 = model.predict(probe, { batchSize: 64 }) as tf.Tensor;
      const forwardCalls = m.stats().forward.calls;
      const p2 = loaded.predict(probe, { batchSize: 64 }) as tf.Tensor;
      expect(m.stats().forward.calls - forwardCalls).toBe(2); // the loaded model uses our kernel
      expect(Array.from(p2.dataSync())).toEqual(Array.from(p1.dataSync()));
      tf.dispose([xT, yT, probe, p1, p2]);
      model.dispose();
      loaded.dispose();
    });
  });
}
