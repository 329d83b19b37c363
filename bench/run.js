#!/usr/bin/env node
// Throughput benchmark of mish-native: every native kernel this CPU runs (one thread and all
// threads), the pure-TypeScript path, a naive Math-based loop and a typed-array copy, for
// float32 and float64, forward (mish) and backward (mishBackward), side by side in one run.
//
//   npm run bench                 full run (about 3-4 minutes on a small 2-core machine)
//   node bench/run.js --quick     fewer sizes and samples (well under a minute)
//
// Needs the built library: `npx node-gyp build` and `npm run build:ts`.
// Progress goes to stderr, the tables to stdout; bench/results/latest.json (every
// measurement) and bench/results/latest.md (the tables) are overwritten on each run.
//
// Method. The contenders of one (dtype, op, size) cell group share the same input and output
// arrays. Each contender is warmed up (which also lets the JIT settle for the JS contenders)
// and calibrated to a repetition count giving a sample of about CONFIG.sampleMs; the samples
// are then taken round-robin across the contenders, so slow drifts of a noisy machine hit
// every contender alike. A sample's rate is elements / (sample time / repetitions). Contenders
// whose single call exceeds a sample (the JS paths and the scalar kernel at large sizes) take
// one call per sample and fewer samples, never fewer than CONFIG.minSamples.
// A second pass (the thread sweep) compares one thread with all threads for every kernel at
// each power of two around the pool's parallelMin. On Linux each cell group also records how
// many cores other processes kept busy meanwhile (from /proc/stat): thread speedups measured
// while a neighbour holds a core say nothing about the library.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const RESULTS_DIR = path.join(__dirname, 'results');

// ---------------------------------------------------------------------------------------------
// Options

