#!/usr/bin/env node
// Throughput benchmark of mish-native, side by side in one run: every native kernel this CPU
// runs (one thread and all threads), the default choice (`auto`), the pure-TypeScript path, a
// naive Math-based loop, the addon's own copy (one thread and all threads: the memory ceiling)
// and, where they are installed in bench/node_modules, the peers: TensorFlow.js (cpu and wasm
// backends, with tfjs's own ops and with our op) and onnxruntime-node (the standard ONNX Mish
// operator). float32 and float64, forward (mish) and backward (mishBackward), 2^4 to 2^24
// elements, plus the fixed cost of one call (1- and 4-element arrays).
//
//   npm run bench                 full run (about 4 minutes on a small 2-core machine)
//   node bench/run.js --quick     fewer sizes, shorter samples (under a minute)
//   node bench/run.js --help      all options
//
// Needs the built library (`npx node-gyp build && npm run build:ts`). The peers are optional:
//   cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm install
// Without bench/node_modules the benchmark runs without them and says so in one line.
//
// Progress goes to stderr, the tables to stdout. A full run writes bench/results/latest.json
// (machine, versions, every sample), latest.md (the tables) and chart-<dtype>-<op>.svg
// (throughput against size, log-log); --quick writes the same files under bench/results/quick/.
//
// Method. The contenders of one (dtype, op, size) cell group share the same input and output
// arrays. Each contender is warmed up (which also lets the JIT settle) and calibrated to a
// repetition count giving a sample of about CONFIG.sampleMs; the samples are then taken
// round-robin across the contenders (in a new shuffled order each round), so slow drifts of a
// noisy machine hit every contender alike, and ratios of two contenders can be taken round by
// round. A sample's rate is
// elements / (sample time / repetitions). Contenders whose single call exceeds a sample take
// one call per sample and fewer samples, never fewer than CONFIG.minSamples. On Linux each
// cell group also records how many cores other processes kept busy meanwhile (/proc/stat).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const PEER_MODULES = path.join(__dirname, 'node_modules');

// ---------------------------------------------------------------------------------------------
// Options

const range = (a, b, step = 1) => {
  const r = [];
  for (let v = a; v <= b; v += step) r.push(v);
  return r;
};

function usage() {
  return [
    'usage: node bench/run.js [--quick] [--no-peers] [--only=ID,...] [--sizes=A-B|A,B,...] [--no-write]',
    '  --quick     6 sizes (2^4, 2^8, ..., 2^24), fewer and shorter samples;',
    '              files go to bench/results/quick/',
    '  --no-peers  leave out TensorFlow.js and onnxruntime-node even when installed',
    '  --only=IDS  time only these contenders (comma-separated ids, as in latest.json,',
    '              e.g. --only=avx512-1t,auto,copy-all); implies --no-write',
    '  --sizes=..  powers of two to time, e.g. --sizes=16,20,24 or --sizes=10-14; implies --no-write',
    '  --no-write  print the tables only; write no files',
  ].join('\n');
}

