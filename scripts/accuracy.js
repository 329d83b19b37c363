#!/usr/bin/env node
// npm run accuracy: the accuracy certificate. Runs build-cmake/accuracy over every float32
// input and 10^9 random float64 inputs (every kernel this CPU runs and the CUDA device formulas
// compiled for the host), then the pure-TypeScript path on a stride of the float32 inputs, and
// writes docs/accuracy.json and docs/ACCURACY.md.
//   node scripts/accuracy.js [--stride N] [--f64 COUNT] [--ts-stride N] [--out DIR]
// Defaults: --stride 1 (exhaustive), --f64 1e9, --ts-stride 257. Needs `npm run build:cmake`
// and `npm run build:ts` first (npm run accuracy does both).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const tool = path.join(root, 'build-cmake', 'accuracy');

function parseArgs(argv) {
  const o = { stride: 1, f64: 1e9, tsStride: 257, out: path.join(root, 'docs') };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--stride') o.stride = Number(v);
    else if (k === '--f64') o.f64 = Number(v);
    else if (k === '--ts-stride') o.tsStride = Number(v);
    else if (k === '--out') o.out = path.resolve(v);
    else {
      console.error(
        'usage: node scripts/accuracy.js [--stride N] [--f64 COUNT] [--ts-stride N] [--out DIR]',
      );
      process.exit(k === '--help' ? 0 : 2);
    }
    i++;
  }
  for (const k of ['stride', 'f64', 'tsStride']) {
    if (!(Number.isInteger(o[k]) && o[k] >= (k === 'f64' ? 0 : 1))) {
      console.error(`accuracy: --${k} must be a positive integer, received ${o[k]}`);
      process.exit(2);
    }
  }
  return o;
}

