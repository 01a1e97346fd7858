'use strict';
// The admin console (docs/admin.md). Polls GET /api/admin/stats every 2 s and keeps five minutes of
// samples for the charts (inline SVG, no library); rates are differences between two samples of
// each node's counters. Users: GET /api/admin/users/{id}/sessions?role=R, then disconnect, block and
// unblock. Rooms: GET /api/admin/rooms/{id} or ?participant=&role=, the history from the chat's
// REST API, and DELETE /api/admin/rooms/{roomId}/messages/{messageId}. The token is the HttpOnly
// Authorization cookie; the browser adds it (and Origin, which the server checks on writes).

const POLL_MS = 2000;
const KEEP = 150; // samples: five minutes at POLL_MS
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];

const $ = (id) => document.getElementById(id);
const samples = []; // {at (ms), nodes: {id: node stats}}
let pollTimer = null;

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  try { json = await res.json(); } catch { json = null; }
  return { status: res.status, json };
}

function text(el, s) { el.textContent = s; return el; }
function cell(row, s) { const td = document.createElement('td'); td.textContent = s; row.appendChild(td); return td; }
function fmt(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

// ---- sign-in ----------------------------------------------------------------------------------

function showLogin(note) {
  $('console').hidden = true;
  $('login').hidden = false;
  if (note) text($('login-note'), note);
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await api('POST', '/api/dev/login', {
    userId: Number($('login-user-id').value), username: $('login-username').value, role: 'ADMIN',
  });
  if (r.status !== 200) {
    text($('login-error'), r.status === 404
      ? 'This server does not run with --dev: set an ADMIN token as the Authorization cookie.'
      : `sign-in failed (${r.status})`);
    return;
  }
  start();
});

// ---- live figures -----------------------------------------------------------------------------

// Sum of a value over the nodes of a sample.
function total(sample, name) {
  let sum = 0;
  for (const n of Object.values(sample.nodes)) sum += (n.values && n.values[name]) || 0;
  return sum;
}

// Per-second rate of a counter between consecutive samples, per node (a node restarted or missing
// in either sample adds nothing).
function rate(prev, cur, name) {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0) return 0;
  let sum = 0;
  for (const [id, n] of Object.entries(cur.nodes)) {
    const p = prev.nodes[id];
    if (!p) continue;
    const d = ((n.values || {})[name] || 0) - ((p.values || {})[name] || 0);
    if (d > 0) sum += d;
  }
  return sum / dt;
}

function ratio(prev, cur, num, den) {
  let dn = 0; let dd = 0;
  for (const [id, n] of Object.entries(cur.nodes)) {
    const p = prev.nodes[id];
    if (!p) continue;
    dn += ((n.values || {})[num] || 0) - ((p.values || {})[num] || 0);
    dd += ((n.values || {})[den] || 0) - ((p.values || {})[den] || 0);
  }
  return dd > 0 ? dn / dd : null;
}

// Sessions by transport over every node.
function transports(sample) {
  const out = {};
  for (const n of Object.values(sample.nodes)) {
    for (const [t, c] of Object.entries(n.sessions || {})) out[t] = (out[t] || 0) + c;
  }
  return out;
}

// Draws series [{name, points: [number|null]}] as polylines scaled to the largest value.
function chart(svg, series, legend) {
  const W = 320; const H = 120; const pad = 14;
  let max = 1;
  for (const s of series) for (const v of s.points) if (v !== null && v > max) max = v;
  const parts = [];
  parts.push(`<text x="2" y="10">${fmt(max)}</text><text x="2" y="${H - 3}">0</text>`);
  series.forEach((s, i) => {
    const n = s.points.length;
    const pts = [];
    s.points.forEach((v, k) => {
      if (v === null) return;
      const x = pad + (n <= 1 ? 0 : (k * (W - pad - 2)) / (KEEP - 1)) + (KEEP - n) * ((W - pad - 2) / (KEEP - 1));
      const y = H - 4 - (v / max) * (H - 16);
      pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
    });
    parts.push(`<polyline fill="none" stroke-width="1.5" stroke="${COLORS[i % COLORS.length]}" points="${pts.join(' ')}"/>`);
  });
  svg.innerHTML = parts.join('');
  if (legend) {
    legend.innerHTML = '';
    series.forEach((s, i) => {
      const span = document.createElement('span');
      span.innerHTML = `<i style="background:${COLORS[i % COLORS.length]}"></i>`;
      span.appendChild(document.createTextNode(`${s.name} ${fmt(s.points[s.points.length - 1])}`));
      legend.appendChild(span);
    });
  }
}