function parseArgs(argv) {
  const opts = { quick: false, write: true, peers: true, only: null, sizes: null };
  for (const a of argv) {
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-write') opts.write = false;
    else if (a === '--no-peers') opts.peers = false;
    else if (/^--sizes=\d+(-\d+|(,\d+)*)$/.test(a)) {
      const v = a.slice(8);
      const m = /^(\d+)-(\d+)$/.exec(v);
      opts.sizes = m ? range(+m[1], +m[2]) : v.split(',').map(Number);
      opts.write = false;
    } else if (a.startsWith('--only=')) {
      opts.only = a.slice(7).split(',').filter(Boolean);
      opts.write = false;
    } else if (a === '--help' || a === '-h') {
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
      exponents: [4, 8, 12, 16, 20, 24],
      slowMaxExp: 20, // the naive loop, the TS path and the peers stop here
      overheadSizes: [1, 4],
      warmupMs: 10,
      sampleMs: 5,
      samples: 5,
      minSamples: 3,
      slowCellMs: 250,
    }
  : {
      exponents: range(4, 24),
      slowMaxExp: 20,
      overheadSizes: [1, 4],
      warmupMs: 20,
      sampleMs: 15,
      samples: 9,
      minSamples: 5,
      slowCellMs: 1000,
    };

if (OPTS.sizes) CONFIG.exponents = OPTS.sizes;

const RESULTS_DIR = path.join(__dirname, 'results', OPTS.quick ? 'quick' : '');

// ---------------------------------------------------------------------------------------------
// The library and the raw addon (for copy() and the thread cutoffs, which info() leaves out)

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

const startInfo = lib.info();
const NATIVE_OK = !startInfo.nativeError;
let raw = null;
if (NATIVE_OK) {
  try {
    raw = require(require.resolve('node-gyp-build', { paths: [ROOT] }))(ROOT);
  } catch {
    raw = null;
  }
}
const HAS_COPY = raw !== null && typeof raw.copy === 'function';

// Each kernel's thread cutoff (elements), as "avx512 2^19 (f32) / 2^18 (f64), ...".
function describeCutoffs() {
  if (!raw) return null;
  const parts = [];
  for (const isa of lib.info().isas) {
    lib.setIsa(isa);
    const pm = raw.info().parallelMin;
    parts.push(`${isa} 2^${Math.log2(pm.float32)} (f32) / 2^${Math.log2(pm.float64)} (f64)`);
  }
  lib.setIsa('auto');
  return parts.join(', ');
}
const addonInfo = raw ? { ...raw.info(), parallelMin: describeCutoffs() } : null;
const NATIVE_ISAS = NATIVE_OK ? startInfo.isas.slice() : [];
const BEST_ISA = NATIVE_OK ? startInfo.isa : null; // what 'auto' picks
const ALL_THREADS = addonInfo ? addonInfo.hardwareThreads : os.cpus().length;

// The library's defaults: what `auto` and the peers' "our op" run with.
function resetLib() {
  lib.setBackend('auto');
  if (NATIVE_OK) lib.setIsa('auto');
  lib.setThreads(0);
}

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
// Contenders. Fields: id, label (tables), short (stdout columns), kind, isa, threads,
// dtypes/ops (null: all), maxExp (null: every size), streams (arrays moved per element, when
// not the op's), async (fn returns a promise), setup() (may return a promise), and
// make(op, dtype, arrays) returning the timed function (with an optional .dispose()).

const DTYPES = [
  { name: 'float32', Type: Float32Array, bytes: 4 },
  { name: 'float64', Type: Float64Array, bytes: 8 },
];
const OPS = [
  { name: 'forward', streams: 2 }, // reads x, writes out
  { name: 'backward', streams: 3 }, // reads dy and x, writes out
];

const ISA_SHORT = { scalar: 'sc', avx2: 'avx2', avx512: 'a512' };

function libCall(op, dt, a) {
  return op === 'forward' ? () => lib.mish(a.x, a.out) : () => lib.mishBackward(a.dy, a.x, a.out);
}

function nativeContender(isa, all) {
  const n = all ? ALL_THREADS : 1;
  return {
    id: `${isa}-${all ? 'all' : '1t'}`,
    label: `${isa} ×${n}`,
    short: `${ISA_SHORT[isa] || isa}×${n}`,
    kind: 'native',
    isa,
    threads: n,
    setup() {
      lib.setBackend('cpu');
      lib.setIsa(isa);
      lib.setThreads(all ? 0 : 1);
    },
    make: libCall,
  };
}

const AUTO_CONTENDER = {
  id: 'auto',
  label: 'auto',
  short: 'auto',
  kind: 'auto',
  isa: BEST_ISA,
  threads: ALL_THREADS,
  setup: resetLib,
  make: libCall,
};

const JS_CONTENDER = {
  id: 'js',
  label: 'TS path',
  short: 'ts',
  kind: 'js',
  threads: 1,
  maxExp: CONFIG.slowMaxExp,
  setup() {
    lib.setBackend('js');
  },
  make: libCall,
};

const NAIVE_CONTENDER = {
  id: 'naive',
  label: 'naive loop',
  short: 'naive',
  kind: 'naive',
  threads: 1,
  maxExp: CONFIG.slowMaxExp,
  setup() {},
  make(op, dt, a) {
    const f = NAIVE[dt][op];
    return op === 'forward' ? () => f(a.x, a.out) : () => f(a.dy, a.x, a.out);
  },
};

// The addon's copy, on the kernels' pool with the default ISA's cutoff: the memory ceiling.
function copyContender(all) {
  const n = all ? ALL_THREADS : 1;
  return {
    id: `copy-${all ? 'all' : '1t'}`,
    label: `copy ×${n}`,
    short: `cp×${n}`,
    kind: 'copy',
    threads: n,
    streams: 2,
    setup() {
      lib.setIsa('auto');
      lib.setThreads(all ? 0 : 1);
    },
    make(op, dt, a) {
      return () => raw.copy(a.x, a.dst);
    },
  };
}

const SET_CONTENDER = {
  id: 'set',
  label: 'dst.set(src)',
  short: 'set',
  kind: 'copy',
  threads: 1,
  streams: 2,
  setup() {},
  make(op, dt, a) {
    return () => a.dst.set(a.x);
  },
};

// The GPU, where one is usable: DeviceArrays (copied to the device once, untimed; each timed
// call waits for its kernel) and host arrays through the GPU path (backend 'cuda'). The GPU's
// own bandwidth ceiling (device-to-device copy) is measured by build-cuda/Release/cuda_bench.
const GPU = lib.info().cuda;
const GPU_CONTENDERS = GPU.available
  ? [
      {
        id: 'cuda-device',
        label: 'GPU, device arrays',
        short: 'gpu-d',
        kind: 'gpu',
        threads: 1,
        setup: resetLib,
        make(op, dt, a) {
          const d = {
            x: lib.cuda.toDevice(a.x),
            dy: lib.cuda.toDevice(a.dy),
            out: lib.cuda.toDevice(a.out),
          };
          const f =
            op === 'forward'
              ? () => lib.mish(d.x, d.out)
              : () => lib.mishBackward(d.dy, d.x, d.out);
          f.dispose = () => Object.values(d).forEach((v) => v.dispose());
          return f;
        },
      },
      {
        id: 'cuda-host',
        label: 'GPU, host arrays',
        short: 'gpu-h',
        kind: 'gpu',
        threads: 1,
        setup() {
          lib.setBackend('cuda');
        },
        make: libCall,
      },
    ]
  : [];

const BASE_CONTENDERS = [
  ...NATIVE_ISAS.flatMap((isa) => [nativeContender(isa, false), nativeContender(isa, true)]),
  ...(NATIVE_OK ? [AUTO_CONTENDER] : []),
  JS_CONTENDER,
  NAIVE_CONTENDER,
  ...(HAS_COPY ? [copyContender(false), copyContender(true)] : []),
  SET_CONTENDER,
  ...GPU_CONTENDERS,
];

// ---------------------------------------------------------------------------------------------
// Peers (bench/node_modules, optional)

function peerRequire(name) {
  return require(path.join(PEER_MODULES, name));
}

function peerVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(PEER_MODULES, name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return null;
  }
}

function firstLine(e) {
  return String((e && e.message) || e).split('\n')[0];
}

// A minimal protobuf writer, enough for an ONNX ModelProto (onnx.proto3 field numbers).
const pb = {
  varint(v) {
    let n = BigInt(v);
    const b = [];
    while (n >= 0x80n) {
      b.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    b.push(Number(n));
    return b;
  },
  int(field, v) {
    return [...pb.varint(field << 3), ...pb.varint(v)]; // wire type 0
  },
  bytes(field, b) {
    return [...pb.varint((field << 3) | 2), ...pb.varint(b.length), ...b]; // wire type 2
  },
  string(field, s) {
    return pb.bytes(field, [...Buffer.from(s, 'utf8')]);
  },
  message(field, ...parts) {
    return pb.bytes(field, parts.flat());
  },
};

// ModelProto { ir_version 8, opset_import { domain "" version 18 }, graph { one node
// y = Mish(x); x and y float tensors of one dynamic dimension "n" } }.
function mishOnnxModel() {
  const FLOAT = 1; // TensorProto.DataType.FLOAT
  const tensorValue = (field, name) =>
    pb.message(
      field, // ValueInfoProto
      pb.string(1, name), // name
      pb.message(
        2, // type: TypeProto
        pb.message(
          1, // tensor_type: TypeProto.Tensor
          pb.int(1, FLOAT), // elem_type
          pb.message(2, pb.message(1, pb.string(2, 'n'))), // shape { dim { dim_param "n" } }
        ),
      ),
    );
  const graph = pb.message(
    7, // ModelProto.graph
    pb.message(1, pb.string(1, 'x'), pb.string(2, 'y'), pb.string(3, 'mish'), pb.string(4, 'Mish')),
    pb.string(2, 'mish_graph'),
    tensorValue(11, 'x'), // input
    tensorValue(12, 'y'), // output
  );
  return Uint8Array.from([
    ...pb.int(1, 8), // ir_version
    ...pb.string(2, 'mish-native-bench'), // producer_name
    ...graph,
    ...pb.message(8, pb.string(1, ''), pb.int(2, 18)), // opset_import
  ]);
}

// Distance in units in the last place between two finite float32 values.
function ulpDistance32(a, b) {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v) => (v < 0 ? -2147483648 - v : v); // monotonic in the float's value
  return Math.abs(key(i[0]) - key(i[1]));
}

// Loads what is installed and returns { contenders, info }. Never throws.
async function loadPeers() {
  const info = { dir: 'bench/node_modules', notes: [], tfjs: null, ort: null, checks: [] };
  const contenders = [];
  if (!OPTS.peers) {
    info.notes.push('peers left out (--no-peers)');
    return { contenders, info };
  }
  if (!fs.existsSync(PEER_MODULES)) {
    info.notes.push(
      'peers skipped: bench/node_modules is absent ' +
        '(install them with: cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm install)',
    );
    return { contenders, info };
  }
  const x = makeArrays(Float32Array, 1 << 12).x;
  const ref64 = { forward: new Float64Array(x.length), backward: new Float64Array(x.length) };
  const dyCheck = makeArrays(Float32Array, 1 << 12).dy;
  NAIVE.float64.forward(Float64Array.from(x), ref64.forward);
  NAIVE.float64.backward(Float64Array.from(dyCheck), Float64Array.from(x), ref64.backward);
  const maxRel = (got, ref) => {
    let w = 0;
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
      if (!(e <= w)) w = e;
    }
    return w;
  };

  // ---- TensorFlow.js
  let tf = null;
  try {
    tf = peerRequire('@tensorflow/tfjs');
    // In tfjs 4.x the PROD flag only silences warnings (here: the banner about tfjs-node).
    tf.enableProdMode();
    info.tfjs = { version: peerVersion('@tensorflow/tfjs'), backends: [] };
  } catch (e) {
    info.notes.push(`TensorFlow.js skipped: @tensorflow/tfjs does not load (${firstLine(e)})`);
  }
  if (tf) {
    let wasmLoaded = false;
    try {
      peerRequire('@tensorflow/tfjs-backend-wasm');
      wasmLoaded = true;
      info.tfjs.wasmVersion = peerVersion('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      info.notes.push(
        `tfjs wasm backend skipped: @tensorflow/tfjs-backend-wasm does not load (${firstLine(e)})`,
      );
    }
    let inst = null;
    try {
      inst = require(path.join(ROOT, 'dist', 'tfjs.js')).installMish(tf);
    } catch (e) {
      info.notes.push(`tfjs "our op" skipped: installMish failed (${firstLine(e)})`);
    }
    for (const backend of wasmLoaded ? ['cpu', 'wasm'] : ['cpu']) {
      let ok = false;
      try {
        ok = await tf.setBackend(backend);
        await tf.ready();
      } catch (e) {
        info.notes.push(`tfjs ${backend} backend skipped: ${firstLine(e)}`);
        continue;
      }
      if (!ok || tf.getBackend() !== backend) {
        info.notes.push(`tfjs ${backend} backend skipped: it did not initialise`);
        continue;
      }
      const b = { name: backend };
      if (backend === 'wasm') {
        b.simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        b.multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      }
      info.tfjs.backends.push(b);
      for (const ours of inst ? [false, true] : [false]) {
        const c = tfjsContender(tf, backend, ours ? inst : null, b);
        // Check both ops against the float64 formula before timing.
        await c.setup();
        for (const op of ['forward', 'backward']) {
          const xt = tf.tensor1d(x);
          const dyt = tf.tensor1d(dyCheck);
          const y = c.compute(op, xt, dyt);
          const got = y.dataSync();
          const w = maxRel(got, ref64[op]);
          tf.dispose([xt, dyt, y]);
          info.checks.push({ contender: c.id, op, maxRelDiff: w, ok: w <= 1e-5 });
        }
        contenders.push(c);
      }
    }
    resetLib();
  }

  // ---- onnxruntime-node
  let ort = null;
  try {
    ort = peerRequire('onnxruntime-node');
    info.ort = { version: peerVersion('onnxruntime-node') };
  } catch (e) {
    info.notes.push(`onnxruntime-node skipped: it does not load (${firstLine(e)})`);
  }
  if (ort) {
    const model = mishOnnxModel();
    info.ort.modelBytes = model.length;
    for (const all of [false, true]) {
      const threads = all ? ALL_THREADS : 1;
      let session;
      try {
        session = await ort.InferenceSession.create(model, {
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          // Idle pool threads would otherwise spin after each run and steal a core from the
          // contender timed next.
          extra: { session: { intra_op: { allow_spinning: '0' } } },
        });
      } catch (e) {
        info.notes.push(`onnxruntime-node skipped: the Mish model does not load (${firstLine(e)})`);
        break;
      }
      // Check against our mish (float32, default settings) in ulp before timing: the bench's
      // inputs, a grid over [-30, 30] and signed zeros decide; the far tails (e^x subnormal,
      // huge x) are reported for information.
      const core = new Float32Array(x.length + 6001 + 2);
      core.set(x);
      for (let i = 0; i <= 6000; i++) core[x.length + i] = -30 + i / 100;
      core.set([0, -0], x.length + 6001);
      const tails = Float32Array.from([-85, -87, -88, -90, -95, -100, -103, 50, 88, 1e30, 3e38]);
      const probe = new Float32Array(core.length + tails.length);
      probe.set(core);
      probe.set(tails, core.length);
      const ours = new Float32Array(probe.length);
      resetLib();
      lib.mish(probe, ours);
      const outT = new ort.Tensor('float32', new Float32Array(probe.length), [probe.length]);
      const res = await session.run(
        { x: new ort.Tensor('float32', probe, [probe.length]) },
        { y: outT },
      );
      const got = res.y.data;
      const worstOf = (from, to) => {
        let worst = 0;
        let at = null;
        for (let i = from; i < to; i++) {
          const d = Number.isFinite(got[i])
            ? ulpDistance32(got[i], ours[i])
            : Object.is(got[i], ours[i])
              ? 0
              : Infinity;
          if (!(d <= worst)) {
            worst = d;
            at = probe[i];
          }
        }
        return { worst, at };
      };
      const main = worstOf(0, core.length);
      const tail = worstOf(core.length, probe.length);
      info.checks.push({
        contender: `ort-${all ? 'all' : '1t'}`,
        op: 'forward',
        maxUlpFromOurs: main.worst,
        atX: main.at,
        range: 'bench inputs in [-10, 10), a grid over [-30, 30], ±0',
        tailMaxUlpFromOurs: tail.worst,
        tailAtX: tail.at,
        tailPoints: Array.from(tails),
        ok: main.worst <= 8,
      });
      contenders.push(ortContender(ort, session, all));
      if (ALL_THREADS === 1) break;
    }
  }
  return { contenders, info };
}

