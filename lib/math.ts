// The pure-TypeScript path: the formulas of native/mish_math.h (read its top comment for the
// derivation), evaluated in float64 like the scalar C++ kernel. float32 arrays are computed
// in float64 and rounded once when stored. test/math-constants.test.ts checks that the
// constants below equal the header's.

/** Constants of Consts<double> in native/mish_math.h. */
export const C = {
  lo: -760,
  hi: 400,
  dhi: 22,
  emin: -1022,
  roundMagic: 6755399441055744, // 0x1.8p52
  log2e: 1.4426950408889634,
  ln2Hi: 0.6931471805601177,
  ln2Lo: -1.7239444525614835e-13,
  poly: [
    0.5000000000000001, 0.16666666666666669, 0.041666666666624164, 0.008333333333330065,
    0.0013888888917196719, 0.00019841269863040545, 2.4801521322368692e-5, 2.7557268480310024e-6,
    2.7620075879983367e-7, 2.5100375832561234e-8,
  ],
} as const;

// 2^k for integral k in [-1200, 64]: every power the formulas need (k, k/2, 2k/2; up to
// e^dhi for the derivative).
const POW2_MIN = -1200;
const POW2_MAX = 64;
const POW2 = new Float64Array(POW2_MAX - POW2_MIN + 1);
for (let k = POW2_MIN; k <= POW2_MAX; k++) POW2[k - POW2_MIN] = 2 ** k;

function pow2(k: number): number {
  return POW2[k - POW2_MIN];
}

function roundInt(a: number): number {
  return a + C.roundMagic - C.roundMagic;
}

// v * 2^k in two exact steps, rounded once.
function scale(v: number, k: number): number {
  const half = roundInt(k * 0.5);
  return v * pow2(half) * pow2(k - half);
}

// Veltkamp/Dekker: a * b - round(a * b) exactly (JavaScript has no FMA).
const SPLIT = 134217729; // 2^27 + 1
function productError(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return al * bl - (p - ah * bh - al * bh - ah * bl);
}

// a * b + c with the product's rounding error added back: within about one rounding of the
// fused result (where the header writes fma_exact in a Horner step).
function fma(a: number, b: number, c: number): number {
  const p = a * b;
  return p + c + productError(a, b, p);
}

// Shared state of one evaluation, reused to avoid allocating per element.
let xd = 0;
let r = 0;
let k = 0;
let u = 0;
let q = 0;
let neg = false;

function parts(x: number): void {
  xd = x > C.lo ? x : C.lo;
  xd = xd < C.hi ? xd : C.hi;
  neg = x < 0;

  const a = xd < 0 ? xd : -xd;
  k = roundInt(a * C.log2e);
  let s = a - k * C.ln2Hi;
  s = s - k * C.ln2Lo;
  const P = C.poly;
  let p = P[9];
  for (let i = 8; i >= 0; i--) p = p * s + P[i];
  r = s * s * p + s + 1;
  u = r * pow2(k > C.emin ? k : C.emin);

  q = neg ? u * (u + 2) + 2 : (u + u) * (u + 1) + 1;
}

export function forward(x: number): number {
  if (x !== x) return x;
  parts(x);
  const h = (u * (neg ? u + 1 : u + u)) / q;
  const a = neg ? xd * r : xd;
  const b = neg ? a : x;
  const y = scale(b - a * h, neg ? k : 0);
  return y === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : y;
}

// derivative_parts in the header: one set of polynomials in n = e^x for every x.
// x < 0: f' = dv * 2^dk; x >= 0: f' = dOne.
let dv = 0;
let dk = 0;
let dOne = 0;

function derivativeParts(x: number): void {
  let xc = x > C.lo ? x : C.lo;
  xc = xc < C.dhi ? xc : C.dhi;
  const kk = roundInt(xc * C.log2e);
  let s = xc - kk * C.ln2Hi;
  s = s - kk * C.ln2Lo;
  const P = C.poly;
  let p = P[9];
  for (let i = 8; i >= 0; i--) p = p * s + P[i];
  const rr = s * s * p + s + 1;
  const n = rr * pow2(kk > C.emin ? kk : C.emin);

  const x4 = 4 * xc;
  const n4 = n + 4;
  const w = fma(fma(n4, n, x4 + 6), n, x4 + 4);
  const q2 = fma(fma(fma(n4, n, 8), n, 8), n, 4);
  const inv = 1 / q2;
  const d = fma(n, fma(n, x4 - 2, x4 - 4), -4);

  const mw = rr * w;
  const mwErr = productError(rr, w, mw);
  const t = mw * inv;
  const tq = t * q2;
  const rem = mw - tq - productError(t, q2, tq);
  dv = (rem + mwErr) * inv + t;
  dk = kk;
  dOne = d * inv + 1;
}

export function backward(dy: number, x: number): number {
  if (x !== x) return x;
  derivativeParts(x);
  if (x >= 0) return dy * dOne;
  // vanish: finite dy gives a signed zero, an infinite dy keeps its infinity.
  if (x < C.lo) return -dy * 2 ** -1022 * 2 ** -1022 * 2 ** -1022;
  // scale_with: h = floor(k / 2)
  const h = roundInt((dk - 0.5) * 0.5);
  return dy * (dv * pow2(h)) * pow2(dk - h);
}

export function derivative(x: number): number {
  return backward(1, x);
}

export function secondDerivative(x: number): number {
  if (x !== x) return x;
  parts(x);
  let s = xd * (neg ? -2 : 2) + (neg ? 2 : 4);
  s = s * u + (xd * (neg ? -3 : 2) + (neg ? 6 : 8));
  s = s * u + (xd * (neg ? 2 : -3) + (neg ? 8 : 6));
  s = s * u + (xd * (neg ? 2 : -2) + (neg ? 4 : 2));
  const m = neg ? r : r * r;
  const kk = neg ? k : k + k;
  return scale(4 * m * (s / (q * q * q)), kk);
}

type F = Float32Array | Float64Array;

/** out[i] = fn(x[i]); out may be x. */
export function map1(fn: (x: number) => number, x: F, out: F): void {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = fn(x[i]);
}

/** out[i] = dy[i] * f'(x[i]); out may be x or dy. */
export function mapBackward(dy: F, x: F, out: F): void {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = backward(dy[i], x[i]);
}
