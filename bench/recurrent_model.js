// Writes a one-node LSTM or GRU model with seeded random weights, for timing the op alone:
//   node bench/recurrent_model.js LSTM 100 1 64 256 lstm.onnx   (op T B I H file)
//   supernova bench lstm.onnx --providers cpu            (oneDNN's RNN primitive)
//   supernova bench lstm.onnx --providers cpu_reference  (the reference kernel)
'use strict';
const fs = require('fs');
const onnx = require('./onnx_encode');

// TensorProto of float32 values: dims, data_type 1, name, raw_data (little-endian).
function floatTensor(name, dims, rng) {
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = Buffer.alloc(4 * n);
  for (let i = 0; i < n; ++i) raw.writeFloatLE(rng() - 0.5, 4 * i);
  const field = (f, payload) => {
    const len = [];
    let v = payload.length;
    do { len.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v);
    return Buffer.concat([Buffer.from([(f << 3) | 2, ...len]), payload]);
  };
  const packed = field(1, Buffer.concat(dims.map((d) => {
    const out = [];
    do { out.push((d & 0x7f) | (d > 0x7f ? 0x80 : 0)); d >>= 7; } while (d);
    return Buffer.from(out);
  })));
  return Buffer.concat([packed, Buffer.from([2 << 3, 1]), field(8, Buffer.from(name)),
    field(9, raw)]);
}

function main() {
  const [op, t, b, i, h, file] = process.argv.slice(2);
  const [T, B, I, H] = [t, b, i, h].map(Number);
  const g = op === 'LSTM' ? 4 : 3;
  let seed = 1;
  const rng = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const bytes = onnx.model({
    opset: 14,
    inputs: [onnx.value('x', 'float32', [T, B, I])],
    outputs: [onnx.value('y', 'float32', [T, 1, B, H])],
    nodes: [onnx.node(op, ['x', 'w', 'r', 'b'], ['y'], {hidden_size: H})],
    initializers: [floatTensor('w', [1, g * H, I], rng), floatTensor('r', [1, g * H, H], rng),
      floatTensor('b', [1, 2 * g * H], rng)],
  });
  fs.writeFileSync(file, bytes);
}

main();
