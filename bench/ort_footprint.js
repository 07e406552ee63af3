// ONNX Runtime's side of the footprint benchmark (bench/footprint.py, docs/footprint.md): what
// `supernova run MODEL --input x=INPUT.npy --output-dir DIR` does, in Node.js with
// onnxruntime-node: read the input, open a session with default options, run once, write
// the output. With --baseline it does everything except load the module and run (it writes
// the input in place of the output, the same number of bytes), so that the difference is
// ONNX Runtime's own cost. --list-libs runs normally and then prints the shared objects of
// onnxruntime-node mapped into the process, one path a line.
//
//   node bench/ort_footprint.js MODEL INPUT.npy OUT_DIR [--baseline | --list-libs]
// The module comes from $ORT_NODE_MODULE (bench/footprint.sh sets it).
'use strict';
const fs = require('fs');
const path = require('path');

// A float32 little-endian C-order .npy (the one bench/relu_model.js writes).
function readNpy(file) {
  const b = fs.readFileSync(file);
  const headerLen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'<f4'") || header.includes('True')) {
    throw new Error(`${file}: not a float32 C-order .npy`);
  }
  const dims = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((d) => d.trim())
      .filter((d) => d).map(Number);
  const bytes = b.subarray(10 + headerLen);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return {dims, data};
}

async function main() {
  const [model, input, outDir, mode] = process.argv.slice(2);
  if (!outDir || (mode && mode !== '--baseline' && mode !== '--list-libs')) {
    throw new Error('usage: node bench/ort_footprint.js MODEL INPUT.npy OUT_DIR ' +
        '[--baseline | --list-libs]');
  }
  const x = readNpy(input);
  fs.mkdirSync(outDir, {recursive: true});
  const out = path.join(outDir, 'output_0.bin');
  if (mode === '--baseline') {
    fs.writeFileSync(out, Buffer.from(x.data.buffer));
    return;
  }
  const ort = require(process.env.ORT_NODE_MODULE || 'onnxruntime-node');
  const session = await ort.InferenceSession.create(model);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims)};
  const results = await session.run(feeds);
  fs.writeFileSync(out, Buffer.from(results[session.outputNames[0]].data.buffer));
  if (mode === '--list-libs') {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
    const libs = new Set(maps.map((l) => l.split(/\s+/)[5]).filter((p) => p &&
        /onnxruntime/.test(p) && /\.(so(\.\d+)*|node)$/.test(p)));
    for (const p of libs) console.log(p);
  }
}

main().catch((e) => {
  console.error(`ort_footprint: error: ${String(e.message || e).split('\n')[0]}`);
  process.exit(1);
});
