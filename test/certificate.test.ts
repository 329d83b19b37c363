// The accuracy certificate's sampled run (npm run accuracy does every float32 input): every
// float32 input whose bit pattern is a multiple of a prime stride, 2·10^6 random float64
// inputs, and every threshold neighbourhood, through each kernel and the CUDA device formulas
// compiled for the host, against an independent reference; any violation of the contract
// fails. Needs build-cmake/accuracy (npm run build:cmake; CI builds it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, it } from 'vitest';

const tool = join(__dirname, '..', 'build-cmake', 'accuracy');

interface Row {
  dtype: string;
  contender: string;
  fn: string;
  checked: number;
  violations: number;
  maxUlps: number;
  examples: string[];
}

it.skipIf(!existsSync(tool))(
  'sampled certificate: no violation of the contract by any kernel',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'mish-cert-'));
    const json = join(dir, 'report.json');
    const r = spawnSync(tool, ['--stride', '4099', '--f64', '2e6', '--check', '--json', json], {
      encoding: 'utf8',
    });
    expect(r.error).toBeUndefined();
    const report = JSON.parse(readFileSync(json, 'utf8')) as { violations: number; results: Row[] };
    rmSync(dir, { recursive: true, force: true });
    const bad = report.results.filter((x) => x.violations > 0);
    expect(bad.map((x) => `${x.dtype} ${x.contender} ${x.fn}: ${x.examples[0]}`)).toEqual([]);
    expect(r.status).toBe(0);
    // Every kernel table this CPU runs and the host-compiled device math took part.
    const names = new Set(report.results.map((x) => x.contender));
    expect(names.has('scalar')).toBe(true);
    expect([...names].some((n) => n.startsWith('cuda'))).toBe(true);
    for (const x of report.results) {
      expect(x.checked).toBeGreaterThan(1000000);
      expect(x.maxUlps).toBeLessThanOrEqual(x.fn === 'second' ? 16 : 4);
    }
  },
  120000,
);
