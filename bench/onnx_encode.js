// A minimal writer of ONNX ModelProto bytes (protobuf wire format, field numbers of onnx.proto)
// for the small synthetic models the benchmarks build: graph inputs and outputs with static
// shapes, nodes with int/ints attributes, int64 initializers. Enough for them, nothing more;
// it lets the benchmarks make models in the Node.js process that times them, without Python.
//
//   const onnx = require('./onnx_encode');
//   const bytes = onnx.model({opset: 13, inputs: [onnx.value('x', 'float32', [1, 3])],
//     outputs: [onnx.value('y', 'float32', [1, 3])], nodes: [onnx.node('Relu', ['x'], ['y'])]});
'use strict';

// TensorProto.DataType numbers, by onnxruntime-node's type names.
const ELEM_TYPE = {float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7,
  bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13};

function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));  // negative int64 values take ten bytes, as protobuf
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return Buffer.from(out);
}

const key = (field, wire) => varint((field << 3) | wire);
const intField = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
function bytesField(field, payload) {
  const b = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([key(field, 2), varint(b.length), b]);
}
const packed = (field, ns) => bytesField(field, Buffer.concat(ns.map(varint)));

function elemType(type) {
  if (!(type in ELEM_TYPE)) throw new Error(`onnx_encode: no ONNX type for '${type}'`);
  return ELEM_TYPE[type];
}

// ValueInfoProto with a tensor type of static shape.
function value(name, type, dims) {
  const shape = Buffer.concat(dims.map((d) => bytesField(1, intField(1, d))));
  const tensorType = Buffer.concat([intField(1, elemType(type)), bytesField(2, shape)]);
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

// AttributeProto: a number is INT, an array of numbers INTS.
function attribute(name, v) {
  if (Array.isArray(v)) return Buffer.concat([bytesField(1, name), packed(8, v), intField(20, 7)]);
  return Buffer.concat([bytesField(1, name), intField(3, v), intField(20, 2)]);
}

function node(opType, inputs, outputs, attrs = {}, name = '') {
  return Buffer.concat([
    ...inputs.map((i) => bytesField(1, i)),
    ...outputs.map((o) => bytesField(2, o)),
    bytesField(3, name || `${opType}_${outputs[0]}`),
    bytesField(4, opType),
    ...Object.entries(attrs).map(([k, v]) => bytesField(5, attribute(k, v))),
  ]);
}

// A TensorProto of int64 values (shapes, slice bounds).
function int64Tensor(name, dims, values) {
  return Buffer.concat([packed(1, dims), intField(2, ELEM_TYPE.int64), packed(7, values),
    bytesField(8, name)]);
}

function model({opset, inputs, outputs, nodes, initializers = [], name = 'graph'}) {
  const graph = Buffer.concat([
    ...nodes.map((n) => bytesField(1, n)),
    bytesField(2, name),
    ...initializers.map((t) => bytesField(5, t)),
    ...inputs.map((v) => bytesField(11, v)),
    ...outputs.map((v) => bytesField(12, v)),
  ]);
  const opsetId = Buffer.concat([bytesField(1, ''), intField(2, opset)]);
  return new Uint8Array(Buffer.concat([
    intField(1, 8),  // ir_version 8 (ONNX 1.10+), which opset 13 models may declare
    bytesField(2, 'supernova-bench'),
    bytesField(7, graph),
    bytesField(8, opsetId),
  ]));
}

module.exports = {elemType, value, node, int64Tensor, model};
