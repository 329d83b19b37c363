// Tests for examples/mnist.js: data loading and split, the Conv2DBackpropFilter
// kernel it registers, and short training runs (the --quick path).
import { describe, it, expect, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installMish } from '../lib/tfjs';
import * as core from '../lib/index';

const root = resolve(__dirname, '..');
const requireCjs = createRequire(join(root, 'package.json'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ex = requireCjs('./examples/mnist.js') as any;

const mishTfjs = installMish(tf);
const deps = { tf, mishTfjs, core };
const silent = { update() {}, done() {} };

interface EpochRow {
  epoch: number;
  loss: number;
  acc: number;
  testAcc: number;
}

describe('MNIST data', () => {
  it('reads all 10,000 digits of the mnist package in class order', () => {
    const data = ex.loadMnist();
    expect(data.count).toBe(10000);
    expect(data.images.length).toBe(10000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of data.labels) counts[l]++;
    const mnist = requireCjs('mnist');
    expect(counts).toEqual(Array.from({ length: 10 }, (_, d) => mnist[d].length));
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBeGreaterThan(0.99);
    expect(max).toBeLessThanOrEqual(1);
  });

  it('splits deterministically per seed into disjoint sets', () => {
    const data = ex.loadMnist();
    const a = ex.splitDataset(data, 8000, 2000, 1);
    const b = ex.splitDataset(data, 8000, 2000, 1);
    const c = ex.splitDataset(data, 8000, 2000, 2);
    const same = (u: ArrayBufferView, v: ArrayBufferView) =>
      Buffer.from(u.buffer, u.byteOffset, u.byteLength).equals(
        Buffer.from(v.buffer, v.byteOffset, v.byteLength),
      );
    expect(same(a.train.labels, b.train.labels)).toBe(true);
    expect(same(a.train.images, b.train.images)).toBe(true);
    expect(same(a.test.images, b.test.images)).toBe(true);
    expect(same(a.train.labels, c.train.labels)).toBe(false);
    // The permutation behind it is a permutation: every digit used exactly once.
    const p = ex.permutation(10000, ex.createPrng(1));
    expect(new Set(p).size).toBe(10000);
    expect(Math.min(...p)).toBe(0);
    expect(Math.max(...p)).toBe(9999);
    // every class appears in both parts, roughly in proportion
    for (let d = 0; d < 10; d++) {
      const inTest = a.test.labels.filter((l: number) => l === d).length;
      expect(inTest).toBeGreaterThan(120);
      expect(inTest).toBeLessThan(300);
    }
    expect(() => ex.splitDataset(data, 9000, 2000, 1)).toThrow(/10000/);
  });

  it('parses the command line', () => {
    const o = ex.parseArgs([
      '--epochs',
      '3',
      '--backend',
      'cpu',
      '--model=mlp',
      '--seed',
      '9',
      '--out',
      '/tmp/x',
    ]);
    expect(o).toMatchObject({
      epochs: 3,
      backend: 'cpu',
      model: 'mlp',
      seed: 9,
      out: '/tmp/x',
      quick: false,
    });
    const q = ex.parseArgs(['--quick']);
    expect(q.quick).toBe(true);
    expect(q.trainSize).toBeLessThan(2000);
    expect(ex.parseArgs([]).out).toBe(join(root, 'examples', 'results'));
    expect(() => ex.parseArgs(['--backend', 'webgl'])).toThrow(/wasm or cpu/);
    expect(() => ex.parseArgs(['--epochs', '0'])).toThrow(/--epochs/);
    expect(() => ex.parseArgs(['--frobnicate'])).toThrow(/unknown option/);
  });
});

describe('Conv2DBackpropFilter from examples/mnist.js', () => {
  const cases: Array<[number[], number[], number | [number, number], 'same' | 'valid']> = [
    [[3, 28, 28, 1], [5, 5, 1, 6], 1, 'same'],
    [[3, 14, 14, 6], [5, 5, 6, 16], 1, 'valid'],
    [[2, 11, 9, 2], [3, 4, 2, 5], 2, 'same'],
    [[2, 11, 9, 3], [3, 3, 3, 4], [2, 3], 'valid'],
    [[2, 10, 9, 2], [4, 3, 2, 3], 1, 'same'], // uneven padding: 1 above, 2 below
  ];
  const filterGrad = (
    xShape: number[],
    wShape: number[],
    s: number | [number, number],
    pad: 'same' | 'valid',
  ) =>
    tf.tidy(() => {
      const x = tf.randomNormal(xShape, 0, 1, 'float32', 1);
      const w = tf.randomNormal(wShape, 0, 1, 'float32', 2);
      return Array.from(
        tf
          .grad((f: tf.Tensor) =>
            tf
              .conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad)
              .square()
              .sum(),
          )(w)
          .dataSync(),
      );
    });
  let reference: number[][] = [];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    reference = cases.map((c) => filterGrad(...c)); // tfjs-backend-cpu's own kernel
  });

  for (const backendName of ['wasm', 'cpu']) {
    it(`matches tfjs-backend-cpu's kernel on ${backendName}`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      ex.installConvFilterGrad(tf, backendName);
      cases.forEach((c, i) => {
        const before = tf.memory().numTensors;
        const got = filterGrad(...c);
        expect(tf.memory().numTensors).toBe(before);
        const ref = reference[i] as number[];
        const scale = Math.max(...ref.map(Math.abs));
        const worst = Math.max(...got.map((v, j) => Math.abs(v - (ref[j] as number))));
        expect(worst / scale, `case ${i}`).toBeLessThan(1e-5);
      });
    });
  }
});

