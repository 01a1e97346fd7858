'use strict';
// /metrics read by a real Prometheus text parser (Debian's python3-prometheus-client): every name
// starts with bark_, and the counters move as they should after a chat exchange, an authentication
// failure and rate-limited sends. /healthz and /readyz (store reachable).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, RawStomp, httpRequest, sleep, waitUntil } = require('./lib/bark');
const { SockJsSession, newSessionId } = require('./lib/sockjs');
const WebSocket = require('ws');

const CUST = { userId: 1401, username: 'me-customer', role: 'USER' };
const SALON = { userId: 2401, username: 'me-salon', role: 'SALON' };

// Parses the exposition with prometheus_client's parser: {family: {type, samples: [{name, labels, value}]}}.
function parse(text) {
  const script = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
print(json.dumps(out))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const value = (m, family, labels = {}, suffix = '') => {
  const f = m[family];
  assert.ok(f, `family ${family}`);
  const s = f.samples.find((x) => x.name === family + suffix &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.ok(s, `${family}${suffix} ${JSON.stringify(labels)}`);
  return s.value;
};

test('metrics, healthz and readyz', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-metrics-'));
  const bark = await startBark(['--store', `sqlite:${path.join(dir, 'm.db')}`, '--max-send-rate', '2']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const scrape = async () => {
    const r = await httpRequest(bark.port, { path: '/metrics' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return parse(r.body);
  };

  const before = await scrape();
  await t.test('every family is named bark_*, with HELP and TYPE', () => {
    assert.ok(Object.keys(before).length >= 15, Object.keys(before).join(" "));
    for (const [name, f] of Object.entries(before)) {
      assert.match(name, /^bark_/);
      assert.ok(['counter', 'gauge', 'histogram'].includes(f.type), `${name}: ${f.type}`);
    }
    assert.equal(value(before, 'bark_messages_stored', {}, '_total'), 0);
  });

  await t.test('counters move after a chat exchange, an auth failure and rate-limited sends', async () => {
    const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
    const cust = await chatConnect(bark, CUST);
    const salon = await chatConnect(bark, SALON);
    open.push(cust, salon);
    await salon.subscribe('room', `/sub/chat/${room.roomId}`);
    await cust.subscribe('errors', '/user/queue/errors');
    for (let i = 0; i < 3; i++) {
      cust.chatSend(room.roomId, { messageText: `m${i}` }, { receipt: `r${i}` });
    }
    await salon.waitMessages(3, 3000, 'room');
    for (let i = 0; i < 6; i++) cust.chatSend(room.roomId, { messageText: `burst ${i}` });
    await waitUntil(() => cust.messages('errors').length > 0, 3000, 'a rate-limited error');

    const bad = await RawStomp.open(bark.wsUrl, { token: null, authVia: 'none' });
    bad.send('CONNECT', { 'accept-version': '1.2', host: 'h', passcode: 'not.a.token' });
    await bad.waitClosed(3000);
    await sleep(100);

    const m = await scrape();
    const stored = value(m, 'bark_messages_stored', {}, '_total');
    assert.ok(stored >= 3 && stored <= 7, `stored ${stored}`);
    assert.equal(value(m, 'bark_sessions_authenticated', {}, '_total'), 2);
    assert.equal(value(m, 'bark_auth_failures', { reason: 'token-invalid' }, '_total'), 1);
    assert.ok(value(m, 'bark_frames_in', { command: 'SEND' }, '_total') >= 9);
    assert.ok(value(m, 'bark_frames_out', { command: 'MESSAGE' }, '_total') >= 3 + 1);
    assert.ok(value(m, 'bark_frames_out', { command: 'RECEIPT' }, '_total') >= 3);
    assert.ok(value(m, 'bark_sends_rate_limited', {}, '_total') >= 1);
    assert.ok(value(m, 'bark_deliveries', {}, '_total') >= stored);
    assert.ok(value(m, 'bark_published_messages', {}, '_total') >= stored);
    assert.equal(value(m, 'bark_connections', { transport: 'websocket' }), 2);
    assert.equal(value(m, 'bark_subscriptions'), 2);
    const commits = value(m, 'bark_store_commit_seconds', {}, '_count');
    assert.ok(commits >= 1, `${commits} commits`);
    assert.equal(value(m, 'bark_store_commit_seconds', { le: '+Inf' }, '_bucket'), commits);
    assert.ok(value(m, 'bark_store_batch_writes', {}, '_sum') >= stored);
    assert.ok(value(m, 'bark_process_cpu_seconds', {}, '_total') > 0);
    assert.ok(value(m, 'bark_process_resident_memory_bytes') > 1e6);
  });

  await t.test('auth failures by reason; SockJS sessions by transport', async () => {
    const refuse = async (passcode) => {
      const c = await RawStomp.open(bark.wsUrl, { token: null, authVia: 'none' });
      c.send('CONNECT', { 'accept-version': '1.2', host: 'h', ...(passcode ? { passcode } : {}) });
      await c.waitClosed(3000);
    };
    await refuse(null);
    await refuse(bark.token(CUST, { ttl: -120 }));
    await refuse(bark.token(CUST, { ttl: -120 }));
    const sj = await new SockJsSession(bark.port, '/ws/chat', { headers: { Authorization: `Bearer ${bark.token(CUST)}` } }).open();
    const ws = new WebSocket(`ws://127.0.0.1:${bark.port}/ws/chat/000/${newSessionId()}/websocket`,
      { headers: { Authorization: `Bearer ${bark.token(CUST)}` } });
    const opening = await new Promise((resolve, reject) => { ws.once('message', (d) => resolve(d.toString())); ws.once('error', reject); });
    assert.equal(opening, 'o', 'the SockJS open frame');
    const m = await scrape();
    assert.equal(value(m, 'bark_auth_failures', { reason: 'token-missing' }, '_total'), 1);
    assert.equal(value(m, 'bark_auth_failures', { reason: 'token-expired' }, '_total'), 2);
    assert.equal(value(m, 'bark_auth_failures', { reason: 'token-invalid' }, '_total'), 1, 'unchanged');
    assert.equal(value(m, 'bark_connections', { transport: 'sockjs-http' }), 1);
    assert.equal(value(m, 'bark_connections', { transport: 'sockjs-websocket' }), 1);
    assert.equal(value(m, 'bark_connections', { transport: 'websocket' }), 2, 'the chat pair only');
    sj.abort();
    ws.close();
  });

  await t.test('/healthz and /readyz', async () => {
    const h = await httpRequest(bark.port, { path: '/healthz' });
    assert.equal(h.status, 200);
    const r = await httpRequest(bark.port, { path: '/readyz' });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { ready: true, store: { ok: true }, cluster: { state: 'none' } });
  });
});

// --ops-listen: the three operator routes move to an internal address; the public one answers 404
// for them and the ops address serves nothing else (no chat, no WebSocket, no SockJS).
test('--ops-listen serves /metrics, /healthz and /readyz apart from the public address', async (t) => {
  const { freePort } = require('./lib/servers');
  const opsPort = await freePort();
  const bark = await startBark(['--ops-listen', `127.0.0.1:${opsPort}`]);
  t.after(() => bark.stop());
  for (const p of ['/metrics', '/healthz', '/readyz']) {
    const ops = await httpRequest(opsPort, { path: p });
    assert.equal(ops.status, 200, `${p} on the ops address: ${ops.body}`);
    const pub = await httpRequest(bark.port, { path: p });
    assert.equal(pub.status, 404, `${p} on the public address`);
  }
  assert.ok(/^bark_connections\{/m.test((await httpRequest(opsPort, { path: '/metrics' })).body));
  // The public address still chats; the ops address has no chat routes and no WebSocket.
  const c = await chatConnect(bark, CUST);
  c.close();
  assert.equal((await httpRequest(opsPort, { path: '/api/rooms', token: bark.token(CUST) })).status, 404);
  await assert.rejects(new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${opsPort}/ws/chat`, ['v12.stomp']);
    ws.once('open', () => { ws.close(); resolve(); });
    ws.once('error', reject);
  }), /404/);
  assert.equal((await httpRequest(opsPort, { path: '/ws/chat/info' })).status, 404, 'no SockJS');
});

test('--ops-listen with a bad address ends start-up with one line', () => {
  const { BARK_BIN } = require('./lib/bark');
  for (const [value, why] of [['nohost', /--ops-listen: expected HOST:PORT/], ['example.com:9', /--ops-listen: 'example.com' is not an IP address/]]) {
    const r = spawnSync(BARK_BIN, ['--ops-listen', value, '--store', 'memory:', '--dev', '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(r.status, 0, value);
    assert.match(r.stderr, why);
  }
});