function usage() {
  return [
    'usage: node bench/run.js [--quick] [--no-write]',
    '  --quick     3 sizes (2^12, 2^16, 2^20), fewer and shorter samples',
    '  --no-write  print the tables only; leave bench/results/ untouched',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { quick: false, write: true };
  for (const a of argv) {
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-write') opts.write = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(usage() + '\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n${usage()}\n`);
      process.exit(2);
    }
  }
  return opts;
}

const OPTS = parseArgs(process.argv.slice(2));

const CONFIG = OPTS.quick
  ? {
      exponents: [12, 16, 20],
      warmupMs: 20,
      sampleMs: 10,
      samples: 7,
      minSamples: 3,
      slowCellMs: 400,
      threadExponents: [15, 16, 18],
      threadSamples: 7,
    }
  : {
      exponents: [10, 12, 14, 16, 18, 20, 22, 24],
      warmupMs: 30,
      sampleMs: 20,
      samples: 9,
      minSamples: 5,
      slowCellMs: 1500,
      threadExponents: [15, 16, 17, 18, 19, 20, 21],
      threadSamples: 9,
    };

// ---------------------------------------------------------------------------------------------
// The library

let lib;
try {
  lib = require(path.join(ROOT, 'dist', 'index.js'));
} catch (e) {
  process.stderr.write(
    `bench: cannot load dist/index.js (${e.message.split('\n')[0]}).\n` +
      'Build first: npx node-gyp build && npm run build:ts\n',
  );
  process.exit(1);
}

// The raw addon, only for the pool's parallelMin constant (not in the public info()).
function rawAddonInfo() {
  try {
    const load = require(require.resolve('node-gyp-build', { paths: [ROOT] }));
    return load(ROOT).info();
  } catch {
    return null;
  }
}

const startInfo = lib.info();
const addonInfo = rawAddonInfo();

// Each kernel's thread cutoff (elements), as "avx512 2^18 (f32) / 2^17 (f64), ...".
function describeCutoffs() {
  const raw = (() => {
    try {
      return require(require.resolve('node-gyp-build', { paths: [ROOT] }))(ROOT);
    } catch {
      return null;
    }
  })();
  if (!raw) return '?';
  const parts = [];
  for (const isa of lib.info().isas) {
    lib.setIsa(isa);
    const pm = raw.info().parallelMin;
    parts.push(`${isa} 2^${Math.log2(pm.float32)} (f32) / 2^${Math.log2(pm.float64)} (f64)`);
  }
  lib.setIsa('auto');
  return parts.join(', ');
}
if (addonInfo) addonInfo.parallelMin = describeCutoffs();
const NATIVE_ISAS = startInfo.nativeError ? [] : startInfo.isas.slice();
const BEST_ISA = startInfo.nativeError ? null : startInfo.isa; // what 'auto' picks
const ALL_THREADS = addonInfo ? addonInfo.hardwareThreads : os.cpus().length;

// ---------------------------------------------------------------------------------------------
// Inputs: deterministic pseudo-random values (Marsaglia xorshift32).

function makeRandom(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function makeArrays(Type, n) {
  const x = new Type(n);
  const dy = new Type(n);
  const rx = makeRandom(0x9e3779b9 ^ n);
  const rd = makeRandom(0x85ebca6b ^ n);
  for (let i = 0; i < n; i++) {
    x[i] = rx() * 20 - 10; // [-10, 10)
    dy[i] = rd() * 2 - 1; // [-1, 1)
  }
  const out = new Type(n).fill(1); // touch every page before timing
  const dst = new Type(n).fill(1);
  return { x, dy, out, dst };
}

// ---------------------------------------------------------------------------------------------
// Naive loops: the textbook formulas with Math functions. One separately compiled copy per
// array type, so each stays monomorphic, as it would in a program using one dtype.

const NAIVE_FORWARD_SRC = `
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v * Math.tanh(Math.log1p(Math.exp(v)));
  }`;
// mish'(x) = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2), sp = ln(1 + e^x)
const NAIVE_BACKWARD_SRC = `
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const t = Math.tanh(Math.log1p(Math.exp(v)));
    const s = 1 / (1 + Math.exp(-v));
    out[i] = dy[i] * (t + v * s * (1 - t * t));
  }`;

const NAIVE = {
  float32: {
    forward: new Function('x', 'out', NAIVE_FORWARD_SRC),
    backward: new Function('dy', 'x', 'out', NAIVE_BACKWARD_SRC),
  },
  float64: {
    forward: new Function('x', 'out', NAIVE_FORWARD_SRC),
    backward: new Function('dy', 'x', 'out', NAIVE_BACKWARD_SRC),
  },
};

// ---------------------------------------------------------------------------------------------
// Contenders

const DTYPES = [
  { name: 'float32', Type: Float32Array, bytes: 4 },
  { name: 'float64', Type: Float64Array, bytes: 8 },
];
const OPS = [
  { name: 'forward', streams: 2 }, // reads x, writes out
  { name: 'backward', streams: 3 }, // reads dy and x, writes out
];

function nativeContender(isa, threads) {
  return {
    id: `${isa}-${threads === 1 ? '1t' : 'all'}`,
    label: `${isa} ×${threads === 1 ? 1 : ALL_THREADS}`,
    kind: 'native',
    isa,
    threads: threads === 1 ? 1 : ALL_THREADS,
    setup() {
      lib.setBackend('cpu');
      lib.setIsa(isa);
      lib.setThreads(threads === 1 ? 1 : 0);
    },
    make(op, dt, a) {
      return op === 'forward'
        ? () => lib.mish(a.x, a.out)
        : () => lib.mishBackward(a.dy, a.x, a.out);
    },
  };
}

const JS_CONTENDER = {
  id: 'js',
  label: 'js path',
  kind: 'js',
  isa: null,
  threads: 1,
  setup() {
    lib.setBackend('js');
  },
  make(op, dt, a) {
    return op === 'forward' ? () => lib.mish(a.x, a.out) : () => lib.mishBackward(a.dy, a.x, a.out);
  },
};

const NAIVE_CONTENDER = {
  id: 'naive',
  label: 'naive loop',
  kind: 'naive',
  isa: null,
  threads: 1,
  setup() {},
  make(op, dt, a) {
    const f = NAIVE[dt][op];
    return op === 'forward' ? () => f(a.x, a.out) : () => f(a.dy, a.x, a.out);
  },
};

const COPY_CONTENDER = {
  id: 'copy',
  label: 'copy (set)',
  kind: 'copy',
  isa: null,
  threads: 1,
  streams: 2,
  setup() {},
  make(op, dt, a) {
    return () => a.dst.set(a.x);
  },
};

const GRID_CONTENDERS = [
  ...NATIVE_ISAS.flatMap((isa) => [nativeContender(isa, 1), nativeContender(isa, 0)]),
  JS_CONTENDER,
  NAIVE_CONTENDER,
  COPY_CONTENDER,
];

// ---------------------------------------------------------------------------------------------
// Timing

function now() {
  return Number(process.hrtime.bigint()) / 1e9; // seconds
}

function median(sorted) {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

function stats(values) {
  const s = values.slice().sort((a, b) => a - b);
  return { median: median(s), min: s[0], max: s[s.length - 1] };
}

// Warms fn up for CONFIG.warmupMs (at least one call) and returns an estimate of one call.
function warmUp(fn) {
  const end = now() + CONFIG.warmupMs / 1000;
  const times = [];
  do {
    const t0 = now();
    fn();
    times.push(now() - t0);
  } while (now() < end);
  const late = times.slice(times.length >> 1).sort((a, b) => a - b);
  return median(late.length ? late : times);
}

// CPU time the other processes of the machine used, from /proc/stat (Linux) minus this
// process's own: a noisy neighbour explains a lot on a small shared machine. null elsewhere.
function cpuSnapshot() {
  let busy = null;
  try {
    const f = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal ...
    busy = (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / 100; // USER_HZ = 100
  } catch {
    /* not Linux */
  }
  const own = process.cpuUsage();
  return { t: now(), busy, own: (own.user + own.system) / 1e6 };
}

// Average number of cores other processes kept busy between two snapshots.
function othersCores(a, b) {
  if (a.busy === null || b.busy === null || b.t <= a.t) return null;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.t - a.t));
}

// Measures a list of contenders on one set of arrays, samples taken round-robin.
function measureGroup(contenders, opName, dt, arrays, samples) {
  const snap = cpuSnapshot();
  const cells = contenders.map((c) => {
    c.setup();
    const fn = c.make(opName, dt.name, arrays);
    const perCall = warmUp(fn);
    const sampleS = CONFIG.sampleMs / 1000;
    const reps = Math.max(1, Math.round(sampleS / perCall));
    let n = samples;
    if (reps === 1 && perCall > sampleS) {
      n = Math.max(
        CONFIG.minSamples,
        Math.min(samples, Math.floor(CONFIG.slowCellMs / 1000 / perCall)),
      );
    }
    return { c, fn, reps, samples: n, perCall, times: [] };
  });
  const rounds = Math.max(...cells.map((k) => k.samples));
  for (let r = 0; r < rounds; r++) {
    for (const k of cells) {
      if (r >= k.samples) continue;
      k.c.setup();
      // One untimed call after switching contenders, where it is cheap.
      if (k.perCall < CONFIG.sampleMs / 4000) k.fn();
      const fn = k.fn;
      const reps = k.reps;
      const t0 = now();
      for (let i = 0; i < reps; i++) fn();
      k.times.push((now() - t0) / reps);
    }
  }
  const others = othersCores(snap, cpuSnapshot());
  for (const k of cells) k.othersCores = others;
  return cells;
}

function toRecord(table, k, opName, dt, exp) {
  const n = 2 ** exp;
  const streams = k.c.streams || OPS.find((o) => o.name === opName).streams;
  const bytesPerElement = streams * dt.bytes;
  const rates = k.times.map((t) => n / t);
  const eps = stats(rates);
  return {
    table,
    dtype: dt.name,
    op: opName,
    exp,
    n,
    contender: k.c.id,
    label: k.c.label,
    kind: k.c.kind,
    isa: k.c.isa,
    threads: k.c.threads,
    samples: k.times.length,
    repsPerSample: k.reps,
    bytesPerElement,
    othersCores: k.othersCores,
    secondsPerCall: stats(k.times),
    elementsPerSec: eps,
    gbPerSec: {
      median: (eps.median * bytesPerElement) / 1e9,
      min: (eps.min * bytesPerElement) / 1e9,
      max: (eps.max * bytesPerElement) / 1e9,
    },
  };
}

// Speedup of `fast` over `base` in each round (samples taken back to back), then the median:
// steadier than a ratio of medians when the machine's load changes during the run.
function pairedSpeedup(base, fast) {
  const n = Math.min(base.times.length, fast.times.length);
  const r = [];
  for (let i = 0; i < n; i++) r.push(base.times[i] / fast.times[i]);
  return stats(r);
}

// ---------------------------------------------------------------------------------------------
// Sanity check: every contender computes the same function as the naive float64 formula
// (a benchmark of a broken kernel would be meaningless). Reported, never fatal.

function sanityCheck() {
  const results = [];
  const n = 1 << 12;
  for (const dt of DTYPES) {
    const a = makeArrays(dt.Type, n);
    const ref = { forward: new Float64Array(n), backward: new Float64Array(n) };
    const x64 = Float64Array.from(a.x);
    const dy64 = Float64Array.from(a.dy);
    NAIVE.float64.forward(x64, ref.forward);
    NAIVE.float64.backward(dy64, x64, ref.backward);
    for (const op of OPS) {
      for (const c of GRID_CONTENDERS) {
        if (c.kind === 'copy') continue;
        c.setup();
        a.out.fill(NaN);
        c.make(op.name, dt.name, a)();
        let worst = 0;
        for (let i = 0; i < n; i++) {
          const r = ref[op.name][i];
          const e = Math.abs(a.out[i] - r) / Math.max(1, Math.abs(r));
          if (!(e <= worst)) worst = e; // NaN propagates
        }
        const tol = dt.name === 'float32' ? 1e-5 : 1e-9;
        results.push({
          dtype: dt.name,
          op: op.name,
          contender: c.id,
          maxRelDiff: worst,
          ok: worst <= tol,
        });
      }
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  if (v >= 0.1) return v.toFixed(3);
  return v.toFixed(4);
}

function fmtRatio(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`;
}

