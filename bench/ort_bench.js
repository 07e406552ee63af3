// `supernova bench` for ONNX Runtime (onnxruntime-node): the same flags, input rules and JSON
// keys (docs/benchmark.md).
//
//   node bench/ort_bench.js MODEL --threads N --batch B [--shape NAME=d0xd1x...]
//        [--iterations K] [--warmup W] [--optimization none|basic|all] [--providers cpu]
//        [--gflop G] [--no-overhead]
//
// Session: intraOpNumThreads N, interOpNumThreads 1, sequential execution, graph
// optimization 'all' (or as given). Peak RSS is VmHWM from /proc/self/status after the runs;
// baseline_rss_mb is VmHWM before the module is loaded (Node.js itself), peak_rss_net_mb the
// difference. Each `await session.run` also pays the binding: the event-loop hop, marshalling
// the feeds and copying the outputs into JavaScript. After the timed runs and the peak RSS, a
// model with the same inputs and outputs and next to no compute (bench/overhead_model.js) is
// timed the same way in this process, its calls alternating with the real model's:
// binding_overhead_ms is its median, median_ms_paired the real model's median in those calls,
// median_ms_net the difference (--no-overhead skips this; the keys are then null).
// ONNX Runtime reports no FLOPs, weights or arena peak: --gflop passes the FLOPs per inference
// that `supernova bench` counted for the same model and shapes (bench/run.sh does), so that
// gflops_achieved compares like with like; without it, gflop and gflops_achieved are null.
// The module comes from $ORT_NODE_MODULE, else build/peer (bench/run.sh installs it there:
// npm install --ignore-scripts onnxruntime-node@1.30.0), else Node's own resolution.
// Exit codes: 1 usage or runtime error, 2 the model has a fixed batch other than --batch.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {performance} = require('perf_hooks');
const {overheadModel} = require('./overhead_model');

const INPUT_SEED = 20260;

class BenchError extends Error {
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}

function loadOrt() {
  if (process.env.ORT_NODE_MODULE) return require(process.env.ORT_NODE_MODULE);
  const peer = path.join(__dirname, '..', 'build', 'peer', 'node_modules');
  try {
    return require(require.resolve('onnxruntime-node', {paths: [peer]}));
  } catch (e) {
    return require('onnxruntime-node');
  }
}

function parseArgs(argv) {
  const a = {model: null, threads: 0, batch: 1, shapes: [], iterations: 50, warmup: 3,
    optimization: 'all', providers: ['cpu'], gflop: null, overhead: true};
  const int = (flag, v) => {
    if (v === undefined || !/^-?\d+$/.test(v)) throw new BenchError(`${flag} needs an integer`);
    return parseInt(v, 10);
  };
  for (let i = 0; i < argv.length; ++i) {
    const f = argv[i];
    let v = null;
    let name = f;
    if (f.startsWith('--') && f.includes('=')) {
      name = f.slice(0, f.indexOf('='));
      v = f.slice(f.indexOf('=') + 1);
    }
    const next = () => (v !== null ? v : argv[++i]);
    switch (name) {
      case '--threads': a.threads = int(name, next()); break;
      case '--batch': a.batch = int(name, next()); break;
      case '--shape': a.shapes.push(next()); break;
      case '--iterations': a.iterations = int(name, next()); break;
      case '--warmup': a.warmup = int(name, next()); break;
      case '--optimization': a.optimization = next(); break;
      case '--no-overhead': a.overhead = false; break;
      case '--providers': a.providers = String(next()).split(',').filter((p) => p); break;
      case '--gflop': {
        const g = Number(next());
        if (!(g >= 0)) throw new BenchError('--gflop needs a number >= 0');
        a.gflop = g;
        break;
      }
      default:
        if (f.startsWith('-')) throw new BenchError(`unknown flag ${f}`);
        if (a.model !== null) throw new BenchError(`unexpected argument ${f}`);
        a.model = f;
    }
  }
  if (a.model === null) throw new BenchError('no MODEL given');
  if (a.iterations < 1) throw new BenchError('--iterations must be at least 1');
  if (a.warmup < 0) throw new BenchError('--warmup must be >= 0');
  if (a.threads < 0) throw new BenchError('--threads must be >= 0 (0: one per core)');
  if (a.batch < 1) throw new BenchError('--batch must be positive');
  return a;
}

const dimsToString = (dims) => dims.map((d) => (d >= 0 ? String(d) : 'N')).join('x');

// NAME=d0xd1x..., N (or B) standing for --batch (-1).
function parseShape(spec) {
  const bad = (why) => new BenchError(
      `--shape ${spec}: ${why} (expected NAME=d0xd1x..., e.g. x=Nx3x48x320)`);
  const eq = spec.indexOf('=');
  if (eq <= 0) throw bad('no input name');
  const text = spec.slice(eq + 1);
  if (!text) throw bad('no dims');
  const dims = text.split('x').map((d) => {
    if (d === 'N' || d === 'B') return -1;
    if (!/^\d+$/.test(d) || parseInt(d, 10) <= 0) throw bad(`'${d}' is not a positive dim`);
    return parseInt(d, 10);
  });
  return [spec.slice(0, eq), dims];
}

