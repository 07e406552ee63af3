#!/usr/bin/env node
// The web console end to end in headless Chromium (issue 21), against a running server:
//
//   PUPPETEER_MODULE=build/browser/node_modules/puppeteer-core node tests/console/console_e2e.js \
//     http://127.0.0.1:PORT ARTIFACT_DIR INFER_TOKEN_FILE ADMIN_TOKEN_FILE CLIP
//
// The server (tests/console/run_console_e2e.sh starts it) serves the bundled model repository
// with an inference and an admin token and runs the stream `clip` of CLIP (a white square
// moving on black) through the squares detector. The page is loaded, read, screenshot and
// driven like a user: first with no token (it must ask for one and wait), then with the
// inference token (everything shows; no action is offered, and one sent anyway is refused),
// then with the admin token (the actions). The inferences are sent from here, not from the page. Any console error or
// warning, page error, failed request or HTTP status >= 400 of the page fails the run, but
// for the 401s and the 403 the test provokes. One line per check says what it measured;
// exit 0 only when every check passed, 1 otherwise, 77 when the browser or puppeteer-core is
// missing.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const CHROMIUM = '/usr/bin/chromium';
const TIME_LIMIT_MS = 60000;
// The outline and label tag of track 1: TrackColor(1) in src/stream/draw.cc is kPalette[1],
// {b 255, g 128, r 0} in BGR order, so RGB (0, 128, 255). JPEG moves colours a little, and
// most of all along the 2-pixel outline, so a pixel counts within MAX_CHANNEL_DIFF per channel.
const TRACK1_RGB = [0, 128, 255];
const MAX_CHANNEL_DIFF = 48;
const MIN_BOX_PIXELS = 50;
// Sent to `simple` (Triton's example: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1).
const INFERENCES = 20;

const [url, artifacts, inferTokenFile, adminTokenFile, clipPath] = process.argv.slice(2);
if (!url || !artifacts || !inferTokenFile || !adminTokenFile || !clipPath) {
  console.error('usage: console_e2e.js SERVER_URL ARTIFACT_DIR INFER_TOKEN_FILE ' +
    'ADMIN_TOKEN_FILE CLIP');
  process.exit(2);
}
const base = url.replace(/\/+$/, '');
const readToken = (f) => fs.readFileSync(f, 'utf8').replace(/\n$/, '');
const inferToken = readToken(inferTokenFile);
const adminToken = readToken(adminTokenFile);

let puppeteer;
try {
  puppeteer = require(process.env.PUPPETEER_MODULE || 'puppeteer-core');
} catch (e) {
  console.log(`SKIP: puppeteer-core not found (PUPPETEER_MODULE=${process.env.PUPPETEER_MODULE})`);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} not installed`);
  process.exit(77);
}

const results = [];
function report(ok, name, detail) {
  results.push({ ok, name });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
}

class CheckFailed extends Error {}

function check(cond, name, detail) {
  report(Boolean(cond), name, detail);
  if (!cond) throw new CheckFailed(`${name}: ${detail}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it answers something truthy; answers the last value either way.
async function waitFor(probe, timeoutMs, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await probe();
    if (v || Date.now() > end) return v;
    await sleep(intervalMs);
  }
}

// ---- PNG: enough of a decoder for Chromium's screenshots (8-bit RGB or RGBA, no interlace).

function decodePng(buf) {
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colourType = data[9];
      if (depth !== 8 || (colourType !== 2 && colourType !== 6) || data[12] !== 0) {
        throw new Error(`unexpected PNG: depth ${depth}, colour type ${colourType}`);
      }
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; ++y) {
    const filter = raw[y * (stride + 1)];
    const line = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; ++x) {
      const a = x >= channels ? px[row + x - channels] : 0;
      const b = y > 0 ? px[row - stride + x] : 0;
      const c = x >= channels && y > 0 ? px[row - stride + x - channels] : 0;
      let p = raw[line + x];
      if (filter === 1) p += a;
      else if (filter === 2) p += b;
      else if (filter === 3) p += (a + b) >> 1;
      else if (filter === 4) {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[row + x] = p & 255;
    }
  }
  return { width, height, channels, px };
}

