// Loads the C++ addon (build/ or prebuilds/, through node-gyp-build) and types it. Nothing
// but this file touches the addon object.
import * as path from 'path';
import { debuglog } from 'util';

import type { Backend, FloatArray, Isa, Op } from './types';

const debug = debuglog('mish');

/** The addon's exports (native/binding.cc). */
export interface NativeAddon {
  run(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): void;
  runAsync(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): Promise<FloatArray>;
  info(): {
    isa: Isa;
    isas: Isa[];
    threads: number;
    hardwareThreads: number;
    /** Smallest call split across threads by the current kernel, per dtype. */
    parallelMin: { float32: number; float64: number };
  };
  setThreads(n: number): void;
  setIsa(name: Isa | 'auto'): void;
  /** dst = src on the kernels' thread pool: the benchmark's bandwidth ceiling. */
  copy(src: FloatArray, dst: FloatArray): void;
  /** Whether two arrays' bytes are disjoint, the same, or partly overlap. */
  memoryRelation(a: FloatArray, b: FloatArray): 'disjoint' | 'same' | 'partial';
}

export interface LoadResult {
  addon: NativeAddon | null;
  /** Why the addon could not be loaded, one line per attempt (empty when it loaded). */
  errors: string[];
}

const root = path.join(__dirname, '..');

export function loadNative(): LoadResult {
  try {
    // MISH_NATIVE_PATH: a specific build of the addon (npm run test:asan loads the sanitizer
    // build this way); otherwise build/ or prebuilds/ through node-gyp-build.
    const explicit = process.env.MISH_NATIVE_PATH;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => unknown;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = (explicit ? require(path.resolve(explicit)) : load(root)) as NativeAddon;
    debug('native addon loaded from %s: %o', root, addon.info());
    return { addon, errors: [] };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const errors = [
      `node-gyp-build(${root}): ${message.split('\n')[0]}`,
      'fix: run `npm rebuild mish-native` (needs python3, make and a C++17 compiler), or use ' +
        'a platform with a prebuild in prebuilds/',
    ];
    debug('native addon unavailable: %s', errors.join('; '));
    return { addon: null, errors };
  }
}

export function nativeBackend(addon: NativeAddon): Backend {
  return {
    name: 'cpu',
    run: (op, x, dy, out) => addon.run(op, x, dy, out),
    runAsync: async (op, x, dy, out) => {
      await addon.runAsync(op, x, dy, out);
    },
  };
}
