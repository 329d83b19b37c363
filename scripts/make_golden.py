#!/usr/bin/env python3
"""Independent high-precision reference ("golden") data for Mish and its first two derivatives.

    f(x)   = x * tanh(ln(1 + e^x))
    f'(x)  = g + x*s*(1 - g^2)
    f''(x) = (1 - g^2) * s * (2 + x*((1 - s) - 2*g*s))

with e = exp(x), g = tanh(log1p(e)), s = e/(1+e) (the logistic sigmoid).

Run:  python3 scripts/make_golden.py
Writes test/golden/mish-float32.json and test/golden/mish-float64.json (deterministic: same
bytes on every run). Needs only mpmath.

How the values are obtained
---------------------------
* Everything is evaluated in mpmath's interval arithmetic (mpmath.iv) on the exact input, using
  rational forms of the hyperbolic pieces that contain no cancellation:
      A = e*(e + 2)            (= (1+e)^2 - 1, never formed by subtraction)
      g = A / (A + 2)          (= tanh(log1p(e)))
      1 - g^2 = 4*(A + 1) / (A + 2)^2
      s = e / (1 + e),  1 - s = 1 / (1 + e)
  The remaining cancellations (f' near its zero, f'' near its zeros) only widen the interval;
  they can never make it wrong.  mpmath numbers have unbounded exponents, so e = exp(3e38) or
  exp(-1e308) are ordinary numbers here; no asymptotic shortcut is used anywhere.
* Correct rounding (Ziv's strategy, but with rigorous enclosures): the interval is computed at
  270 bits (~80 digits) and both of its endpoints are rounded to the target format with the
  exact integer rounding below.  If the endpoints round differently, or if err = exact - round
  is not yet determined to the nearest double, the precision is doubled (up to 4320 bits).
  Because the enclosure is rigorous, equal rounding of both endpoints proves the rounded value.
  Only when err is far below anything observable (|err| < 2^-100 ulp, i.e. results like
  f(3e38) whose distance to the rounded value is ~e^(-6e38)) is err taken from the enclosure at
  the precision cap; it is then 0 or off by less than 2^-100 ulp.
* Rounding (function `round_ratio`): round-half-to-even on the exact binary value, gradual
  underflow to subnormals, overflow to +-inf at >= 2^(emax+1)*(1 - 2^-(p+1)), sign kept on zero.
* Self-checks: f' and f'' are compared at a few dozen points with mpmath.diff of f at higher
  precision; every float32/float64 row of /work/shared/cases/edge-inputs.json is compared with
  our correctly rounded f and f' (the script exits non-zero on any disagreement).
"""
import json
import math
import os
import random
import struct
import sys
from fractions import Fraction

import mpmath
from mpmath import mp, mpf, iv, libmp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_DIR = os.path.join(ROOT, 'test', 'golden')
EDGE_FILE = '/work/shared/cases/edge-inputs.json'

START_BITS = 270          # ~80 decimal digits
MAX_BITS = 4320
DPS = 80
SEED = 0x6D697368         # 'mish'
NEIGHBOUR_STEPS = 16


# --------------------------------------------------------------------------------------------
# Formats and exact rounding
# --------------------------------------------------------------------------------------------
class Fmt:
    def __init__(self, name, p, emin, emax, width):
        self.name = name
        self.p = p                    # significand bits, including the hidden one
        self.emin = emin              # exponent of the smallest normal
        self.emax = emax              # exponent of the largest finite
        self.width = width            # total bits
        self.bias = emax
        self.qmin = emin - (p - 1)    # exponent of the smallest subnormal
        self.frac_bits = p - 1
        self.exp_mask = (1 << (width - p)) - 1
        self.sign_bit = 1 << (width - 1)
        self.inf_bits = self.exp_mask << self.frac_bits
        self.qnan_bits = self.inf_bits | (1 << (self.frac_bits - 1))
        self.hexdigits = width // 4


F32 = Fmt('float32', 24, -126, 127, 32)
F64 = Fmt('float64', 53, -1022, 1023, 64)


