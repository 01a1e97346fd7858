'use strict';
// The driver of bench/presence.sh: a salon with ROOMS rooms connects to node A and leaves, CYCLES
// times, while N of its customers watch their room's presence on node B (one connection and one
// `/sub/chat/{roomId}/presence` each). For each N it reports, per presence change, the bus
// messages node A sent and node B received, the presence events each node published to rooms, both
// nodes' CPU (bark_process_cpu_seconds_total) and how long an event took to reach a watcher on B,
// and checks that every watcher got every change. Prints one JSON object per N.
//
// With --storm K, then K customers (who watch nothing) connect to node A at once and leave at once
// while the salon watches their K rooms from node B: the time until it has seen every change, the
// latency of each, and the CPU the storm cost.
//
//   node presence.js --a URL --b URL --secret S [--rooms 10000] [--subscribers "1 100 1000"] [--cycles 200]
//                    [--storm 1000]

const crypto = require('node:crypto');
const http = require('node:http');
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, v, i, all) => {
  if (v.startsWith('--')) pairs.push([v.slice(2), all[i + 1]]);
  return pairs;
}, []));
const A = args.a;
const B = args.b;
const SECRET = args.secret;
const ROOMS = Number(args.rooms || 10000);
const SUBSCRIBERS = String(args.subscribers || '1 100 1000').split(/\s+/).filter(Boolean).map(Number);
const CYCLES = Number(args.cycles || 200);
const STORM = Number(args.storm || 0);
const SALON = 7;

