// A tiny network trained in plain Node with mish-native: one hidden layer of 32 Mish units
// fits y = sin(x) on [-3, 3] by full-batch gradient descent. Run: node examples/plain-node.js
'use strict';
const { mish, mishBackward, info } = require('..');

const N = 256; // samples
const H = 32; // hidden units

let seed = 7;
function rand() {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296 - 0.5;
}

const xs = Float32Array.from({ length: N }, (_, i) => -3 + (6 * i) / (N - 1));
const ys = xs.map(Math.sin);
const w1 = Float32Array.from({ length: H }, () => rand() * 2);
const b1 = Float32Array.from({ length: H }, () => rand());
const w2 = Float32Array.from({ length: H }, () => rand() / 4);
let b2 = 0;

const z = new Float32Array(N * H); // pre-activations, sample-major
const a = new Float32Array(N * H); // activations
const dz = new Float32Array(N * H);

function train(steps, lr) {
  let loss = 0;
  for (let step = 0; step <= steps; step++) {
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) z[n * H + h] = w1[h] * xs[n] + b1[h];
    }
    mish(z, a); // the whole layer in one call

    const dOut = new Float32Array(N);
    loss = 0;
    for (let n = 0; n < N; n++) {
      let y = b2;
      for (let h = 0; h < H; h++) y += w2[h] * a[n * H + h];
      const e = y - ys[n];
      loss += (e * e) / N;
      dOut[n] = (2 * e) / N;
    }

    const gw2 = new Float32Array(H);
    let gb2 = 0;
    for (let n = 0; n < N; n++) {
      gb2 += dOut[n];
      for (let h = 0; h < H; h++) {
        gw2[h] += dOut[n] * a[n * H + h];
        dz[n * H + h] = dOut[n] * w2[h]; // gradient w.r.t. the activation...
      }
    }
    mishBackward(dz, z, dz); // ...turned into the gradient w.r.t. z, in place

    const gw1 = new Float32Array(H);
    const gb1 = new Float32Array(H);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        gw1[h] += dz[n * H + h] * xs[n];
        gb1[h] += dz[n * H + h];
      }
    }
    for (let h = 0; h < H; h++) {
      w1[h] -= lr * gw1[h];
      b1[h] -= lr * gb1[h];
      w2[h] -= lr * gw2[h];
    }
    b2 -= lr * gb2;
    if (step % 500 === 0) console.log(`step ${String(step).padStart(4)}  mse ${loss.toFixed(5)}`);
  }
  return loss;
}

console.log(
  `mish-native ${info().version}, backend ${info().backend} (${info().isa ?? 'TypeScript'})`,
);
const final = train(3000, 0.05);
console.log(final < 0.01 ? 'fitted sin(x)' : 'did not converge');
module.exports = { final };