function tfjsContender(tf, backend, inst, backendInfo) {
  const ours = inst !== null;
  const name = backend === 'cpu' ? 'cpu' : 'wasm';
  const threads = backend === 'wasm' && !backendInfo.multithread ? 1 : backend === 'cpu' ? 1 : null;
  const c = {
    id: `tfjs-${backend}${ours ? '-mish' : ''}`,
    label: `tfjs ${name} ${ours ? 'our op' : 'tf ops'}`,
    short: `tf${name[0]}${ours ? '+m' : ''}`,
    kind: 'peer',
    peer: 'tfjs',
    threads: ours ? `our default (${ALL_THREADS})` : threads,
    dtypes: ['float32'],
    maxExp: CONFIG.slowMaxExp,
    async setup() {
      resetLib();
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
    },
    // y = x·tanh(softplus(x)); backward dx = dy·mish'(x) from tfjs ops, or our kernels.
    compute(op, x, dy) {
      return tf.tidy(() => {
        if (op === 'forward') return ours ? inst.mish(x) : tf.mul(x, tf.tanh(tf.softplus(x)));
        if (ours) return tf.engine().runKernel(inst.gradKernelName, { dy, x });
        const t = tf.tanh(tf.softplus(x));
        const d = tf.add(t, tf.mul(tf.mul(x, tf.sigmoid(x)), tf.sub(1, tf.square(t))));
        return tf.mul(dy, d);
      });
    },
    // Tensors made on this contender's own backend, so none moves between backends.
    make(op, dt, a) {
      const x = tf.tensor1d(a.x);
      const dy = op === 'backward' ? tf.tensor1d(a.dy) : null;
      const fn = () => c.compute(op, x, dy).dispose();
      fn.dispose = () => tf.dispose(dy ? [x, dy] : [x]);
      return fn;
    },
  };
  return c;
}

function ortContender(ort, session, all) {
  const n = all ? ALL_THREADS : 1;
  return {
    id: `ort-${all ? 'all' : '1t'}`,
    label: `onnxruntime ×${n}`,
    short: `ort×${n}`,
    kind: 'peer',
    peer: 'ort',
    threads: n,
    dtypes: ['float32'], // ORT's Mish kernel is float only
    ops: ['forward'], // inference runtime: no Mish gradient operator
    maxExp: CONFIG.slowMaxExp,
    async: true,
    setup: resetLib,
    make(op, dt, a) {
      const feeds = { x: new ort.Tensor('float32', a.x, [a.x.length]) };
      const fetches = { y: new ort.Tensor('float32', a.out, [a.out.length]) }; // preallocated
      return () => session.run(feeds, fetches);
    },
  };
}

function applies(c, dt, op, n) {
  if (c.dtypes && !c.dtypes.includes(dt)) return false;
  if (c.ops && !c.ops.includes(op)) return false;
  if (c.maxExp != null && n > 2 ** c.maxExp) return false;
  return true;
}

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

// Warms fn up for CONFIG.warmupMs (at least two calls) and returns an estimate of one call.
async function warmUp(fn, isAsync) {
  const end = now() + CONFIG.warmupMs / 1000;
  const times = [];
  do {
    const t0 = now();
    if (isAsync) await fn();
    else fn();
    times.push(now() - t0);
  } while (now() < end || times.length < 2);
  const late = times.slice(times.length >> 1).sort((a, b) => a - b);
  return median(late);
}

async function timeSample(k) {
  const fn = k.fn;
  const reps = k.reps;
  if (k.c.async) {
    const t0 = now();
    for (let i = 0; i < reps; i++) await fn();
    return (now() - t0) / reps;
  }
  const t0 = now();
  for (let i = 0; i < reps; i++) fn();
  return (now() - t0) / reps;
}

