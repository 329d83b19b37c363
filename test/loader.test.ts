// Loading: the pure-TypeScript fallback when no binary exists (with one coded warning), a
// prebuild found by node-gyp-build with build/ removed, and the environment settings.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

import { afterAll, describe, expect, it } from 'vitest';

import { node, packageCopy, repo } from './helpers/package-copy';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const probe = `
const m = require('./dist/index.js');
const y = m.mish(new Float64Array([-1, 0, 1, 30, -Infinity]));
const signed = Array.from(y, (v) => (Object.is(v, -0) ? '-0' : v));
console.log(JSON.stringify({ info: m.info(), y: signed }));
`;

describe('without a native binary', () => {
  const dir = packageCopy();
  dirs.push(dir);

  it('falls back to TypeScript, warns once with a code, and computes correctly', () => {
    const r = node(dir, probe + 'm.mish(new Float32Array(3)); m.info();');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.info.backend).toBe('js');
    expect(out.info.isa).toBeNull();
    expect(out.info.nativeError).toMatch(/node-gyp-build/);
    expect(out.y).toEqual([-0.30340146137410895, 0, 0.8650983882673103, 30, '-0']);
    expect(r.stderr.match(/\[MISH_NATIVE_UNAVAILABLE\]/g)).toHaveLength(1);
  });

  it('MISH_BACKEND=js is a choice, not a fallback: no warning', () => {
    const r = node(dir, probe, { MISH_BACKEND: 'js' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/MISH_NATIVE_UNAVAILABLE/);
  });

  it("setBackend('cpu') and MISH_ISA say the addon is missing", () => {
    const r = node(dir, "require('./dist/index.js').setBackend('cpu')");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/setBackend\('cpu'\) needs the native addon, which did not load/);
    const s = node(dir, "require('./dist/index.js')", { MISH_ISA: 'avx2' });
    expect(s.status).not.toBe(0);
    expect(s.stderr).toMatch(
      /MISH_ISA="avx2": mish-native: setIsa\('avx2'\) needs the native addon/,
    );
    const b = node(dir, "require('./dist/index.js')", { MISH_BACKEND: 'cpu' });
    expect(b.stderr).toMatch(
      /MISH_BACKEND="cpu": mish-native: setBackend\('cpu'\) needs the native/,
    );
  });
});

describe('environment', () => {
  it('MISH_ISA, MISH_THREADS and MISH_BACKEND are applied at load', () => {
    const r = node(repo, probe, { MISH_ISA: 'scalar', MISH_THREADS: '1' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.info.isa).toBe('scalar');
    expect(out.info.threads).toBe(1);
    expect(node(repo, probe, { MISH_BACKEND: 'js' }).stdout).toMatch(/"backend":"js"/);
  });

  it('a bad value is an error naming the variable, not a silent default', () => {
    for (const [k, v, msg] of [
      [
        'MISH_ISA',
        'sse9',
        /MISH_ISA: the value must be one of 'auto', 'scalar', 'avx2', 'avx512', received 'sse9'/,
      ],
      [
        'MISH_THREADS',
        'many',
        /MISH_THREADS: the value must be an integer from 0 to 1024, received "many"/,
      ],
      ['MISH_THREADS', '0x10', /MISH_THREADS: the value must be an integer from 0 to 1024/],
      ['MISH_THREADS', '4abc', /received "4abc"/],
      ['MISH_BACKEND', 'gpu', /MISH_BACKEND: the value must be one of/],
    ] as const) {
      const r = node(repo, "require('./dist/index.js')", { [k]: v });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('ESM import and CommonJS require share one module', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import m, { mish, info } from 'mish-native';" +
          "import { createRequire } from 'node:module';" +
          "const c = createRequire(import.meta.url)('mish-native');" +
          'console.log(c.mish === mish, m.info === info, info().backend)',
      ],
      { cwd: join(repo, 'test'), encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('true true cpu');
  });
});

describe('prebuilds', () => {
  it('npm run prebuild output loads through node-gyp-build with build/ removed', () => {
    const dir = packageCopy(true);
    dirs.push(dir);
    const pb = spawnSync(
      process.execPath,
      [join(repo, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    expect(pb.status, pb.stderr).toBe(0);
    rmSync(join(dir, 'build'), { recursive: true, force: true });
    expect(existsSync(join(dir, 'build'))).toBe(false);
    const r = node(dir, probe + "console.log(require('node-gyp-build').path(process.cwd()))");
    expect(r.status, r.stderr).toBe(0);
    const [json, path] = r.stdout.trim().split('\n');
    expect(JSON.parse(json).info.backend).toBe('cpu');
    expect(path).toMatch(/prebuilds[/\\][a-z0-9]+-[a-z0-9]+[/\\].*\.node$/);
    expect(r.stderr).not.toMatch(/MISH_NATIVE_UNAVAILABLE/);
  }, 300_000);
});

describe('CPUs without AVX-512', () => {
  const found = (cmd: string, flag: string) => spawnSync(cmd, [flag]).status === 0;
  const objdump = found('objdump', '--version');

  // Loads the library under an emulator and prints "isa isas mish(1)".
  function emulated(emulator: string, args: string[]): string {
    const code =
      "const m = require('./dist/index.js'); const y = m.mish(new Float32Array([1, -1]));" +
      'console.log(m.info().isa, m.info().isas.join(), y[0])';
    const r = spawnSync(emulator, [...args, process.execPath, '-e', code], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  // valgrind's CPU has AVX2 but not AVX-512: any AVX-512 instruction run while loading (a
  // table built at load time, say) kills the process with SIGILL.
  it.skipIf(!found('valgrind', '--version'))(
    'the addon loads and picks avx2 under valgrind, which has no AVX-512',
    () => {
      expect(emulated('valgrind', ['--quiet'])).toBe('avx2 scalar,avx2 0.8650983572006226');
    },
    150_000,
  );

  // qemu-user (Debian's qemu-user package, where installed) emulates older CPUs exactly.
  it.skipIf(!found('qemu-x86_64', '-version') || process.arch !== 'x64')(
    'under qemu the addon picks avx2 on a Haswell and scalar on a baseline x86-64 CPU',
    () => {
      expect(emulated('qemu-x86_64', ['-cpu', 'Haswell-v4'])).toMatch(/^avx2 scalar,avx2 /);
      // The scalar kernel computes float32 in double: the correctly rounded mish(1).
      expect(emulated('qemu-x86_64', ['-cpu', 'qemu64'])).toBe('scalar scalar 0.8650984168052673');
    },
    250_000,
  );

  it.skipIf(!objdump || process.platform !== 'linux')(
    'instruction-set object files run nothing at load time (no .init_array)',
    () => {
      const objects = [
        'build/Release/obj.target/mish_avx2/native/kernels_avx2.o',
        'build/Release/obj.target/mish_avx512/native/kernels_avx512.o',
      ].map((f) => join(repo, f));
      for (const o of objects) {
        expect(existsSync(o), o).toBe(true);
        const h = spawnSync('objdump', ['-h', o], { encoding: 'utf8' });
        expect(h.stdout).not.toMatch(/init_array|\.ctors/);
      }
    },
  );
});
