'use strict';
// Connection floods (SPEC §2 --max-connections): connections past the limit get a 503 and are
// closed at once, a healthy client keeps chatting through the flood, slots come back when
// connections close, and refused connections cost the server no memory.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const WebSocket = require('ws');
const { startBark, chatConnect, createRoom, sleep, waitUntil } = require('./lib/bark');

const CUST = { userId: 5101, username: 'fl-customer', role: 'USER' };
const SALON = { userId: 6101, username: 'fl-salon', role: 'SALON' };
const LIMIT = 20;

// Opens a raw TCP connection and resolves everything the server sent until it closed (or `ms`).
function rawExchange(port, send, ms = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ got, closed: false }); }, ms);
    s.on('connect', () => { if (send) s.write(send); });
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => { clearTimeout(timer); resolve({ got, closed: true }); });
    s.on('error', (e) => { if (e.code !== 'ECONNRESET') { clearTimeout(timer); reject(e); } });
  });
}


test(`--max-connections ${LIMIT}`, async (t) => {
  const bark = await startBark(['--max-connections', String(LIMIT), '--threads', '2']);
  const open = [];
  t.after(async () => { for (const c of open) c.close(); await bark.stop(); });

  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const cust = await chatConnect(bark, CUST);
  const salon = await chatConnect(bark, SALON);
  open.push(cust, salon);
  await salon.subscribe('room', `/sub/chat/${room.roomId}`);
  let sent = 0;
  const ticker = setInterval(() => {
    cust.chatSend(room.roomId, { messageText: `tick ${sent}` }, { receipt: `t-${sent}` });
    sent += 1;
  }, 20);
  t.after(() => clearInterval(ticker));

  await t.test('connections up to the limit are served; the next one gets 503 and is closed', async () => {
    const idle = [];
    for (let i = 0; i < LIMIT - 2; i++) {
      const ws = new WebSocket(bark.wsUrl, ['v12.stomp']);
      await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
      idle.push(ws);
    }
    const r = await rawExchange(bark.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(r.closed, 'closed by the server');
    assert.match(r.got, /^HTTP\/1\.1 503 /);
    assert.match(r.got, /"error":"too-many-connections"/);
    const ws = new WebSocket(bark.wsUrl, ['v12.stomp']);
    const status = await new Promise((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.on('error', () => resolve('error'));
      ws.on('open', () => resolve('open'));
    });
    assert.equal(status, 503);

    for (const w of idle.slice(0, 5)) w.terminate();
    await sleep(200);
    const again = await rawExchange(bark.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(again.got, /^HTTP\/1\.1 200 /, 'a freed slot serves a new connection');
    for (const w of idle) w.terminate();
  });

  await t.test('a flood of 2000 connections past the limit is refused without memory growth', async () => {
    const idle = [];
    for (let i = 0; i < LIMIT - 2; i++) {
      const s = net.connect(bark.port, '127.0.0.1');
      await new Promise((resolve) => s.on('connect', resolve));
      idle.push(s);
    }
    await sleep(100);
    const before = bark.rss();
    let refused = 0;
    for (let wave = 0; wave < 20; wave++) {
      const results = await Promise.all(Array.from({ length: 100 }, () => rawExchange(bark.port, null, 3000)));
      refused += results.filter((r) => r.closed && r.got.startsWith('HTTP/1.1 503')).length;
    }
    const after = bark.rss();
    assert.equal(refused, 2000, 'every connection past the limit was answered 503 and closed');
    assert.ok(after - before < 8 * 1048576, `RSS grew by ${((after - before) / 1024).toFixed(0)} KiB`);
    for (const s of idle) s.destroy();
  });

  await t.test('the healthy client chatted throughout, every message in order', async () => {
    clearInterval(ticker);
    const n = sent;
    await waitUntil(() => salon.messages('room').length >= n, 5000, `${n} messages`);
    assert.deepEqual(salon.json('room').map((m) => m.messageText), Array.from({ length: n }, (_, i) => `tick ${i}`));
    assert.ok(n > 20, `the chat went on during the flood (${n} messages)`);
  });
});

// --max-connections larger than the open-file limit is lowered to fit it at start (and logged), so
// connections past what the process can hold get the documented 503 rather than EMFILE.
test('--max-connections above the open-file limit is lowered to fit it, and the 503 really happens', async (t) => {
  const { spawn } = require('node:child_process');
  const { BARK_BIN } = require('./lib/bark');
  const child = spawn('bash', ['-c', 'ulimit -Sn 120 && ulimit -Hn 120 && exec "$0" "$@"', BARK_BIN,
    '--listen', '127.0.0.1:0', '--jwt-secret', 'flood-secret-0123456789', '--store', 'memory:',
    '--max-connections', '100000', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(out), 10000, `bark to listen: ${out} ${err}`);
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)[1]);
  assert.match(err, /--max-connections 100000 lowered to 56: this process may open 120 files/, err);
  const idle = [];
  t.after(() => { for (const s of idle) s.destroy(); });
  for (let i = 0; i < 56; i++) {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => { s.on('connect', resolve); s.on('error', reject); });
    s.on('error', () => {});
    idle.push(s);
  }
  await sleep(200);
  const r = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(r.got, /^HTTP\/1\.1 503 /, r.got);
});
