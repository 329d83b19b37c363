// Argument checks for every public function. Messages name the function, the argument, what
// was expected and what was received. TypeError: wrong kind, dtype or a detached buffer;
// RangeError: wrong length, overlapping memory, bad numbers.
import { types } from 'util';

import type { FloatArray } from './types';

// The TypedArray intrinsics, so a subclass or a foreign object cannot lie about where its
// memory is.
const TypedArrayProto = Object.getPrototypeOf(Float32Array.prototype) as object;
function getter(name: string): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(TypedArrayProto, name)!.get! as (this: unknown) => unknown;
}
const bufferOf = getter('buffer') as (this: FloatArray) => ArrayBufferLike;
const byteOffsetOf = getter('byteOffset') as (this: FloatArray) => number;
const lengthOf = getter('length') as (this: FloatArray) => number;
const tagOf = getter(Symbol.toStringTag as unknown as string) as (this: unknown) => string;

/** A short description of a received value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (types.isProxy(v)) return 'a Proxy (pass the typed array itself)';
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(v)) {
    return (
      `a Buffer of ${v.length} bytes (pass new Float32Array(buf.buffer, buf.byteOffset, ` +
      'buf.length / 4) to compute on its memory)'
    );
  }
  if (types.isTypedArray(v)) return `${tagOf.call(v)}(${lengthOf.call(v as FloatArray)})`;
  if (types.isDataView(v)) return `a DataView of ${(v as DataView).byteLength} bytes`;
  if (types.isAnyArrayBuffer(v)) return `an ArrayBuffer of ${(v as ArrayBuffer).byteLength} bytes`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') {
    return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  }
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto && TypedArrayProto.isPrototypeOf(proto)) {
      return 'an object that inherits from a typed array prototype but is not a typed array';
    }
    return `an object (${Object.prototype.toString.call(v)})`;
  }
  return `a ${typeof v}`;
}

export function dtypeOf(a: FloatArray): 'float32' | 'float64' {
  return types.isFloat32Array(a) ? 'float32' : 'float64';
}

function isDetached(buffer: ArrayBufferLike, length: number): boolean {
  // A detached buffer reports length 0 and refuses new views; only probe when length is 0.
  if (length !== 0 || types.isSharedArrayBuffer(buffer)) return false;
  const b = buffer as ArrayBuffer & { detached?: boolean };
  if (typeof b.detached === 'boolean') return b.detached;
  try {
    new Uint8Array(b);
    return false;
  } catch {
    return true;
  }
}

/**
 * Checks one array argument: a Float32Array or Float64Array of any realm, not detached.
 * Returns a plain view of the same memory (the argument itself when it is one), so a subclass
 * that overrides length or buffer changes nothing.
 */
export function floatArray(fn: string, name: string, v: unknown): FloatArray {
  const f32 = types.isFloat32Array(v);
  if (!f32 && !types.isFloat64Array(v)) {
    throw new TypeError(
      `${fn}: ${name} must be a Float32Array or Float64Array, received ${describe(v)}`,
    );
  }
  const a = v as FloatArray;
  const buffer = bufferOf.call(a);
  const length = lengthOf.call(a);
  if (isDetached(buffer, length)) {
    throw new TypeError(
      `${fn}: ${name} is backed by a detached ArrayBuffer (it was transferred or detached)`,
    );
  }
  const proto = Object.getPrototypeOf(a) as object;
  if (proto === Float32Array.prototype || proto === Float64Array.prototype) return a;
  const offset = byteOffsetOf.call(a);
  return f32 ? new Float32Array(buffer, offset, length) : new Float64Array(buffer, offset, length);
}

/**
 * Async calls keep working on the memory after they return: refuse a buffer that JavaScript
 * could shrink meanwhile (a resizable, non-shared ArrayBuffer).
 */
export function fixedLength(fn: string, name: string, a: FloatArray): void {
  const buffer = a.buffer as ArrayBuffer & { resizable?: boolean };
  if (buffer.resizable === true && !types.isSharedArrayBuffer(buffer)) {
    throw new TypeError(
      `${fn}: ${name} is backed by a resizable ArrayBuffer, which could shrink while the call ` +
        'runs; pass a fixed-length copy',
    );
  }
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
      `${fn}: ${name} must be a ${tagOf.call(a)} like ${aName}, ` + `received ${tagOf.call(b)}`,
    );
  }
  if (a.length !== b.length) {
    throw new RangeError(
      `${fn}: ${name} must have the length of ${aName} (${a.length}), received length ${b.length}`,
    );
  }
}

/**
 * How two arrays' memory relates, for two different SharedArrayBuffer objects (which may share
 * memory after postMessage): set by the facade to the native addon's pointer comparison.
 */
export const memory: {
  relation: ((a: FloatArray, b: FloatArray) => 'disjoint' | 'same' | 'partial') | null;
} = { relation: null };

/** out may be the same memory as an input (in place) or disjoint from it, nothing between. */
export function noPartialOverlap(
  fn: string,
  out: FloatArray,
  name: string,
  input: FloatArray,
): void {
  if (out.length === 0 || input.length === 0) return;
  if (out.buffer !== input.buffer) {
    const shared = types.isSharedArrayBuffer(out.buffer) && types.isSharedArrayBuffer(input.buffer);
    if (!shared || !memory.relation || memory.relation(out, input) !== 'partial') return;
    throw new RangeError(
      `${fn}: out partly overlaps ${name} (two SharedArrayBuffer objects over one memory); ` +
        'pass the same memory to compute in place, or disjoint memory',
    );
  }
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

function like(a: FloatArray): FloatArray {
  return types.isFloat32Array(a) ? new Float32Array(a.length) : new Float64Array(a.length);
}

/** Validated arguments: plain views to compute on, and the array to return to the caller. */
export interface Args {
  x: FloatArray;
  dy: FloatArray | null;
  out: FloatArray;
  result: FloatArray;
}

/** Validates (x, out?). */
export function unaryArgs(fn: string, x: unknown, out: unknown): Args {
  const xa = floatArray(fn, 'x', x);
  if (out === undefined) {
    const o = like(xa);
    return { x: xa, dy: null, out: o, result: o };
  }
  const oa = floatArray(fn, 'out', out);
  sameShape(fn, 'out', oa, 'x', xa);
  noPartialOverlap(fn, oa, 'x', xa);
  return { x: xa, dy: null, out: oa, result: out as FloatArray };
}

/** Validates (dy, x, out?). */
export function binaryArgs(fn: string, dy: unknown, x: unknown, out: unknown): Args {
  const dya = floatArray(fn, 'dy', dy);
  const xa = floatArray(fn, 'x', x);
  sameShape(fn, 'x', xa, 'dy', dya);
  if (out === undefined) {
    const o = like(xa);
    return { x: xa, dy: dya, out: o, result: o };
  }
  const oa = floatArray(fn, 'out', out);
  sameShape(fn, 'out', oa, 'x', xa);
  noPartialOverlap(fn, oa, 'x', xa);
  noPartialOverlap(fn, oa, 'dy', dya);
  return { x: xa, dy: dya, out: oa, result: out as FloatArray };
}

/** Async calls: every array must keep its length until the call settles. */
export function asyncArgs(fn: string, args: Args): Args {
  fixedLength(fn, 'x', args.x);
  if (args.dy) fixedLength(fn, 'dy', args.dy);
  fixedLength(fn, 'out', args.out);
  return args;
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
