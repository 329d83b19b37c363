// The pure-TypeScript path must use the header's constants: one source of truth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { C } from '../lib/math';

function parseHexFloat(s: string): number {
  const m = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(s.trim());
  if (!m) throw new Error(`not a hex float: ${s}`);
  const frac = m[3] ?? '';
  const mant = parseInt(m[2] + frac, 16);
  const v = mant * 2 ** (Number(m[4]) - 4 * frac.length);
  return m[1] ? -v : v;
}

it('lib/math.ts uses the constants of Consts<double> in native/mish_math.h', () => {
  const header = readFileSync(join(__dirname, '..', 'native', 'mish_math.h'), 'utf8');
  const block = header.slice(header.indexOf('struct Consts<double>'));
  const scalar = (name: string) => {
    const m = new RegExp(`${name} = ([^;]+);`).exec(block);
    if (!m) throw new Error(`${name} not found`);
    return m[1].includes('0x') ? parseHexFloat(m[1]) : Number(m[1]);
  };
  expect(C.lo).toBe(scalar('lo'));
  expect(C.hi).toBe(scalar('hi'));
  expect(C.dhi).toBe(scalar('dhi'));
  expect(C.emin).toBe(scalar('emin'));
  expect(C.roundMagic).toBe(scalar('round_magic'));
  expect(C.log2e).toBe(scalar('log2e'));
  expect(C.ln2Hi).toBe(scalar('ln2_hi'));
  expect(C.ln2Lo).toBe(scalar('ln2_lo'));
  const poly = /poly\[\] = \{([^}]+)\}/.exec(block)![1].split(',').map(parseHexFloat);
  expect([...C.poly]).toEqual(poly);
});