function describe(meta) {
  const dims = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : (d || '?')));
  return `${meta.name}: ${meta.type}[${dims.join(',')}]`;
}

// The rules of tools/supernova/bench_util.cc ResolveInputShapes, word for word.
function resolveShapes(inputs, batch, given) {
  for (const name of given.keys()) {
    if (!inputs.some((m) => m.name === name)) {
      throw new BenchError(`--shape ${name}=${dimsToString(given.get(name))}: the model has ` +
          `no input named '${name}' (inputs: ${inputs.map(describe).join(', ')})`);
    }
  }
  return inputs.map((m) => {
    const user = given.get(m.name);
    const rankKnown = Array.isArray(m.shape) && m.shape.length > 0;
    if (!rankKnown && !user) {
      throw new BenchError(`model input ${describe(m)} has unknown rank: give --shape ` +
          `${m.name}=d0xd1x...`);
    }
    const declared = rankKnown ?
        m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) : user.map(() => -1);
    const rank = declared.length;
    if (user && user.length !== rank) {
      throw new BenchError(`--shape ${m.name}=${dimsToString(user)} has ${user.length} dims, ` +
          `model input ${describe(m)} has ${rank}`);
    }
    if (rank > 0 && declared[0] >= 0 && declared[0] !== batch) {
      throw new BenchError(`model input ${m.name} has fixed batch ${declared[0]}`, 2);
    }
    const shape = [];
    const unknown = [];
    for (let i = 0; i < rank; ++i) {
      let wanted = user ? user[i] : -1;
      if (wanted < 0 && user) wanted = batch;
      if (i === 0 && wanted >= 0 && wanted !== batch) {
        throw new BenchError(`--shape ${m.name}=${dimsToString(user)}: first dim ${wanted} ` +
            `differs from --batch ${batch} (write N for the batch)`);
      }
      if (declared[i] >= 0 && wanted >= 0 && declared[i] !== wanted) {
        throw new BenchError(`--shape ${m.name}=${dimsToString(user)}: dim ${i} is ${wanted} ` +
            `but model input ${describe(m)} fixes it at ${declared[i]}`);
      }
      if (declared[i] >= 0) shape.push(declared[i]);
      else if (wanted >= 0) shape.push(wanted);
      else if (i === 0) shape.push(batch);
      else {
        shape.push(-1);
        const sym = m.shape[i];
        unknown.push(typeof sym === 'string' && sym ? `${i} (${sym})` : String(i));
      }
    }
    if (unknown.length) {
      const example = shape.map((d, i) => (i === 0 ? 'N' : d >= 0 ? String(d) : '?')).join('x');
      throw new BenchError(`model input ${describe(m)} has unknown dim` +
          `${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: give --shape ` +
          `${m.name}=${example}`);
    }
    return shape;
  });
}

// mulberry32: a small seeded generator; floats uniform in [0, 1).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(ort, type, shape, next) {
  const n = shape.reduce((a, b) => a * b, 1);
  switch (type) {
    case 'float32': {
      const d = new Float32Array(n);
      for (let i = 0; i < n; ++i) d[i] = next();
      return new ort.Tensor('float32', d, shape);
    }
    case 'float64': {
      const d = new Float64Array(n);
      for (let i = 0; i < n; ++i) d[i] = next();
      return new ort.Tensor('float64', d, shape);
    }
    case 'int64': return new ort.Tensor('int64', new BigInt64Array(n), shape);
    case 'uint64': return new ort.Tensor('uint64', new BigUint64Array(n), shape);
    case 'int32': return new ort.Tensor('int32', new Int32Array(n), shape);
    case 'int16': return new ort.Tensor('int16', new Int16Array(n), shape);
    case 'int8': return new ort.Tensor('int8', new Int8Array(n), shape);
    case 'uint8': return new ort.Tensor('uint8', new Uint8Array(n), shape);
    case 'bool': return new ort.Tensor('bool', new Uint8Array(n), shape);
    default: throw new BenchError(`cannot make a random ${type} input`);
  }
}

// Times `await session.run(feeds)` of each session in turn, `iterations` rounds after `warmup`
// untimed ones: one array of times per session.
async function timeRuns(sessions, feeds, warmup, iterations) {
  for (let i = 0; i < warmup; ++i) {
    for (const s of sessions) await s.run(feeds);
  }
  const times = sessions.map(() => []);
  for (let i = 0; i < iterations; ++i) {
    for (let k = 0; k < sessions.length; ++k) {
      const t0 = performance.now();
      await sessions[k].run(feeds);
      times[k].push(performance.now() - t0);
    }
  }
  return times;
}