function render(nodesAnswer) {
  if (samples.length === 0) return;
  const cur = samples[samples.length - 1];
  const prev = samples.length > 1 ? samples[samples.length - 2] : null;
  const t = transports(cur);
  text($('total-sessions'), String(Object.values(t).reduce((a, b) => a + b, 0)));
  text($('slow-closes'), String(total(cur, 'slowConsumersClosed')));
  text($('events-pending'), String(total(cur, 'eventsPending')));
  if (prev) {
    text($('rate-messages'), fmt(rate(prev, cur, 'published')));
    text($('rate-deliveries'), fmt(rate(prev, cur, 'deliveries')));
    const c = ratio(prev, cur, 'storeCommitSeconds', 'storeCommits');
    text($('commit-ms'), c === null ? '–' : fmt(c * 1000, 2));
  }
  text($('updated'), `updated ${new Date(cur.at).toLocaleTimeString()}`);

  const names = new Set();
  for (const s of samples) for (const k of Object.keys(transports(s))) names.add(k);
  chart($('chart-connections'), [...names].sort().map((name) => ({
    name, points: samples.map((s) => transports(s)[name] || 0),
  })), $('legend-connections'));
  const pairs = samples.map((s, i) => (i === 0 ? null : [samples[i - 1], s]));
  chart($('chart-rates'), [
    { name: 'messages/s', points: pairs.map((p) => (p ? rate(p[0], p[1], 'published') : null)) },
    { name: 'deliveries/s', points: pairs.map((p) => (p ? rate(p[0], p[1], 'deliveries') : null)) },
  ], $('legend-rates'));
  chart($('chart-slow'), [{ name: 'closes', points: pairs.map((p) => (p ? rate(p[0], p[1], 'slowConsumersClosed') * POLL_MS / 1000 : null)) }]);
  chart($('chart-commit'), [{ name: 'ms', points: pairs.map((p) => {
    const r = p ? ratio(p[0], p[1], 'storeCommitSeconds', 'storeCommits') : null;
    return r === null ? null : r * 1000;
  }) }]);
  chart($('chart-events'), [{ name: 'pending', points: samples.map((s) => total(s, 'eventsPending')) }]);

  const body = $('nodes').querySelector('tbody');
  body.innerHTML = '';
  for (const n of (nodesAnswer && nodesAnswer.nodes) || []) {
    const row = document.createElement('tr');
    row.dataset.node = n.node;
    cell(row, n.node + (n.self ? ' (this node)' : ''));
    const st = cell(row, n.state);
    st.className = `state-${n.state}`;
    const stats = n.stats || {};
    cell(row, stats.sessionsTotal === undefined ? '–' : String(stats.sessionsTotal));
    const p = prev && prev.nodes[n.node];
    const c = cur.nodes[n.node];
    let lag = null;
    if (p && c) {
      const dc = (c.values.busPublishes || 0) - (p.values.busPublishes || 0);
      const ds = (c.values.busPublishSeconds || 0) - (p.values.busPublishSeconds || 0);
      if (dc > 0) lag = (ds / dc) * 1000;
    }
    cell(row, fmt(lag, 2));
    cell(row, n.self ? '–' : `${Math.round(n.lastHeardMsAgo / 100) / 10} s ago`);
    body.appendChild(row);
  }
  const un = (nodesAnswer && nodesAnswer.unanswered) || [];
  text($('unanswered'), un.length ? `no answer within 1 s from: ${un.join(', ')}` : '');
}

async function poll() {
  const r = await api('GET', '/api/admin/nodes').catch(() => null);
  if (!r) return;
  if (r.status === 401 || r.status === 403) {
    stop();
    showLogin(r.status === 403 ? 'Your token is not an ADMIN token: sign in as an admin.' : undefined);
    return;
  }
  if (r.status !== 200) return;
  const nodes = {};
  for (const n of r.json.nodes) if (n.stats) nodes[n.node] = n.stats;
  samples.push({ at: Date.now(), nodes });
  while (samples.length > KEEP) samples.shift();
  render(r.json);
}

function stop() { if (pollTimer) clearInterval(pollTimer); pollTimer = null; }

async function start() {
  const r = await api('GET', '/api/admin/stats');
  if (r.status !== 200) {
    showLogin(r.status === 403 ? 'Your token is not an ADMIN token: sign in as an admin.' : undefined);
    return;
  }
  $('login').hidden = true;
  $('console').hidden = false;
  stop();
  await poll();
  pollTimer = setInterval(poll, POLL_MS);
}

// ---- users ------------------------------------------------------------------------------------

let currentUser = null; // {id, role}

function userPath(action) {
  return `/api/admin/users/${currentUser.id}/${action}?role=${currentUser.role}`;
}

