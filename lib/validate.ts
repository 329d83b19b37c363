// Argument checks for every public function. Messages name the function, the argument, what
// was expected and what was received. TypeError: wrong kind, dtype or a detached buffer;
// RangeError: wrong length, overlapping memory, bad numbers.
import type { FloatArray } from './types';

/** A short description of a received value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(v)) {
    return (
      `a Buffer of ${v.length} bytes (pass new Float32Array(buf.buffer, buf.byteOffset, ` +
      'buf.length / 4) to compute on its memory)'
    );
  }
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor?.name ?? 'ArrayBufferView';
    return v instanceof DataView
      ? `a DataView of ${v.byteLength} bytes`
      : `${name}(${(v as unknown as { length: number }).length})`;
  }
  if (v instanceof ArrayBuffer) return `an ArrayBuffer of ${v.byteLength} bytes`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  return `a ${typeof v}`;
}

export function dtypeOf(a: FloatArray): 'float32' | 'float64' {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

function isDetached(a: FloatArray): boolean {
  // A detached buffer reports length 0 and refuses new views; only probe when length is 0.
  if (a.length !== 0) return false;
  const buffer = a.buffer as ArrayBuffer & { detached?: boolean };
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** Checks one array argument: Float32Array or Float64Array, not detached. */
export function floatArray(fn: string, name: string, v: unknown): FloatArray {
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw new TypeError(
      `${fn}: ${name} must be a Float32Array or Float64Array, received ${describe(v)}`,
    );
  }
  if (isDetached(v)) {
    throw new TypeError(
      `${fn}: ${name} is backed by a detached ArrayBuffer (it was transferred or detached)`,
    );
  }
  return v;
}

/** Checks that b has the dtype and length of a. */
export function sameShape(
  fn: string,
  name: string,
  b: FloatArray,
  aName: string,
  a: FloatArray,
): void {
  if (dtypeOf(a) !== dtypeOf(b)) {
    throw new TypeError(
      `${fn}: ${name} must be a ${a.constructor.name} like ${aName}, ` +
        `received ${b.constructor.name}`,
    );
  }
  if (a.length !== b.length) {
    throw new RangeError(
      `${fn}: ${name} must have the length of ${aName} (${a.length}), received length ${b.length}`,
    );
  }
}

/** out may be the same memory as an input (in place) or disjoint from it, nothing between. */
export function noPartialOverlap(
  fn: string,
  out: FloatArray,
  name: string,
  input: FloatArray,
): void {
  if (out.buffer !== input.buffer || out.length === 0) return;
  const a0 = out.byteOffset;
  const a1 = a0 + out.byteLength;
  const b0 = input.byteOffset;
  const b1 = b0 + input.byteLength;
  if (a0 === b0 && a1 === b1) return;
  if (a0 < b1 && b0 < a1) {
    throw new RangeError(
      `${fn}: out partly overlaps ${name} ` +
        `(out bytes [${a0}, ${a1}), ${name} bytes [${b0}, ${b1}) ` +
        'of one buffer); pass the same view to compute in place, or disjoint memory',
    );
  }
}

/** Validates (x, out?) and returns the array to write. */
export function unaryArgs(fn: string, x: unknown, out: unknown): [FloatArray, FloatArray] {
  const xa = floatArray(fn, 'x', x);
  if (out === undefined)
    return [
      xa,
      xa instanceof Float32Array ? new Float32Array(xa.length) : new Float64Array(xa.length),
    ];
  const oa = floatArray(fn, 'out', out);
  sameShape(fn, 'out', oa, 'x', xa);
  noPartialOverlap(fn, oa, 'x', xa);
  return [xa, oa];
}

/** Validates (dy, x, out?) and returns the array to write. */
export function binaryArgs(
  fn: string,
  dy: unknown,
  x: unknown,
  out: unknown,
): [FloatArray, FloatArray, FloatArray] {
  const dya = floatArray(fn, 'dy', dy);
  const xa = floatArray(fn, 'x', x);
  sameShape(fn, 'x', xa, 'dy', dya);
  if (out === undefined) {
    return [
      dya,
      xa,
      xa instanceof Float32Array ? new Float32Array(xa.length) : new Float64Array(xa.length),
    ];
  }
  const oa = floatArray(fn, 'out', out);
  sameShape(fn, 'out', oa, 'x', xa);
  noPartialOverlap(fn, oa, 'x', xa);
  noPartialOverlap(fn, oa, 'dy', dya);
  return [dya, xa, oa];
}

/** A non-negative integer count (threads). */
export function count(fn: string, name: string, v: unknown, max: number): number {
  if (typeof v !== 'number') {
    throw new TypeError(`${fn}: ${name} must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`${fn}: ${name} must be an integer from 0 to ${max}, received ${v}`);
  }
  return v;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(
  fn: string,
  name: string,
  v: unknown,
  allowed: readonly T[],
): T {
  if (typeof v !== 'string') {
    throw new TypeError(
      `${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, ` +
        `received ${describe(v)}`,
    );
  }
  if (!(allowed as readonly string[]).includes(v)) {
    throw new RangeError(
      `${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, received '${v}'`,
    );
  }
  return v as T;
}