describe('training', () => {
  it('a short LeNet-5 run with Mish on wasm: loss falls, accuracy far above chance', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    ex.installConvFilterGrad(tf, 'wasm');
    const tensorsBefore = tf.memory().numTensors;
    const split = ex.splitDataset(ex.loadMnist(), 1000, 500, 4);
    const stats = ex.pixelStats(split.train.images);
    const data = {
      train: ex.toTensors(tf, split.train, 'lenet', stats),
      test: ex.toTensors(tf, split.test, 'lenet', stats),
    };
    const model = ex.buildModel(tf, 'lenet', mishTfjs.activation, 4);
    const opts = { epochs: 3, batchSize: 32, learningRate: 0.002, lrDecay: 0.9, seed: 4 };
    const calls = mishTfjs.stats().backward.calls;
    const r = await ex.trainModel(deps, model, data, opts, 'mish', silent, null);
    const rows = r.epochs as EpochRow[];
    expect(rows).toHaveLength(3);
    expect((rows[2] as EpochRow).loss).toBeLessThan((rows[0] as EpochRow).loss * 0.7);
    expect(r.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    // 4 Mish activations per step, 32 steps per epoch, all through our gradient kernel
    expect(mishTfjs.stats().backward.calls - calls).toBe(3 * 32 * 4);
    expect(r.kernel.backward.calls).toBe(3 * 32 * 4);
    expect(r.kernel.forward.ms).toBeGreaterThan(0);
    tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
    model.optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('the --quick comparison trains both activations and replays the Mish kernels', async () => {
    const opts = ex.parseArgs(['--quick', '--model', 'mlp', '--seed', '5']);
    const tensorsBefore = tf.memory().numTensors;
    const results = await ex.runComparison(opts, deps, { progress: false });
    expect(results.runs.map((r: { activation: string }) => r.activation)).toEqual(['mish', 'relu']);
    for (const run of results.runs) {
      const rows = run.epochs as EpochRow[];
      expect(rows).toHaveLength(opts.epochs);
      expect((rows.at(-1) as EpochRow).loss).toBeLessThan((rows[0] as EpochRow).loss);
      expect(run.testAccuracy).toBeGreaterThan(0.6);
    }
    const mish = results.runs[0];
    expect(mish.kernel.forward.calls).toBeGreaterThan(0);
    expect(mish.replay.native.totalMs).toBeGreaterThan(0);
    expect(mish.replay.js.totalMs).toBeGreaterThan(0);
    expect(mish.replay.js.backend).toBe('js');
    expect(core.info().backend).not.toBe(undefined);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const svg = ex.renderSvg(results.runs, 'test chart');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(2 * opts.epochs);
    expect(ex.summarize(results)).toMatch(/Mish \(mish-native\)/);
  });

  it.skipIf(!existsSync(join(root, 'dist', 'tfjs.js')))(
    'npm start --quick writes results JSON and SVG (needs dist/)',
    () => {
      const out = mkdtempSync(join(tmpdir(), 'mish-mnist-'));
      try {
        const stdout = execFileSync(
          process.execPath,
          [join(root, 'examples', 'mnist.js'), '--quick', '--model', 'mlp', '--out', out],
          {
            cwd: root,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: 60_000,
          },
        );
        expect(stdout).toMatch(/Mish \(mish-native\)/);
        expect(stdout).toMatch(/ReLU/);
        const json = JSON.parse(readFileSync(join(out, 'mnist-mlp-wasm-quick.json'), 'utf8'));
        expect(json.runs).toHaveLength(2);
        expect(json.data.train).toBe(1000);
        expect(readFileSync(join(out, 'mnist-mlp-wasm-quick.svg'), 'utf8')).toMatch(
          /^<svg[\s\S]*<\/svg>\n$/,
        );
        expect(stdout).toContain(join(out, 'mnist-mlp-wasm-quick.svg'));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});
