// Runs one model through ONNX Runtime (onnxruntime-node) for reference outputs and timing.
// Usage: node ort_run.js MODEL REQUEST.json
// REQUEST: {"inputs": [{"name", "dims", "file"}], "out_dir": DIR}; each input file holds raw
// little-endian float32. Writes DIR/output_<i>.bin (raw) and DIR/outputs.json (names, dims, types).
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
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    feeds[inp.name] = new ort.Tensor('float32', Float32Array.from(data), inp.dims);
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