class Rounded:
    """A value of a format: bits, plus (k, q) with value = (-1)^neg * k * 2^q when finite."""
    __slots__ = ('bits', 'neg', 'k', 'q', 'kind')

    def __init__(self, bits, neg, k, q, kind):
        self.bits, self.neg, self.k, self.q, self.kind = bits, neg, k, q, kind


def _encode(fmt, neg, k, q):
    """k * 2^q with k < 2^p (or k == 2^p), q >= qmin, not overflowing -> Rounded."""
    sign = fmt.sign_bit if neg else 0
    if k == 0:
        return Rounded(sign, neg, 0, 0, 'zero')
    if k >> fmt.p:                      # k == 2^p after rounding up
        k >>= 1
        q += 1
    if k.bit_length() - 1 + q > fmt.emax:
        return Rounded(sign | fmt.inf_bits, neg, None, None, 'inf')
    if k < (1 << (fmt.p - 1)):          # subnormal
        assert q == fmt.qmin
        return Rounded(sign | k, neg, k, q, 'finite')
    biased = q + fmt.frac_bits + fmt.bias
    assert 1 <= biased < fmt.exp_mask
    return Rounded(sign | (biased << fmt.frac_bits) | (k - (1 << fmt.frac_bits)), neg, k, q, 'finite')


def round_ratio(neg, n, d, fmt):
    """Correctly round (-1)^neg * n/d (n >= 0, d > 0 integers) to fmt, ties to even."""
    if n == 0:
        return _encode(fmt, neg, 0, 0)
    e = n.bit_length() - d.bit_length()           # 2^e <= n/d < 2^(e+1) after the fix-up
    if (n < (d << e)) if e >= 0 else ((n << -e) < d):
        e -= 1
    if e > fmt.emax + 1:
        return Rounded((fmt.sign_bit if neg else 0) | fmt.inf_bits, neg, None, None, 'inf')
    if e < fmt.qmin - 2:                          # below half the smallest subnormal
        return _encode(fmt, neg, 0, 0)
    q = max(e - (fmt.p - 1), fmt.qmin)
    if q >= 0:
        num, den = n, d << q
    else:
        num, den = n << -q, d
    k, rem = divmod(num, den)
    if 2 * rem > den or (2 * rem == den and (k & 1)):
        k += 1
    return _encode(fmt, neg, k, q)


def round_raw(raw, fmt, zero_neg=False):
    """Round an mpmath raw mpf tuple (sign, man, exp, bc) to fmt."""
    if raw == libmp.fzero:
        return _encode(fmt, zero_neg, 0, 0)
    if raw == libmp.fnan:
        return Rounded(fmt.qnan_bits, False, None, None, 'nan')
    if raw in (libmp.finf, libmp.fninf):
        neg = raw == libmp.fninf
        return Rounded((fmt.sign_bit if neg else 0) | fmt.inf_bits, neg, None, None, 'inf')
    sign, man, exp, bc = raw
    top = exp + bc - 1                            # 2^top <= |v| < 2^(top+1)
    if top > fmt.emax + 1:
        return Rounded((fmt.sign_bit if sign else 0) | fmt.inf_bits, bool(sign), None, None, 'inf')
    if top < fmt.qmin - 2:
        return _encode(fmt, bool(sign), 0, 0)
    if exp >= 0:
        return round_ratio(bool(sign), man << exp, 1, fmt)
    return round_ratio(bool(sign), man, 1 << -exp, fmt)


def rounded_raw(r):
    """Exact mpmath raw value of a finite Rounded (zero -> fzero)."""
    if r.kind == 'zero':
        return libmp.fzero
    return libmp.from_man_exp(-r.k if r.neg else r.k, r.q)


def ulp_raw(r, fmt):
    """Spacing 2^q of the format at a finite Rounded (min subnormal for zero)."""
    if r.kind == 'zero':
        return libmp.from_man_exp(1, fmt.qmin)
    # after _encode, k has p bits for normals, fewer for subnormals (q == qmin)
    return libmp.from_man_exp(1, r.q)


def bits_to_float(bits, fmt):
    if fmt is F32:
        return struct.unpack('<f', struct.pack('<I', bits))[0]
    return struct.unpack('<d', struct.pack('<Q', bits))[0]