function countNear(png, rgb, tolerance) {
  let n = 0;
  for (let i = 0; i < png.px.length; i += png.channels) {
    const near = [0, 1, 2].every((c) => Math.abs(png.px[i + c] - rgb[c]) <= tolerance);
    if (near) ++n;
  }
  return n;
}

// ---- The server, from here (not through the page) ------------------------------------------

async function serverJson(p, init = {}) {
  const res = await fetch(base + p, {
    ...init,
    headers: { Authorization: `Bearer ${inferToken}`, 'Content-Type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function inferBody() {
  const a = Array.from({ length: 16 }, (_, i) => i);
  const b = Array.from({ length: 16 }, () => 1);
  return JSON.stringify({
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
    ],
  });
}

// ---- The run -------------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const problems = [];
  const requestUrls = [];
  let closing = false;
  // Errors the test provokes on purpose: while `provoked` holds {status, path}, answers with
  // that status to a URL whose path starts so (and the browser's console line about them)
  // are counted apart, not as problems.
  let provoked = null;
  let provokedSeen = 0;
  const isProvoked = (u, status) => provoked && status === provoked.status &&
    new URL(u).pathname.startsWith(provoked.path);
  // A frame.jpg 404 is the server's answer before a stream's first frame; the page asks only
  // once the stream has read frames, so one can come only from that race, and only for a
  // stream that has not shown a frame yet. Every other status >= 400 is a failure.
  const framesShown = new Map();
  const tolerated = (u, status) => {
    if (isProvoked(u, status)) return true;
    const m = /\/console\/api\/streams\/([^/]+)\/frame\.jpg$/.exec(new URL(u).pathname);
    return status === 404 && m && !framesShown.get(decodeURIComponent(m[1]));
  };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (msg) => {
      const type = msg.type();
      if (type !== 'error' && type !== 'warn' && type !== 'warning') return;
      const where = (msg.location() && msg.location().url) || '';
      const status = Number((/status of (\d+)/.exec(msg.text()) || [])[1]);
      if (where && status && tolerated(where, status)) return;
      problems.push(`console ${type}: ${msg.text()} ${where}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (req) => requestUrls.push(req.url()));
    page.on('requestfailed', (req) => {
      if (!closing) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
    page.on('response', (res) => {
      if (res.status() < 400) return;
      if (isProvoked(res.url(), res.status())) ++provokedSeen;
      else if (!tolerated(res.url(), res.status())) {
        problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
      }
    });
    const noProblems = (name) => {
      check(problems.length === 0, name,
        problems.length ? problems.join('; ')
          : 'no console errors or warnings, no failed requests');
    };

    const enterToken = async (t) => {
      await page.type('#token-input', t);
      await page.click('#token-set');
    };
    const banner = () => page.$eval('#banner', (b) => (b.hidden ? '' : b.textContent));

    // -- No token: the page asks for one and waits -----------------------------------------
    provoked = { status: 401, path: '/console/api/' };
    await page.goto(`${base}/console/`, { waitUntil: 'load' });
    const asked = await waitFor(async () => /needs a token/.test(await banner()), 5000);
    check(asked, 'auth.asks_for_token', `banner: "${await banner()}"`);
    const apiCalls = () => requestUrls.filter((u) => u.includes('/console/api/')).length;
    const callsBefore = apiCalls();
    await sleep(2500);
    const callsAfter = apiCalls();
    check(callsAfter - callsBefore === 0 && provokedSeen >= 1 && provokedSeen <= 2,
      'auth.no_error_loop', `${provokedSeen} answers 401 on loading, then ` +
      `${callsAfter - callsBefore} API requests in 2.5 s of waiting for a token`);
    const locked = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('.admin button, button.admin, .admin input')];
      const usable = controls.filter((b) => !b.disabled && b.offsetParent !== null);
      return { total: controls.length, usable: usable.map((b) => b.textContent || b.id) };
    });
    check(locked.usable.length === 0, 'auth.read_only_without_token',
      `${locked.total} action controls, ${locked.usable.length} usable without a token` +
      (locked.usable.length ? ` (${locked.usable.join(', ')})` : ''));
    const tokenField = await page.$eval('#token-input', (e) => e.type);
    check(tokenField === 'password', 'auth.token_field', `the token field is type=${tokenField}`);
    provoked = null;
    noProblems('auth.clean_console');

    // -- Models, with the inference token --------------------------------------------------
    const loadStart = Date.now();
    await enterToken(inferToken);
    const rowState = (name) => page.evaluate((n) => {
      const tr = document.querySelector(`#models-table tbody tr[data-model="${n}"]`);
      return tr ? tr.dataset.state : null;
    }, name);
    const simpleState = await waitFor(async () => (await rowState('simple')) === 'READY', 10000);
    const bannerNow = await banner();
    check(simpleState, 'models.simple_ready',
      `the Models view lists simple as ${await rowState('simple')} ${Date.now() - loadStart} ms ` +
      `after the inference token was entered${bannerNow ? `; banner "${bannerNow}"` : ''}`);
    const index = await serverJson('/v2/repository/index', { method: 'POST', body: '{}' });
    check(index.status === 200, 'models.repository_index',
      `POST /v2/repository/index: ${index.status}`);
    const rows = await page.evaluate(() => [...document.querySelectorAll('#models-table tbody tr')]
      .map((tr) => ({ name: tr.dataset.model, state: tr.dataset.state })));
    const missing = index.json.filter((m) => !rows.some((r) => r.name === m.name));
    check(missing.length === 0, 'models.all_listed',
      `index: ${index.json.map((m) => `${m.name} ${m.state || ''}`).join(', ')}; ` +
      `table: ${rows.map((r) => `${r.name} ${r.state}`).join(', ')}` +
      (missing.length ? `; missing ${missing.map((m) => m.name).join(', ')}` : ''));
    await page.screenshot({ path: path.join(artifacts, 'models.png'), fullPage: true });
    noProblems('models.clean_console');

    // -- One model -------------------------------------------------------------------------
    await page.click('#models-table tbody tr[data-model="simple"] a');
    const detail = await waitFor(() => page.evaluate(() => {
      const io = [...document.querySelectorAll('#model-io tbody tr')]
        .map((tr) => `${tr.dataset.kind}:${tr.cells[1].textContent}`);
      const nodes = document.querySelectorAll('#placement-nodes tbody tr').length;
      const config = document.querySelector('#model-config').textContent;
      let cfgName = '';
      try {
        cfgName = JSON.parse(config).name;
      } catch (e) {
        cfgName = '';
      }
      return io.length >= 4 && nodes > 0 && cfgName ? { io, nodes, cfgName } : null;
    }), 10000);
    check(detail && ['input:INPUT0', 'input:INPUT1', 'output:OUTPUT0', 'output:OUTPUT1']
      .every((x) => detail.io.includes(x)) && detail.cfgName === 'simple', 'model.detail',
      detail ? `inputs/outputs ${detail.io.join(', ')}; config name ${detail.cfgName}; ` +
        `${detail.nodes} placement nodes`
        : 'inputs/outputs, config or placement nodes did not appear within 10 s');
    const points = (id) => page.$eval(id, (c) => Number(c.dataset.points || 0));
    const rateBefore = await points('#chart-rate');
    const latencyBefore = await points('#chart-latency');
    let good = 0;
    let wrong = '';
    for (let i = 0; i < INFERENCES; ++i) {
      const r = await serverJson('/v2/models/simple/infer', { method: 'POST', body: inferBody() });
      const out = r.json && r.json.outputs && r.json.outputs.find((o) => o.name === 'OUTPUT0');
      const sum = out && out.data.every((v, k) => v === k + 1);
      if (r.status === 200 && sum) ++good;
      else if (!wrong) wrong = `status ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`;
      await sleep(50);
    }
    check(good === INFERENCES, 'model.inferences',
      `${good} of ${INFERENCES} inferences to simple answered OUTPUT0 = INPUT0 + INPUT1` +
      (wrong ? `; ${wrong}` : ''));
    const grown = await waitFor(async () => {
      const rate = await page.$eval('#model-tiles .tile[data-key="requests_per_s"] .v',
        (e) => e.textContent);
      const r = await points('#chart-rate');
      const l = await points('#chart-latency');
      return Number(rate) > 0 && r > rateBefore && l > latencyBefore ? { rate, r, l } : null;
    }, 8000, 250);
    const rateNow = await page.$eval('#model-tiles .tile[data-key="requests_per_s"] .v',
      (e) => e.textContent);
    check(grown, 'model.charts_update',
      `requests/s shown ${rateNow}; ` +
      `rate chart points ${rateBefore} -> ${await points('#chart-rate')}, ` +
      `latency chart points ${latencyBefore} -> ${await points('#chart-latency')}`);
    await page.screenshot({ path: path.join(artifacts, 'model_detail.png'), fullPage: true });
    noProblems('model.clean_console');

    // -- Streams ---------------------------------------------------------------------------
    await page.click('#tab-streams');
    const frameCount = (name) => page.evaluate((n) => {
      const img = document.querySelector(`img[data-stream="${n}"]`);
      return img ? Number(img.dataset.frames) : -1;
    }, name);
    // Box pixels in the stream's image as the page shows it, over a few frames (the track is
    // confirmed after a few detections, so the very first frame may have no box yet).
    const boxPixels = async (name, timeoutMs) => {
      let best = 0;
      await waitFor(async () => {
        const img = await page.$(`img[data-stream="${name}"]`);
        if (!img || (await frameCount(name)) < 1) return false;
        framesShown.set(name, true);
        const png = decodePng(Buffer.from(await img.screenshot()));
        best = Math.max(best, countNear(png, TRACK1_RGB, MAX_CHANNEL_DIFF));
        return best >= MIN_BOX_PIXELS;
      }, timeoutMs, 300);
      return best;
    };
    const clipFrames = await waitFor(async () => (await frameCount('clip')) >= 1, 10000);
    check(clipFrames, 'streams.clip_video',
      `the page shows ${await frameCount('clip')} frames of clip`);
    const clipPixels = await boxPixels('clip', 6000);
    check(clipPixels >= MIN_BOX_PIXELS, 'streams.clip_box',
      `${clipPixels} pixels within ${MAX_CHANNEL_DIFF} of RGB(${TRACK1_RGB}) (track 1's colour) ` +
      `in the image, at least ${MIN_BOX_PIXELS} needed`);
    const chartPoints = () => page.evaluate(() => {
      const card = document.querySelector('.stream[data-stream="clip"]');
      const out = {};
      for (const k of ['fps', 'lag', 'skip', 'decisions']) {
        out[k] = Number(card.querySelector(`canvas.${k}`).dataset.points || 0);
      }
      return out;
    });
    const first = await chartPoints();
    await sleep(3200);
    const second = await chartPoints();
    const moved = ['fps', 'lag', 'skip'].every((k) => second[k] > first[k]);
    check(moved, 'streams.charts_update',
      `points 3.2 s apart: fps ${first.fps} -> ${second.fps}, lag ${first.lag} -> ${second.lag}, ` +
      `skip ${first.skip} -> ${second.skip}; decision strip ${second.decisions} frames`);
    const clipFramesNow = await frameCount('clip');
    check(clipFramesNow > clipFrames, 'streams.clip_refreshes',
      `${clipFramesNow} frames shown after 3.2 s more (about 4 a second expected)`);
    noProblems('streams.clean_console');

    // -- The inference token may not act ---------------------------------------------------
    // The page offers no action to a token that may not take it (api/summary's access), and
    // the server refuses the action if it is sent anyway.
    await page.click('#tab-models');
    await waitFor(async () => (await rowState('simple')) === 'READY', 5000);
    const offered = await page.evaluate(() => {
      const controls = [...document.querySelectorAll('.admin button, button.admin, .admin input')];
      return controls.filter((b) => !b.disabled && b.offsetParent !== null)
        .map((b) => b.textContent || b.id);
    });
    const mode = await page.$eval('#mode', (e) => e.textContent);
    provoked = { status: 403, path: '/v2/repository/models/simple/unload' };
    provokedSeen = 0;
    const refusedStatus = await page.evaluate(async (t) => (await fetch(
      '/v2/repository/models/simple/unload',
      { method: 'POST', headers: { Authorization: `Bearer ${t}` } })).status, inferToken);
    await sleep(1200);  // a poll or more: the model must still be READY
    check(offered.length === 0 && refusedStatus === 403 && provokedSeen === 1 &&
      (await rowState('simple')) === 'READY', 'auth.inference_token_read_only',
      `with the inference token: mode "${mode}", ${offered.length} actions offered` +
      (offered.length ? ` (${offered.join(', ')})` : '') + `; an unload sent anyway answered ` +
      `${refusedStatus}; simple ${await rowState('simple')}`);
    provoked = null;

    // -- Admin -----------------------------------------------------------------------------
    await page.click('#tab-streams');
    await enterToken(adminToken);
    const unlocked = await waitFor(() => page.evaluate((t) => ({
      stored: Object.values(sessionStorage).includes(t),
      count: sessionStorage.length,
      local: localStorage.length,
      field: document.querySelector('#token-input').value,
      addUsable: !document.querySelector('#stream-add').disabled &&
        document.querySelector('#stream-add').offsetParent !== null,
    }), adminToken).then((s) => (s.stored && s.addUsable ? s : null)), 3000);
    check(unlocked && unlocked.count === 1 && unlocked.local === 0 && unlocked.field === '',
      'auth.admin_token_entered',
      unlocked ? 'the admin token replaced the inference token in sessionStorage ' +
        `(${unlocked.count} item), nothing in localStorage, the field emptied; the add form usable`
        : 'the admin token did not unlock the add form');

    // Add clip2 from the same file through the form.
    await page.type('#stream-name', 'clip2');
    await page.type('#stream-source', clipPath);
    await page.click('#stream-add');
    const clip2 = await waitFor(async () => (await frameCount('clip2')) >= 1, 15000);
    check(clip2, 'streams.add_clip2',
      `clip2 added through the form; ${await frameCount('clip2')} frames shown`);
    const clip2Pixels = await boxPixels('clip2', 8000);
    check(clip2Pixels >= MIN_BOX_PIXELS, 'streams.clip2_box',
      `${clip2Pixels} box pixels in clip2's image, at least ${MIN_BOX_PIXELS} needed`);
    // The screenshot once clip2's charts have a few points too (not a check: a better picture).
    await waitFor(() => page.$eval('.stream[data-stream="clip2"] canvas.fps',
      (c) => Number(c.dataset.points || 0) >= 3), 5000, 250);
    await page.screenshot({ path: path.join(artifacts, 'streams.png'), fullPage: true });

    // Unload and load simple from the Models view.
    await page.click('#tab-models');
    await waitFor(async () => (await rowState('simple')) === 'READY', 5000);
    const seen = [];
    const watch = async (want, timeoutMs) => waitFor(async () => {
      const s = await rowState('simple');
      if (seen[seen.length - 1] !== s) seen.push(s);
      return s === want;
    }, timeoutMs, 50);
    await page.click('#models-table tbody tr[data-model="simple"] button.unload');
    const down = await watch('UNAVAILABLE', 10000);
    check(down, 'admin.unload', `states in the table: ${seen.join(' -> ')}`);
    await waitFor(() => page.$eval('#models-table tbody tr[data-model="simple"] button.load',
      (b) => !b.disabled), 3000);
    await page.click('#models-table tbody tr[data-model="simple"] button.load');
    const up = await watch('READY', 15000);
    check(up, 'admin.load', `states in the table: ${seen.join(' -> ')}`);

    const leaked = requestUrls.concat(page.url())
      .filter((u) => [inferToken, adminToken].some((t) => u.includes(t)));
    check(leaked.length === 0, 'auth.tokens_not_in_urls',
      `${requestUrls.length} requests made by the page, ${leaked.length} with a token in the URL`);
    noProblems('admin.clean_console');
  } finally {
    closing = true;
    await browser.close();
  }
}

const timer = setTimeout(() => {
  console.log(`FAIL time_limit: the run took more than ${TIME_LIMIT_MS / 1000} s`);
  process.exit(1);
}, TIME_LIMIT_MS);

main().then(() => {
  clearTimeout(timer);
  const failed = results.filter((r) => !r.ok);
  console.log(`${results.length - failed.length} of ${results.length} checks passed`);
  process.exit(failed.length ? 1 : 0);
}, (err) => {
  clearTimeout(timer);
  if (!(err instanceof CheckFailed)) console.log(`FAIL error: ${err.stack || err}`);
  const passed = results.filter((r) => r.ok).length;
  console.log(`stopped at the first failure; ${passed} checks passed before`);
  process.exit(1);
});
