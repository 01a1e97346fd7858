'use strict';
// TLS (--tls-cert/--tls-key) with a certificate made by openssl at test time: https for the REST
// API and SockJS (whose requests hop between event loops), wss for STOMP chat, a plain-text client
// refused without harm, and a bad key refused at start with one line.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const net = require('node:net');
const { spawnSync } = require('node:child_process');
const { startBark, RawStomp, BARK_BIN, withTimeout, sleep } = require('./lib/bark');

const CUST = { userId: 1201, username: 'tls-customer', role: 'USER' };
const SALON = { userId: 2201, username: 'tls-salon', role: 'SALON' };

// A self-signed certificate for 127.0.0.1 (P-256), valid for a day.
function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { cert, key, ca: fs.readFileSync(cert) };
}

// One HTTPS request on a fresh connection; resolves {status, text, json}.
function httpsRequest(port, ca, { method = 'GET', path: p = '/', headers = {}, body, token } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['Content-Length'] = Buffer.byteLength(payload);
    if (!h['Content-Type']) h['Content-Type'] = 'application/json';
  }
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: p, headers: h, ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  }), 5000, `https ${method} ${p}`);
}

test('TLS', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-tls-'));
  const { cert, key, ca } = makeCert(dir);
  const bark = await startBark(['--tls-cert', cert, '--tls-key', key, '--threads', '2']);
  const wss = `wss://127.0.0.1:${bark.port}/ws/chat`;
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  await t.test('the startup line says https; /healthz answers over TLS', async () => {
    assert.match(bark.output(), /bark listening on https:\/\/127\.0\.0\.1:\d+/);
    const r = await httpsRequest(bark.port, ca, { path: '/healthz' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok');
  });

  let roomId;
  await t.test('REST over https: create a room', async () => {
    const r = await httpsRequest(bark.port, ca, { method: 'POST', path: '/api/chat/rooms', token: bark.token(CUST),
      body: { customerId: CUST.userId, salonId: SALON.userId } });
    assert.equal(r.status, 201, r.text);
    roomId = r.json.roomId;
  });

  await t.test('STOMP over wss: a customer and a salon chat', async () => {
    const connect = async (claims) => {
      const c = await RawStomp.open(wss, { protocols: ['v12.stomp'], token: bark.token(claims), ca });
      open.push(c);
      const f = await c.connect({ 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0' });
      assert.equal(f.command, 'CONNECTED');
      return c;
    };
    const cust = await connect(CUST);
    const salon = await connect(SALON);
    salon.send('SUBSCRIBE', { id: 'room', destination: `/sub/chat/${roomId}`, receipt: 's' });
    await salon.receipt('s');
    const big = 'x'.repeat(3000); // several TLS records per frame
    for (let i = 0; i < 20; i++) {
      cust.sendJson(`/pub/chat/send/${roomId}`, { messageText: `${i} ${big}` }, { receipt: `m${i}` });
    }
    await cust.receipt('m19', 5000);
    await salon.waitMessages(20, 5000, 'room');
    const texts = salon.messages('room').map((m) => JSON.parse(m.text).messageText.split(' ')[0]);
    assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => String(i)));
  });

  await t.test('SockJS xhr over https: open, send CONNECT, poll CONNECTED', async () => {
    const base = `/ws/chat/000/tls${Date.now()}`;
    const token = bark.token(CUST);
    const o = await httpsRequest(bark.port, ca, { method: 'POST', path: `${base}/xhr`, token });
    assert.equal(o.status, 200);
    assert.equal(o.text, 'o\n');
    const frame = 'CONNECT\naccept-version:1.2\nhost:127.0.0.1\nheart-beat:0,0\n\n\u0000';
    const s = await httpsRequest(bark.port, ca, { method: 'POST', path: `${base}/xhr_send`, token,
      headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify([frame]) });
    assert.equal(s.status, 204);
    const p = await httpsRequest(bark.port, ca, { method: 'POST', path: `${base}/xhr`, token });
    assert.equal(p.status, 200);
    assert.match(p.text, /^a\["CONNECTED\\nversion:1.2/);
  });

  await t.test('a plain-text client on the TLS port is dropped; TLS clients are unaffected', async () => {
    const got = await withTimeout(new Promise((resolve) => {
      const s = net.connect(bark.port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      s.on('data', (d) => { data += d.toString('latin1'); });
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    }), 5000, 'the server dropping a plain-text client');
    assert.ok(!got.includes('200 OK'), 'no plain-text answer');
    await sleep(50);
    assert.equal((await httpsRequest(bark.port, ca, { path: '/healthz' })).status, 200);
  });

  await t.test('a key that does not match the certificate: one line, exit 2', () => {
    const other = makeCert(fs.mkdtempSync(path.join(dir, 'other-')));
    const r = spawnSync(BARK_BIN, ['--listen', '127.0.0.1:0', '--jwt-secret', 's', '--store', 'memory:',
      '--tls-cert', cert, '--tls-key', other.key], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^bark: --tls-key: .*(does not match the certificate|key values mismatch)/m);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const missing = spawnSync(BARK_BIN, ['--listen', '127.0.0.1:0', '--jwt-secret', 's', '--store', 'memory:',
      '--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', key], { encoding: 'utf8', timeout: 10000 });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^bark: --tls-cert: cannot use .*nope\.pem/m);
    const half = spawnSync(BARK_BIN, ['--listen', '127.0.0.1:0', '--jwt-secret', 's', '--tls-cert', cert],
      { encoding: 'utf8', timeout: 10000 });
    assert.equal(half.status, 2);
    assert.match(half.stderr, /--tls-cert and --tls-key go together/);
  });
});