def float_to_bits(v, fmt):
    """Bits of a Python float that is exactly representable in fmt."""
    if fmt is F32:
        b = struct.unpack('<I', struct.pack('<f', v))[0]
        assert v != v or bits_to_float(b, fmt) == v, v
        return b
    return struct.unpack('<Q', struct.pack('<d', v))[0]


def is_nan_bits(bits, fmt):
    return (bits >> fmt.frac_bits) & fmt.exp_mask == fmt.exp_mask and bits & ((1 << fmt.frac_bits) - 1)


def is_finite_bits(bits, fmt):
    return (bits >> fmt.frac_bits) & fmt.exp_mask != fmt.exp_mask


def parse_in(s, fmt):
    """Correctly rounded parse of a decimal string (or Infinity/-Infinity/NaN/-0) into fmt bits."""
    t = s.strip()
    neg = t.startswith('-')
    body = t[1:] if t[0] in '+-' else t
    if body.lower() in ('inf', 'infinity'):
        return (fmt.sign_bit if neg else 0) | fmt.inf_bits
    if body.lower() == 'nan':
        return fmt.qnan_bits
    fr = Fraction(body)
    return round_ratio(neg, fr.numerator, fr.denominator, fmt).bits


def round_mpf(v, fmt):
    return round_raw(v._mpf_, fmt, zero_neg=False).bits


# ordered integer <-> bits (for "n representable steps"); -0 and +0 share ordinal 0
def to_ordinal(bits, fmt):
    return -(bits & ~fmt.sign_bit) if bits & fmt.sign_bit else bits


def from_ordinal(o, fmt):
    return (fmt.sign_bit | -o) if o < 0 else o


def float64_of_raw(raw):
    """Correctly rounded Python float of an mpmath raw value (own rounding, subnormals incl.)."""
    r = round_raw(raw, F64)
    return bits_to_float(r.bits, F64)


# --------------------------------------------------------------------------------------------
# Mish in interval arithmetic
# --------------------------------------------------------------------------------------------
def mish_intervals(xraw):
    """Rigorous enclosures of f, f', f'' at the exact point x at the current iv.prec."""
    X = iv.mpf(mp.make_mpf(xraw))
    assert X.a == X.b, 'input not exact at this precision'
    E = iv.exp(X)
    one_e = 1 + E
    A = E * (E + 2)
    g = A / (A + 2)
    omg2 = 4 * (A + 1) / ((A + 2) ** 2)     # 1 - g^2
    s = E / one_e
    oms = 1 / one_e                         # 1 - s
    f = X * g
    d1 = g + X * s * omg2
    d2 = omg2 * s * (2 + X * (oms - 2 * g * s))
    return [f, d1, d2]


def _err_ok(lo_raw, hi_raw, r, fmt):
    """Is err = exact - r pinned down to one double?  Returns (ok, err_float, tiny_ok)."""
    rr = rounded_raw(r)
    elo = libmp.mpf_sub(lo_raw, rr, 0)
    ehi = libmp.mpf_sub(hi_raw, rr, 0)
    blo = round_raw(elo, F64).bits
    bhi = round_raw(ehi, F64).bits
    # treat +0/-0 alike
    zero = {0, F64.sign_bit}
    same = blo == bhi or (blo in zero and bhi in zero)
    if same:
        v = bits_to_float(bhi, F64)
        return True, (0.0 if v == 0 else v), True
    # width relative to ulp(r)
    width = libmp.mpf_sub(hi_raw, lo_raw, 64)
    u = ulp_raw(r, fmt)
    tiny = libmp.mpf_le(width, libmp.mpf_shift(u, -100))
    contains_zero = libmp.mpf_le(elo, libmp.fzero) and libmp.mpf_ge(ehi, libmp.fzero)
    if contains_zero:
        v = 0.0
    else:
        mid = libmp.mpf_shift(libmp.mpf_add(elo, ehi, 0), -1)
        v = float64_of_raw(mid)
        v = 0.0 if v == 0 else v
    return False, v, tiny


