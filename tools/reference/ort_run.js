// Runs one model through ONNX Runtime (onnxruntime-node) for reference outputs and timing.
// Usage: node ort_run.js MODEL REQUEST.json
// REQUEST: {"inputs": [{"name", "dims", "file", "type"}], "out_dir": DIR}; each input file
// holds raw little-endian values of its type ("float32", the default, or "int64"). Writes DIR/output_<i>.bin (raw) and DIR/outputs.json (names, dims, types).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');

async function main() {
  const [model, reqPath] = process.argv.slice(2);
  const req = JSON.parse(fs.readFileSync(reqPath, 'utf8'));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: req.threads || 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const inp of req.inputs) {
    const buf = fs.readFileSync(inp.file);
    const bytes = Uint8Array.from(buf).buffer;  // aligned for the typed array
    const type = inp.type || 'float32';
    const data = type === 'int64' ? new BigInt64Array(bytes) : new Float32Array(bytes);
    feeds[inp.name] = new ort.Tensor(type, data, inp.dims);
  }
  const out = await session.run(feeds);
  const meta = [];
  session.outputNames.forEach((name, i) => {
    const t = out[name];
    fs.writeFileSync(path.join(req.out_dir, `output_${i}.bin`), Buffer.from(t.data.buffer,
        t.data.byteOffset, t.data.byteLength));
    meta.push({name, dims: t.dims, type: t.type});
  });
  fs.writeFileSync(path.join(req.out_dir, 'outputs.json'), JSON.stringify(meta));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
