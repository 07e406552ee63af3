// The footprint benchmark's model and input (docs/footprint.md): one Relu node on a float
// 1x3x224x224 input, written as OUT_DIR/relu.onnx, and a seeded input as OUT_DIR/x.npy
// (NumPy format 1.0, which `supernova run --input` reads).
//
//   node bench/relu_model.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const onnx = require('./onnx_encode');

const DIMS = [1, 3, 224, 224];

function npy(dims, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces and a newline to 64.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(prefix, 0);
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]);
}

function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/relu_model.js OUT_DIR');
    process.exit(1);
  }
  fs.mkdirSync(dir, {recursive: true});
  const model = onnx.model({
    opset: 13,
    name: 'relu',
    inputs: [onnx.value('x', 'float32', DIMS)],
    outputs: [onnx.value('y', 'float32', DIMS)],
    nodes: [onnx.node('Relu', ['x'], ['y'])],
  });
  fs.writeFileSync(path.join(dir, 'relu.onnx'), model);
  // A fixed sequence in [-1, 1): half the values are negative, so the Relu changes something.
  const data = new Float32Array(DIMS.reduce((a, b) => a * b, 1));
  let s = 12345;
  for (let i = 0; i < data.length; ++i) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s / 2147483648 - 1;
  }
  fs.writeFileSync(path.join(dir, 'x.npy'), npy(DIMS, data));
}

main();
