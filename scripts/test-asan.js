#!/usr/bin/env node
// npm run test:asan: the native test files against the AddressSanitizer + UBSan build of the
// addon (build-asan/, npm run build:asan). Node itself is not instrumented, so the sanitizer
// runtime is preloaded; leak checking is off (Node keeps memory until exit on purpose). Any
// report aborts the process that made it, which fails the test file.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.join(__dirname, '..');
const addon = path.join(root, 'build-asan', 'Release', 'mish_native.node');
if (!fs.existsSync(addon)) {
  console.error('test:asan: build-asan/Release/mish_native.node is missing: npm run build:asan');
  process.exit(2);
}
const lib = (name) =>
  spawnSync('gcc', [`-print-file-name=${name}`], { encoding: 'utf8' }).stdout.trim();
const preload = [lib('libasan.so'), lib('libubsan.so')].filter((p) => p.startsWith('/'));
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : [
      'test/api.test.ts',
      'test/errors.test.ts',
      'test/async.test.ts',
      'test/accuracy.test.ts',
      'test/property.test.ts',
      'test/fuzz.test.ts',
      'test/workers.test.ts',
    ];
const r = spawnSync('npx', ['vitest', 'run', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    LD_PRELOAD: preload.join(' '),
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:handle_segv=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    MISH_NATIVE_PATH: addon,
    MISH_SANITIZED: '1',
  },
});
process.exit(r.status === null ? 1 : r.status);
