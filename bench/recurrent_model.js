// Writes a one-node LSTM or GRU model with seeded random weights, for timing the op alone:
//   node bench/recurrent_model.js LSTM 1 64 256 lstm.onnx   (op batch input_size hidden file)
//   supernova bench lstm.onnx --batch 100 --providers cpu            (oneDNN's RNN primitive)
//   supernova bench lstm.onnx --batch 100 --providers cpu_reference  (the reference kernel)
// seq_length is the model's dynamic first dim, which `--batch` sets.
'use strict';
const fs = require('fs');
const onnx = require('./onnx_encode');

function varint(n) {
  const out = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n);
  return Buffer.from(out);
}
const field = (f, payload) => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((f << 3) | 2), varint(b.length), b]);
};
const intField = (f, n) => Buffer.concat([varint(f << 3), varint(n)]);

// TensorProto of float32 values: dims, data_type 1, name, raw_data (little-endian).
function floatTensor(name, dims, rng) {
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = Buffer.alloc(4 * n);
  for (let i = 0; i < n; ++i) raw.writeFloatLE(rng() - 0.5, 4 * i);
  return Buffer.concat([field(1, Buffer.concat(dims.map(varint))), intField(2, 1),
    field(8, name), field(9, raw)]);
}

// ValueInfoProto of a float tensor [T, ...dims] with T a symbol.
function seqValue(name, dims) {
  const shape = Buffer.concat([field(1, field(2, 'T')),
    ...dims.map((d) => field(1, intField(1, d)))]);
  const tensorType = Buffer.concat([intField(1, 1), field(2, shape)]);
  return Buffer.concat([field(1, name), field(2, field(1, tensorType))]);
}

function main() {
  const [op, b, i, h, file] = process.argv.slice(2);
  const [B, I, H] = [b, i, h].map(Number);
  const g = op === 'LSTM' ? 4 : 3;
  let seed = 1;
  const rng = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const bytes = onnx.model({
    opset: 14,
    inputs: [seqValue('x', [B, I])],
    outputs: [seqValue('y', [1, B, H])],
    nodes: [onnx.node(op, ['x', 'w', 'r', 'b'], ['y'], {hidden_size: H})],
    initializers: [floatTensor('w', [1, g * H, I], rng), floatTensor('r', [1, g * H, H], rng),
      floatTensor('b', [1, 2 * g * H], rng)],
  });
  fs.writeFileSync(file, bytes);
}

main();