function pad(s, w, left) {
  s = String(s);
  return left ? s.padEnd(w) : s.padStart(w);
}

function lookup(records, table, dtype, op, exp, contender) {
  return records.find(
    (r) =>
      r.table === table &&
      r.dtype === dtype &&
      r.op === op &&
      r.exp === exp &&
      r.contender === contender,
  );
}

function sweepEntry(sweep, dtype, op, isa, exp) {
  return sweep.find((v) => v.dtype === dtype && v.op === op && v.isa === isa && v.exp === exp);
}

function gels(r) {
  return r ? r.elementsPerSec.median / 1e9 : null;
}

function textTable(records, table, dt, op, exps, contenders) {
  const lines = [];
  const w = 13;
  lines.push(`${dt} ${op}: median G elements/s, ± = half the min-max range as % of the median`);
  lines.push(pad('', 14, true) + exps.map((e) => pad(`2^${e}`, w)).join(''));
  for (const c of contenders) {
    let row = pad(c.label, 14, true);
    for (const e of exps) {
      const r = lookup(records, table, dt, op, e, c.id);
      if (!r) {
        row += pad('-', w);
        continue;
      }
      const m = r.elementsPerSec;
      const spread = Math.round(((m.max - m.min) / 2 / m.median) * 100);
      row += pad(`${fmt(m.median / 1e9)} ±${spread}%`, w);
    }
    lines.push(row);
  }
  let busy = pad('(others busy)', 14, true);
  for (const e of exps) {
    const r = lookup(records, table, dt, op, e, contenders[0].id);
    busy += pad(r && r.othersCores !== null ? `${r.othersCores.toFixed(2)} cores` : '-', w);
  }
  lines.push(busy);
  return lines.join('\n');
}

