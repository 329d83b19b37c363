/**
 * TensorFlow.js integration for mish-native.
 *
 *   import * as tf from '@tensorflow/tfjs';
 *   import { installMish } from 'mish-native/tfjs';
 *   const m = installMish(tf);
 *   const y = m.mish(tf.tensor([-1, 0, 1]));
 *   tf.layers.dense({ units: 32, activation: m.activation as any });
 *   model.add(new m.Mish());
 *
 * @tensorflow/tfjs is a peer dependency and is never loaded from here: the
 * caller hands over its own `tf` namespace, so the kernels land in the same
 * registry (and engine) that the caller's models use. Only types are imported.
 *
 * Kernels are written against the generic KernelBackend interface alone
 * (`readSync(dataId)` to get the input values, `write(values, shape, dtype)` to
 * hand the result back), so one implementation serves the cpu, wasm and
 * tensorflow (tfjs-node) backends, and any other backend that implements
 * readSync (webgl does, at the price of a GPU download).
 */
import type * as tfjs from '@tensorflow/tfjs';
import {
  mish as coreMish,
  mishBackward as coreMishBackward,
  mishSecondDerivative as coreMishSecondDerivative,
} from './index';

type TF = typeof tfjs;
type Tensor = tfjs.Tensor;
type TensorInfo = tfjs.TensorInfo;
type KernelBackend = tfjs.KernelBackend;
type DataId = TensorInfo['dataId'];
type LayerArgs = ConstructorParameters<typeof tfjs.layers.Layer>[0];

/** Forward kernel name, as seen by `tf.engine().runKernel` and the profiler. */
export const KERNEL_NAME = 'MishNative';
/** Gradient kernel: inputs `dy` and `x`, output `dy · mish′(x)`. */
export const GRAD_KERNEL_NAME = 'MishNativeGrad';
/**
 * Gradient of the gradient kernel with respect to x: inputs `dy` and `x`, output
 * `dy · mish″(x)`. It has no gradient of its own, so third derivatives are not available.
 */
export const SECOND_GRAD_KERNEL_NAME = 'MishNativeGrad2';
/** Serialization class name of the Layer. */
export const LAYER_CLASS_NAME = 'MishNative';
/**
 * Activation identifier for `tf.layers.*({ activation })`. tfjs already ships
 * an activation called 'mish' (a composite of softplus and tanh), so ours has
 * its own lowerCamelCase name. Saving turns it into 'mish_native' and loading
 * turns it back into 'mishNative'.
 */
export const ACTIVATION_NAME = 'mishNative';

/** Backends that get kernels at install time even before they are registered with tf. */
const ALWAYS_REGISTER = ['cpu', 'wasm', 'tensorflow'];

/**
 * Backends whose `readSync` is known to return a freshly allocated array the
 * caller owns (tfjs-backend-wasm slices its heap). The kernels compute in place
 * into that array instead of allocating a second one. Everywhere else (cpu
 * returns its own storage, webgl caches the downloaded values) the input array
 * is treated as read-only and a new output array is allocated.
 */
const READSYNC_RETURNS_COPY = new Set(['wasm']);

export type KernelKind = 'forward' | 'backward' | 'secondOrder';

/** Totals for one kernel since install (or since the last resetStats()). */
export interface KernelCounter {
  /** Number of kernel invocations. */
  calls: number;
  /** Number of elements processed. */
  elements: number;
  /** Wall time of the whole kernel: backend read, computation, backend write (ms). */
  ms: number;
  /** Wall time of the mish-native computation alone (ms). */
  computeMs: number;
}

export interface KernelStats {
  forward: KernelCounter;
  backward: KernelCounter;
  secondOrder: KernelCounter;
}

/**
 * Passed to a kernel observer after every kernel call. `x` and `dy` are only
 * present when the observer was installed with `{ inputs: true }`: they are
 * then private copies of the kernel's inputs, taken before the computation
 * (the time spent copying is left out of `ms`).
 */
export interface KernelEvent {
  kind: KernelKind;
  kernelName: string;
  backend: string;
  shape: number[];
  size: number;
  ms: number;
  computeMs: number;
  x?: Float32Array;
  dy?: Float32Array;
}

