/** The array types every function accepts. */
export type FloatArray = Float32Array | Float64Array;

/** Kernel selector shared with the native addon (native/kernels.h, enum Op). */
export const enum Op {
  Forward = 0,
  Backward = 1,
  Derivative = 2,
  Second = 3,
}

export type Isa = 'avx512' | 'avx2' | 'scalar';
export type BackendName = 'cpu' | 'js' | 'cuda';
export type BackendChoice = 'auto' | BackendName;

/**
 * What a compute backend provides. The facade validates every argument before calling one:
 * x, dy and out share dtype and length, and out is either disjoint from or identical to x/dy.
 */
export interface Backend {
  readonly name: BackendName;
  run(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): void;
  runAsync(op: Op, x: FloatArray, dy: FloatArray | null, out: FloatArray): Promise<void>;
}
