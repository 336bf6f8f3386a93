// The AgentOS dashboard page: plain browser JavaScript, no build step. It holds the state the server
// sends (a snapshot, then deltas over the WebSocket), and redraws at most once per animation frame.
'use strict';

(() => {
  // No token here: the server traded the printed URL's ?token= for an HttpOnly cookie (and redirected
  // to /), which every request below (assets, WebSocket, actions) carries.
  const MAX_EVENTS = 5000;
  const SHOWN_EVENTS = 400;
  const $ = (sel) => document.querySelector(sel);
  const SVG = 'http://www.w3.org/2000/svg';

  const state = { mode: 'live', canStart: false, running: false, run: null, tasks: new Map(), events: [], procs: [], metrics: null, report: null };
  let dirty = false;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  // ---- connection ---------------------------------------------------------------------------

  let retryMs = 500;
  function connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/ws`);
    setConn('connecting');
    ws.onopen = () => {
      retryMs = 500;
      setConn('live');
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      onMessage(msg);
    };
    ws.onclose = () => {
      setConn('offline');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function setConn(s) {
    $('#conn').dataset.state = s;
    $('#conn-text').textContent = s === 'live' ? (state.mode === 'replay' ? 'replay' : 'live') : s;
  }

  function onMessage(msg) {
    if (msg.type === 'hello') {
      state.mode = msg.mode;
      state.canStart = !!msg.can_start;
      state.running = !!msg.running;
      if ($('#conn').dataset.state === 'live') setConn('live');
    } else if (msg.type === 'snapshot') {
      state.run = msg.run;
      state.tasks = new Map((msg.tasks || []).map((t) => [t.id, t]));
      state.events = msg.events || [];
      state.procs = msg.procs || [];
      state.metrics = msg.metrics;
      state.report = msg.report || null;
    } else if (msg.type === 'delta') {
      state.run = msg.run;
      for (const t of msg.tasks) state.tasks.set(t.id, t);
      if (msg.events.length) {
        state.events.push(...msg.events);
        if (state.events.length > MAX_EVENTS) state.events.splice(0, state.events.length - MAX_EVENTS);
      }
      state.procs = msg.procs;
      state.metrics = msg.metrics;
      if (msg.report) state.report = msg.report;
    }
    schedule();
  }

  function schedule() {
    if (dirty) return;
    dirty = true;
    requestAnimationFrame(() => {
      dirty = false;
      render();
    });
  }

  // ---- run form -----------------------------------------------------------------------------

  $('#run-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = $('#run-msg');
    msg.textContent = '';
    $('#run-btn').disabled = true;
    try {
      const res = await fetch('/api/run', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ goal: $('#goal').value, inject: $('#inject').checked, repo: $('#repo').value }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) msg.textContent = body.error || `HTTP ${res.status}`;
      else msg.textContent = '';
    } catch (err) {
      msg.textContent = String(err);
    }
  });

  // ---- rendering ----------------------------------------------------------------------------

  function render() {
    renderHeader();
    renderDag();
    renderMetrics();
    renderProcs();
    renderFilters();
    renderEvents();
    renderOutputs();
    renderExtras();
  }

  function fmtSecs(ms) {
    return `${(ms / 1000).toFixed(1)} s`;
  }

  function renderHeader() {
    const r = state.run;
    $('#run-id').textContent = r ? `run ${r.run_id}` : state.mode === 'replay' ? 'replay' : 'no run yet';
    $('#run-plan').textContent = r ? r.plan : '';
    const st = $('#run-status');
    st.dataset.status = r ? r.status : 'none';
    st.textContent = r ? r.status : 'idle';
    $('#run-elapsed').textContent = r ? (r.duration_ms !== null ? fmtSecs(r.duration_ms) : fmtSecs(r.now_t - r.started_t)) : '';
    $('#run-btn').disabled = !(state.canStart && !state.running);
    $('#run-form').hidden = state.mode === 'replay';
  }

  const COLORS = { pending: '#b8bfcc', ready: '#7fb2e5', running: '#f0a830', succeeded: '#2e9d5b', failed: '#d64545', skipped: '#9aa0ab' };
  const FILLS = { pending: '#f1f3f6', ready: '#e8f1fb', running: '#fdf1dc', succeeded: '#e3f4ea', failed: '#fbe4e4', skipped: '#eeeff1' };

  function layout(tasks) {
    const depth = new Map();
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const visit = (t, seen) => {
      if (depth.has(t.id)) return depth.get(t.id);
      if (seen.has(t.id)) return 0;
      seen.add(t.id);
      let d = 0;
      for (const dep of t.deps) {
        const p = byId.get(dep);
        if (p) d = Math.max(d, visit(p, seen) + 1);
      }
      depth.set(t.id, d);
      return d;
    };
    for (const t of tasks) visit(t, new Set());
    const byDepth = [];
    for (const t of tasks) {
      const d = depth.get(t.id);
      (byDepth[d] = byDepth[d] || []).push(t);
    }
    // A wide level (many independent tasks) wraps into several columns of at most MAX_ROWS.
    const MAX_ROWS = 4;
    const cols = [];
    for (const level of byDepth) {
      const list = level || [];
      for (let i = 0; i < Math.max(1, list.length); i += MAX_ROWS) cols.push(list.slice(i, i + MAX_ROWS));
    }
    return { depth, cols };
  }

  function renderDag() {
    const root = $('#dag');
    const tasks = [...state.tasks.values()];
    const counts = {};
    for (const t of tasks) counts[t.state] = (counts[t.state] || 0) + 1;
    $('#dag-summary').textContent = tasks.length ? Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(' · ') : '';
    root.replaceChildren();
    if (!tasks.length) {
      root.setAttribute('width', 300);
      root.setAttribute('height', 40);
      const t = svg('text', { x: 4, y: 24, fill: '#6b7385' });
      t.textContent = state.mode === 'replay' ? 'no tasks in this run' : 'no run yet: enter a goal and press Run';
      root.append(t);
      return;
    }
    const W = 160, H = 50, GX = 36, GY = 14;
    const { cols } = layout(tasks);
    const pos = new Map();
    let maxRows = 0;
    cols.forEach((col, c) => {
      (col || []).forEach((t, r) => pos.set(t.id, { x: 8 + c * (W + GX), y: 8 + r * (H + GY) }));
      maxRows = Math.max(maxRows, (col || []).length);
    });
    root.setAttribute('width', 16 + cols.length * (W + GX) - GX);
    root.setAttribute('height', 16 + maxRows * (H + GY) - GY);
    for (const t of tasks) {
      const b = pos.get(t.id);
      for (const d of t.deps) {
        const a = pos.get(d);
        if (!a) continue;
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
        root.append(svg('path', { class: 'edge', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
      }
    }
    for (const t of tasks) {
      const p = pos.get(t.id);
      const g = svg('g', { class: 'node', 'data-task': t.id, 'data-state': t.state, transform: `translate(${p.x},${p.y})` });
      g.append(svg('rect', { width: W, height: H, rx: 6, fill: FILLS[t.state] || '#fff', stroke: COLORS[t.state] || '#999' }));
      g.append(svg('rect', { width: 5, height: H, rx: 2, fill: COLORS[t.state] || '#999' }));
      const name = svg('text', { x: 12, y: 18 });
      name.textContent = `${t.id}${t.dynamic ? ' +' : ''}`;
      const sub = svg('text', { x: 12, y: 34, class: 'sub' });
      sub.textContent = `${t.served_by || t.agent_now || t.agent} · ${t.state}`;
      const att = svg('text', { x: 12, y: 46, class: 'sub' });
      att.textContent = t.attempts ? `attempt${t.attempts > 1 ? 's' : ''} ${t.attempts}${t.failures.length ? ` · ${t.failures.map((f) => f.kind).join(', ')}` : ''}` : '';
      g.append(name, sub, att);
      t.failures.forEach((f, i) => g.append(svg('circle', { cx: W - 10 - i * 10, cy: 11, r: 3.5, fill: '#d64545' })));
      const title = svg('title');
      title.textContent = `${t.id} (${t.agent})\nstate: ${t.state}\nattempts: ${t.attempts}${t.reason ? `\n${t.reason}` : ''}${t.failures.map((f) => `\n#${f.attempt} ${f.kind}: ${f.message}`).join('')}`;
      g.append(title);
      root.append(g);
    }
  }

  function renderMetrics() {
    const m = state.metrics;
    const dl = $('#metrics');
    dl.replaceChildren();
    if (!m) return;
    const tasks = [...state.tasks.values()];
    const rows = [
      ['tasks', `${tasks.length} (${tasks.filter((t) => t.state === 'succeeded').length} ok, ${tasks.filter((t) => t.state === 'failed').length} failed)`],
      ['attempts', m.attempts],
      ['retries', m.retries],
      ['fallbacks', m.fallbacks],
      ['faults injected', m.faults_injected],
      ['failures', Object.entries(m.failures_by_kind).map(([k, n]) => `${k} ${n}`).join(', ') || '0'],
      ['restarts', m.restarts],
      ['processes spawned', m.processes_spawned],
      ['dynamic tasks', m.dynamic_tasks],
      ['tokens', state.procs.reduce((s, p) => s + (p.tokens || 0), 0)],
      ['events', m.events],
    ];
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', { 'data-metric': k.replace(/ /g, '_') }, v));
  }

  function spark(values, cls) {
    const s = svg('svg', { width: 60, height: 16, class: `spark ${cls}` });
    if (values && values.length > 1) {
      const max = Math.max(...values, cls === 'cpu' ? 1 : 0.001);
      const pts = values.map((v, i) => `${(i / (values.length - 1)) * 58 + 1},${15 - (v / max) * 14}`).join(' ');
      s.append(svg('polyline', { points: pts }));
    }
    return s;
  }

  function renderProcs() {
    const tb = $('#procs tbody');
    tb.replaceChildren();
    const rows = [...state.procs].sort((a, b) => {
      const live = (p) => (p.state === 'exited' || p.state === 'crashed' ? 1 : 0);
      return live(a) - live(b) || a.agent.localeCompare(b.agent) || a.instance - b.instance;
    });
    for (const p of rows) {
      const rss = el('td', {}, p.rss_mb.toFixed(1));
      rss.append(spark(p.rss_hist, 'rss'));
      const cpu = el('td', {}, p.cpu.toFixed(1));
      cpu.append(spark(p.cpu_hist, 'cpu'));
      tb.append(el('tr', { 'data-pid': String(p.pid), 'data-state': p.state, 'data-agent': p.agent },
        el('td', {}, p.pid), el('td', {}, `${p.agent}#${p.instance}`), el('td', { class: 'state' }, p.state), el('td', {}, p.task || '-'),
        rss, cpu, el('td', {}, p.restarts), el('td', {}, p.mailbox_depth), el('td', {}, p.served), el('td', {}, p.tokens), el('td', {}, p.kv_pages || 0),
        el('td', {}, p.exit ? `${p.exit.reason}${p.exit.signal ? ` (${p.exit.signal})` : p.exit.code !== null ? ` (${p.exit.code})` : ''}` : '')));
    }
    if (!rows.length) tb.append(el('tr', {}, el('td', { colSpan: 12, class: 'empty' }, 'no agent process yet')));
  }

  function fillSelect(sel, values) {
    const cur = sel.value;
    const have = [...sel.options].map((o) => o.value).slice(1);
    if (have.length === values.length && have.every((v, i) => v === values[i])) return;
    const first = sel.options[0];
    sel.replaceChildren(first, ...values.map((v) => el('option', { value: v }, v)));
    sel.value = values.includes(cur) ? cur : '';
  }

  function renderFilters() {
    const tasks = new Set(), agents = new Set(), kinds = new Set();
    for (const e of state.events) {
      if (e.task) tasks.add(e.task);
      if (e.agent) agents.add(e.agent);
      kinds.add(e.type);
    }
    fillSelect($('#f-task'), [...tasks].sort());
    fillSelect($('#f-agent'), [...agents].sort());
    fillSelect($('#f-kind'), [...kinds].sort());
  }
  for (const id of ['#f-task', '#f-agent', '#f-kind', '#f-text']) $(id).addEventListener('input', schedule);

  function describe(e) {
    switch (e.type) {
      case 'run.started': return `plan '${e.plan}', ${e.tasks} task(s)`;
      case 'run.finished': return `${e.status} in ${e.duration_ms} ms`;
      case 'process.ready': return `${e.agent}#${e.instance} ready, pid ${e.pid} (${Math.round(e.ready_ms)} ms)`;
      case 'process.exited': return `${e.agent}#${e.instance} pid ${e.pid} ${e.state}: ${e.reason}${e.signal ? ` (${e.signal})` : ''}`;
      case 'process.restart': return `${e.agent}#${e.instance} replaced (restart ${e.restarts})`;
      case 'task.added': return `${e.agent}${e.deps.length ? ` after ${e.deps.join(', ')}` : ''}${e.dynamic ? ' (inserted)' : ''}`;
      case 'task.state': return `${e.state}${e.attempt ? ` (attempt ${e.attempt}${e.pid ? `, pid ${e.pid}` : ''})` : ''}${e.reason ? `: ${e.reason}` : ''}`;
      case 'task.failure': return `attempt ${e.attempt} ${e.kind}: ${e.message}`;
      case 'task.retry': return `retry as attempt ${e.attempt} after ${e.delay_ms} ms`;
      case 'task.fallback': return `${e.from} → ${e.to}`;
      case 'fault.injected': return `inject '${e.fault}' (attempt ${e.attempt})`;
      case 'task.log': return e.msg;
      case 'bus.dropped': return `${e.from} → ${e.to} #${e.seq} dropped (${e.reason}, ${e.policy})`;
      case 'bus.blocked': return `${e.from} → ${e.to} #${e.seq} blocked (mailbox ${e.depth})`;
      case 'bus.dead_letter': return `${e.from} → ${e.to} #${e.seq}: ${e.reason}`;
      case 'kv.released': return `${e.agent}#${e.instance} pid ${e.pid}: ${e.sequences} sequence(s) released`;
      case 'context.compressed': return `${e.tokens_before} → ${e.tokens_after} tokens (budget ${e.budget})`;
      case 'token.quota_exceeded': return `${e.agent} used ${e.used} of ${e.budget} tokens`;
      default: {
        const { type: _t, t: _tt, seq: _s, ...rest } = e;
        return JSON.stringify(rest).slice(0, 200);
      }
    }
  }

  function renderEvents() {
    const ft = $('#f-task').value, fa = $('#f-agent').value, fk = $('#f-kind').value, fx = $('#f-text').value.toLowerCase();
    const match = state.events.filter((e) => (!ft || e.task === ft) && (!fa || e.agent === fa) && (!fk || e.type === fk) && (!fx || JSON.stringify(e).toLowerCase().includes(fx)));
    const shown = match.slice(-SHOWN_EVENTS).reverse();
    $('#events-count').textContent = `(${match.length} of ${state.events.length}${match.length > SHOWN_EVENTS ? `, newest ${SHOWN_EVENTS} shown` : ''})`;
    const tb = $('#events tbody');
    const bad = (e) => e.type === 'task.failure' || e.type === 'fault.injected' || (e.type === 'process.exited' && e.state === 'crashed') || (e.type === 'task.state' && e.state === 'failed');
    tb.replaceChildren(...shown.map((e) => el('tr', { 'data-kind': e.type, 'data-task': e.task || '', 'data-seq': String(e.seq), 'data-bad': bad(e) ? '1' : '0' },
      el('td', {}, `+${(e.t / 1000).toFixed(2)}s`), el('td', { class: 'kind' }, e.type), el('td', {}, e.task || ''), el('td', {}, e.agent || ''), el('td', { class: 'detail' }, describe(e)))));
  }

  function outputView(o) {
    if (o && typeof o === 'object' && typeof o.before === 'string' && typeof o.after === 'string') {
      const pre = el('pre', { class: 'diff' });
      pre.append(el('span', { class: 'del' }, `- ${o.before}\n`), el('span', { class: 'add' }, `+ ${o.after}`));
      return pre;
    }
    return el('pre', {}, JSON.stringify(o, null, 2));
  }

  let outputsKey = '';
  function renderOutputs() {
    const tasks = [...state.tasks.values()].filter((t) => t.output !== null && t.output !== undefined);
    const key = `${tasks.map((t) => `${t.id}:${t.v}`).join(',')}|${state.run ? state.run.status : ''}|${!!state.report}`;
    if (key === outputsKey) return; // keep the reader's open/closed <details>
    outputsKey = key;
    const box = $('#outputs');
    box.replaceChildren();
    // A one-line verdict: the output's own summary, else a repair report's fixed/fix fields.
    const verdict = (o) => (typeof o.summary === 'string' ? o.summary : typeof o.fixed === 'boolean' ? (o.fixed ? `fixed: ${o.fix}` : 'no fix found') : null);
    const rep = tasks.find((t) => t.output && typeof t.output === 'object' && verdict(t.output) !== null);
    if (rep) box.append(el('div', { class: `summary-line${rep.output.fixed === false ? ' bad' : ''}` }, verdict(rep.output)));
    if (state.run && state.run.status !== 'running') box.append(el('p', {}, `Run ${state.run.status}${state.run.duration_ms !== null ? ` in ${state.run.duration_ms} ms` : ''}; report: ${state.run.run_dir}/report.json`));
    if (!tasks.length) {
      box.append(el('p', { class: 'empty' }, 'No output yet.'));
      return;
    }
    for (const t of tasks) {
      const d = el('details', { open: true, 'data-output': t.id });
      d.append(el('summary', {}, `${t.id} (${t.served_by || t.agent})`), outputView(t.output));
      box.append(d);
    }
  }

  function statList(pairs) {
    const dl = el('dl', { class: 'stats' });
    for (const [k, v] of pairs) if (v !== undefined && v !== null) dl.append(el('dt', {}, k), el('dd', {}, v));
    return dl;
  }

  function recent(prefixes, limit) {
    const evs = state.events.filter((e) => prefixes.includes(e.type.split('.')[0]));
    const ul = el('ul');
    for (const e of evs.slice(-limit).reverse()) ul.append(el('li', {}, el('b', {}, e.type), ` ${describe(e)}`));
    return { count: evs.length, ul };
  }

  const fmtBytes = (b) => (b >= 1048576 ? `${(b / 1048576).toFixed(1)} MiB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

  // Messages, shared memory / compression and KV cache: live figures from the ACB table and events,
  // the run report's totals once it is in.
  function renderExtras() {
    const rep = state.report || {};
    const live = state.procs.filter((p) => p.state !== 'exited' && p.state !== 'crashed');

    const msg = $('#messages');
    msg.replaceChildren();
    const bus = rep.bus;
    const busEv = recent(['bus'], 6);
    msg.append(statList([
      ['mailbox depth (live)', live.reduce((s, p) => s + (p.mailbox_depth || 0), 0)],
      ['sent', bus ? bus.messages_sent : undefined],
      ['delivered', bus ? bus.messages_delivered : undefined],
      ['dropped / rejected', bus ? `${bus.messages_dropped} / ${bus.messages_rejected}` : undefined],
      ['dead letters', bus ? bus.dead_letter_count : undefined],
      ['latency p50 / p95', bus && bus.latency_ms && bus.latency_ms.p50 !== null ? `${bus.latency_ms.p50.toFixed(1)} / ${bus.latency_ms.p95.toFixed(1)} ms` : undefined],
      ['bus events', busEv.count],
    ]));
    if (busEv.count) msg.append(busEv.ul);

    const mem = $('#memory');
    mem.replaceChildren();
    const ctx = rep.context;
    let before = 0, after = 0, n = 0;
    for (const e of state.events) if (e.type === 'context.compressed') {
      before += e.tokens_before;
      after += e.tokens_after;
      n++;
    }
    const b = ctx ? ctx.tokens_before : before, a = ctx ? ctx.tokens_after : after;
    mem.append(statList([
      ['compressions', ctx ? ctx.compressions : n],
      ['tokens before → after', b || a ? `${b} → ${a}` : undefined],
      ['saved', b ? `${b - a} tokens (${Math.round(((b - a) / b) * 100)}%)` : undefined],
      ['shared keys', ctx ? ctx.shared_keys : undefined],
      ['context tokens used', state.procs.reduce((s, p) => s + (p.tokens_used || 0), 0)],
    ]));
    const ctxEv = recent(['context', 'token'], 6);
    if (ctxEv.count) mem.append(ctxEv.ul);

    const kv = $('#kvcache');
    kv.replaceChildren();
    const k = rep.kv && rep.kv.before_shutdown;
    kv.append(statList([
      ['pages held (live)', live.reduce((s, p) => s + (p.kv_pages || 0), 0)],
      ['bytes held (live)', fmtBytes(live.reduce((s, p) => s + (p.kv_bytes || 0), 0))],
      ['sequences', k ? k.sequences : undefined],
      ['pages logical / physical', k ? `${k.logical_pages} / ${k.physical_pages}` : undefined],
      ['bytes saved by sharing', k ? fmtBytes(k.bytes_saved) : undefined],
      ['copy-on-write copies', k ? k.cow_copies : undefined],
      ['prefix hit rate', k ? `${Math.round(k.prefix_hit_rate * 100)}% of ${k.prefix_lookups}` : undefined],
    ]));
    const kvEv = recent(['kv'], 6);
    if (kvEv.count) kv.append(kvEv.ul);
  }

  render();
  connect();
})();