export type KernelObserver = (event: KernelEvent) => void;

/** The Layer class created for the given tf; `new m.Mish()` or `new m.Mish({ name: 'act1' })`. */
export interface MishLayerClass {
  new (args?: LayerArgs): tfjs.layers.Layer;
  readonly className: string;
}

export interface MishInstallation {
  /** Mish of a float32 tensor of any shape, differentiable (tf.grad, model.fit). */
  mish(x: Tensor | tfjs.TensorLike): Tensor;
  /** Layer applying mish element-wise; registered for serialization. */
  Mish: MishLayerClass;
  /** Activation identifier for tf.layers (`activation: m.activation as any`). */
  activation: string;
  kernelName: string;
  gradKernelName: string;
  secondGradKernelName: string;
  /** Backend names for which the kernels are registered. */
  registeredBackends(): string[];
  /** Makes sure the kernels exist for a backend (done automatically for the active one). */
  registerBackend(backendName: string): void;
  /** Timings measured inside the kernels. */
  stats(): KernelStats;
  resetStats(): void;
  /**
   * Observer called after each kernel call (null to remove). With
   * `{ inputs: true }` each event carries copies of the kernel's inputs.
   */
  setKernelObserver(observer: KernelObserver | null, options?: { inputs?: boolean }): void;
}

function now(): number {
  return performance.now();
}

function zeroCounter(): KernelCounter {
  return { calls: 0, elements: 0, ms: 0, computeMs: 0 };
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function requireFloat32(op: string, arg: string, dtype: string): void {
  if (dtype !== 'float32') {
    throw new TypeError(`${op}: argument '${arg}' must have dtype float32, received ${dtype}`);
  }
}

function asFloat32(values: unknown, what: string): Float32Array {
  if (values instanceof Float32Array) return values;
  if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    // Another realm's Float32Array, or a backend that hands out a different
    // typed array: take a float32 copy rather than fail.
    return Float32Array.from(values as unknown as ArrayLike<number>);
  }
  throw new TypeError(
    `mish-native/tfjs: backend returned ${Object.prototype.toString.call(values)} for ${what}, ` +
      'expected a Float32Array',
  );
}

const installations = new WeakMap<object, MishInstallation>();

/**
 * Registers the Mish kernels, gradients, layer and activation with the given
 * tfjs namespace and returns the op and the classes. Calling it again with the
 * same tf returns the same objects and registers nothing twice.
 */
