// Copies the built package (without build/ and prebuilds/) into a temporary directory, as a
// user would get it on a platform with no binary, with node_modules linked to the repo's.
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const repo = join(__dirname, '..', '..');

export function packageCopy(withSources = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'mish-native-'));
  for (const f of ['package.json', 'dist', ...(withSources ? ['binding.gyp', 'native'] : [])]) {
    cpSync(join(repo, f), join(dir, f), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node -e code` in dir with extra environment variables. */
export function node(dir: string, code: string, env: Record<string, string> = {}): Run {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('MISH_')) delete clean[k];
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: dir,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