// CPU time the other processes of the machine used, from /proc/stat (Linux) minus this
// process's own. null elsewhere.
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

// Measures the contenders on one set of arrays, samples taken round-robin.
async function measureGroup(contenders, opName, dt, arrays, samples) {
  const snap = cpuSnapshot();
  const cells = [];
  for (const c of contenders) {
    await c.setup();
    const fn = c.make(opName, dt.name, arrays);
    const perCall = await warmUp(fn, c.async);
    const sampleS = CONFIG.sampleMs / 1000;
    const reps = Math.max(1, Math.round(sampleS / perCall));
    let n = samples;
    if (reps === 1 && perCall > sampleS) {
      n = Math.max(
        CONFIG.minSamples,
        Math.min(samples, Math.floor(CONFIG.slowCellMs / 1000 / perCall)),
      );
    }
    cells.push({ c, fn, reps, samples: n, perCall, times: [] });
  }
  const rounds = Math.max(...cells.map((k) => k.samples));
  // Each round takes the contenders in a new (seeded, so repeatable) order: at the sizes of the
  // last-level cache what ran just before changes what is still cached, and a fixed order
  // would favour whoever always follows a contender that leaves the right arrays there.
  const rand = makeRandom(0x2545f491 ^ cells.length);
  for (let r = 0; r < rounds; r++) {
    const order = cells.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const k of order) {
      if (r >= k.samples) continue;
      await k.c.setup();
      // One untimed call after switching contenders, where it is cheap.
      if (k.perCall < CONFIG.sampleMs / 4000) {
        if (k.c.async) await k.fn();
        else k.fn();
      }
      k.times.push(await timeSample(k));
    }
  }
  for (const k of cells) if (k.fn.dispose) k.fn.dispose();
  const others = othersCores(snap, cpuSnapshot());
  for (const k of cells) k.othersCores = others;
  return cells;
}

function toRecord(table, k, opName, dt, n) {
  const streams = k.c.streams || OPS.find((o) => o.name === opName).streams;
  const bytesPerElement = streams * dt.bytes;
  const eps = stats(k.times.map((t) => n / t));
  return {
    table,
    dtype: dt.name,
    op: opName,
    exp: Math.log2(n),
    n,
    contender: k.c.id,
    label: k.c.label,
    kind: k.c.kind,
    isa: k.c.isa || null,
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
    times: k.times, // seconds per call, one per sample, in round order
  };
}

// Speed of `fast` over `base` in each round (samples taken back to back), then the median:
// steadier than a ratio of medians when the machine's load changes during the run.
function pairedSpeedup(base, fast) {
  const n = Math.min(base.times.length, fast.times.length);
  const r = [];
  for (let i = 0; i < n; i++) r.push(base.times[i] / fast.times[i]);
  return r.length ? stats(r) : null;
}

// ---------------------------------------------------------------------------------------------
// Sanity check: every library contender computes the same function as the naive float64
// formula, and the copies copy (a benchmark of a broken kernel would be meaningless).
// Reported, never fatal.

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
      for (const c of BASE_CONTENDERS) {
        c.setup();
        if (c.kind === 'copy') {
          if (op.name !== 'forward') continue;
          a.dst.fill(NaN);
          c.make(op.name, dt.name, a)();
          const ok = a.dst.every((v, i) => Object.is(v, a.x[i]));
          results.push({ dtype: dt.name, op: 'copy', contender: c.id, maxRelDiff: ok ? 0 : 1, ok });
          continue;
        }
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
  resetLib();
  return results;
}

// ---------------------------------------------------------------------------------------------
// Analysis

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

function gels(r) {
  return r ? r.elementsPerSec.median / 1e9 : null;
}

// auto against every fixed (ISA, threads) choice, per size: the fastest fixed choice by
// median, and auto's speed over it, round by round (median of the per-round ratios).
function autoTable(records, fixed) {
  const rows = [];
  for (const dt of DTYPES) {
    for (const op of OPS) {
      for (const exp of CONFIG.exponents) {
        const auto = lookup(records, 'grid', dt.name, op.name, exp, 'auto');
        const cands = fixed
          .map((c) => lookup(records, 'grid', dt.name, op.name, exp, c.id))
          .filter(Boolean);
        if (!auto || !cands.length) continue;
        const best = cands.reduce((a, b) => (gels(b) > gels(a) ? b : a));
        const p = pairedSpeedup(best, auto);
        rows.push({
          dtype: dt.name,
          op: op.name,
          exp,
          best: best.contender,
          bestLabel: best.label,
          auto: gels(auto),
          bestRate: gels(best),
          ratioOfMedians: gels(auto) / gels(best),
          paired: p,
          othersCores: auto.othersCores,
        });
      }
    }
  }
  return rows;
}

// All threads against one thread, per kernel and size, round by round.
function threadTable(records) {
  const rows = [];
  for (const dt of DTYPES) {
    for (const op of OPS) {
      for (const isa of NATIVE_ISAS) {
        for (const exp of CONFIG.exponents) {
          const one = lookup(records, 'grid', dt.name, op.name, exp, `${isa}-1t`);
          const all = lookup(records, 'grid', dt.name, op.name, exp, `${isa}-all`);
          if (!one || !all) continue;
          rows.push({
            dtype: dt.name,
            op: op.name,
            isa,
            exp,
            oneThread: gels(one),
            allThreads: gels(all),
            ratioOfMedians: gels(all) / gels(one),
            paired: pairedSpeedup(one, all),
            othersCores: one.othersCores,
          });
        }
      }
    }
  }
  return rows;
}