function runTool(args, label) {
  console.error(`accuracy: ${label}: ${path.relative(root, tool)} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(tool, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.error) throw r.error;
  process.stdout.write(r.stdout);
  return { status: r.status, seconds: (Date.now() - t0) / 1000, stdout: r.stdout };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(tool)) {
    console.error('accuracy: build-cmake/accuracy is missing: run `npm run build:cmake` first');
    process.exit(2);
  }
  const lib = require(path.join(root, 'dist', 'math.js'));
  fs.mkdirSync(o.out, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mish-accuracy-'));

  // 1. The kernels: every float32 input (or the stride), float64 random inputs.
  const mainJson = path.join(tmp, 'main.json');
  const main = runTool(
    ['--stride', String(o.stride), '--f64', String(o.f64), '--json', mainJson],
    'kernels',
  );

  // 2. The TS path on a stride: the tool writes the inputs, we compute, the tool judges.
  const inputs = path.join(tmp, 'ts-inputs.f32');
  runTool(['--stride', String(o.tsStride), '--emit-f32', inputs], 'TS path inputs');
  const x = new Float32Array(fs.readFileSync(inputs).buffer.slice(0));
  const out = new Float32Array(3 * x.length);
  const t0 = Date.now();
  const fns = [lib.forward, lib.derivative, lib.secondDerivative];
  fns.forEach((f, k) => {
    const o3 = out.subarray(k * x.length, (k + 1) * x.length);
    for (let i = 0; i < x.length; i++) o3[i] = f(x[i]);
  });
  const tsSeconds = (Date.now() - t0) / 1000;
  const tsOut = path.join(tmp, 'ts-out.f32');
  fs.writeFileSync(tsOut, Buffer.from(out.buffer));
  const tsJson = path.join(tmp, 'ts.json');
  const ts = runTool(
    ['--stride', String(o.tsStride), '--f64', '0', '--ts-f32', tsOut, '--json', tsJson],
    'TS path',
  );

  const m = JSON.parse(fs.readFileSync(mainJson, 'utf8'));
  const t = JSON.parse(fs.readFileSync(tsJson, 'utf8'));
  const tsRows = t.results.filter((r) => r.contender === 'TS path');
  const report = {
    date: new Date().toISOString(),
    command: `node scripts/accuracy.js ${process.argv.slice(2).join(' ')}`.trim(),
    git: gitRev(),
    cpu: os.cpus()[0]?.model.trim(),
    float32: { stride: o.stride, inputs: m.float32Inputs, seconds: main.seconds },
    float64: { inputs: m.float64Inputs },
    ts: { stride: o.tsStride, inputs: t.float32Inputs, seconds: tsSeconds + ts.seconds },
    violations: m.violations + tsRows.reduce((s, r) => s + r.violations, 0),
    results: [
      ...m.results,
      ...tsRows.map((r) => ({ ...r, contender: `TS path (stride ${o.tsStride})` })),
    ],
    edges: edgeTable(),
  };
  fs.writeFileSync(path.join(o.out, 'accuracy.json'), JSON.stringify(report, null, 1) + '\n');
  fs.writeFileSync(path.join(o.out, 'ACCURACY.md'), markdown(report));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.error(
    `accuracy: ${report.violations} violations; wrote ${path.relative(root, o.out)}/ACCURACY.md ` +
      'and accuracy.json',
  );
  process.exit(report.violations === 0 && main.status === 0 && ts.status === 0 ? 0 : 1);
}

function gitRev() {
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'native', 'lib', 'cuda'], {
    cwd: root,
    encoding: 'utf8',
  });
  return (r.stdout || '?').trim() + (dirty.stdout && dirty.stdout.trim() ? ' (modified)' : '');
}

// Edge inputs where other implementations fail (../shared/cases/edge-inputs.json, with mpmath
// values), beside what this library and the peers installed in bench/node_modules return.
function edgeTable() {
  const file = path.join(root, '..', 'shared', 'cases', 'edge-inputs.json');
  if (!fs.existsSync(file)) return { note: `${file} not found`, rows: [] };
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')).filter((r) => r.dtype === 'float32');
  const pick = new Map();
  for (const r of rows) if (!pick.has(r.kind)) pick.set(r.kind, r);
  const mine = require(path.join(root, 'dist', 'index.js'));
  const xs = new Float32Array([...pick.values()].map((r) => Number(r.input)));
  const ours = mine.mish(xs);
  const oursD = mine.mishDerivative(xs);
  const peers = {};
  try {
    const tf = require(path.join(root, 'bench', 'node_modules', '@tensorflow', 'tfjs'));
    tf.setBackend('cpu');
    const t = tf.tensor1d(xs);
    peers['tfjs cpu, x·tanh(softplus(x))'] = tf.mul(t, tf.tanh(tf.softplus(t))).dataSync();
    const g = tf.grad((v) => tf.mul(v, tf.tanh(tf.softplus(v))))(t);
    peers['tfjs cpu, its gradient'] = g.dataSync();
  } catch (e) {
    peers.note = `tfjs not installed in bench/node_modules (${String(e.message).split('\n')[0]})`;
  }
  return {
    source: '../shared/cases/edge-inputs.json (one float32 row per kind; mpmath at 50 digits)',
    rows: [...pick.values()].map((r, i) => ({
      kind: r.kind,
      x: r.input,
      expectedForward: r.expected_forward,
      expectedGrad: r.expected_grad,
      ours: ours[i],
      oursGrad: oursD[i],
      peers: Object.fromEntries(
        Object.entries(peers)
          .filter(([k]) => k !== 'note')
          .map(([k, v]) => [k, v[i]]),
      ),
    })),
    peersNote: peers.note || null,
  };
}

const fmt = (v) => (typeof v === 'number' ? (Object.is(v, -0) ? '-0' : String(v)) : v);

function markdown(r) {
  const n = (v) => v.toLocaleString('en');
  const when = r.date.slice(0, 16).replace('T', ' ');
  const which =
    r.float32.stride === 1
      ? '**every one of the 2³² inputs**'
      : `every input whose bit pattern is a multiple of ${r.float32.stride}`;
  const tsInputs = n(r.ts.inputs);
  const lines = [];
  const push = (...l) => lines.push(...l);
  push(
    '# Accuracy certificate',
    '',
    `Made by \`npm run accuracy\` (\`${r.command}\`) on ${when} UTC`,
    `at commit \`${r.git}\`, on ${r.cpu}. Regenerate it with \`npm run accuracy\`; CI runs a`,
    'sampled version of the same checks (test/certificate.test.ts).',
    '',
    '## What was checked',
    '',
    `- **float32**: ${which}`,
    `  (${r.float32.inputs.toLocaleString('en')} inputs, NaNs and infinities included), plus every`,
    '  threshold of the formulas and of the contract with its 64 neighbours on each side, through',
    '  each native kernel this CPU runs and through the CUDA device formulas compiled for the',
    `  host; the TypeScript path on every ${r.ts.stride}th bit pattern (${tsInputs} inputs).`,
    `  ${r.float32.seconds.toFixed(0)} s on this machine.`,
    `- **float64**: ${r.float64.inputs.toLocaleString('en')} seeded random inputs, half uniform on`,
    '  [−800, 800] and half spread over every binade, both signs, plus the same thresholds.',
    '- **Reference**: the textbook definitions (x·tanh(log1p(eˣ)) and the closed forms of its',
    "  derivatives) with the C library's exp/log1p/tanh, in double for float32 inputs (about",
    '  2⁻²⁹ float32 ulp) and in long double for float64 (about 2⁻¹¹ float64 ulp): independent of',
    "  the kernels' formulas. The golden tests (test/golden, mpmath at 50 digits) back it up on",
    '  9,000 chosen inputs per dtype.',
    '- **Rules** (README "Numerical contract"), on every input: NaN → NaN; mish(±∞) = +∞ / −0,',
    '  mish′(±∞) = 1 / 0, mish″(±∞) = 0; mish(±0) = ±0, mish′(0) = 0.6, mish″(0) = 0.64 (rounded);',
    '  mish and mish′ within 4 ulp, mish″ within 16 ulp; an absolute bound instead next to the',
    '  zeros of mish′ (2⁻²⁴ float32 / 2⁻⁵³ float64 on [−2, −0.5]) and mish″ (2⁻²² / 2⁻⁵⁰ on',
    '  [−3, −1.5] and [1, 2]); subnormal results within the smallest normal number with their',
    '  sign; mish(x) = x and mish′(x) = 1 exactly where the correctly rounded value is x or 1,',
    '  and not where it is not (for float64 not judged where the reference lies within 2⁻⁹ ulp',
    '  of a rounding midpoint: long double cannot tell which way those round).',
    '',
    `## Result: ${r.violations === 0 ? '**no violation**' : `**${r.violations} violations**`}`,
    '',
    'Maximum error in ulp over results in the normal range outside the absolute zones, and where',
    'it occurs:',
    '',
    '| dtype | implementation | mish | mish′ | mish″ | inputs | violations |',
    '|---|---|---|---|---|---:|---:|',
  );
  const groups = new Map();
  for (const x of r.results) {
    const k = `${x.dtype}|${x.contender}`;
    if (!groups.has(k)) groups.set(k, {});
    groups.get(k)[x.fn] = x;
  }
  for (const [k, g] of groups) {
    const [dtype, who] = k.split('|');
    const cell = (x) => `${x.maxUlps.toFixed(3)} at ${x.maxAt.toPrecision(9)}`;
    const v = g.forward.violations + g.derivative.violations + g.second.violations;
    push(
      `| ${dtype} | ${who} | ${cell(g.forward)} | ${cell(g.derivative)} | ${cell(g.second)} | ` +
        `${g.forward.checked.toLocaleString('en')} | ${v} |`,
    );
  }
  push(
    '',
    '### Histograms (float32)',
    '',
    'Number of results per ulp-error bucket (normal range, outside the absolute zones):',
    '',
  );
  const buckets = Object.keys(r.results[0].histogram);
  push(
    `| implementation, function | ${buckets.join(' | ')} |`,
    `|---|${buckets.map(() => '---:').join('|')}|`,
  );
  for (const x of r.results.filter((x) => x.dtype === 'float32')) {
    push(`| ${x.contender}, ${x.fn} | ${buckets.map((b) => n(x.histogram[b])).join(' | ')} |`);
  }
  const bad = r.results.filter((x) => x.examples.length);
  if (bad.length) {
    push('', '### Violations (first examples)', '');
    for (const x of bad) for (const e of x.examples) push(`- ${x.dtype} ${x.contender}: ${e}`);
  }
  push(
    '',
    '## Edge inputs beside other implementations',
    '',
    `Inputs from ${r.edges.source || 'the shared edge cases'}, float32, one per kind of fault`,
    'seen elsewhere. "expected" is the correctly rounded value; "ours" is `mish`/`mishDerivative`',
    'with the default backend; the peers are computed live by this script from the packages in',
    `bench/node_modules${r.edges.peersNote ? ` (${r.edges.peersNote})` : ''}.`,
    '',
  );
  const peerNames = r.edges.rows.length ? Object.keys(r.edges.rows[0].peers) : [];
  push(
    `| kind | x | expected mish | ours | expected mish′ | ours | ${peerNames.join(' | ')} |`,
    `|---|---|---|---|---|---|${peerNames.map(() => '---|').join('')}`,
  );
  for (const e of r.edges.rows) {
    push(
      `| ${e.kind} | ${e.x} | ${e.expectedForward} | ${fmt(e.ours)} | ${e.expectedGrad} | ` +
        `${fmt(e.oursGrad)} | ${peerNames.map((p) => fmt(e.peers[p])).join(' | ')} |`,
    );
  }
  push(
    '',
    'PyTorch and onnxruntime are not in this table: PyTorch does not install here, and',
    "onnxruntime's Mish is compared in bench/RESULTS.md (within 6 ulp of ours on [−30, 30], 5,413",
    'ulp off at x = −95 where eˣ is subnormal).',
    '',
  );
  return lines.join('\n');
}

main();