// Times the overhead model (bench/overhead_model.js), built from the real model's inputs and
// the outputs of its first run, in a session with the same options, alternating call for call
// with the real model. Alternating, because the binding's cost depends on the state of the
// process: every call returns fresh JavaScript buffers, and whether they land on memory that
// the garbage collector has already freed or on new pages (first-touch faults: milliseconds
// for a 1.6 MB output on a virtual machine) changes in phases of tens of calls; paired calls
// see the same phase. Returns the overhead model's statistics and the real model's median in
// the same calls.
async function measureOverhead(ort, options, metas, shapes, outputs, real, feeds, args) {
  const inputs = metas.map((m, i) => ({name: m.name, type: m.type || 'float32', dims: shapes[i]}));
  let bytes;
  try {
    bytes = overheadModel(inputs, outputs);
  } catch (e) {
    throw new BenchError(`binding overhead: ${e.message} (--no-overhead skips it)`);
  }
  const session = await ort.InferenceSession.create(bytes, options);
  const check = await session.run(feeds);
  for (const o of outputs) {
    const got = check[o.name];
    if (!got || got.type !== o.type || got.dims.join('x') !== o.dims.join('x')) {
      throw new BenchError(`binding overhead: the overhead model's output ${o.name} is not ` +
          `${o.type}[${o.dims}]`);
    }
  }
  const [realTimes, times] = await timeRuns([real, session], feeds, args.warmup, args.iterations);
  if (session.release) await session.release();
  return {...summarize(times), paired_median_ms: summarize(realTimes).median_ms};
}

function peakRssMb() {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? parseInt(m[1], 10) / 1024 : null;
}

function summarize(times) {
  const t = [...times].sort((a, b) => a - b);
  const n = t.length;
  const median = n % 2 ? t[(n - 1) / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
  const rank = Math.min(Math.max(Math.ceil(0.9 * n), 1), n);
  return {median_ms: median, p90_ms: t[rank - 1], mean_ms: t.reduce((a, b) => a + b, 0) / n,
    min_ms: t[0], max_ms: t[n - 1]};
}

async function main() {
  const baselineRss = peakRssMb();
  const args = parseArgs(process.argv.slice(2));
  const given = new Map();
  for (const spec of args.shapes) {
    const [name, dims] = parseShape(spec);
    if (given.has(name)) throw new BenchError(`--shape given twice for input '${name}'`);
    given.set(name, dims);
  }
  const levels = {none: 'disabled', basic: 'basic', all: 'all'};
  if (!(args.optimization in levels)) {
    throw new BenchError(`unknown --optimization '${args.optimization}' (none, basic, all)`);
  }
  const ort = loadOrt();
  const threads = args.threads > 0 ? args.threads : os.cpus().length;
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: levels[args.optimization],
    executionProviders: args.providers,
    logSeverityLevel: 3,  // errors only: ORT's optimizer warnings are not results
  };

  const tOpen = performance.now();
  const session = await ort.InferenceSession.create(args.model, options);
  const openMs = performance.now() - tOpen;

  const metas = session.inputMetadata ||
      session.inputNames.map((name) => ({name, type: 'float32', shape: []}));
  const shapes = resolveShapes(metas, args.batch, given);
  const next = rng(INPUT_SEED);
  const feeds = {};
  const shapesJson = {};
  metas.forEach((m, i) => {
    feeds[m.name] = randomTensor(ort, m.type || 'float32', shapes[i], next);
    shapesJson[m.name] = shapes[i];
  });

  const tFirst = performance.now();
  let first = await session.run(feeds);
  const firstRunMs = performance.now() - tFirst;
  // Only their shapes and types: the tensors themselves would count in the peak RSS.
  const outputs = session.outputNames.map((name) => ({name, type: first[name].type,
    dims: Array.from(first[name].dims)}));
  first = null;
  const [times] = await timeRuns([session], feeds, args.warmup, args.iterations);
  const rss = peakRssMb();
  const st = summarize(times);
  // After the peak RSS: the overhead model's session must not count in the real model's.
  const overhead = args.overhead ?
      await measureOverhead(ort, options, metas, shapes, outputs, session, feeds, args) :
      null;
  let version = null;
  try {
    version = ort.env.versions.node || ort.env.versions.common;
  } catch (e) { /* older module: no version */ }
  const out = {
    runtime: 'onnxruntime', model: args.model, threads, batch: args.batch, shapes: shapesJson,
    iterations: args.iterations, warmup: args.warmup, optimization: args.optimization,
    providers: args.providers, ...st, throughput_per_s: args.batch * 1000 / st.median_ms,
    peak_rss_mb: rss, baseline_rss_mb: baselineRss,
    peak_rss_net_mb: rss === null || baselineRss === null ? null : rss - baselineRss,
    binding_overhead_ms: overhead && overhead.median_ms,
    binding_overhead_p90_ms: overhead && overhead.p90_ms,
    median_ms_paired: overhead && overhead.paired_median_ms,
    median_ms_net: overhead && overhead.paired_median_ms - overhead.median_ms,
    load_ms: openMs + firstRunMs, open_ms: openMs, first_run_ms: firstRunMs,
    arena_peak_mb: null, weights_mb: null, gflop: args.gflop,
    gflops_achieved: args.gflop === null ? null : args.gflop / (st.median_ms / 1000), version,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  if (session.release) await session.release();
}

main().catch((e) => {
  console.error(`ort_bench: error: ${String(e.message || e).split('\n')[0]}`);
  process.exit(e instanceof BenchError ? e.code : 1);
});
