// For the test suite only (not exported by the package's entry point): runs the public
// functions through a backend the tests choose. The CUDA tests use it to put the device
// formulas, compiled for the host, through every accuracy and shape test of the CPU kernels.
import { emulate } from './cuda';
import type { Backend } from './types';
import { dtypeOf } from './validate';

// Cleared by every setBackend call.
export const override: { backend: Backend | null } = { backend: null };

/** The CUDA device math compiled for the host (needs the GPU part built, not a GPU). */
export const emulatedCuda: Backend = {
  name: 'cuda',
  run: (op, x, dy, out) => emulate(op, dtypeOf(x), x, dy, out),
  runAsync: async (op, x, dy, out) => emulate(op, dtypeOf(x), x, dy, out),
};