// The issue's targets, each from medians of this run.
function targets(records, autoRows) {
  const out = [];
  const g = (dt, op, exp, id) => lookup(records, 'grid', dt, op, exp, id);
  const has = (e) => CONFIG.exponents.includes(e);
  const add = (name, target, num, den, opts = {}) => {
    const useGb = opts.gb === true;
    const a = num ? (useGb ? num.gbPerSec.median : gels(num)) : null;
    const b = den ? (useGb ? den.gbPerSec.median : gels(den)) : null;
    const ratio = a !== null && b !== null ? a / b : null;
    const unit = useGb ? 'GB/s' : 'G elem/s';
    const desc = (r, v) =>
      r
        ? `${r.label} ${r.dtype} ${r.op} 2^${r.exp}: ${fmt(v)} ${unit}` +
          (useGb ? ` (${r.bytesPerElement} B/elem)` : '')
        : 'not measured';
    out.push({
      name,
      target,
      ratio,
      met: ratio === null || target === null ? null : ratio >= target,
      numerator: desc(num, a),
      denominator: desc(den, b),
      othersCores: num ? num.othersCores : null,
    });
  };
  if (!BEST_ISA) {
    out.push({
      name: 'native addon not loaded: no native targets',
      target: null,
      ratio: null,
      met: null,
    });
    return out;
  }
  const one = `${BEST_ISA}-1t`;
  const all = `${BEST_ISA}-all`;
  if (has(16)) {
    add(
      `f32 forward 2^16, ${BEST_ISA} ×1 vs naive loop`,
      120,
      g('float32', 'forward', 16, one),
      g('float32', 'forward', 16, 'naive'),
    );
    add(
      `f32 forward 2^16, ${BEST_ISA} ×1 vs TS path`,
      30,
      g('float32', 'forward', 16, one),
      g('float32', 'forward', 16, 'js'),
    );
    add(
      `f32 backward 2^16, ${BEST_ISA} ×1 vs naive backward`,
      100,
      g('float32', 'backward', 16, one),
      g('float32', 'backward', 16, 'naive'),
    );
    add(
      `f64 backward 2^16, ${BEST_ISA} ×1 vs naive backward (for reference)`,
      null,
      g('float64', 'backward', 16, one),
      g('float64', 'backward', 16, 'naive'),
    );
  }
  if (has(24) && HAS_COPY) {
    const cp = `copy-all`;
    add(
      `f32 forward 2^24, ${BEST_ISA} ×${ALL_THREADS} vs copy ×${ALL_THREADS}, elements/s`,
      0.85,
      g('float32', 'forward', 24, all),
      g('float32', 'forward', 24, cp),
    );
    add(
      `f32 forward 2^24, ${BEST_ISA} ×${ALL_THREADS} vs copy ×${ALL_THREADS}, GB/s`,
      0.85,
      g('float32', 'forward', 24, all),
      g('float32', 'forward', 24, cp),
      { gb: true },
    );
    add(
      `f32 backward 2^24, ${BEST_ISA} ×${ALL_THREADS} vs copy ×${ALL_THREADS}, GB/s (2N read + N written vs N + N)`,
      0.85,
      g('float32', 'backward', 24, all),
      g('float32', 'backward', 24, cp),
      { gb: true },
    );
    add(
      `f64 forward 2^24, ${BEST_ISA} ×${ALL_THREADS} vs copy ×${ALL_THREADS}, GB/s (for reference)`,
      null,
      g('float64', 'forward', 24, all),
      g('float64', 'forward', 24, cp),
      { gb: true },
    );
    add(
      `f64 backward 2^24, ${BEST_ISA} ×${ALL_THREADS} vs copy ×${ALL_THREADS}, GB/s (for reference)`,
      null,
      g('float64', 'backward', 24, all),
      g('float64', 'backward', 24, cp),
      { gb: true },
    );
  }
  if (has(20) && ALL_THREADS > 1) {
    for (const dt of ['float32', 'float64']) {
      for (const op of ['forward', 'backward']) {
        add(
          `${dt === 'float32' ? 'f32' : 'f64'} ${op} 2^20, ${BEST_ISA} ×${ALL_THREADS} vs ×1`,
          1.8,
          g(dt, op, 20, all),
          g(dt, op, 20, one),
        );
      }
    }
  }
  for (const dt of ['float32', 'float64']) {
    for (const op of ['forward', 'backward']) {
      const rows = autoRows.filter((r) => r.dtype === dt && r.op === op && r.paired);
      if (!rows.length) continue;
      const worst = rows.reduce((a, b) => (b.paired.median < a.paired.median ? b : a));
      const below = rows.filter((r) => r.paired.median < 0.9).map((r) => `2^${r.exp}`);
      out.push({
        name: `${dt === 'float32' ? 'f32' : 'f64'} ${op}: auto vs fastest fixed choice, worst size of 2^${rows[0].exp}–2^${rows[rows.length - 1].exp} (paired)`,
        target: 0.9,
        ratio: worst.paired.median,
        met: worst.paired.median >= 0.9,
        numerator: `auto at 2^${worst.exp}: ${fmt(worst.auto)} G elem/s`,
        denominator:
          `${worst.bestLabel} at 2^${worst.exp}: ${fmt(worst.bestRate)} G elem/s` +
          (below.length ? `; below 0.90× at ${below.join(', ')}` : '; ≥ 0.90× at every size'),
        othersCores: worst.othersCores,
      });
    }
  }
  if (has(16)) {
    for (const op of ['forward', 'backward']) {
      add(
        `f64 vs f32 elements/s, ${op} 2^16, ${BEST_ISA} ×1`,
        0.5,
        g('float64', op, 16, one),
        g('float32', op, 16, one),
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function fmt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a >= 0.1) return v.toFixed(3);
  if (a >= 0.01) return v.toFixed(4);
  if (a === 0) return '0';
  return v.toPrecision(3);
}

function fmtRatio(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`;
}

function fmtNs(s) {
  const ns = s * 1e9;
  return ns >= 1000 ? (ns / 1000).toFixed(ns >= 1e5 ? 0 : 1) + ' µs' : ns.toFixed(0) + ' ns';
}

function pad(s, w, left) {
  s = String(s);
  return left ? s.padEnd(w) : s.padStart(w);
}

function metWord(t) {
  return t.met === null ? 'info' : t.met ? 'MET' : 'NOT MET';
}

// stdout: one row per size, one column per contender (short labels), median G elements/s.
function textTable(records, table, dt, op, exps, contenders) {
  const cs = contenders.filter((c) => exps.some((e) => lookup(records, table, dt, op, e, c.id)));
  if (!cs.length) return null;
  const w = 9;
  const lines = [`${dt} ${op}: median G elements/s`];
  lines.push(pad('n', 6, true) + cs.map((c) => pad(c.short, w)).join('') + pad('busy', 6));
  for (const e of exps) {
    let row = pad(`2^${e}`, 6, true);
    let busy = null;
    for (const c of cs) {
      const r = lookup(records, table, dt, op, e, c.id);
      if (r && busy === null) busy = r.othersCores;
      row += pad(r ? fmt(gels(r)) : '-', w);
    }
    row += pad(busy === null ? '-' : busy.toFixed(2), 6);
    lines.push(row);
  }
  return lines.join('\n');
}

// Markdown: one row per size, one column per contender.
function mdTable(records, table, dt, op, exps, contenders, kind) {
  const cs = contenders.filter((c) => exps.some((e) => lookup(records, table, dt, op, e, c.id)));
  if (!cs.length) return '(nothing measured)';
  const head = {
    rate: 'G elem/s: median (min–max)',
    gb: 'GB/s, median',
    ns: 'time per call: median (min–max)',
  }[kind];
  const L = [];
  L.push(`| ${head} | ${cs.map((c) => c.label).join(' | ')} | others busy (cores) |`);
  L.push(`|---|${cs.map(() => '---:').join('|')}|---:|`);
  for (const e of exps) {
    let busy = null;
    const cells = cs.map((c) => {
      const r = lookup(records, table, dt, op, e, c.id);
      if (!r) return '–';
      if (busy === null) busy = r.othersCores;
      if (kind === 'gb') return fmt(r.gbPerSec.median);
      if (kind === 'ns') {
        const s = r.secondsPerCall;
        return `${fmtNs(s.median)} (${fmtNs(s.min)}–${fmtNs(s.max)})`;
      }
      const m = r.elementsPerSec;
      return `${fmt(m.median / 1e9)} (${fmt(m.min / 1e9)}–${fmt(m.max / 1e9)})`;
    });
    const size = table === 'overhead' ? `n = ${2 ** e}` : `2^${e}`;
    L.push(`| ${size} | ${cells.join(' | ')} | ${busy === null ? '–' : busy.toFixed(2)} |`);
  }
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// SVG chart: throughput against size, log-log, one line per contender, the copy as ceiling.

const STYLE = {
  'scalar-1t': { color: '#7f7f7f', dash: '6,4' },
  'scalar-all': { color: '#7f7f7f' },
  'avx2-1t': { color: '#1f77b4', dash: '6,4' },
  'avx2-all': { color: '#1f77b4' },
  'avx512-1t': { color: '#d62728', dash: '6,4' },
  'avx512-all': { color: '#d62728' },
  auto: { color: '#2ca02c', width: 4, opacity: 0.55 },
  js: { color: '#9467bd' },
  naive: { color: '#8c564b' },
  'copy-1t': { color: '#000000', dash: '2,3', width: 1.5 },
  'copy-all': { color: '#000000', width: 3 },
  set: { color: '#aaaaaa', dash: '2,3', width: 1.5 },
  'tfjs-cpu': { color: '#17becf' },
  'tfjs-cpu-mish': { color: '#17becf', dash: '6,4' },
  'tfjs-wasm': { color: '#bcbd22' },
  'tfjs-wasm-mish': { color: '#bcbd22', dash: '6,4' },
  'ort-1t': { color: '#e377c2', dash: '6,4' },
  'ort-all': { color: '#e377c2' },
};

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function svgChart(records, dt, op, contenders, subtitle) {
  const exps = CONFIG.exponents;
  const series = contenders
    .map((c) => ({
      c,
      pts: exps
        .map((e) => lookup(records, 'grid', dt, op, e, c.id))
        .filter(Boolean)
        .map((r) => [r.exp, gels(r)]),
    }))
    .filter((s) => s.pts.length);
  // The ceiling goes on top.
  series.sort((a, b) => (a.c.id === 'copy-all') - (b.c.id === 'copy-all'));
  const W = 980;
  const H = 600;
  const ml = 70;
  const mr = 200;
  const mt = 56;
  const mb = 52;
  const pw = W - ml - mr;
  const ph = H - mt - mb;
  const vals = series.flatMap((s) => s.pts.map((p) => p[1])).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...vals)));
  const hi = Math.ceil(Math.log10(Math.max(...vals)));
  const x0 = exps[0];
  const x1 = exps[exps.length - 1];
  const X = (e) => ml + ((e - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v) => mt + ((hi - Math.log10(v)) / (hi - lo || 1)) * ph;
  const f = (v) => v.toFixed(1);
  const S = [];
  S.push('<?xml version="1.0" encoding="UTF-8"?>');
  S.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      'font-family="sans-serif" font-size="12">',
  );
  S.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  S.push(
    `<text x="${ml}" y="22" font-size="16" font-weight="bold">mish-native: ${dt} ${op}, throughput against size</text>`,
  );
  S.push(`<text x="${ml}" y="40" fill="#555">${esc(subtitle)}</text>`);
  // Grid: every decade (and 2, 5 within it) and every even power of two.
  for (let d = lo; d <= hi; d++) {
    for (const m of d < hi ? [1, 2, 5] : [1]) {
      const v = m * 10 ** d;
      const y = Y(v);
      S.push(
        `<line x1="${ml}" x2="${ml + pw}" y1="${f(y)}" y2="${f(y)}" stroke="${m === 1 ? '#cccccc' : '#eeeeee'}"/>`,
      );
      if (m === 1) {
        const label = d >= 0 ? String(10 ** d) : (10 ** d).toFixed(-d);
        S.push(`<text x="${ml - 6}" y="${f(y + 4)}" text-anchor="end">${label}</text>`);
      }
    }
  }
  for (const e of exps) {
    if (e % 2) continue;
    const x = X(e);
    S.push(`<line x1="${f(x)}" x2="${f(x)}" y1="${mt}" y2="${mt + ph}" stroke="#e4e4e4"/>`);
    S.push(
      `<text x="${f(x)}" y="${mt + ph + 18}" text-anchor="middle">2<tspan dy="-6" font-size="9">${e}</tspan></text>`,
    );
  }
  S.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  S.push(
    `<text x="${ml + pw / 2}" y="${H - 10}" text-anchor="middle">elements per call (log scale)</text>`,
  );
  S.push(
    `<text transform="translate(18 ${mt + ph / 2}) rotate(-90)" text-anchor="middle">G elements/s, median (log scale)</text>`,
  );
  for (const s of series) {
    const st = STYLE[s.c.id] || { color: '#444444' };
    const attrs =
      `fill="none" stroke="${st.color}" stroke-width="${st.width || 2}"` +
      (st.dash ? ` stroke-dasharray="${st.dash}"` : '') +
      (st.opacity ? ` stroke-opacity="${st.opacity}"` : '') +
      ' stroke-linejoin="round"';
    const pts = s.pts.map(([e, v]) => `${f(X(e))},${f(Y(v))}`).join(' ');
    S.push(`<polyline ${attrs} points="${pts}"><title>${esc(s.c.label)}</title></polyline>`);
    for (const [e, v] of s.pts) {
      S.push(
        `<circle cx="${f(X(e))}" cy="${f(Y(v))}" r="2" fill="${st.color}"><title>${esc(`${s.c.label}, 2^${e}: ${fmt(v)} G elem/s`)}</title></circle>`,
      );
    }
  }
  // Legend, in the order of the tables.
  let ly = mt + 6;
  for (const c of contenders) {
    if (!series.some((s) => s.c === c)) continue;
    const st = STYLE[c.id] || { color: '#444444' };
    const lx = ml + pw + 14;
    S.push(
      `<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${st.color}" stroke-width="${st.width || 2}"` +
        (st.dash ? ` stroke-dasharray="${st.dash}"` : '') +
        (st.opacity ? ` stroke-opacity="${st.opacity}"` : '') +
        '/>',
    );
    const label = c.id === 'copy-all' ? `${c.label} (ceiling)` : c.label;
    S.push(`<text x="${lx + 34}" y="${ly + 4}">${esc(label)}</text>`);
    ly += 19;
  }
  S.push('</svg>');
  return S.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Run

let lastProgressLen = 0;
function progress(msg) {
  if (process.stderr.isTTY) {
    process.stderr.write(`\r\x1b[K${msg}`);
    lastProgressLen = msg.length;
  } else process.stderr.write(`${msg}\n`);
}
function note(msg) {
  if (process.stderr.isTTY && lastProgressLen) process.stderr.write('\r\x1b[K');
  lastProgressLen = 0;
  process.stderr.write(`bench: ${msg}\n`);
}

function gitInfo() {
  try {
    const run = (args) =>
      execFileSync('git', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trimEnd();
    const commit = run(['rev-parse', 'HEAD']);
    const dirtyFiles = run(['status', '--porcelain'])
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit, dirty: dirtyFiles.length > 0, dirtyFiles };
  } catch {
    return null;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function main() {
  const t0 = now();
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
    gpu: GPU.available ? GPU.devices : `none (${GPU.reason})`,
  };
  process.stderr.write(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, Node ${process.version}, ` +
      `mish-native ${startInfo.version}, native ${NATIVE_OK ? `${NATIVE_ISAS.join('/')} (auto: ${BEST_ISA})` : 'NOT loaded'}` +
      `${OPTS.quick ? ', --quick' : ''}\n`,
  );
  if (!NATIVE_OK) note(startInfo.nativeError);
  else if (!HAS_COPY)
    note('the addon has no copy(): rebuild it (npx node-gyp build); copy ×N left out');

  // Is the machine quiet? Half a second of doing nothing, then /proc/stat.
  const q0 = cpuSnapshot();
  await sleep(500);
  const quietBefore = othersCores(q0, cpuSnapshot());
  if (quietBefore !== null) {
    note(
      `other processes keep ${quietBefore.toFixed(2)} of ${machine.cores} cores busy` +
        (quietBefore > 0.2 ? ': the machine is not quiet, expect noisy numbers' : ''),
    );
  }

  const sanity = sanityCheck();
  for (const s of sanity.filter((v) => !v.ok)) {
    note(`WARNING ${s.contender} ${s.dtype} ${s.op} differs from the reference by ${s.maxRelDiff}`);
  }

  progress('loading peers ...');
  const peers = await loadPeers();
  for (const n of peers.info.notes) note(n);
  for (const c of peers.info.checks) {
    if (!c.ok) note(`WARNING peer ${c.contender} ${c.op} disagrees: ${JSON.stringify(c)}`);
    else if (c.maxUlpFromOurs !== undefined) {
      note(
        `${c.contender} agrees with our mish within ${c.maxUlpFromOurs} ulp on [-30, 30] ` +
          `(${c.tailMaxUlpFromOurs} ulp in the far tails, at x = ${c.tailAtX})`,
      );
    }
  }
  if (peers.contenders.length) {
    note(
      `peers: ${peers.contenders.map((c) => c.label).join(', ')} (float32 only, up to 2^${CONFIG.slowMaxExp})`,
    );
  }
  let CONTENDERS = [...BASE_CONTENDERS, ...peers.contenders];
  if (OPTS.only) {
    const unknown = OPTS.only.filter((id) => !CONTENDERS.some((c) => c.id === id));
    if (unknown.length) {
      note(
        `--only: no contender ${unknown.join(', ')}; ids: ${CONTENDERS.map((c) => c.id).join(', ')}`,
      );
      process.exit(2);
    }
    CONTENDERS = CONTENDERS.filter((c) => OPTS.only.includes(c.id));
  }
  const snap0 = cpuSnapshot();

  const records = [];
  const plan = [];
  for (const dt of DTYPES) {
    for (const n of CONFIG.overheadSizes) plan.push({ table: 'overhead', dt, n });
    for (const exp of CONFIG.exponents) plan.push({ table: 'grid', dt, n: 2 ** exp });
  }
  let done = 0;
  const groups = plan.length * OPS.length;
  for (const step of plan) {
    const { dt, n, table } = step;
    const arrays = makeArrays(dt.Type, n);
    for (const op of OPS) {
      done++;
      const cs = CONTENDERS.filter((c) => applies(c, dt.name, op.name, n));
      if (!cs.length) continue;
      progress(
        `[${done}/${groups}] ${table === 'overhead' ? 'per-call overhead ' : ''}${dt.name} ${op.name} ` +
          `n=${n < 1024 ? n : `2^${Math.log2(n)}`}: ${cs.length} contenders  (${(now() - t0).toFixed(0)} s)`,
      );
      const cells = await measureGroup(cs, op.name, dt, arrays, CONFIG.samples);
      for (const k of cells) records.push(toRecord(table, k, op.name, dt, n));
    }
  }
  resetLib();
  if (process.stderr.isTTY) process.stderr.write('\n');

  const seconds = now() - t0;
  const others = othersCores(snap0, cpuSnapshot());
  const fixed = CONTENDERS.filter((c) => c.kind === 'native');
  const autoRows = autoTable(records, fixed);
  const threadRows = threadTable(records);
  const targetRows = targets(records, autoRows);
  const command = `node bench/run.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const result = {
    schema: 2,
    mode: OPTS.quick ? 'quick' : 'full',
    command,
    date,
    durationSeconds: +seconds.toFixed(1),
    machine: {
      ...machine,
      loadavgStart: loadStart,
      loadavgEnd: os.loadavg(),
      othersCoresBefore: quietBefore,
      othersCoresDuringRun: others,
    },
    node: process.version,
    v8: process.versions.v8,
    package: { name: 'mish-native', version: startInfo.version },
    git: gitInfo(),
    library: startInfo,
    addon: addonInfo,
    peers: peers.info,
    config: CONFIG,
    contenders: CONTENDERS.map((c) => ({
      id: c.id,
      label: c.label,
      kind: c.kind,
      isa: c.isa || null,
      threads: c.threads,
      dtypes: c.dtypes || null,
      ops: c.ops || null,
      maxExp: c.maxExp == null ? null : c.maxExp,
    })),
    method:
      'Per (dtype, op, size): contenders share arrays; each is warmed up, calibrated to ' +
      `~${CONFIG.sampleMs} ms samples, then sampled round-robin in a new shuffled order each round. Rate = n / (sample time / reps). ` +
      'GB/s counts bytes read + written (forward and copies 2 arrays, backward 3). ' +
      "copy ×N is the addon's copy(src, dst) on the kernels' thread pool (cutoff of the default ISA); " +
      "dst.set(src) is one thread. auto = setBackend('auto'), default ISA and threads. " +
      'tfjs: input tensors made once per size, each call tf.tidy(op) and the output disposed; ' +
      'the data stays on the backend. onnxruntime: one-node opset-18 Mish model built by the ' +
      'bench, preallocated output, intra-op threads 1 or all, spinning off. ' +
      `The TS path, the naive loop and the peers run up to 2^${CONFIG.slowMaxExp}.`,
    sanity,
    targets: targetRows,
    auto: autoRows,
    threads: threadRows,
    measurements: records,
  };

  // ---- stdout
  const exps = CONFIG.exponents;
  const out = [];
  out.push(
    `mish-native ${startInfo.version} bench (${result.mode}), ${date}`,
    `${machine.cpuModel}, ${machine.cores} cores, Node ${process.version}, ` +
      `native kernels: ${NATIVE_ISAS.join(', ') || 'none'} (auto: ${BEST_ISA || 'n/a'}); all threads = ${ALL_THREADS}` +
      (addonInfo ? `; thread cutoffs: ${addonInfo.parallelMin}` : ''),
    'columns: ' + CONTENDERS.map((c) => `${c.short} = ${c.label}`).join(', '),
    `busy = cores other processes kept busy; the TS path, the naive loop and the peers stop at 2^${CONFIG.slowMaxExp}`,
    '',
  );
  for (const dt of DTYPES) {
    for (const op of OPS) {
      const t = textTable(records, 'grid', dt.name, op.name, exps, CONTENDERS);
      if (t) out.push(t, '');
    }
  }
  out.push('Overhead per call (median time of one call, ns):');
  for (const dt of DTYPES) {
    for (const op of OPS) {
      for (const n of CONFIG.overheadSizes) {
        const cells = CONTENDERS.map((c) =>
          lookup(records, 'overhead', dt.name, op.name, Math.log2(n), c.id),
        )
          .filter(Boolean)
          .map(
            (r) =>
              `${CONTENDERS.find((c) => c.id === r.contender).short} ${(r.secondsPerCall.median * 1e9).toFixed(0)}`,
          );
        out.push(`  ${dt.name} ${op.name} n=${n}: ${cells.join(', ')}`);
      }
    }
  }
  out.push('');
  if (autoRows.length) {
    out.push('auto vs the fastest fixed (ISA, threads) choice, median of per-round ratios:');
    for (const dt of DTYPES) {
      for (const op of OPS) {
        const rows = autoRows.filter((r) => r.dtype === dt.name && r.op === op.name);
        out.push(
          `  ${pad(`${dt.name} ${op.name}`, 17, true)}` +
            rows
              .map((r) => `2^${r.exp} ${r.paired ? r.paired.median.toFixed(2) : 'n/a'}`)
              .join('  '),
        );
      }
    }
    out.push('');
  }
  if (threadRows.length) {
    out.push(`All ${ALL_THREADS} threads vs 1 thread, median of per-round ratios (from 2^14):`);
    for (const dt of DTYPES) {
      for (const op of OPS) {
        for (const isa of NATIVE_ISAS) {
          const rows = threadRows.filter(
            (r) => r.dtype === dt.name && r.op === op.name && r.isa === isa && r.exp >= 14,
          );
          out.push(
            `  ${pad(`${dt.name} ${op.name} ${isa}`, 24, true)}` +
              rows.map((r) => `${pad(r.paired.median.toFixed(2), 5)}`).join(' ') +
              `   (2^${rows.length ? rows[0].exp : '?'}..)`,
          );
        }
      }
    }
    out.push('');
  }
  out.push("The issue's targets (medians of this run):");
  for (const t of targetRows) {
    out.push(
      `  ${pad(fmtRatio(t.ratio), 7)} ${pad(t.target === null ? '' : `≥${t.target}`, 6)} ${pad(metWord(t), 8, true)} ${t.name}`,
    );
  }
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
    const charts = [];
    const sub =
      `${machine.cpuModel}, ${machine.cores} cores, Node ${process.version}, ${date.slice(0, 10)}` +
      `${OPTS.quick ? ' (--quick)' : ''}; copy ×${ALL_THREADS} = the addon's copy on all threads`;
    for (const dt of DTYPES) {
      for (const op of OPS) {
        const file = `chart-${dt.name}-${op.name}.svg`;
        writeAtomic(
          path.join(RESULTS_DIR, file),
          svgChart(records, dt.name, op.name, CONTENDERS, sub),
        );
        charts.push(file);
      }
    }
    result.charts = charts;
    writeAtomic(path.join(RESULTS_DIR, 'latest.json'), toJson(result));
    writeAtomic(path.join(RESULTS_DIR, 'latest.md'), markdown(result, records, CONTENDERS));
    note(
      `wrote ${path.relative(process.cwd(), RESULTS_DIR) || '.'}/latest.json, latest.md and ${charts.length} charts (chart-*.svg)`,
    );
  }
}

// Numbers to 4 significant digits; one line per measurement, so the file stays small and
// diffs stay readable.
function toJson(result) {
  const round = (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toPrecision(4) : v);
  const line = (v) => JSON.stringify(v, round);
  const { measurements, threads, auto, targets: tg, sanity, ...head } = result;
  const body = JSON.stringify(head, round, 1).replace(/\n}$/, '');
  const list = (name, items) => `,\n "${name}": [\n  ${items.map(line).join(',\n  ')}\n ]`;
  return (
    body +
    list('sanity', sanity) +
    list('targets', tg) +
    list('auto', auto) +
    list('threads', threads) +
    // Left out, to keep the file small: label, kind, isa and threads (see "contenders"),
    // secondsPerCall (n / elementsPerSec; every sample is in times) and gbPerSec
    // (elementsPerSec × bytesPerElement).
    list(
      'measurements',
      measurements.map(({ label, kind, isa, threads: t, secondsPerCall, gbPerSec, ...r }) => r),
    ) +
    '\n}\n'
  );
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function markdown(result, records, contenders) {
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
        ? `, git ${result.git.commit.slice(0, 12)}${result.git.dirty ? ` (uncommitted changes in ${result.git.dirtyFiles.join(', ')})` : ''}`
        : ''),
  );
  L.push(
    `- Native kernels: ${NATIVE_ISAS.join(', ') || 'none'} (auto: ${BEST_ISA || 'n/a'}); all threads = ${ALL_THREADS}` +
      (result.addon ? `; thread cutoffs: ${result.addon.parallelMin}` : ''),
  );
  const p = result.peers;
  const peerBits = [];
  if (p.tfjs) {
    peerBits.push(
      `@tensorflow/tfjs ${p.tfjs.version}` +
        (p.tfjs.wasmVersion ? `, tfjs-backend-wasm ${p.tfjs.wasmVersion}` : '') +
        p.tfjs.backends
          .filter((b) => b.name === 'wasm')
          .map(
            (b) =>
              ` (wasm: SIMD ${b.simd ? 'yes' : 'no'}, threads ${b.multithread ? 'yes' : 'no'})`,
          )
          .join(''),
    );
  }
  if (p.ort)
    peerBits.push(`onnxruntime-node ${p.ort.version} (model ${p.ort.modelBytes} bytes, opset 18)`);
  L.push(
    `- Peers: ${peerBits.length ? peerBits.join('; ') : 'none'}${p.notes.length ? `. ${p.notes.join('; ')}` : ''}`,
  );
  L.push(
    `- Load average at start/end: ${m.loadavgStart.map((v) => v.toFixed(2)).join(' ')} / ` +
      `${m.loadavgEnd.map((v) => v.toFixed(2)).join(' ')}; run took ${result.durationSeconds.toFixed(0)} s` +
      (m.othersCoresDuringRun === null
        ? ''
        : `; other processes kept ${m.othersCoresBefore.toFixed(2)} cores busy just before and ${m.othersCoresDuringRun.toFixed(2)} on average during the run`),
  );
  L.push(`- Method: ${result.method}`);
  const bad = result.sanity.filter((s) => !s.ok);
  L.push(
    `- Checks before timing: library contenders against the float64 formula: ${bad.length ? `${bad.length} FAILED: ${bad.map((s) => `${s.contender} ${s.dtype} ${s.op}`).join(', ')}` : 'all agree'}` +
      (p.checks.length
        ? '; peers: ' +
          p.checks
            .map((c) =>
              c.maxUlpFromOurs !== undefined
                ? `${c.contender} at most ${c.maxUlpFromOurs} ulp from our mish on [−30, 30] (at x = ${c.atX})${c.ok ? '' : ' FAILED'}, ${c.tailMaxUlpFromOurs} ulp in the far tails (x = ${c.tailAtX}, where eˣ is subnormal or x huge)`
                : `${c.contender} ${c.op} max rel. diff ${c.maxRelDiff.toExponential(1)}${c.ok ? '' : ' FAILED'}`,
            )
            .join(', ')
        : ''),
  );
  L.push('');
  L.push("## The issue's targets (medians of this run)", '');
  L.push(
    '| ratio | target | | comparison | numerator | denominator |',
    '|---:|---:|---|---|---|---|',
  );
  for (const t of result.targets) {
    L.push(
      `| ${fmtRatio(t.ratio)} | ${t.target === null ? '' : `≥ ${t.target}`} | ${metWord(t)} | ${t.name} | ${t.numerator || ''} | ${t.denominator || ''} |`,
    );
  }
  L.push('');
  if (result.charts) {
    L.push('## Charts', '');
    for (const c of result.charts) L.push(`- [${c}](${c})`);
    L.push('');
  }
  L.push('## Overhead per call', '');
  for (const dt of DTYPES) {
    for (const op of OPS) {
      L.push(`### ${dt.name} ${op.name}`, '');
      L.push(
        mdTable(
          records,
          'overhead',
          dt.name,
          op.name,
          CONFIG.overheadSizes.map(Math.log2),
          contenders,
          'ns',
        ),
        '',
      );
    }
  }
  for (const dt of DTYPES) {
    for (const op of OPS) {
      L.push(`## ${dt.name} ${op.name}`, '');
      L.push(mdTable(records, 'grid', dt.name, op.name, exps, contenders, 'rate'), '');
      L.push(mdTable(records, 'grid', dt.name, op.name, exps, contenders, 'gb'), '');
    }
  }
  if (result.auto.length) {
    L.push('## auto against the fastest fixed choice', '');
    L.push(
      "auto = `setBackend('auto')` with the default ISA and threads. Ratio: auto's speed over the " +
        'fastest fixed (ISA, threads) contender of that size, median of the per-round ratios (min–max).',
      '',
    );
    L.push(
      '| size | ' + DTYPES.flatMap((d) => OPS.map((o) => `${d.name} ${o.name}`)).join(' | ') + ' |',
    );
    L.push(`|---|${DTYPES.flatMap(() => OPS.map(() => '---:')).join('|')}|`);
    for (const e of exps) {
      const cells = DTYPES.flatMap((d) =>
        OPS.map((o) => {
          const r = result.auto.find((v) => v.dtype === d.name && v.op === o.name && v.exp === e);
          if (!r || !r.paired) return '–';
          const s = `${r.paired.median.toFixed(2)} (${r.paired.min.toFixed(2)}–${r.paired.max.toFixed(2)}) vs ${r.bestLabel}`;
          return r.paired.median < 0.9 ? `**${s}**` : s;
        }),
      );
      L.push(`| 2^${e} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  if (result.threads.length) {
    const te = exps.filter((e) => e >= 12);
    L.push(`## All ${ALL_THREADS} threads against one thread, every kernel`, '');
    L.push(
      `Median of per-round ratios (min–max). The pool splits a call only from the kernel's cutoff on (${result.addon ? result.addon.parallelMin : '?'}); below that both settings run the same single-threaded code, so those columns show the noise floor.`,
      '',
    );
    L.push(`| all / 1 thread | ${te.map((e) => `2^${e}`).join(' | ')} |`);
    L.push(`|---|${te.map(() => '---:').join('|')}|`);
    for (const dt of DTYPES) {
      for (const op of OPS) {
        for (const isa of NATIVE_ISAS) {
          const cells = te.map((e) => {
            const t = result.threads.find(
              (v) => v.dtype === dt.name && v.op === op.name && v.isa === isa && v.exp === e,
            );
            const q = t && t.paired;
            return q ? `${fmtRatio(q.median)} (${q.min.toFixed(2)}–${q.max.toFixed(2)})` : '–';
          });
          L.push(`| ${dt.name} ${op.name} ${isa} | ${cells.join(' | ')} |`);
        }
      }
    }
    L.push('');
  }
  return L.join('\n');
}

main().catch((e) => {
  process.stderr.write(`\nbench: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