def evaluate_point(xbits, fmt, stats):
    """Correctly rounded (bits, err) for f, f', f'' at the input given by its bits."""
    xv = bits_to_float(xbits, fmt)
    if xv != xv:
        q = fmt.qnan_bits
        return [(q, 0.0), (q, 0.0), (q, 0.0)]
    negz = fmt.sign_bit
    if xv == float('inf'):
        return [(fmt.inf_bits, 0.0), (round_mpf(mpf(1), fmt), 0.0), (negz, 0.0)]
    if xv == float('-inf'):
        return [(negz, 0.0), (negz, 0.0), (negz, 0.0)]      # all three -> 0 from below
    xraw = mpf(xv)._mpf_                    # exact (xv is a binary float)
    results = [None, None, None]
    fallback = [None, None, None]
    bits = START_BITS
    while True:
        iv.prec = bits
        encl = mish_intervals(xraw)
        for i, I in enumerate(encl):
            if results[i] is not None:
                continue
            lo_raw, hi_raw = I._mpi_
            if i == 0 and xv == 0:          # f(+-0) = +-0 exactly
                results[i] = ((negz if math.copysign(1.0, xv) < 0 else 0), 0.0)
                continue
            rlo = round_raw(lo_raw, fmt)
            rhi = round_raw(hi_raw, fmt)
            if rlo.bits != rhi.bits:
                continue
            r = rhi
            if r.kind != 'finite' and r.kind != 'zero':
                results[i] = (r.bits, 0.0)
                continue
            ok, err, tiny = _err_ok(lo_raw, hi_raw, r, fmt)
            if ok:
                results[i] = (r.bits, err)
            elif tiny:
                fallback[i] = (r.bits, err)
        if all(v is not None for v in results):
            break
        if bits >= MAX_BITS:
            for i in range(3):
                if results[i] is None:
                    if fallback[i] is None:
                        raise RuntimeError('cannot round f%s at x=%r (%s) even at %d bits'
                                           % ("'" * i, xv, fmt.name, bits))
                    results[i] = fallback[i]
                    stats['err_capped'] += 1
            break
        bits *= 2
    stats['max_bits'] = max(stats['max_bits'], bits)
    stats['bits_hist'][bits] = stats['bits_hist'].get(bits, 0) + 1
    return results


