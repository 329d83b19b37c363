// The pure-TypeScript backend: always available, used when the addon cannot load or when
// chosen with setBackend('js').
import { derivative, forward, map1, mapBackward, secondDerivative } from './math';
import { Op } from './types';
import type { Backend, FloatArray } from './types';

function run(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): void {
  switch (op) {
    case Op.Forward:
      return map1(forward, x, out);
    case Op.Backward:
      return mapBackward(dy as FloatArray, x, out);
    case Op.Derivative:
      return map1(derivative, x, out);
    case Op.Second:
      return map1(secondDerivative, x, out);
  }
}

export const jsBackend: Backend = {
  name: 'js',
  run,
  // JavaScript cannot compute off the main thread without a worker; the result is computed in a
  // later turn of the event loop so callers see the same asynchronous contract.
  runAsync: (op, x, dy, out) =>
    new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          run(op, x, dy, out);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    }),
};
