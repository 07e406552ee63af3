// The Supernova web console: models, their placement and load, live streams with the server's
// boxes drawn, and the admin actions. Plain ES2020 served by the binary at /console/, so every
// URL here is relative ('api/models' is /console/api/models, '../v2/...' the KServe API).
//
// Rules it keeps (docs/console.md): the token the user enters lives in sessionStorage and
// travels only in the Authorization header, never in a URL (the frames are fetched with it
// and shown through blob: URLs); a 401 stops the polling and asks for a token instead of
// failing again every second; errors are shown on the page, never written to the browser's
// console; only the visible view polls the server.
'use strict';

(() => {
  const TOKEN_KEY = 'supernova.console.token';
  const POLL_MS = 1000;
  const SUMMARY_MS = 5000;
  const FRAME_MS = 250;
  const ONNX_PLATFORM = 'onnxruntime_onnx';

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    summary: null,
    route: { view: 'models', model: '' },
    // A GET answered 401: nothing is polled until a token is entered.
    needToken: false,
    busy: false,
    bannerUntil: 0,
    lastSummary: 0,
    models: [],
    modelDetail: { name: '', configFor: '', placementFor: '', classesFor: '' },
    streams: new Map(), // name -> card (see streamCard)
  };

  const $ = (sel, root = document) => root.querySelector(sel);

  // ---- The server's API -------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // One call with the token in its header. Answers the parsed JSON (null for an empty body),
  // or the Blob with { blob: true }; throws ApiError (status 0: the server is unreachable).
  async function api(path, { method = 'GET', body, blob = false } = {}) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'the server cannot be reached');
    }
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const j = await res.json();
        if (j && j.error) message = j.error;
      } catch (e) {
        // Not JSON: the status line says enough.
      }
      throw new ApiError(res.status, message);
    }
    if (blob) return res.blob();
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  const enc = encodeURIComponent;

  // ---- Banner, token and read-only mode ---------------------------------------------------

  // The banner: a failed read is cleared by the next good one; a failed action stays a while
  // (`holdMs`) so the user can read it.
  function showBanner(text, kind = 'warn', holdMs = 0) {
    const b = $('#banner');
    b.textContent = text;
    b.className = `banner ${kind === 'error' ? 'error' : ''}`;
    b.hidden = false;
    state.bannerUntil = performance.now() + holdMs;
  }

  function hideBanner(force = true) {
    if (force || performance.now() >= state.bannerUntil) $('#banner').hidden = true;
  }

  // A failed GET: 401 asks for a token and pauses the polling; 403 says the token is not
  // enough; anything else is shown and the next poll tries again.
  function readFailed(err, what) {
    if (err.status === 401) {
      state.needToken = true;
      showBanner(state.token
        ? 'The server refused this token. Enter the inference or admin token above.'
        : 'This server needs a token: enter the inference or admin token above to see it.');
      $('#token-input').focus();
    } else if (err.status === 403) {
      showBanner(`This token may not read ${what}: ${err.message}`, 'error');
    } else if (err.status === 0) {
      showBanner('The server cannot be reached; retrying…', 'error');
    } else {
      showBanner(`Reading ${what} failed: ${err.message}`, 'error');
    }
  }

  // A failed action, shown next to it (or in the banner).
  function actionError(err) {
    if (err.status === 401 || err.status === 403) {
      return `refused: this needs the admin token (${err.message})`;
    }
    return err.message;
  }

  // Whether the token entered may act: the server says what it grants (api/summary's access),
  // so an inference token leaves the actions off rather than offering them to be refused.
  function canAdmin() {
    return state.token !== '' && !!state.summary && state.summary.access === 'admin';
  }

  function applyToken() {
    const unlocked = state.token !== '';
    const admin = canAdmin();
    document.body.classList.toggle('unlocked', admin);
    document.querySelectorAll('.admin button, button.admin').forEach((b) => {
      b.disabled = !admin;
    });
    const mode = $('#mode');
    mode.textContent = admin ? 'admin' : unlocked ? 'read-only token' : 'read-only';
    mode.classList.toggle('admin-mode', admin);
    $('#token-clear').hidden = !unlocked;
    $('#token-set').textContent = unlocked ? 'Replace' : 'Unlock';
    $('#token-input').placeholder = unlocked ? 'token set (hidden)' : 'admin or inference token';
  }

  function setToken(token) {
    state.token = token;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    state.needToken = false;
    state.summary = null;  // what the new token grants is asked again
    state.lastSummary = 0;
    state.modelDetail.configFor = '';
    state.modelDetail.placementFor = '';
    state.modelDetail.classesFor = '';
    hideBanner();
    applyToken();
    tick();
  }

  // ---- Formatting -------------------------------------------------------------------------

  function fmt(v, digits = 1) {
    if (v === null || v === undefined || !Number.isFinite(v)) return '—';
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
    return v.toFixed(digits);
  }

  function fmtDuration(s) {
    if (!Number.isFinite(s)) return '—';
    if (s < 60) return `${Math.floor(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c);
    return e;
  }

  // Tiles: a row of labelled figures, keyed so that updates change text only.
  function setTiles(root, items) {
    for (const [key, label, value] of items) {
      let tile = root.querySelector(`.tile[data-key="${key}"]`);
      if (!tile) {
        tile = el('div', { class: 'tile', 'data-key': key },
          el('div', { class: 'v' }), el('div', { class: 'k', text: label }));
        root.append(tile);
      }
      tile.querySelector('.v').textContent = value;
    }
  }

  // ---- Charts -----------------------------------------------------------------------------

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  // A step of 1, 2 or 5 times a power of ten that cuts `span` into about `count` parts.
  function niceStep(span, count) {
    const raw = span / count;
    const p = 10 ** Math.floor(Math.log10(raw));
    const m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function fitCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx, w: canvas.clientWidth, h: canvas.clientHeight };
  }

  // A line chart: `times` in seconds (x), `series` [{ name, values }] of the same length,
  // null where a value is missing (the line breaks there). The y range starts at 0 and ends
  // at a round number above the largest value. canvas.dataset.points is the number of times
  // with at least one value drawn, so a test can see the chart move.
  function drawChart(canvas, { title, unit = '', times, series }) {
    const { ctx, w, h } = fitCanvas(canvas);
    const fg = cssVar('--fg');
    const muted = cssVar('--muted');
    const grid = cssVar('--grid');
    const colours = [1, 2, 3, 4].map((i) => cssVar(`--series-${i}`));
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';

    const left = 46;
    const right = 10;
    const top = 36;
    const bottom = 22;
    const pw = w - left - right;
    const ph = h - top - bottom;

    ctx.fillStyle = fg;
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.textAlign = 'left';
    ctx.fillText(unit ? `${title} (${unit})` : title, 8, 10);
    ctx.font = '11px system-ui, sans-serif';

    let drawn = 0;
    let ymax = 0;
    for (let i = 0; i < times.length; ++i) {
      let any = false;
      for (const s of series) {
        const v = s.values[i];
        if (v !== null && v !== undefined && Number.isFinite(v)) {
          any = true;
          ymax = Math.max(ymax, v);
        }
      }
      if (any) ++drawn;
    }
    canvas.dataset.points = String(drawn);

    // Legend: a swatch, the name and the latest value of each series.
    let lx = 8;
    series.forEach((s, k) => {
      let last = null;
      for (let i = s.values.length - 1; i >= 0; --i) {
        if (s.values[i] !== null && s.values[i] !== undefined) {
          last = s.values[i];
          break;
        }
      }
      const label = `${s.name} ${fmt(last, s.digits ?? 1)}`;
      ctx.fillStyle = colours[k % colours.length];
      ctx.fillRect(lx, 22, 10, 3);
      ctx.fillStyle = muted;
      ctx.textAlign = 'left';
      ctx.fillText(label, lx + 14, 24);
      lx += 24 + ctx.measureText(label).width;
    });

    if (drawn === 0 || pw < 20 || ph < 20) {
      ctx.fillStyle = muted;
      ctx.textAlign = 'center';
      ctx.fillText('no data yet', left + pw / 2, top + ph / 2);
      return;
    }

    const step = niceStep(ymax > 0 ? ymax : 1, 4);
    const ytop = Math.max(step, Math.ceil((ymax * 1.05) / step) * step);
    const tmax = times[times.length - 1];
    const tmin = Math.min(times[0], tmax - 10);
    const xOf = (t) => left + ((t - tmin) / (tmax - tmin)) * pw;
    const yOf = (v) => top + ph - (v / ytop) * ph;

    // Grid and y labels.
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = muted;
    ctx.textAlign = 'right';
    for (let v = 0; v <= ytop + step / 2; v += step) {
      const y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + pw, y);
      ctx.stroke();
      ctx.fillText(fmt(v, step < 1 ? 2 : 0), left - 6, y);
    }
    // x labels: seconds before the newest point.
    ctx.textAlign = 'center';
    const span = tmax - tmin;
    const xstep = niceStep(span, 4);
    for (let ago = 0; ago <= span + 1e-9; ago += xstep) {
      const x = xOf(tmax - ago);
      let label = 'now';
      if (ago >= 120) label = `−${fmt(ago / 60, 0)} min`;
      else if (ago > 0) label = `−${fmt(ago, 0)} s`;
      ctx.fillText(label, x, top + ph + 12);
    }

    // The lines; a point with no neighbours is a dot.
    series.forEach((s, k) => {
      ctx.strokeStyle = colours[k % colours.length];
      ctx.fillStyle = ctx.strokeStyle;
      ctx.lineWidth = 1.6;
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < times.length; ++i) {
        const v = s.values[i];
        if (v === null || v === undefined || !Number.isFinite(v)) {
          pen = false;
          continue;
        }
        const x = xOf(times[i]);
        const y = yOf(v);
        const missing = (u) => u === null || u === undefined;
        const alone = missing(s.values[i - 1]) && missing(s.values[i + 1]);
        if (alone) ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
        if (pen) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
    });
  }

  // The frame-skip controller's decisions, oldest first: a strip of cells, inferred (I) in the
  // accent colour and skipped (S) in grey.
  function drawDecisions(canvas, decisions) {
    const { ctx, w, h } = fitCanvas(canvas);
    ctx.clearRect(0, 0, w, h);
    const n = decisions.length;
    canvas.dataset.points = String(n);
    const inferred = cssVar('--inferred');
    const skipped = cssVar('--skipped');
    if (n === 0) {
      ctx.fillStyle = cssVar('--muted');
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText('no decisions yet', w / 2, h / 2);
      return;
    }
    const cw = (w - 8) / Math.max(n, 300);
    for (let i = 0; i < n; ++i) {
      ctx.fillStyle = decisions[i] === 'I' ? inferred : skipped;
      ctx.fillRect(4 + i * cw, 4, Math.max(cw - 0.3, 0.7), h - 8);
    }
  }

  // ---- Summary ----------------------------------------------------------------------------

  async function refreshSummary() {
    const s = await api('api/summary');
    state.summary = s;
    applyToken();
    const parts = [`${s.name} ${s.version}`, `up ${fmtDuration(s.uptime_s)}`,
      s.ready ? 'ready' : 'not ready'];
    $('#server-info').textContent = parts.join(' · ');
    const auth = s.auth || {};
    $('#token-label').textContent =
      auth.admin_token || auth.infer_token ? 'Token' : 'Token (none set)';
    $('#stream-form').hidden = !(s.streams && s.streams.enabled);
    let note = '';
    if (!auth.admin_token && !auth.infer_token) {
      note = 'Administration is off on this server (it was started without --admin-token-file).';
    }
    $('#models-note').textContent = note;
  }

  // ---- Models -----------------------------------------------------------------------------

  async function refreshModels() {
    const m = await api('api/models');
    state.models = m.models || [];
    return m;
  }

  // Load or unload: the table shows the state the server reports on the next polls.
  function modelAction(name, action, button) {
    button.disabled = true;
    api(`../v2/repository/models/${enc(name)}/${action}`, { method: 'POST' })
      .then(() => {
        hideBanner();
        state.modelDetail.configFor = '';
        state.modelDetail.placementFor = '';
      })
      .catch((err) => showBanner(`${action} ${name}: ${actionError(err)}`, 'error', 10000))
      .finally(() => {
        button.disabled = !canAdmin();
        tick();
      });
  }

  function renderModelsTable() {
    const tbody = $('#models-table tbody');
    const seen = new Set();
    for (const m of state.models) {
      const key = `${m.name}\u0000${m.version || ''}`;
      seen.add(key);
      let tr = [...tbody.rows].find((r) => r.dataset.key === key);
      if (!tr) {
        tr = el('tr', { 'data-key': key, 'data-model': m.name });
        const link = el('a', { href: `#/models/${enc(m.name)}`, text: m.name });
        const load = el('button', { type: 'button', class: 'load', text: 'Load' });
        const unload = el('button', { type: 'button', class: 'unload', text: 'Unload' });
        load.addEventListener('click', () => modelAction(m.name, 'load', load));
        unload.addEventListener('click', () => modelAction(m.name, 'unload', unload));
        tr.append(el('td', {}, link), el('td', { class: 'version' }),
          el('td', { class: 'state-cell' }, el('span', { class: 'state' }),
            el('div', { class: 'reason small' })),
          el('td', { class: 'platform' }), el('td', { class: 'num rate' }),
          el('td', { class: 'num p50' }), el('td', { class: 'num p99' }),
          el('td', { class: 'num queue' }), el('td', { class: 'num batch' }),
          el('td', { class: 'num counts' }), el('td', { class: 'admin' }, load, unload));
        tbody.append(tr);
      }
      const st = m.stats || {};
      tr.dataset.state = m.state;
      tr.querySelector('.version').textContent = m.version || '—';
      const badge = tr.querySelector('.state');
      badge.textContent = m.state;
      badge.className = `state ${m.state}`;
      tr.querySelector('.reason').textContent = m.reason || '';
      tr.querySelector('.platform').textContent = m.platform || '—';
      tr.querySelector('.rate').textContent = fmt(st.requests_per_s);
      tr.querySelector('.p50').textContent = fmt(st.latency_p50_ms, 2);
      tr.querySelector('.p99').textContent = fmt(st.latency_p99_ms, 2);
      tr.querySelector('.queue').textContent = m.stats ? String(st.queue_depth ?? '—') : '—';
      tr.querySelector('.batch').textContent = fmt(st.mean_batch, 2);
      tr.querySelector('.counts').textContent =
        m.stats ? `${st.success ?? 0} / ${st.failure ?? 0}` : '—';
      const ready = m.state === 'READY';
      const locked = !canAdmin();
      tr.querySelector('button.load').disabled = locked;
      tr.querySelector('button.unload').disabled = locked || !ready;
    }
    for (const tr of [...tbody.rows]) if (!seen.has(tr.dataset.key)) tr.remove();
  }

  // ---- One model --------------------------------------------------------------------------

  function renderIo(m) {
    const tbody = $('#model-io tbody');
    tbody.replaceChildren();
    const rows = [...(m.inputs || []).map((t) => ['input', t]),
      ...(m.outputs || []).map((t) => ['output', t])];
    for (const [kind, t] of rows) {
      tbody.append(el('tr', { 'data-kind': kind }, el('td', { class: 'muted', text: kind }),
        el('td', { text: t.name }), el('td', { text: t.datatype }),
        el('td', { text: `[${(t.shape || []).join(', ')}]` })));
    }
    if (rows.length === 0) {
      tbody.append(el('tr', {}, el('td', { colSpan: 4, class: 'muted',
        text: 'known once the model is loaded' })));
    }
  }

  function renderPlacement(p) {
    const root = $('#model-placement');
    root.className = '';
    root.replaceChildren();
    const facts = [`providers: ${(p.providers || []).join(', ') || '—'}`,
      `seams ${p.seams ?? 0}`, `copies ${p.copies ?? 0}`];
    root.append(el('p', { text: facts.join(' · ') }));
    if ((p.pieces || []).length) {
      root.append(el('ul', {}, ...p.pieces.map((s) => el('li', { text: s }))));
    }
    for (const n of p.notes || []) root.append(el('p', { class: 'muted small', text: n }));
    const table = el('table', { class: 'grid', id: 'placement-nodes' },
      el('thead', {}, el('tr', {}, el('th', { text: 'Node' }), el('th', { text: 'Op' }),
        el('th', { text: 'Provider' }), el('th', { text: 'Why' }))));
    const tbody = el('tbody');
    for (const n of p.nodes || []) {
      tbody.append(el('tr', {}, el('td', { text: n.node }), el('td', { text: n.op_type }),
        el('td', { text: n.provider }), el('td', { class: 'muted', text: n.reason || '' })));
    }
    table.append(tbody);
    root.append(table);
  }

  // A backend's own state (a split's cut and link, a classifier's class count...), whatever
  // its shape: nested objects flattened to dotted keys, one row each.
  function renderBackend(backend) {
    const section = $('#model-backend');
    section.hidden = !backend;
    if (!backend) return;
    const rows = [];
    const walk = (prefix, v) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
      } else {
        const text = typeof v === 'number' && !Number.isInteger(v) ? fmt(v, 3) : JSON.stringify(v);
        rows.push(el('tr', {}, el('td', { class: 'muted', text: prefix }),
          el('td', { text: typeof v === 'string' ? v : text })));
      }
    };
    walk('', backend);
    $('#backend-table tbody').replaceChildren(...rows);
  }

  async function refreshClasses(name) {
    const section = $('#model-classes');
    section.hidden = false;
    const tbody = $('#classes-table tbody');
    if (!state.token) {
      $('#classes-note').textContent = 'The learned classes are shown with the admin token.';
      tbody.replaceChildren();
      return;
    }
    try {
      const r = await api(`../v2/models/${enc(name)}/classes`);
      const classes = (r && r.classes) || [];
      $('#classes-note').textContent = `${classes.length} class${classes.length === 1 ? '' : 'es'}`;
      tbody.replaceChildren(...classes.map((c) => {
        const remove = el('button', { type: 'button', text: 'Remove' });
        remove.addEventListener('click', () => {
          remove.disabled = true;
          api(`../v2/models/${enc(name)}/classes/${enc(c.name)}`, { method: 'DELETE' })
            .then(() => { state.modelDetail.classesFor = ''; })
            .catch((err) => showBanner(`remove ${c.name}: ${actionError(err)}`, 'error', 10000));
        });
        return el('tr', {}, el('td', { text: c.name }),
          el('td', { class: 'num', text: String(c.examples ?? c.count ?? '—') }),
          el('td', { class: 'admin' }, remove));
      }));
    } catch (err) {
      $('#classes-note').textContent = `classes: ${actionError(err)}`;
    }
  }

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
      r.onerror = () => reject(new Error(`cannot read ${file.name}`));
      r.readAsDataURL(file);
    });
  }

  async function enrol(ev) {
    ev.preventDefault();
    const name = state.route.model;
    const cls = $('#enrol-class').value.trim();
    const files = [...$('#enrol-files').files];
    const out = $('#enrol-result');
    if (!cls || files.length === 0) return;
    out.textContent = 'sending…';
    try {
      const images = await Promise.all(files.map(readBase64));
      await api(`../v2/models/${enc(name)}/classes/${enc(cls)}`,
        { method: 'POST', body: { images } });
      out.textContent = `${cls}: ${images.length} images added`;
      state.modelDetail.classesFor = '';
      tick();
    } catch (err) {
      out.textContent = actionError(err);
    }
  }

  function enterModel(name) {
    const d = state.modelDetail;
    if (d.name !== name) {
      d.name = name;
      d.configFor = '';
      d.placementFor = '';
      d.classesFor = '';
      $('#model-name').textContent = name;
      $('#model-config').textContent = '—';
      $('#model-placement').replaceChildren('—');
      $('#model-tiles').replaceChildren();
      $('#model-classes').hidden = true;
      $('#model-backend').hidden = true;
      for (const id of ['#chart-rate', '#chart-latency', '#chart-queue']) {
        drawChart($(id), { title: '', times: [], series: [] });
      }
    }
  }

  async function refreshModel() {
    const name = state.route.model;
    const d = state.modelDetail;
    await refreshModels();
    const m = state.models.find((x) => x.name === name);
    if (!m) {
      $('#model-state').textContent = 'not in the repository';
      $('#model-state').className = 'state UNAVAILABLE';
      return;
    }
    const st = m.stats || {};
    $('#model-state').textContent = m.state;
    $('#model-state').className = `state ${m.state}`;
    $('#model-meta').textContent = [`version ${m.version || '—'}`, m.platform,
      `max batch ${m.max_batch_size ?? '—'}`, `${m.instances ?? '—'} instances`].join(' · ');
    $('#model-reason').textContent = m.reason || '';
    $('#model-reason').hidden = !m.reason;
    const ready = m.state === 'READY';
    $('#model-unload').disabled = !canAdmin() || !ready;
    $('#model-load').disabled = !canAdmin();
    setTiles($('#model-tiles'), [
      ['requests_per_s', 'requests/s', fmt(st.requests_per_s)],
      ['latency_p50_ms', 'latency p50 ms', fmt(st.latency_p50_ms, 2)],
      ['latency_p99_ms', 'latency p99 ms', fmt(st.latency_p99_ms, 2)],
      ['queue_p50_ms', 'queue p50 ms', fmt(st.queue_p50_ms, 2)],
      ['queue_depth', 'queue depth', m.stats ? String(st.queue_depth ?? '—') : '—'],
      ['mean_batch', 'mean batch', fmt(st.mean_batch, 2)],
      ['success', 'succeeded', m.stats ? String(st.success ?? 0) : '—'],
      ['failure', 'failed', m.stats ? String(st.failure ?? 0) : '—'],
    ]);
    renderIo(m);
    renderBackend(m.backend);

    let hist = null;
    try {
      hist = await api(`api/models/${enc(name)}/history`);
    } catch (err) {
      if (err.status !== 404) throw err;  // a model with no history yet
    }
    const pts = (hist && hist.points) || [];
    const times = pts.map((p) => p.t);
    drawChart($('#chart-rate'), { title: 'Requests', unit: '/s', times,
      series: [{ name: 'rate', values: pts.map((p) => p.requests_per_s) }] });
    drawChart($('#chart-latency'), { title: 'Latency', unit: 'ms', times,
      series: [{ name: 'p50', values: pts.map((p) => p.latency_p50_ms), digits: 2 },
        { name: 'p99', values: pts.map((p) => p.latency_p99_ms), digits: 2 }] });
    drawChart($('#chart-queue'), { title: 'Queue and batch', times,
      series: [{ name: 'queue depth', values: pts.map((p) => p.queue_depth), digits: 0 },
        { name: 'mean batch', values: pts.map((p) => p.mean_batch), digits: 2 }] });

    // The config and the placement are fetched once per READY spell: they change only on a load.
    const readyKey = ready ? `${name}@${m.version}` : '';
    if (ready && d.configFor !== readyKey) {
      d.configFor = readyKey;
      try {
        const cfg = await api(`../v2/models/${enc(name)}/config`);
        $('#model-config').textContent = JSON.stringify(cfg, null, 2);
      } catch (err) {
        $('#model-config').textContent = `config: ${actionError(err)}`;
      }
    } else if (!ready) {
      d.configFor = '';
      $('#model-config').textContent = 'shown once the model is loaded';
    }
    if (ready && d.placementFor !== readyKey) {
      d.placementFor = readyKey;
      if (m.platform === ONNX_PLATFORM) {
        try {
          renderPlacement(await api(`api/models/${enc(name)}/placement`));
        } catch (err) {
          $('#model-placement').replaceChildren(`no placement report: ${err.message}`);
        }
      } else {
        $('#model-placement').replaceChildren(
          `${m.platform} runs outside the partitioner: no placement report`);
      }
    } else if (!ready) {
      d.placementFor = '';
      $('#model-placement').replaceChildren('shown once the model is loaded');
    }
    if (m.platform === 'supernova_classifier' && ready) {
      const key = `${readyKey}:${state.token ? 1 : 0}`;
      if (d.classesFor !== key) {
        d.classesFor = key;
        await refreshClasses(name);
      }
    } else {
      $('#model-classes').hidden = true;
    }
  }

  // ---- Streams ----------------------------------------------------------------------------

  // One stream's card, made once and updated in place (so the image and buttons stay put).
  function streamCard(name) {
    let card = state.streams.get(name);
    if (card) return card;
    const img = el('img', { alt: `stream ${name}`, 'data-stream': name, 'data-frames': '0' });
    img.hidden = true;
    const waiting = el('span', { class: 'waiting', text: 'waiting for the first frame' });
    const remove = el('button', { type: 'button', class: 'remove', text: 'Remove' });
    remove.disabled = !canAdmin();
    const root = el('div', { class: 'stream', 'data-stream': name },
      el('div', { class: 'stream-head' }, el('h2', { text: name }),
        el('span', { class: 'state' }), el('span', { class: 'muted source' }),
        el('span', { class: 'admin' }, remove)),
      el('p', { class: 'reason error', hidden: true }),
      el('div', { class: 'stream-body' }, el('div', { class: 'video' }, img, waiting),
        el('div', {}, el('div', { class: 'tiles' }),
          el('canvas', { class: 'strip decisions' }),
          el('p', { class: 'muted small decisions-note' }))),
      el('div', { class: 'charts' },
        el('figure', {}, el('canvas', { class: 'chart fps' })),
        el('figure', {}, el('canvas', { class: 'chart lag' })),
        el('figure', {}, el('canvas', { class: 'chart skip' }))));
    remove.addEventListener('click', () => {
      remove.disabled = true;
      api(`api/streams/${enc(name)}`, { method: 'DELETE' })
        .then(() => tick())
        .catch((err) => {
          remove.disabled = !canAdmin();
          showBanner(`remove ${name}: ${actionError(err)}`, 'error', 10000);
        });
    });
    card = { name, root, img, waiting, url: '', frames: 0, info: null, looping: false };
    state.streams.set(name, card);
    $('#streams-list').append(root);
    return card;
  }

  function dropStream(card) {
    if (card.url) URL.revokeObjectURL(card.url);
    card.root.remove();
    state.streams.delete(card.name);
  }

  function renderStream(card, s) {
    card.info = s;
    const r = card.root;
    const badge = r.querySelector('.state');
    badge.textContent = s.state;
    badge.className = `state ${s.state}`;
    r.dataset.state = s.state;
    r.querySelector('.source').textContent =
      `${s.source}${s.width ? ` · ${s.width}×${s.height}` : ''}`;

    const tiles = [
      ['input_fps', 'input fps', fmt(s.input_fps)],
      ['inferred_fps', 'inferred fps', fmt(s.inferred_fps)],
      ['lag_p50_ms', 'lag p50 ms', fmt(s.lag_p50_ms)],
      ['lag_p99_ms', 'lag p99 ms', fmt(s.lag_p99_ms)],
      ['tracks', 'tracks', String(s.tracks ?? '—')],
      ['frames', 'frames', String(s.frames ?? '—')],
      ['inferred', 'inferred', String(s.inferred ?? '—')],
      ['skipped', 'skipped', String(s.skipped ?? '—')],
      ['dropped', 'dropped', String(s.dropped ?? '—')],
    ];
    if (s.cloud) {
      tiles.push(['cloud_sent', 'escalated to the cloud',
        `${fmt(100 * (s.cloud.sent_fraction ?? NaN))} %`]);
      tiles.push(['cloud_bytes', 'cloud kB/s', fmt((s.cloud.bytes_per_s ?? NaN) / 1000)]);
      tiles.push(['cloud_rtt', 'cloud rtt p50 ms', fmt(s.cloud.rtt_p50_ms)]);
      tiles.push(['cloud_answered', 'cloud answers', String(s.cloud.answered ?? '—')]);
      tiles.push(['cloud_failed', 'cloud failures', String(s.cloud.failed ?? '—')]);
      tiles.push(['cloud_edge_f1', 'edge F1 vs cloud', fmt(s.cloud.edge_f1, 2)]);
    }
    const cloudError = s.cloud && s.cloud.error ? `cloud: ${s.cloud.error}` : '';
    setTiles(r.querySelector('.tiles'), tiles);
    const reason = r.querySelector('.reason');
    reason.textContent = [s.error, cloudError].filter(Boolean).join(' · ');
    reason.hidden = reason.textContent === '';
  }

  function renderStreamHistory(card, h) {
    const pts = (h && h.points) || [];
    const times = pts.map((p) => p.t);
    const r = card.root;
    drawChart(r.querySelector('canvas.fps'), { title: 'Frames', unit: 'fps', times,
      series: [{ name: 'input', values: pts.map((p) => p.input_fps) },
        { name: 'inferred', values: pts.map((p) => p.inferred_fps) },
        { name: 'skipped', values: pts.map((p) => p.skipped_fps) }] });
    drawChart(r.querySelector('canvas.lag'), { title: 'Lag', unit: 'ms', times,
      series: [{ name: 'p50', values: pts.map((p) => p.lag_p50_ms) },
        { name: 'p99', values: pts.map((p) => p.lag_p99_ms) }] });
    const share = pts.map((p) => {
      const total = (p.inferred_fps ?? 0) + (p.skipped_fps ?? 0);
      return p.skipped_fps === null || p.skipped_fps === undefined || total <= 0
        ? null : (100 * p.skipped_fps) / total;
    });
    drawChart(r.querySelector('canvas.skip'), { title: 'Frames skipped', unit: '%', times,
      series: [{ name: 'skipped', values: share, digits: 0 }] });
    const decisions = (h && h.decisions) || '';
    drawDecisions(r.querySelector('canvas.decisions'), decisions);
    const inferred = [...decisions].filter((c) => c === 'I').length;
    r.querySelector('.decisions-note').textContent = decisions.length
      ? `frame-skip decisions, oldest first: ${inferred} of the last ${decisions.length} ` +
        'frames inferred'
      : 'frame-skip decisions: none yet';
  }

  // The newest annotated frame of one stream, about four times a second while the Streams view
  // is shown. fetch() carries the token in a header; the image shows a blob: URL, and the
  // previous one is revoked once the new one has been decoded (revoking it earlier would
  // make the browser fail to load a URL it still holds).
  async function frameLoop(card) {
    if (card.looping) return;
    card.looping = true;
    try {
      while (state.route.view === 'streams' && state.streams.get(card.name) === card &&
             !state.needToken) {
        const started = performance.now();
        // Before the first frame the server answers 404: ask only once it has read frames.
        if (card.info && card.info.frames > 0) {
          try {
            const blob = await api(`api/streams/${enc(card.name)}/frame.jpg`, { blob: true });
            const url = URL.createObjectURL(blob);
            const ok = await new Promise((resolve) => {
              card.img.onload = () => resolve(true);
              card.img.onerror = () => resolve(false);
              card.img.src = url;
            });
            if (card.url) URL.revokeObjectURL(card.url);
            card.url = url;
            if (ok) {
              card.frames += 1;
              card.img.dataset.frames = String(card.frames);
              card.img.hidden = false;
              card.waiting.hidden = true;
            }
          } catch (err) {
            if (err.status === 401) {
              readFailed(err, 'the frames');
              break;
            }
            if (err.status !== 404) card.waiting.textContent = `frame: ${err.message}`;
          }
        }
        const wait = FRAME_MS - (performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 20)));
      }
    } finally {
      card.looping = false;
    }
  }

  async function refreshStreams() {
    // A server without --stream-model answers 503 here: not asked at all, so no error a second.
    if (!(state.summary && state.summary.streams && state.summary.streams.enabled)) {
      for (const card of [...state.streams.values()]) dropStream(card);
      $('#streams-note').textContent =
        'This server runs no streams (start it with --stream-model).';
      return;
    }
    const r = await api('api/streams');
    const list = (r && r.streams) || [];
    const names = new Set(list.map((s) => s.name));
    for (const card of [...state.streams.values()]) if (!names.has(card.name)) dropStream(card);
    for (const s of list) renderStream(streamCard(s.name), s);
    const detector = `detector ${state.summary.streams.model}`;
    $('#streams-note').textContent = list.length
      ? `${list.length} stream${list.length === 1 ? '' : 's'} · ${detector}`
      : `No streams yet · ${detector}`;
    await Promise.all(list.map(async (s) => {
      const card = state.streams.get(s.name);
      try {
        renderStreamHistory(card, await api(`api/streams/${enc(s.name)}/history`));
      } catch (err) {
        if (err.status !== 404) throw err;  // removed meanwhile
      }
      frameLoop(card);
    }));
  }

  async function addStream(ev) {
    ev.preventDefault();
    const name = $('#stream-name').value.trim();
    const source = $('#stream-source').value.trim();
    const out = $('#stream-result');
    if (!name || !source) return;
    $('#stream-add').disabled = true;
    out.textContent = 'adding…';
    out.className = 'muted';
    try {
      await api('api/streams', { method: 'POST', body: { name, source } });
      out.textContent = `${name} added`;
      $('#stream-name').value = '';
      $('#stream-source').value = '';
      tick();
    } catch (err) {
      out.textContent = actionError(err);
      out.className = 'error-text';
    } finally {
      $('#stream-add').disabled = !canAdmin();
    }
  }

  // ---- Routing and polling ----------------------------------------------------------------

  function parseRoute() {
    const h = location.hash.replace(/^#\/?/, '');
    const [view, arg] = h.split('/');
    if (view === 'streams') return { view: 'streams', model: '' };
    if (view === 'models' && arg) return { view: 'model', model: decodeURIComponent(arg) };
    return { view: 'models', model: '' };
  }

  function route() {
    state.route = parseRoute();
    const v = state.route.view;
    $('#view-models').hidden = v !== 'models';
    $('#view-model').hidden = v !== 'model';
    $('#view-streams').hidden = v !== 'streams';
    $('#tab-models').classList.toggle('active', v !== 'streams');
    $('#tab-streams').classList.toggle('active', v === 'streams');
    if (v === 'model') enterModel(state.route.model);
    tick();
  }

  // One round of polling for the visible view; a round still running is not doubled.
  async function tick() {
    if (state.busy || state.needToken) return;
    state.busy = true;
    try {
      if (performance.now() - state.lastSummary > SUMMARY_MS || !state.summary) {
        await refreshSummary();
        state.lastSummary = performance.now();
      }
      const v = state.route.view;
      if (v === 'models') {
        await refreshModels();
        renderModelsTable();
      } else if (v === 'model') {
        await refreshModel();
      } else if (v === 'streams') {
        await refreshStreams();
      }
      hideBanner(false);
    } catch (err) {
      readFailed(err, 'the server state');
    } finally {
      state.busy = false;
    }
  }

  function start() {
    $('#token-form').addEventListener('submit', (ev) => {
      // Never a form submission: that would put the token in a URL.
      ev.preventDefault();
      const input = $('#token-input');
      const token = input.value.trim();
      input.value = '';
      if (token) setToken(token);
    });
    $('#token-clear').addEventListener('click', () => setToken(''));
    $('#model-load').addEventListener('click', (ev) =>
      modelAction(state.route.model, 'load', ev.currentTarget));
    $('#model-unload').addEventListener('click', (ev) =>
      modelAction(state.route.model, 'unload', ev.currentTarget));
    $('#stream-form').addEventListener('submit', addStream);
    $('#enrol-form').addEventListener('submit', enrol);
    window.addEventListener('hashchange', route);
    // The charts follow the page's size and colour scheme on the next poll.
    window.addEventListener('resize', () => tick());
    applyToken();
    route();
    setInterval(tick, POLL_MS);
  }

  start();
})();
