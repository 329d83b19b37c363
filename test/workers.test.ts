// The addon in worker_threads: several contexts at once, calls from many workers at the same
// time (one process-wide pool, no deadlock), and workers terminated mid-call.
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

const dist = join(__dirname, '..', 'dist', 'index.js');

const script = `
const { parentPort, workerData } = require('node:worker_threads');
const m = require(workerData.dist);
const n = workerData.n;
const x = new Float32Array(n);
for (let i = 0; i < n; i++) x[i] = (i % 2000) / 100 - 10;
let sum = 0;
for (let r = 0; r < workerData.rounds; r++) {
  const y = m.mish(x);
  const d = m.mishBackward(y, x);
  sum = 0;
  for (let i = 0; i < n; i += 97) sum += y[i] + d[i];
}
m.mishAsync(x).then((y) => parentPort.postMessage({ sum, first: y[1], backend: m.info().backend }));
`;

function run(n: number, rounds: number): Promise<{ sum: number; first: number; backend: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { eval: true, workerData: { dist, n, rounds } });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('worker_threads', () => {
  it('8 workers load the addon and compute at once, with identical results', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => run(2 ** 17, 5)));
    for (const r of results) {
      expect(r.backend).toBe('cpu');
      expect(r.sum).toBe(results[0].sum);
      expect(r.first).toBe(results[0].first);
    }
  });

  it('workers terminated mid-call leave the process working; a new one loads', async () => {
    const workers = Array.from(
      { length: 4 },
      () => new Worker(script, { eval: true, workerData: { dist, n: 2 ** 22, rounds: 50 } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(workers.map((w) => w.terminate()));
    const again = await run(4096, 1);
    expect(again.backend).toBe('cpu');
    expect(Number.isFinite(again.sum)).toBe(true);
  });
});

describe('worker_threads without the main thread', () => {
  // Node unloads an addon when the last worker that loaded it exits; the pool's threads must
  // not be left running unmapped code (the library pins itself), and a worker terminated while
  // an async call is pending must not take the process down.
  it('workers that load the addon one after another, and die mid-call, leave it working', () => {
    const code = `
      const { Worker } = require('node:worker_threads');
      const lib = ${JSON.stringify(dist)};
      const use = 'require(' + JSON.stringify(lib) + ').mish(new Float32Array(1 << 20));';
      const pending = 'const m = require(' + JSON.stringify(lib) + ');' +
        'm.mishAsync(new Float64Array(1 << 22));' +
        'require("node:worker_threads").parentPort.postMessage("started");';
      let n = 0;
      function next() {
        n++;
        if (n <= 12) return new Worker(use, { eval: true }).on('exit', next);
        if (n <= 16) {
          const w = new Worker(pending, { eval: true });
          w.on('message', () => w.terminate());
          return w.on('exit', next);
        }
        console.log('ok');
      }
      next();`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });
});
