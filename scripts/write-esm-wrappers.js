// Writes dist/<entry>.mjs: ES-module entry points that re-export the CommonJS build, so
// `import { mish } from 'mish-native'` and `require('mish-native')` share one instance.
'use strict';
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist');
for (const entry of ['index', 'tfjs']) {
  const cjs = path.join(dist, `${entry}.js`);
  if (!fs.existsSync(cjs)) continue;
  const names = Object.keys(require(cjs)).filter((n) => n !== 'default' && n !== '__esModule');
  const lines = [
    `import cjs from './${entry}.js';`,
    ...names.map((n) => `export const ${n} = cjs.${n};`),
    'export default cjs;',
    '',
  ];
  fs.writeFileSync(path.join(dist, `${entry}.mjs`), lines.join('\n'));
}