# --------------------------------------------------------------------------------------------
# Plain mp versions (for roots and the mpmath.diff self-check)
# --------------------------------------------------------------------------------------------
def mp_f(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


def mp_parts(x):
    e = mp.exp(x)
    A = e * (e + 2)
    g = A / (A + 2)
    omg2 = 4 * (A + 1) / (A + 2) ** 2
    s = e / (1 + e)
    oms = 1 / (1 + e)
    return g, omg2, s, oms


def mp_d1(x):
    g, omg2, s, _ = mp_parts(x)
    return g + x * s * omg2


def mp_d2(x):
    g, omg2, s, oms = mp_parts(x)
    return omg2 * s * (2 + x * (oms - 2 * g * s))


def find_roots():
    with mp.workdps(DPS):
        r1 = mp.findroot(mp_d1, mpf('-1.19243'))
        r2a = mp.findroot(mp_d2, mpf('-2.2'))
        r2b = mp.findroot(mp_d2, mpf('1.5'))
        for r, fn in ((r1, mp_d1), (r2a, mp_d2), (r2b, mp_d2)):
            assert abs(fn(r)) < mpf(10) ** (-DPS + 5), (r, fn(r))
    return r1, r2a, r2b


def self_check_diff(fmt_points):
    """Compare f', f'' (our interval midpoints at 540 bits) with mpmath.diff at 150 digits."""
    worst = [mpf(0), mpf(0)]
    for xv in fmt_points:
        iv.prec = 540
        _, I1, I2 = mish_intervals(mpf(xv)._mpf_)
        with mp.workdps(150):
            x = mpf(xv)
            n1 = mp.diff(mp_f, x, 1)
            n2 = mp.diff(mp_f, x, 2)
            g, omg2, s, oms = mp_parts(x)
            # magnitude of the terms each formula is built from (for a cancellation-aware scale)
            sc1 = abs(g) + abs(x * s * omg2)
            sc2 = abs(omg2 * s) * (2 + abs(x) * (abs(oms) + abs(2 * g * s)))
            for k, (I, n, sc) in enumerate(((I1, n1, sc1), (I2, n2, sc2))):
                m = (mpf(I.a) + mpf(I.b)) / 2
                rel = abs(m - n) / sc
                worst[k] = max(worst[k], rel)
                if not rel < mpf(10) ** -60:
                    raise AssertionError('self-check failed: f%s(%r): ours %s, mpmath.diff %s'
                                         % ("'" * (k + 1), xv, mp.nstr(m, 40), mp.nstr(n, 40)))
    return worst


# --------------------------------------------------------------------------------------------
# Input sets
# --------------------------------------------------------------------------------------------
def specials(fmt):
    s = fmt.sign_bit
    pts = [0, s, fmt.inf_bits, s | fmt.inf_bits, fmt.qnan_bits]
    max_sub = (1 << fmt.frac_bits) - 1
    min_norm = 1 << fmt.frac_bits
    max_fin = fmt.inf_bits - 1
    for b in (1, max_sub, min_norm, max_fin):
        pts += [b, s | b]
    return pts


def neighbours(bits, fmt, n=NEIGHBOUR_STEPS):
    o = to_ordinal(bits, fmt)
    lim = fmt.inf_bits
    out = []
    for k in range(-n, n + 1):
        oo = o + k
        if -lim <= oo <= lim:
            out.append(from_ordinal(oo, fmt))
    if bits in (0, fmt.sign_bit):
        out += [0, fmt.sign_bit]
    return out


def decimal_points_f32():
    return ['0', '1', '-1', '-1.19243', '8.7065', '10.144', '88.72284', '44.36142', '29.57428',
            '-88.72284', '-87.33655', '-103.97208', '-91.86', '-16.6', '-36.7', '-87.3', '-108.0',
            '-115.0', '60.0', '20.0', '-20.0', '5.0', '-5.0', '-0.6']


def decimal_points_f64():
    return ['0', '1', '-1', '-1.19243', '18.7955', '20.561', '709.782712893384',
            '354.891356446692', '236.594237631128', '-709.782712893384', '-708.396418532264',
            '-745.133219101941', '-715.0', '-751.5', '-760.0', '400.0', '360.0', '-36.7', '-16.6',
            '-20', '20', '-5', '5', '-0.6']


def grid(fmt, lo, hi, n):
    out = []
    for i in range(n):
        fr = Fraction(lo) + Fraction(hi - lo) * i / (n - 1)
        out.append(round_ratio(fr < 0, abs(fr.numerator), fr.denominator, fmt).bits)
    return out


def logspaced(fmt, lo, hi, n):
    out = []
    with mp.workdps(DPS):
        a, b = mp.log10(mpf(lo)), mp.log10(mpf(hi))
        for i in range(n):
            v = mpf(10) ** (a + (b - a) * i / (n - 1))
            r = round_mpf(v, fmt)
            out += [r, r | fmt.sign_bit]
    return out


def random_finite(fmt, n, seed):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        b = rng.getrandbits(fmt.width)
        if is_finite_bits(b, fmt):
            out.append(b)
    return out


def load_edge_rows():
    with open(EDGE_FILE) as fh:
        return json.load(fh)


def build_inputs(fmt, roots, edge_rows):
    groups = {}
    groups['specials'] = specials(fmt)
    centres = list(groups['specials'][5:])          # finite non-zero specials get neighbours too
    decs = decimal_points_f32() if fmt is F32 else decimal_points_f64()
    for d in decs:
        centres.append(parse_in(d, fmt))
    for r in roots:
        centres.append(round_mpf(r, fmt))
    nb = []
    for c in centres:
        nb += neighbours(c, fmt)
    nb += neighbours(0, fmt)
    groups['neighbourhoods'] = nb
    if fmt is F32:
        groups['grid'] = grid(fmt, -20, 20, 3000)
        groups['logspaced'] = logspaced(fmt, '1e-45', '3e38', 1500)
    else:
        groups['grid'] = grid(fmt, -40, 40, 3000)
        groups['logspaced'] = logspaced(fmt, '1e-320', '1e308', 1500)
    groups['random'] = random_finite(fmt, 2000, SEED + fmt.width)
    groups['edge'] = [parse_in(r['input'], fmt) for r in edge_rows if r['dtype'] == fmt.name]
    seen = set()
    allbits = []
    for name in ('specials', 'neighbourhoods', 'grid', 'logspaced', 'random', 'edge'):
        for b in groups[name]:
            if is_nan_bits(b, fmt):
                b = fmt.qnan_bits
            if b not in seen:
                seen.add(b)
                allbits.append(b)

    def key(b):
        if is_nan_bits(b, fmt):
            return (1, 0, 0)
        return (0, to_ordinal(b, fmt), 1 if b == 0 else 0)   # -0 before +0
    allbits.sort(key=key)
    counts = {k: len(set(v)) for k, v in groups.items()}
    return allbits, counts


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
def fmt_err(v):
    if v == 0:
        return '0'
    return repr(v)


def write_json(path, fmt, xs, res, extra):
    hx = '%0' + str(fmt.hexdigits) + 'x'

    def arr_hex(vals):
        return '[' + ','.join('"' + (hx % v) + '"' for v in vals) + ']'

    def arr_num(vals):
        return '[' + ','.join(fmt_err(v) for v in vals) + ']'

    lines = ['{',
             '"dtype": %s,' % json.dumps(fmt.name),
             '"generator": "scripts/make_golden.py",',
             '"dps": %d,' % DPS,
             '"count": %d,' % len(xs),
             '"x": %s,' % arr_hex(xs)]
    names = ('forward', 'derivative', 'second')
    for i, name in enumerate(names):
        lines.append('"%s": {' % name)
        lines.append('"round": %s,' % arr_hex([r[i][0] for r in res]))
        lines.append('"err": %s' % arr_num([r[i][1] for r in res]))
        lines.append('},')
    lines.append('"extra": %s' % json.dumps(extra, sort_keys=True))
    lines.append('}')
    text = '\n'.join(lines) + '\n'
    json.loads(text)   # validity
    with open(path, 'w') as fh:
        fh.write(text)
    return len(text.encode())


# --------------------------------------------------------------------------------------------
# Edge-inputs cross-check
# --------------------------------------------------------------------------------------------
def is_numeric(s):
    try:
        Fraction(s.strip())
        return True
    except (ValueError, ZeroDivisionError):
        return False


def cross_check_edge(fmt, xs, res, edge_rows):
    index = {b: i for i, b in enumerate(xs)}
    problems = []
    notes = []
    n = 0
    n_mp = 0
    for row in edge_rows:
        if row['dtype'] != fmt.name:
            continue
        n += 1
        xb = parse_in(row['input'], fmt)
        if is_nan_bits(xb, fmt):
            xb = fmt.qnan_bits
        i = index[xb]
        for j, (key, mpkey) in enumerate((('expected_forward', 'mp50_forward'),
                                          ('expected_grad', 'mp50_grad'))):
            want = parse_in(row[key], fmt)
            got = res[i][j][0]
            same = want == got or (is_nan_bits(want, fmt) and is_nan_bits(got, fmt))
            if not same:
                problems.append('%s %s input=%s %s: file says %s (%s), correctly rounded is %s (%r)'
                                % (fmt.name, row['kind'], row['input'], key, row[key],
                                   hx_of(want, fmt), hx_of(got, fmt), bits_to_float(got, fmt)))
            # the ~50-digit values, where they are numbers
            mpv = row[mpkey]
            if is_numeric(mpv) and is_finite_bits(xb, fmt):
                with mp.workdps(60):
                    iv.prec = 540
                    I = mish_intervals(mpf(bits_to_float(xb, fmt))._mpf_)[j]
                    exact = (mpf(I.a) + mpf(I.b)) / 2
                    ref = mpf(mpv.strip())
                    digits = len(mpv.strip().lstrip('-').replace('.', '').lstrip('0').split('e')[0].split('E')[0])
                    tol = abs(exact) * mpf(10) ** (-min(digits, 45) + 1) if exact != 0 else mpf(10) ** -45
                    n_mp += 1
                    if abs(exact - ref) > tol:
                        notes.append('%s %s input=%s %s: file %s vs ours %s'
                                     % (fmt.name, row['kind'], row['input'], mpkey, mpv,
                                        mp.nstr(exact, 30)))
    return n, n_mp, problems, notes


def hx_of(b, fmt):
    return ('%0' + str(fmt.hexdigits) + 'x') % b


# --------------------------------------------------------------------------------------------
def main():
    mp.dps = DPS
    t_roots = find_roots()
    print('f\' zero: %s' % mp.nstr(t_roots[0], 30))
    print('f\'\' zeros: %s, %s' % (mp.nstr(t_roots[1], 30), mp.nstr(t_roots[2], 30)))

    # --- unit checks of the rounding itself -------------------------------------------------
    for v in (1.0, -2.5, 1e-40, 3.4028234663852886e38, 5e-324, 2.2250738585072014e-308, 1e-45):
        fr = Fraction(v)
        if abs(v) < 3.5e38 and struct.unpack('<f', struct.pack('<f', v))[0] == v:
            assert round_ratio(v < 0, abs(fr.numerator), fr.denominator, F32).bits == float_to_bits(v, F32)
        assert round_ratio(v < 0, abs(fr.numerator), fr.denominator, F64).bits == float_to_bits(v, F64)
    # ties to even at the subnormal boundary, overflow threshold, signed zero
    assert round_ratio(False, 1, 1 << 150, F32).bits == 0                    # 2^-150 -> 0 (tie, even)
    assert round_ratio(True, 1, 1 << 150, F32).bits == 0x80000000           # -2^-150 -> -0
    assert round_ratio(False, 3, 1 << 151, F32).bits == 1                    # 0.75*2^-149 -> 2^-149
    assert round_ratio(False, 3, 1 << 150, F32).bits == 2                    # 1.5*2^-149 -> 2*2^-149 (even)
    assert round_ratio(False, 5, 1 << 150, F32).bits == 2                    # 2.5*2^-149 -> 2*2^-149 (even)
    thr = (Fraction(2) ** 128) * (1 - Fraction(1, 2 ** 25))
    assert round_ratio(False, thr.numerator, thr.denominator, F32).bits == F32.inf_bits
    thr2 = thr - Fraction(1, 2 ** 200)
    assert round_ratio(False, thr2.numerator, thr2.denominator, F32).bits == 0x7f7fffff
    thr64 = (Fraction(2) ** 1024) * (1 - Fraction(1, 2 ** 54))
    assert round_ratio(True, thr64.numerator, thr64.denominator, F64).bits == F64.sign_bit | F64.inf_bits
    assert round_ratio(False, (thr64 - 1).numerator, (thr64 - 1).denominator, F64).bits == 0x7fefffffffffffff
    assert round_ratio(False, 1, 1 << 1075, F64).bits == 0
    assert round_ratio(False, (1 << 200) + 1, 1 << 1275, F64).bits == 1
    # cross-check the rounder against Python's own float conversion on random rationals
    rng = random.Random(SEED)
    for _ in range(20000):
        num = rng.getrandbits(rng.randint(1, 200)) + 1
        den = rng.getrandbits(rng.randint(1, 200)) + 1
        sh = rng.randint(-1150, 1100)
        if sh >= 0:
            num <<= sh
        else:
            den <<= -sh
        try:
            pv = num / den                      # CPython: correctly rounded int/int division
        except OverflowError:
            pv = float('inf')
        assert round_ratio(False, num, den, F64).bits == float_to_bits(pv, F64), (num, den)
        if abs(pv) < 1e38 and pv != 0:
            # float32 check via double: only valid when the double rounding is innocuous,
            # i.e. the double is not exactly a float32 midpoint (compare with exact rounding)
            r32 = round_ratio(False, num, den, F32)
            v32 = bits_to_float(r32.bits, F32)
            assert abs(Fraction(v32) - Fraction(num, den)) <= abs(Fraction(bits_to_float(r32.bits + 1, F32)) - Fraction(num, den))
            if r32.bits > 0:
                assert abs(Fraction(v32) - Fraction(num, den)) <= abs(Fraction(bits_to_float(r32.bits - 1, F32)) - Fraction(num, den))
    print('rounding unit checks: ok')

    # --- mpmath.diff self-check -------------------------------------------------------------
    pts = [-700.0, -100.0, -40.0, -20.0, -10.0, -5.0, -3.0, -2.5, -2.2, -2.0, -1.5, -1.2, -1.0,
           -0.6, -0.25, -1e-3, -1e-30, 0.0, 1e-30, 1e-3, 0.25, 0.6, 1.0, 1.5, 2.0, 3.0, 5.0, 8.7,
           10.0, 20.0, 30.0, 50.0]
    pts += [float(mpf(r)) for r in t_roots]
    worst = self_check_diff(pts)
    print('mpmath.diff self-check at %d points: max scaled deviation f\' %s, f\'\' %s'
          % (len(pts), mp.nstr(worst[0], 3), mp.nstr(worst[1], 3)))

    # --- huge arguments really work ---------------------------------------------------------
    for xv in (3e38, -3e38, 1.7976931348623157e308, -1.7976931348623157e308, -700.0, -745.0):
        iv.prec = START_BITS
        I = mish_intervals(mpf(xv)._mpf_)
        print('  x=%r: f in [%s, %s]' % (xv, mpmath.nstr(mpf(I[0].a), 12), mpmath.nstr(mpf(I[0].b), 12)))
        if xv > 0:
            assert mpf(I[0].a) <= xv and mpf(I[0].b) >= mpf(xv) * (1 - mpf(2) ** -200)
        else:
            assert mpf(I[0].b) < 0

    os.makedirs(OUT_DIR, exist_ok=True)
    edge_rows = load_edge_rows()
    failures = []
    for fmt in (F32, F64):
        xs, counts = build_inputs(fmt, t_roots, edge_rows)
        stats = {'max_bits': 0, 'bits_hist': {}, 'err_capped': 0}
        res = [evaluate_point(b, fmt, stats) for b in xs]
        n_edge, n_mp, problems, notes = cross_check_edge(fmt, xs, res, edge_rows)
        extra = {
            'note': 'inputs sorted ascending (-0 before +0, NaN last); err = exact - round as the '
                    'nearest double (0 for non-finite results; accurate to 2^-100 ulp where the '
                    'distance is astronomically small). Enclosures from mpmath interval arithmetic, '
                    'precision doubled from start_bits until the rounding is proven.',
            'start_bits': START_BITS,
            'max_bits_used': stats['max_bits'],
            'group_sizes_before_dedup': counts,
            'seed': SEED + fmt.width,
            'fprime_zero': mp.nstr(t_roots[0], 40),
            'fsecond_zeros': [mp.nstr(t_roots[1], 40), mp.nstr(t_roots[2], 40)],
            'mpmath_version': mpmath.__version__,
        }
        path = os.path.join(OUT_DIR, 'mish-%s.json' % fmt.name)
        size = write_json(path, fmt, xs, res, extra)
        print('%s: %d inputs %s -> %s (%d bytes); precision used %s; err capped %d'
              % (fmt.name, len(xs), counts, os.path.relpath(path, ROOT), size,
                 dict(sorted(stats['bits_hist'].items())), stats['err_capped']))
        print('%s: edge-inputs rows checked: %d (forward+grad bit-exact), disagreements: %d; '
              'numeric mp50 values compared: %d, disagreements: %d'
              % (fmt.name, n_edge, len(problems), n_mp, len(notes)))
        for p in problems:
            print('  EDGE MISMATCH: ' + p)
        for nte in notes:
            print('  edge mp50 note: ' + nte)
        failures += problems
        assert size < 2_600_000, 'file too large'
    if failures:
        print('\n*** %d disagreement(s) with %s (files were written; see above) ***'
              % (len(failures), EDGE_FILE), file=sys.stderr)
        sys.exit(1)
    print('all checks passed')


if __name__ == '__main__':
    main()
