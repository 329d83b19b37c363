"""Derives the constants of the exp kernel used by native/mish_math.h and lib/math.ts.

exp(a) = 2^k * exp(s), k = round(a / ln2), s = a - k*ln2 (Cody-Waite: ln2 = hi + lo, where
hi has enough trailing zero bits that k*hi is exact for every |k| the kernels use), and
exp(s) = 1 + s + s^2 * P(s) on |s| <= ln2/2, P fitted by a Chebyshev approximation (mpmath's
chebyfit, near-minimax) of (exp(s) - 1 - s) / s^2, coefficients rounded to the dtype.

Run: python3 scripts/exp_constants.py  (prints the constants and the fit's measured error).
"""
import struct
from mpmath import mp, mpf, log, exp, chebyfit, linspace

mp.dps = 60
LN2 = log(2)


def f32(v):
    return struct.unpack('<f', struct.pack('<f', float(v)))[0]


def hexf(v, bits):
    return float(v).hex() if bits == 64 else float(f32(v)).hex()


def split_ln2(mant_bits, k_bits):
    """hi with (mant_bits - k_bits) significant bits, so k*hi is exact for |k| < 2^k_bits."""
    keep = mant_bits - k_bits
    scale = mpf(2) ** (keep - 0)  # ln2 in [0.5, 1): hi = round(ln2 * 2^keep) / 2^keep
    hi = mp.nint(LN2 * scale) / scale
    lo = LN2 - hi
    return hi, lo


def fit(degree, bits):
    h = LN2 / 2
    g = lambda s: (exp(s) - 1 - s) / s**2 if s != 0 else mpf(1) / 2
    coeffs, _ = chebyfit(g, [-h, h], degree + 1, error=True)
    coeffs = coeffs[::-1]  # ascending
    rnd = (lambda c: mpf(float(c))) if bits == 64 else (lambda c: mpf(f32(c)))
    cs = [rnd(c) for c in coeffs]
    worst = 0
    for s in linspace(-h, h, 4001):
        p = 0
        for c in reversed(cs):
            p = p * s + c
        approx = 1 + s + s * s * p
        worst = max(worst, abs(approx / exp(s) - 1))
    return cs, worst


for name, bits, mant, kbits, deg in (('float32', 32, 24, 9, 4), ('float64', 64, 53, 12, 9)):
    hi, lo = split_ln2(mant, kbits)
    rnd = (lambda c: mpf(f32(c))) if bits == 32 else (lambda c: mpf(float(c)))
    print(f'== {name}')
    print(f'  log2e  = {hexf(1 / LN2, bits)}')
    print(f'  ln2_hi = {hexf(hi, bits)}  (exact: {rnd(hi) == hi})')
    print(f'  ln2_lo = {hexf(lo, bits)}')
    cs, worst = fit(deg, bits)
    for i, c in enumerate(cs):
        print(f'  p{i} = {hexf(c, bits)}   ({float(c)!r})')
    print(f'  max relative error of 1 + s + s^2 P(s): {float(worst):.3e} '
          f'= {float(worst / mpf(2) ** (-(mant - 1))):.4f} ulp(1)')