function mdTable(records, table, dt, op, exps, contenders, gb) {
  const lines = [];
  lines.push(
    `| ${gb ? 'GB/s (median)' : 'G elem/s: median (min–max)'} | ${exps.map((e) => `2^${e}`).join(' | ')} |`,
  );
  lines.push(`|---|${exps.map(() => '---:').join('|')}|`);
  for (const c of contenders) {
    const cells = exps.map((e) => {
      const r = lookup(records, table, dt, op, e, c.id);
      if (!r) return '–';
      if (gb) return fmt(r.gbPerSec.median);
      const m = r.elementsPerSec;
      return `${fmt(m.median / 1e9)} (${fmt(m.min / 1e9)}–${fmt(m.max / 1e9)})`;
    });
    lines.push(`| ${c.label} | ${cells.join(' | ')} |`);
  }
  if (!gb) {
    const busy = exps.map((e) => {
      const r = lookup(records, table, dt, op, e, contenders[0].id);
      return r && r.othersCores !== null ? r.othersCores.toFixed(2) : '–';
    });
    lines.push(`| *cores kept busy by other processes* | ${busy.join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Headline ratios (all from medians of this run)

function headlines(records) {
  const out = [];
  const add = (name, num, den) => {
    const a = gels(num);
    const b = gels(den);
    out.push({
      name,
      ratio: a !== null && b !== null ? a / b : null,
      numerator: num
        ? `${num.label} ${num.dtype} ${num.op} 2^${num.exp}: ${fmt(a)} G/s`
        : 'not measured',
      denominator: den
        ? `${den.label} ${den.dtype} ${den.op} 2^${den.exp}: ${fmt(b)} G/s`
        : 'not measured',
    });
  };
  const g = (dt, op, exp, id) => lookup(records, 'grid', dt, op, exp, id);
  const exps = CONFIG.exponents;
  const mid = exps.includes(16) ? 16 : exps[Math.floor(exps.length / 2)];
  const top = exps[exps.length - 1];
  if (!BEST_ISA) {
    out.push({
      name: 'native addon not loaded: no native ratios',
      ratio: null,
      numerator: '',
      denominator: '',
    });
    add(
      `naive / js path, float32 forward 2^${mid}`,
      g('float32', 'forward', mid, 'naive'),
      g('float32', 'forward', mid, 'js'),
    );
    return out;
  }
  const one = `${BEST_ISA}-1t`;
  const all = `${BEST_ISA}-all`;
  add(
    `native (${BEST_ISA}, 1 thread) vs js path, float32 forward 2^${mid}`,
    g('float32', 'forward', mid, one),
    g('float32', 'forward', mid, 'js'),
  );
  add(
    `native (${BEST_ISA}, 1 thread) vs naive loop, float32 forward 2^${mid}`,
    g('float32', 'forward', mid, one),
    g('float32', 'forward', mid, 'naive'),
  );
  add(
    `native (${BEST_ISA}, 1 thread) vs js path, float32 backward 2^${mid}`,
    g('float32', 'backward', mid, one),
    g('float32', 'backward', mid, 'js'),
  );
  add(
    `native (${BEST_ISA}, 1 thread) vs naive backward, float32 backward 2^${mid}`,
    g('float32', 'backward', mid, one),
    g('float32', 'backward', mid, 'naive'),
  );
  for (const op of ['forward', 'backward']) {
    add(
      `float64 vs float32 (elements/s), native ${BEST_ISA} 1 thread, ${op} 2^${mid}`,
      g('float64', op, mid, one),
      g('float32', op, mid, one),
    );
  }
  for (const e of [20, 24].filter((v) => exps.includes(v))) {
    for (const dt of ['float32', 'float64']) {
      for (const op of ['forward', 'backward']) {
        const a = g(dt, op, e, all);
        add(
          `all threads (${ALL_THREADS}) vs 1 thread, ${BEST_ISA} ${dt} ${op} 2^${e}`,
          a,
          g(dt, op, e, one),
        );
        if (a && a.othersCores !== null) {
          out[out.length - 1].name +=
            ` (other processes kept ${a.othersCores.toFixed(2)} cores busy)`;
        }
      }
    }
  }
  for (const dt of ['float32', 'float64']) {
    for (const op of ['forward', 'backward']) {
      const n = g(dt, op, top, all);
      const c = g(dt, op, top, 'copy');
      add(`native (${BEST_ISA}, all threads) vs copy, elements/s, ${dt} ${op} 2^${top}`, n, c);
      if (n && c) {
        out.push({
          name: `native (${BEST_ISA}, all threads) vs copy, GB/s moved, ${dt} ${op} 2^${top}`,
          ratio: n.gbPerSec.median / c.gbPerSec.median,
          numerator: `${fmt(n.gbPerSec.median)} GB/s (${n.bytesPerElement} B/element)`,
          denominator: `${fmt(c.gbPerSec.median)} GB/s (${c.bytesPerElement} B/element)`,
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run

function progress(msg) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}`);
  else process.stderr.write(`${msg}\n`);
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .toString()
        .trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

function main() {
  const t0 = now();
  const snap0 = cpuSnapshot();
  const date = new Date().toISOString();
  const loadStart = os.loadavg();
  const cpus = os.cpus();
  const machine = {
    cpuModel: cpus.length ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    availableParallelism:
      typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
  process.stderr.write(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${process.version}, ` +
      `mish-native ${startInfo.version}, native ${startInfo.nativeError ? 'NOT loaded' : `${startInfo.isas.join('/')} (auto: ${BEST_ISA})`}` +
      `${OPTS.quick ? ', --quick' : ''}\n`,
  );
  if (startInfo.nativeError) process.stderr.write(`bench: ${startInfo.nativeError}\n`);

  const sanity = sanityCheck();
  for (const s of sanity.filter((v) => !v.ok)) {
    process.stderr.write(
      `bench: WARNING ${s.contender} ${s.dtype} ${s.op} differs from the naive formula by ${s.maxRelDiff}\n`,
    );
  }

  const records = [];
  const groups = DTYPES.length * CONFIG.exponents.length * OPS.length;
  let done = 0;
  for (const dt of DTYPES) {
    for (const exp of CONFIG.exponents) {
      const arrays = makeArrays(dt.Type, 2 ** exp);
      for (const op of OPS) {
        done++;
        progress(
          `[${done}/${groups}] ${dt.name} ${op.name} 2^${exp}  (${(now() - t0).toFixed(0)} s)`,
        );
        const cells = measureGroup(GRID_CONTENDERS, op.name, dt, arrays, CONFIG.samples);
        for (const k of cells) records.push(toRecord('grid', k, op.name, dt, exp));
      }
    }
  }

  // Thread cutoff sweep: every native kernel, one thread against all, at every power of two
  // around the pool's parallelMin (below it both run on one thread: a control for noise).
  const threadSweep = [];
  const threadContenders = NATIVE_ISAS.flatMap((isa) => [
    nativeContender(isa, 1),
    nativeContender(isa, 0),
  ]);
  if (threadContenders.length) {
    const tg = DTYPES.length * CONFIG.threadExponents.length * OPS.length;
    let td = 0;
    for (const dt of DTYPES) {
      for (const exp of CONFIG.threadExponents) {
        const arrays = makeArrays(dt.Type, 2 ** exp);
        for (const op of OPS) {
          td++;
          progress(
            `[threads ${td}/${tg}] ${dt.name} ${op.name} 2^${exp}  (${(now() - t0).toFixed(0)} s)`,
          );
          const cells = measureGroup(threadContenders, op.name, dt, arrays, CONFIG.threadSamples);
          for (const k of cells) records.push(toRecord('threads', k, op.name, dt, exp));
          for (let i = 0; i < cells.length; i += 2) {
            const one = cells[i];
            const all = cells[i + 1];
            threadSweep.push({
              dtype: dt.name,
              op: op.name,
              isa: one.c.isa,
              exp,
              n: 2 ** exp,
              oneThread: 2 ** exp / stats(one.times).median / 1e9,
              allThreads: 2 ** exp / stats(all.times).median / 1e9,
              ratioOfMedians: stats(one.times).median / stats(all.times).median,
              pairedSpeedup: pairedSpeedup(one, all),
              othersCores: one.othersCores,
            });
          }
        }
      }
    }
  }
  lib.setBackend('auto');
  if (BEST_ISA) lib.setIsa('auto');
  lib.setThreads(0);
  if (process.stderr.isTTY) process.stderr.write('\n');

  const seconds = now() - t0;
  const others = othersCores(snap0, cpuSnapshot());
  const heads = headlines(records);
  const command = `node bench/run.js${OPTS.quick ? ' --quick' : ''}`;
  const result = {
    schema: 1,
    mode: OPTS.quick ? 'quick' : 'full',
    command,
    date,
    durationSeconds: +seconds.toFixed(1),
    machine: {
      ...machine,
      loadavgStart: loadStart,
      loadavgEnd: os.loadavg(),
      othersCoresDuringRun: others,
    },
    node: process.version,
    v8: process.versions.v8,
    package: { name: 'mish-native', version: startInfo.version },
    git: gitInfo(),
    library: startInfo,
    addon: addonInfo,
    config: CONFIG,
    method:
      'Per (dtype, op, size): contenders share arrays; each is warmed up, calibrated to ' +
      `~${CONFIG.sampleMs} ms samples, then sampled round-robin. Rate = n / (sample time / reps). ` +
      'GB/s counts bytes read + written by the op (forward 2, backward 3, copy 2 arrays). ' +
      'The copy (dst.set(src)) runs on one thread.',
    sanity,
    headlines: heads,
    threadSweep,
    measurements: records,
  };

  // ---- stdout
  const exps = CONFIG.exponents;
  const out = [];
  out.push(
    `mish-native ${startInfo.version} bench (${result.mode}), ${date}`,
    `${machine.cpuModel}, ${machine.cores} cores, Node ${process.version}, ` +
      `native kernels: ${NATIVE_ISAS.join(', ') || 'none'}; all threads = ${ALL_THREADS}` +
      (addonInfo ? `; thread cutoffs: ${addonInfo.parallelMin}` : ''),
    '',
  );
  for (const dt of DTYPES) {
    for (const op of OPS) {
      out.push(textTable(records, 'grid', dt.name, op.name, exps, GRID_CONTENDERS), '');
    }
  }
  if (threadContenders.length) {
    out.push(
      'Thread sweep: speedup of all threads over 1 thread (median of per-round ratios); ' +
        `thread cutoffs: ${addonInfo ? addonInfo.parallelMin : '?'}`,
    );
    out.push(pad('', 26, true) + CONFIG.threadExponents.map((e) => pad(`2^${e}`, 8)).join(''));
    for (const dt of DTYPES) {
      for (const op of OPS) {
        for (const isa of NATIVE_ISAS) {
          let row = pad(`${dt.name} ${op.name} ${isa}`, 26, true);
          for (const e of CONFIG.threadExponents) {
            const t = sweepEntry(threadSweep, dt.name, op.name, isa, e);
            row += pad(t ? fmtRatio(t.pairedSpeedup.median) : '-', 8);
          }
          out.push(row);
        }
        let row = pad('  (others busy, cores)', 26, true);
        for (const e of CONFIG.threadExponents) {
          const t = sweepEntry(threadSweep, dt.name, op.name, NATIVE_ISAS[0], e);
          row += pad(t && t.othersCores !== null ? t.othersCores.toFixed(2) : '-', 8);
        }
        out.push(row);
      }
    }
    out.push('');
  }
  out.push('Headline ratios (medians, same run):');
  for (const h of heads) out.push(`  ${pad(fmtRatio(h.ratio), 8)}  ${h.name}`);
  out.push(
    '',
    `${seconds.toFixed(0)} s; load average ${loadStart.map((v) => v.toFixed(2)).join(' ')} -> ` +
      `${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(' ')}` +
      (others === null
        ? ''
        : `; other processes kept ${others.toFixed(2)} of ${machine.cores} cores busy on average`),
  );
  process.stdout.write(out.join('\n') + '\n');

  // ---- files
  if (OPTS.write) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const md = markdown(result, records, threadContenders);
    writeAtomic(path.join(RESULTS_DIR, 'latest.json'), toJson(result));
    writeAtomic(path.join(RESULTS_DIR, 'latest.md'), md);
    process.stderr.write(
      `bench: wrote ${path.relative(process.cwd(), RESULTS_DIR)}/latest.json and latest.md\n`,
    );
  }
}

// Numbers to 4 significant digits; one line per measurement, so the file stays small and
// diffs stay readable.
function toJson(result) {
  const round = (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(4) : v);
  const line = (v) => JSON.stringify(v, round);
  const { measurements, threadSweep, headlines: heads, sanity, ...head } = result;
  const body = JSON.stringify(head, round, 1).replace(/\n}$/, '');
  const list = (name, items) => `,\n "${name}": [\n  ${items.map(line).join(',\n  ')}\n ]`;
  return (
    body +
    list('sanity', sanity) +
    list('headlines', heads) +
    list('threadSweep', threadSweep) +
    list('measurements', measurements) +
    '\n}\n'
  );
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function markdown(result, records, threadContenders) {
  const m = result.machine;
  const exps = CONFIG.exponents;
  const L = [];
  L.push(`# mish-native benchmark (${result.mode})`, '');
  L.push(`- Date: ${result.date}`);
  L.push(`- Command: \`${result.command}\``);
  L.push(`- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.totalMemGiB} GiB, ${m.platform}`);
  L.push(
    `- Node ${result.node} (V8 ${result.v8}), mish-native ${result.package.version}` +
      (result.git
        ? `, git ${result.git.commit.slice(0, 12)}${result.git.dirty ? ' (dirty tree)' : ''}`
        : ''),
  );
  L.push(
    `- Native kernels: ${NATIVE_ISAS.join(', ') || 'none'} (auto: ${BEST_ISA || 'n/a'}); all threads = ${ALL_THREADS}` +
      (result.addon ? `; thread cutoffs: ${result.addon.parallelMin}` : ''),
  );
  L.push(
    `- Load average at start/end: ${m.loadavgStart.map((v) => v.toFixed(2)).join(' ')} / ` +
      `${m.loadavgEnd.map((v) => v.toFixed(2)).join(' ')}; run took ${result.durationSeconds.toFixed(0)} s` +
      (m.othersCoresDuringRun === null
        ? ''
        : `; other processes kept ${m.othersCoresDuringRun.toFixed(2)} cores busy on average`),
  );
  L.push(`- Method: ${result.method}`);
  const bad = result.sanity.filter((s) => !s.ok);
  L.push(
    `- Sanity check against the naive float64 formula: ${bad.length ? `${bad.length} FAILED: ${bad.map((s) => `${s.contender} ${s.dtype} ${s.op}`).join(', ')}` : 'all contenders agree'}`,
  );
  L.push('');
  L.push('## Headline ratios (medians of this run)', '');
  L.push('| ratio | comparison | numerator | denominator |', '|---:|---|---|---|');
  for (const h of result.headlines)
    L.push(`| ${fmtRatio(h.ratio)} | ${h.name} | ${h.numerator} | ${h.denominator} |`);
  L.push('');
  for (const dt of DTYPES) {
    for (const op of OPS) {
      L.push(`## ${dt.name} ${op.name}`, '');
      L.push(mdTable(records, 'grid', dt.name, op.name, exps, GRID_CONTENDERS, false), '');
      L.push(mdTable(records, 'grid', dt.name, op.name, exps, GRID_CONTENDERS, true), '');
    }
  }
  if (threadContenders.length) {
    const te = CONFIG.threadExponents;
    L.push(`## threads: 1 thread vs all (${ALL_THREADS}) threads, every kernel`, '');
    L.push(
      `The pool splits a call only from the kernel's cutoff on (${result.addon ? result.addon.parallelMin : '?'}); ` +
        'below that both settings run the same single-threaded code, so those columns show the noise floor.',
      '',
    );
    L.push(
      `| all / 1 thread: median of per-round ratios (min–max) | ${te.map((e) => `2^${e}`).join(' | ')} |`,
    );
    L.push(`|---|${te.map(() => '---:').join('|')}|`);
    for (const dt of DTYPES) {
      for (const op of OPS) {
        for (const isa of NATIVE_ISAS) {
          const cells = te.map((e) => {
            const t = sweepEntry(result.threadSweep, dt.name, op.name, isa, e);
            const p = t && t.pairedSpeedup;
            return p ? `**${fmtRatio(p.median)}** (${fmtRatio(p.min)}–${fmtRatio(p.max)})` : '–';
          });
          L.push(`| ${dt.name} ${op.name} ${isa} | ${cells.join(' | ')} |`);
        }
        const busy = te.map((e) => {
          const t = sweepEntry(result.threadSweep, dt.name, op.name, NATIVE_ISAS[0], e);
          return t && t.othersCores !== null ? t.othersCores.toFixed(2) : '–';
        });
        L.push(
          `| ${dt.name} ${op.name}: cores kept busy by other processes | ${busy.join(' | ')} |`,
        );
      }
    }
    L.push('');
    L.push(`| G elem/s, median: 1 thread / all threads | ${te.map((e) => `2^${e}`).join(' | ')} |`);
    L.push(`|---|${te.map(() => '---:').join('|')}|`);
    for (const dt of DTYPES) {
      for (const op of OPS) {
        for (const isa of NATIVE_ISAS) {
          const cells = te.map((e) => {
            const t = sweepEntry(result.threadSweep, dt.name, op.name, isa, e);
            return t ? `${fmt(t.oneThread)} / ${fmt(t.allThreads)}` : '–';
          });
          L.push(`| ${dt.name} ${op.name} ${isa} | ${cells.join(' | ')} |`);
        }
      }
    }
    L.push('');
  }
  return L.join('\n');
}

main();