const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
function token(userId, role) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ userId, username: `${role}-${userId}`, role, iat: now, exp: now + 86400 })}`;
  return `${body}.${crypto.createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

function request(base, method, path, tok, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = http.request(`${base}${path}`, {
      method,
      agent: keepAlive,
      headers: { ...(tok ? { Authorization: `Bearer ${tok}` } : {}), ...(data ? { 'Content-Type': 'application/json' } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

async function metric(base, name) {
  const r = await request(base, 'GET', '/metrics');
  const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} ([0-9.e+]+)$`, 'm').exec(r.text);
  return m ? Number(m[1]) : 0;
}
const NAMES = {
  cpu: 'bark_process_cpu_seconds_total',
  sent: 'bark_presence_bus_messages_total{direction="sent"}',
  received: 'bark_presence_bus_messages_total{direction="received"}',
  events: 'bark_presence_room_events_total',
  changes: 'bark_presence_changes_total',
  published: 'bark_cluster_published_total',
};
async function sample(base) {
  const out = {};
  for (const [k, n] of Object.entries(NAMES)) out[k] = await metric(base, n);
  return out;
}

// A STOMP connection over WebSocket that records MESSAGE bodies with their arrival time.
function stomp(base, tok) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/chat`, { headers: { Authorization: `Bearer ${tok}` } });
    const c = { ws, messages: [], waiters: new Set(), buf: '' };
    c.notify = () => { for (const w of [...c.waiters]) w(); };
    c.until = (cond, ms, what) => new Promise((res, rej) => {
      const check = () => { if (cond()) { clearTimeout(timer); c.waiters.delete(check); res(); } };
      const timer = setTimeout(() => { c.waiters.delete(check); rej(new Error(`timeout: ${what}`)); }, ms);
      c.waiters.add(check);
      check();
    });
    ws.on('message', (data) => {
      c.buf += data.toString();
      let z;
      while ((z = c.buf.indexOf('\0')) >= 0) {
        const f = c.buf.slice(0, z).replace(/^\n+/, '');
        c.buf = c.buf.slice(z + 1);
        if (f.startsWith('CONNECTED')) c.connected = true;
        if (f.startsWith('MESSAGE')) c.messages.push({ at: performance.now(), body: JSON.parse(f.slice(f.indexOf('\n\n') + 2)) });
        if (f.startsWith('RECEIPT')) c.receipts = (c.receipts || 0) + 1;
        if (f.startsWith('ERROR')) reject(new Error(f));
      }
      c.notify();
    });
    ws.on('error', reject);
    ws.on('close', () => { c.closed = true; c.notify(); });
    ws.on('open', () => {
      ws.send('CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\0');
      c.until(() => c.connected, 10000, 'CONNECTED').then(() => resolve(c), reject);
    });
  });
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

async function main() {
  const salonToken = token(SALON, 'SALON');
  // The salon's rooms, one customer each (ids 1..ROOMS), created through node A.
  const rooms = new Array(ROOMS);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let i = next++; i < ROOMS; i = next++) {
      const r = await request(A, 'POST', '/api/chat/rooms', salonToken, { customerId: i + 1, salonId: SALON });
      if (r.status !== 200 && r.status !== 201) throw new Error(`POST /api/chat/rooms: ${r.status} ${r.text}`);
      rooms[i] = JSON.parse(r.text).roomId;
    }
  }));
  process.stderr.write(`${ROOMS} rooms of salon ${SALON} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  const watchers = [];
  for (const n of SUBSCRIBERS) {
    // N customers watch their rooms on node B (added to those of the previous run).
    while (watchers.length < n) {
      const i = watchers.length;
      const c = await stomp(B, token(i + 1, 'USER'));
      c.ws.send(`SUBSCRIBE\nid:p\ndestination:/sub/chat/${rooms[i]}/presence\nreceipt:r\n\n\0`);
      await c.until(() => c.receipts === 1 && c.messages.length >= 2, 10000, 'presence state');
      watchers.push(c);
    }
    for (const w of watchers) w.messages = [];
    const probe = watchers[0];
    const [a0, b0] = [await sample(A), await sample(B)];
    const onMs = [];
    const offMs = [];
    for (let k = 0; k < CYCLES; k++) {
      const before = probe.messages.length;
      const startOn = performance.now();
      const s = await stomp(A, salonToken);
      await probe.until(() => probe.messages.length >= before + 1, 10000, 'online');
      onMs.push(probe.messages[before].at - startOn);
      const startOff = performance.now();
      s.ws.terminate();
      await probe.until(() => probe.messages.length >= before + 2, 10000, 'offline');
      offMs.push(probe.messages[before + 1].at - startOff);
    }
    // Every watcher gets both changes of every cycle (the probe is known to be done; the others
    // may still be receiving).
    const expected = CYCLES * 2;
    await Promise.all(watchers.map((w) => w.until(() => w.messages.length >= expected, 30000, 'every event')));
    const wrong = watchers.filter((w) => w.messages.some((m, i) => m.body.online !== (i % 2 === 0) ||
      m.body.userId !== SALON || m.body.role !== 'SALON')).length;
    const [a1, b1] = [await sample(A), await sample(B)];
    const changes = b1.changes - b0.changes;
    const per = (x) => +(x / changes).toFixed(3);
    onMs.sort((x, y) => x - y);
    offMs.sort((x, y) => x - y);
    console.log(JSON.stringify({
      rooms: ROOMS,
      watched_rooms: n,
      cycles: CYCLES,
      changes,
      bus_sent_per_change_a: per(a1.sent - a0.sent),
      bus_received_per_change_b: per(b1.received - b0.received),
      room_events_per_change_a: per(a1.events - a0.events),
      room_events_per_change_b: per(b1.events - b0.events),
      cluster_publishes_per_change_a: per(a1.published - a0.published),
      events_delivered: watchers.reduce((s, w) => s + w.messages.length, 0),
      events_expected: expected * n,
      watchers_with_wrong_order: wrong,
      cpu_ms_per_change_a: +((a1.cpu - a0.cpu) * 1000 / changes).toFixed(3),
      cpu_ms_per_change_b: +((b1.cpu - b0.cpu) * 1000 / changes).toFixed(3),
      online_ms: { p50: +percentile(onMs, 0.5).toFixed(2), p99: +percentile(onMs, 0.99).toFixed(2) },
      offline_ms: { p50: +percentile(offMs, 0.5).toFixed(2), p99: +percentile(offMs, 0.99).toFixed(2) },
    }));
  }
  for (const w of watchers) w.ws.terminate();
  if (STORM > 0) await storm(rooms);
  keepAlive.destroy();
}

// STORM customers (the last ones, who watch nothing) connect to node A at once and then leave at
// once, while the salon watches their rooms' presence from one connection on node B.
async function storm(rooms) {
  const first = ROOMS - STORM;
  const salon = await stomp(B, token(SALON, 'SALON'));
  for (let i = first; i < ROOMS; i++) {
    salon.ws.send(`SUBSCRIBE\nid:s${i}\ndestination:/sub/chat/${rooms[i]}/presence\n\n\0`);
  }
  await salon.until(() => salon.messages.length >= 2 * STORM, 30000, 'the storm rooms\' state');
  salon.messages = [];
  const [a0, b0] = [await sample(A), await sample(B)];
  const opened = new Map();
  const t0 = performance.now();
  const customers = await Promise.all(Array.from({ length: STORM }, async (_, k) => {
    const id = first + k + 1;
    opened.set(id, performance.now());
    return stomp(A, token(id, 'USER'));
  }));
  const openedAll = performance.now() - t0;
  await salon.until(() => salon.messages.length >= STORM, 60000, 'every customer online');
  const onAll = performance.now() - t0;
  const closed = new Map();
  const t1 = performance.now();
  customers.forEach((c, k) => { closed.set(first + k + 1, performance.now()); c.ws.terminate(); });
  await salon.until(() => salon.messages.length >= 2 * STORM, 60000, 'every customer offline');
  const offAll = performance.now() - t1;
  const [a1, b1] = [await sample(A), await sample(B)];
  const lat = (online, since) => salon.messages.filter((m) => m.body.online === online)
    .map((m) => m.at - since.get(m.body.userId)).sort((x, y) => x - y);
  const on = lat(true, opened);
  const off = lat(false, closed);
  const changes = b1.changes - b0.changes;
  salon.ws.terminate();
  console.log(JSON.stringify({
    storm: STORM,
    changes,
    events_delivered: salon.messages.length,
    events_expected: 2 * STORM,
    opened_all_ms: +openedAll.toFixed(0),
    online_all_seen_ms: +onAll.toFixed(0),
    offline_all_seen_ms: +offAll.toFixed(0),
    bus_sent_per_change_a: +((a1.sent - a0.sent) / changes).toFixed(3),
    cpu_s_a: +(a1.cpu - a0.cpu).toFixed(2),
    cpu_s_b: +(b1.cpu - b0.cpu).toFixed(2),
    online_ms: { p50: +percentile(on, 0.5).toFixed(1), p99: +percentile(on, 0.99).toFixed(1) },
    offline_ms: { p50: +percentile(off, 0.5).toFixed(1), p99: +percentile(off, 0.99).toFixed(1) },
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
