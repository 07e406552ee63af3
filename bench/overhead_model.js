// The model that measures a binding's per-call overhead (docs/benchmark.md): it takes the real
// model's inputs (same names, types and shapes) and returns its outputs (same names, types and
// shapes), with next to no compute, so that one call costs what the binding costs around any
// inference: marshalling the feeds in, the event-loop hop, the runtime's fixed per-run work,
// allocating the outputs and copying them back into JavaScript.
//
// Graph: every input's first element (Slice, Reshape to [1], Cast to float) summed into one
// scalar, so that every input is used; each output is that scalar cast to the output's type
// and expanded (Reshape to rank, Expand) to the output's shape. The only work proportional to
// size is writing the outputs, which the real model does too.
'use strict';
const onnx = require('./onnx_encode');

const FLOAT = onnx.elemType('float32');

// inputs, outputs: [{name, type, dims}] with concrete dims (as measured on the real model).
function overheadModel(inputs, outputs) {
  if (!inputs.length || !outputs.length) throw new Error('overhead model: no inputs or outputs');
  const nodes = [];
  const inits = [];
  const shapeConst = (name, dims) => {
    inits.push(onnx.int64Tensor(name, [dims.length], dims));
    return name;
  };
  const scalars = inputs.map((v, i) => {
    if (v.dims.some((d) => d < 1)) throw new Error(`overhead model: input ${v.name} is empty`);
    const r = v.dims.length;
    const sliced = `_in${i}_first`;
    if (r === 0) {
      nodes.push(onnx.node('Reshape', [v.name, shapeConst(`_one${i}`, [1])], [sliced], {}, `_r${i}`));
    } else {
      const starts = shapeConst(`_starts${i}`, new Array(r).fill(0));
      const ends = shapeConst(`_ends${i}`, new Array(r).fill(1));
      nodes.push(onnx.node('Slice', [v.name, starts, ends], [`_in${i}_slice`]));
      nodes.push(onnx.node('Reshape', [`_in${i}_slice`, shapeConst(`_flat${i}`, [1])], [sliced]));
    }
    nodes.push(onnx.node('Cast', [sliced], [`_in${i}_f`], {to: FLOAT}));
    return `_in${i}_f`;
  });
  nodes.push(onnx.node('Sum', scalars, ['_scalar']));
  outputs.forEach((v, k) => {
    const typed = `_out${k}_typed`;
    nodes.push(onnx.node('Cast', ['_scalar'], [typed], {to: onnx.elemType(v.type)}));
    const ones = shapeConst(`_ones${k}`, new Array(v.dims.length).fill(1));
    nodes.push(onnx.node('Reshape', [typed, ones], [`_out${k}_r`]));
    nodes.push(onnx.node('Expand', [`_out${k}_r`, shapeConst(`_shape${k}`, v.dims)], [v.name]));
  });
  return onnx.model({
    opset: 13,
    name: 'binding_overhead',
    inputs: inputs.map((v) => onnx.value(v.name, v.type, v.dims)),
    outputs: outputs.map((v) => onnx.value(v.name, v.type, v.dims)),
    nodes,
    initializers: inits,
  });
}

module.exports = {overheadModel};