export function installMish(tf: TF): MishInstallation {
  if (tf == null || typeof tf.engine !== 'function' || typeof tf.registerKernel !== 'function') {
    throw new TypeError(
      'installMish(tf): expected the @tensorflow/tfjs namespace ' +
        '(import * as tf from "@tensorflow/tfjs")',
    );
  }
  const engine = tf.engine();
  const existing = installations.get(engine);
  if (existing !== undefined) return existing;

  const counters: KernelStats = {
    forward: zeroCounter(),
    backward: zeroCounter(),
    secondOrder: zeroCounter(),
  };
  let observer: KernelObserver | null = null;
  let captureInputs = false;
  const registered = new Set<string>();

  /** Copies of the inputs for the observer, and the time it took to make them. */
  function capture(
    x: Float32Array,
    dy?: Float32Array,
  ): { x: Float32Array; dy?: Float32Array; ms: number } | null {
    if (observer === null || !captureInputs) return null;
    const c0 = now();
    const copies = { x: x.slice(), dy: dy === undefined ? undefined : dy.slice() };
    return { ...copies, ms: now() - c0 };
  }

  function record(
    kind: KernelKind,
    kernelName: string,
    backendName: string,
    shape: number[],
    size: number,
    t0: number,
    t1: number,
    t2: number,
    copies: { x: Float32Array; dy?: Float32Array; ms: number } | null,
  ): void {
    const ms = now() - t0 - (copies === null ? 0 : copies.ms);
    const c = counters[kind];
    c.calls++;
    c.elements += size;
    c.ms += ms;
    c.computeMs += t2 - t1;
    if (observer !== null) {
      observer({
        kind,
        kernelName,
        backend: backendName,
        shape: shape.slice(),
        size,
        ms,
        computeMs: t2 - t1,
        x: copies?.x,
        dy: copies?.dy,
      });
    }
  }

  function forwardKernel(backendName: string): tfjs.KernelFunc {
    const inPlace = READSYNC_RETURNS_COPY.has(backendName);
    return ({ inputs, backend }) => {
      const t0 = now();
      const xInfo = inputs['x'];
      if (xInfo === undefined) throw new TypeError(`${KERNEL_NAME}: missing input 'x'`);
      requireFloat32(KERNEL_NAME, 'x', xInfo.dtype);
      const b = backend as KernelBackend;
      const x = asFloat32(b.readSync(xInfo.dataId), 'x');
      const copies = capture(x);
      const out = inPlace ? x : new Float32Array(x.length);
      const t1 = now();
      coreMish(x, out);
      const t2 = now();
      const dataId: DataId = b.write(out, xInfo.shape, 'float32');
      record('forward', KERNEL_NAME, backendName, xInfo.shape, x.length, t0, t1, t2, copies);
      return { dataId, shape: xInfo.shape.slice(), dtype: 'float32' };
    };
  }

  function gradKernel(backendName: string, second: boolean): tfjs.KernelFunc {
    const inPlace = READSYNC_RETURNS_COPY.has(backendName);
    const name = second ? SECOND_GRAD_KERNEL_NAME : GRAD_KERNEL_NAME;
    return ({ inputs, backend }) => {
      const t0 = now();
      const dyInfo = inputs['dy'];
      const xInfo = inputs['x'];
      if (dyInfo === undefined || xInfo === undefined)
        throw new TypeError(`${name}: inputs 'dy' and 'x' are required`);
      requireFloat32(name, 'dy', dyInfo.dtype);
      requireFloat32(name, 'x', xInfo.dtype);
      if (
        dyInfo.shape.length !== xInfo.shape.length ||
        dyInfo.shape.some((d, i) => d !== xInfo.shape[i])
      ) {
        throw new RangeError(
          `${name}: 'dy' shape [${dyInfo.shape.join(',')}] differs from ` +
            `'x' shape [${xInfo.shape.join(',')}]`,
        );
      }
      const n = sizeOf(xInfo.shape);
      const b = backend as KernelBackend;
      const dy = asFloat32(b.readSync(dyInfo.dataId), 'dy');
      const x = asFloat32(b.readSync(xInfo.dataId), 'x');
      const copies = capture(x, dy);
      let out: Float32Array;
      let t1: number;
      if (second) {
        // dy · mish″(x); the core library has no fused form, so two passes.
        out = inPlace ? x : new Float32Array(n);
        t1 = now();
        coreMishSecondDerivative(x, out);
        for (let i = 0; i < n; i++) out[i] = (out[i] as number) * (dy[i] as number);
      } else {
        // mishBackward allows out to be dy: reuse dy's private copy where there is one.
        out = inPlace ? dy : new Float32Array(n);
        t1 = now();
        coreMishBackward(dy, x, out);
      }
      const t2 = now();
      const dataId: DataId = b.write(out, xInfo.shape, 'float32');
      record(
        second ? 'secondOrder' : 'backward',
        name,
        backendName,
        xInfo.shape,
        n,
        t0,
        t1,
        t2,
        copies,
      );
      return { dataId, shape: xInfo.shape.slice(), dtype: 'float32' };
    };
  }

  function registerBackend(backendName: string): void {
    if (registered.has(backendName)) return;
    const kernels: Array<[string, tfjs.KernelFunc]> = [
      [KERNEL_NAME, forwardKernel(backendName)],
      [GRAD_KERNEL_NAME, gradKernel(backendName, false)],
      [SECOND_GRAD_KERNEL_NAME, gradKernel(backendName, true)],
    ];
    for (const [kernelName, kernelFunc] of kernels) {
      // Skip what is already there (an earlier install in another copy of this
      // module, or a user override); tfjs would otherwise warn and replace it.
      if (tf.getKernel(kernelName, backendName) == null) {
        tf.registerKernel({ kernelName, backendName, kernelFunc });
      }
    }
    registered.add(backendName);
  }

  for (const name of ALWAYS_REGISTER) registerBackend(name);
  for (const name of Object.keys(engine.registryFactory)) registerBackend(name);

  // Gradients. Each one is expressed through kernels, so the tape records the
  // backward pass too and gradients of gradients work (tf.grad(tf.grad(f))).
  if (tf.getGradient(KERNEL_NAME) == null) {
    tf.registerGradient({
      kernelName: KERNEL_NAME,
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const [x] = saved as Tensor[];
        return { x: () => runGrad(GRAD_KERNEL_NAME, dy as Tensor, x as Tensor) };
      },
    });
  }
  if (tf.getGradient(GRAD_KERNEL_NAME) == null) {
    tf.registerGradient({
      kernelName: GRAD_KERNEL_NAME,
      inputsToSave: ['dy', 'x'],
      gradFunc: (g, saved) => {
        const [dy, x] = saved as Tensor[];
        return {
          // ∂(dy·mish′(x))/∂dy = mish′(x)  →  g·mish′(x)
          dy: () => runGrad(GRAD_KERNEL_NAME, g as Tensor, x as Tensor),
          // ∂(dy·mish′(x))/∂x = dy·mish″(x)  →  g·dy·mish″(x)
          x: () =>
            tf.tidy(() =>
              runGrad(SECOND_GRAD_KERNEL_NAME, tf.mul(g as Tensor, dy as Tensor), x as Tensor),
            ),
        };
      },
    });
  }

  function ensureActiveBackend(): void {
    registerBackend(tf.getBackend());
  }

  function runGrad(kernelName: string, dy: Tensor, x: Tensor): Tensor {
    ensureActiveBackend();
    return engine.runKernel(kernelName, { dy, x }) as Tensor;
  }

  function mish(x: Tensor | tfjs.TensorLike): Tensor {
    const t = x instanceof tf.Tensor ? x : tf.tensor(x as tfjs.TensorLike);
    try {
      requireFloat32('mish', 'x', t.dtype);
      ensureActiveBackend();
      return engine.runKernel(KERNEL_NAME, { x: t }) as Tensor;
    } finally {
      if (t !== x) t.dispose();
    }
  }

  // ---- Layer -------------------------------------------------------------
  class MishLayer extends tf.layers.Layer {
    static className = LAYER_CLASS_NAME;
    constructor(args?: LayerArgs) {
      super(args ?? {});
      this.supportsMasking = true;
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const input = Array.isArray(inputs) ? inputs : [inputs];
      if (input.length !== 1) {
        throw new TypeError(
          `${LAYER_CLASS_NAME} layer expects exactly one input tensor, got ${input.length}`,
        );
      }
      return mish(input[0] as Tensor);
    }
    override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape | tfjs.Shape[] {
      return inputShape;
    }
    override getClassName(): string {
      return LAYER_CLASS_NAME;
    }
  }
  tf.serialization.registerClass(MishLayer);

  // ---- Activation --------------------------------------------------------
  // tfjs does not export its Activation base class; what tf.layers needs from
  // an activation is apply(x), getClassName() and getConfig() on a registered
  // Serializable, which this provides.
  class MishActivation extends tf.serialization.Serializable {
    static className = ACTIVATION_NAME;
    apply(x: Tensor): Tensor {
      return mish(x);
    }
    override getClassName(): string {
      return ACTIVATION_NAME;
    }
    getConfig(): tfjs.serialization.ConfigDict {
      return {};
    }
  }
  tf.serialization.registerClass(MishActivation);

  const installation: MishInstallation = {
    mish,
    Mish: MishLayer,
    activation: ACTIVATION_NAME,
    kernelName: KERNEL_NAME,
    gradKernelName: GRAD_KERNEL_NAME,
    secondGradKernelName: SECOND_GRAD_KERNEL_NAME,
    registeredBackends: () => [...registered],
    registerBackend,
    stats: () => ({
      forward: { ...counters.forward },
      backward: { ...counters.backward },
      secondOrder: { ...counters.secondOrder },
    }),
    resetStats: () => {
      counters.forward = zeroCounter();
      counters.backward = zeroCounter();
      counters.secondOrder = zeroCounter();
    },
    setKernelObserver: (fn, options) => {
      observer = fn;
      captureInputs = fn !== null && options?.inputs === true;
    },
  };
  installations.set(engine, installation);
  return installation;
}