async function showUser() {
  const r = await api('GET', userPath('sessions'));
  $('user-result').hidden = false;
  if (r.status !== 200) {
    text($('user-status'), `error ${r.status}: ${(r.json && r.json.message) || ''}`);
    return;
  }
  const u = r.json;
  const blocked = u.blocked ? `blocked until ${u.blocked.until} by ${u.blocked.by}${u.blocked.reason ? ` (${u.blocked.reason})` : ''}` : 'not blocked';
  text($('user-status'), `${u.user.role} ${u.user.userId}: ${u.sessions.length} session(s), ${blocked}` +
    (u.unanswered.length ? `; no answer from ${u.unanswered.join(', ')}` : ''));
  $('user-status').dataset.sessions = String(u.sessions.length);
  $('user-status').dataset.blocked = u.blocked ? 'true' : 'false';
  const body = $('user-sessions').querySelector('tbody');
  body.innerHTML = '';
  for (const s of u.sessions) {
    const row = document.createElement('tr');
    for (const v of [s.node, s.session, s.transport, s.since, String(s.subscriptions)]) cell(row, v);
    body.appendChild(row);
  }
}

$('user-form').addEventListener('submit', (e) => {
  e.preventDefault();
  currentUser = { id: Number($('user-id').value), role: $('user-role').value };
  text($('user-message'), '');
  showUser();
});

async function userAction(method, action, body, describe) {
  const r = await api(method, userPath(action), body);
  text($('user-message'), r.status === 200 ? describe(r.json) : `error ${r.status}: ${(r.json && r.json.message) || ''}`);
  await showUser();
}

$('user-disconnect').addEventListener('click', () => userAction('POST', 'disconnect', undefined,
  (j) => `closed ${j.closed} session(s)`));
$('user-block').addEventListener('click', () => userAction('POST', 'block',
  { minutes: Number($('block-minutes').value), reason: $('block-reason').value },
  (j) => `blocked until ${j.blocked.until}; closed ${j.closed} session(s)`));
$('user-unblock').addEventListener('click', () => userAction('DELETE', 'block', undefined,
  (j) => (j.unblocked ? 'unblocked' : 'was not blocked')));

// ---- rooms ------------------------------------------------------------------------------------

async function openRoom(roomId) {
  const r = await api('GET', `/api/admin/rooms/${roomId}`);
  $('room-view').hidden = false;
  if (r.status !== 200) {
    text($('room-title'), `room ${roomId}: ${r.status === 404 ? 'no such room' : `error ${r.status}`}`);
    $('history').querySelector('tbody').innerHTML = '';
    return;
  }
  text($('room-title'), `room ${r.json.roomId}: customer ${r.json.customerId}, salon ${r.json.salonId}`);
  const h = await api('GET', `/api/chat/rooms/${roomId}/messages?limit=100`);
  const body = $('history').querySelector('tbody');
  body.innerHTML = '';
  for (const m of (h.json && h.json.messages) || []) {
    const row = document.createElement('tr');
    row.dataset.messageId = String(m.messageId);
    if (m.deleted) row.className = 'deleted';
    cell(row, String(m.messageId));
    cell(row, `${m.senderRole} ${m.senderId} ${m.senderName || ''}`);
    cell(row, m.deleted ? '(deleted)' : m.messageText);
    cell(row, m.sendAt);
    const td = cell(row, '');
    if (!m.deleted) {
      const b = document.createElement('button');
      b.className = 'delete';
      b.type = 'button';
      b.textContent = 'Delete';
      b.addEventListener('click', async () => {
        const d = await api('DELETE', `/api/admin/rooms/${roomId}/messages/${m.messageId}`);
        text($('room-message'), d.status === 200 ? `message ${m.messageId} deleted` : `error ${d.status}: ${(d.json && d.json.message) || ''}`);
        await openRoom(roomId);
      });
      td.appendChild(b);
    }
    body.appendChild(row);
  }
}

$('room-form').addEventListener('submit', (e) => { e.preventDefault(); openRoom(Number($('room-id').value)); });

$('participant-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await api('GET', `/api/admin/rooms?participant=${Number($('participant-id').value)}&role=${$('participant-role').value}`);
  const list = $('room-list');
  list.innerHTML = '';
  if (r.status !== 200) { text(list, `error ${r.status}`); return; }
  for (const room of r.json.rooms) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = '#';
    a.dataset.roomId = String(room.roomId);
    a.textContent = `room ${room.roomId}: customer ${room.customerId}, salon ${room.salonId}` +
      (room.lastMessage ? ` — ${room.lastMessage.deleted ? '(deleted)' : room.lastMessage.messageText}` : '');
    a.addEventListener('click', (ev) => { ev.preventDefault(); openRoom(room.roomId); });
    li.appendChild(a);
    list.appendChild(li);
  }
});

start();
