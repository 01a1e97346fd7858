'use strict';
// HTTP side of bark: /healthz, 404, keep-alive, the idle timeout, the WebSocket upgrade with
// subprotocol negotiation, and the Origin allow-list.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const http = require('node:http');
const WebSocket = require('ws');
const { startBark, httpRequest, rawWsHandshake, withTimeout } = require('./lib/bark');

// Opens a `ws` WebSocket; resolves {ok: true, protocol, ws} on open or {ok: false, status} when the
// server answers the upgrade with something other than 101.
function tryUpgrade(url, protocols, options = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
    ws.once('open', () => resolve({ ok: true, protocol: ws.protocol, ws }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ ok: false, status: res.statusCode, headers: res.headers, body }));
      res.on('error', () => resolve({ ok: false, status: res.statusCode, headers: res.headers, body }));
    });
    ws.once('error', reject);
  }), 5000, `upgrade ${url}`);
}

function closeWs(r) {
  if (r && r.ws) r.ws.terminate();
}

test('http', async (t) => {
  const bark = await startBark(['--http-idle-timeout', '300']);
  t.after(() => bark.stop());

  await t.test('GET /healthz answers 200 with body "ok"', async () => {
    const r = await httpRequest(bark.port, { path: '/healthz' });
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), 'ok');
  });

  await t.test('an unknown path answers 404', async () => {
    const r = await httpRequest(bark.port, { path: '/no/such/path' });
    assert.equal(r.status, 404);
  });

  await t.test('HTTP keep-alive: two requests on one socket', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await httpRequest(bark.port, { path: '/healthz', agent });
      const b = await httpRequest(bark.port, { path: '/healthz', agent });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(b.body.trim(), 'ok');
      assert.equal(b.reusedSocket, true, 'the second request reused the first socket');
      assert.equal(a.localPort, b.localPort, 'same local port for both requests');
    } finally {
      agent.destroy();
    }
  });

  await t.test('HTTP keep-alive on a raw socket: two pipelined-in-turn requests, two answers', async () => {
    const sock = net.connect(bark.port, '127.0.0.1');
    try {
      let data = '';
      sock.on('data', (c) => { data += c.toString('latin1'); });
      await withTimeout(new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); }), 3000, 'connect');
      const req = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${bark.port}\r\n\r\n`;
      sock.write(req);
      await withTimeout(new Promise((r) => {
        const iv = setInterval(() => { if (/\r\n\r\n[\s\S]*ok/.test(data)) { clearInterval(iv); r(); } }, 5);
      }), 3000, 'first answer');
      sock.write(req);
      await withTimeout(new Promise((r) => {
        const iv = setInterval(() => {
          if ((data.match(/HTTP\/1\.1 200/g) || []).length >= 2 && /ok[\s\S]*HTTP\/1\.1 200[\s\S]*\r\n\r\n[\s\S]*ok/.test(data)) {
            clearInterval(iv); r();
          }
        }, 5);
      }), 3000, `second answer on the same socket; got so far:\n${data}`);
      assert.equal((data.match(/HTTP\/1\.1 200/g) || []).length, 2);
    } finally {
      sock.destroy();
    }
  });

  // One raw exchange: writes `bytes` on a new connection and resolves what came back (latin1) once
  // `done(data, closed)` holds.
  const exchange = async (bytes, done, what) => {
    const sock = net.connect(bark.port, '127.0.0.1');
    let data = '';
    let closed = false;
    sock.on('data', (c) => { data += c.toString('latin1'); });
    sock.on('close', () => { closed = true; });
    sock.on('error', () => {});
    await withTimeout(new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); }), 3000, 'connect');
    sock.write(bytes);
    await withTimeout(new Promise((r) => {
      const iv = setInterval(() => { if (done(data, closed)) { clearInterval(iv); r(); } }, 5);
    }), 3000, `${what}; got ${data}`).finally(() => sock.destroy());
    return data;
  };
  const host = `Host: 127.0.0.1:${bark.port}\r\n`;

  // Request smuggling (RFC 9112 §6.1, §6.3): a body framing a proxy may read otherwise gets one 400
  // and a close; the request hidden behind it is never served.
  await t.test('Transfer-Encoding not ending in chunked, or with Content-Length: 400, close, nothing more served', async () => {
    const smuggled = `GET /healthz HTTP/1.1\r\n${host}\r\n`;
    const variants = [
      ['Transfer-Encoding: identity\r\n', ''],
      ['Transfer-Encoding: gzip\r\n', ''],
      ['Transfer-Encoding: chunked, gzip\r\n', ''],
      ['Transfer-Encoding: xchunked\r\n', ''],
      ['Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n', ''],
      ['Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', '0\r\n\r\n'],
      ['Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'],
    ];
    for (const [fields, body] of variants) {
      const data = await exchange(`POST /api/publish HTTP/1.1\r\n${host}${fields}\r\n${body}${smuggled}`,
        (_d, closed) => closed, `close after ${JSON.stringify(fields)}`);
      assert.match(data, /^HTTP\/1\.1 400 /, `${JSON.stringify(fields)}: ${data}`);
      assert.equal((data.match(/HTTP\/1\.1 /g) || []).length, 1, `one answer only for ${JSON.stringify(fields)}: ${data}`);
    }
    // chunked alone (any case) is still one request, and the connection goes on.
    const data = await exchange(
      `POST /api/publish HTTP/1.1\r\n${host}Transfer-Encoding: Chunked\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n${smuggled}`,
      (d) => /\r\n\r\nok/.test(d), 'two answers');
    assert.match(data, /^HTTP\/1\.1 401 /, data);
    assert.match(data, /HTTP\/1\.1 200 OK/, data);
  });

  await t.test('upgrade with Sec-WebSocket-Version other than 13 → 426 naming 13; a malformed Sec-WebSocket-Key → 400', async () => {
    const ask = (version, key) => exchange(`GET /ws/chat HTTP/1.1\r\n${host}Upgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${version}\r\n\r\n`,
    (d) => /\r\n\r\n/.test(d), `answer to version ${version}, key ${key}`);
    const good = 'dGhlIHNhbXBsZSBub25jZQ==';
    const old = await ask('12', good);
    assert.match(old, /^HTTP\/1\.1 426 /, old);
    assert.match(old, /\r\nSec-WebSocket-Version: 13\r\n/i, old);
    for (const key of ['abc', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZR==', '!GhlIHNhbXBsZSBub25jZQ==']) {
      assert.match(await ask('13', key), /^HTTP\/1\.1 400 /, key);
    }
    assert.match(await ask('13', good), /^HTTP\/1\.1 101 /);
  });

  // A client may write its first WebSocket frame in the same segment as the upgrade request,
  // before the 101 arrives (SPEC §3): the frame must be read, not dropped.
  await t.test('a CONNECT frame sent in the same write as the upgrade request gets CONNECTED', async () => {
    const stomp = `CONNECT\naccept-version:1.2\nhost:x\nAuthorization:Bearer ${bark.token({ userId: 7, username: 'eager', role: 'USER' })}\n\n\u0000`;
    const payload = Buffer.from(stomp, 'utf8');
    const mask = crypto.randomBytes(4);
    const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    const upgrade = `GET /ws/chat HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Protocol: v12.stomp\r\n\r\n';
    const text = await exchange(Buffer.concat([Buffer.from(upgrade, 'latin1'), head, mask, masked]),
      (d) => d.includes('CONNECTED'), 'CONNECTED after the early frame');
    assert.match(text, /^HTTP\/1\.1 101 /, text);
    assert.match(text, /CONNECTED\n/, text);
    assert.match(text, /user-name:eager\n/, text);
  });

  await t.test('an idle HTTP connection (no request) is closed after --http-idle-timeout', async () => {
    const sock = net.connect(bark.port, '127.0.0.1');
    const t0 = Date.now();
    await withTimeout(new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); }), 3000, 'connect');
    const closedAt = await withTimeout(new Promise((r) => {
      sock.on('error', () => {});
      sock.on('data', () => {});
      sock.once('close', () => r(Date.now()));
    }), 3000, 'server to close an idle connection (--http-idle-timeout 300)').finally(() => sock.destroy());
    const elapsed = closedAt - t0;
    assert.ok(elapsed >= 200, `closed too early: ${elapsed} ms`);
    assert.ok(elapsed < 2000, `closed too late: ${elapsed} ms`);
  });

  await t.test('a kept-alive connection that goes idle after a request is closed', async () => {
    const sock = net.connect(bark.port, '127.0.0.1');
    let data = '';
    sock.on('data', (c) => { data += c.toString('latin1'); });
    sock.on('error', () => {});
    await withTimeout(new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); }), 3000, 'connect');
    sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${bark.port}\r\n\r\n`);
    const answeredAt = await withTimeout(new Promise((r) => {
      const iv = setInterval(() => { if (/\r\n\r\n[\s\S]*ok/.test(data)) { clearInterval(iv); r(Date.now()); } }, 5);
    }), 3000, 'answer');
    const closedAt = await withTimeout(new Promise((r) => sock.once('close', () => r(Date.now()))), 3000,
      'server to close the idle kept-alive connection').finally(() => sock.destroy());
    assert.match(data, /^HTTP\/1\.1 200/);
    const idle = closedAt - answeredAt;
    assert.ok(idle >= 200 && idle < 2000, `closed after ${idle} ms of idleness`);
  });

  await t.test('subprotocols v10.stomp,v11.stomp,v12.stomp offered: v12.stomp chosen', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v10.stomp', 'v11.stomp', 'v12.stomp']);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
    assert.equal(r.protocol, 'v12.stomp');
  });

  await t.test('subprotocol v11.stomp only: v11.stomp chosen', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v11.stomp']);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
    assert.equal(r.protocol, 'v11.stomp');
  });

  await t.test('subprotocols v10.stomp,v11.stomp (the old stomp.js default): v11.stomp chosen', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v10.stomp', 'v11.stomp']);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
    assert.equal(r.protocol, 'v11.stomp');
  });

  await t.test('no subprotocol offered: accepted without a subprotocol', async () => {
    const r = await tryUpgrade(bark.wsUrl);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
    assert.equal(r.protocol, '');
  });

  await t.test('only an unknown subprotocol offered: 101 without Sec-WebSocket-Protocol', async () => {
    const r = await rawWsHandshake(bark.port, { headers: { 'Sec-WebSocket-Protocol': 'mqtt' } });
    r.socket.destroy();
    assert.equal(r.status, 101, r.statusLine);
    assert.equal(r.acceptOk, true, 'Sec-WebSocket-Accept is right');
    assert.equal(r.headers['sec-websocket-protocol'], undefined);
  });

  await t.test('raw handshake: 101 with the right Sec-WebSocket-Accept and the chosen protocol', async () => {
    const r = await rawWsHandshake(bark.port, { headers: { 'Sec-WebSocket-Protocol': 'v11.stomp, v12.stomp' } });
    r.socket.destroy();
    assert.equal(r.status, 101, r.statusLine);
    assert.equal(r.acceptOk, true);
    assert.equal(r.headers['sec-websocket-protocol'], 'v12.stomp');
    assert.match(r.headers.upgrade || '', /websocket/i);
  });

  await t.test('Origin: none is accepted', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v12.stomp']);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
  });

  await t.test('Origin: the same origin (http://127.0.0.1:PORT) is accepted', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v12.stomp'], { origin: bark.url });
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
  });

  for (const origin of ['http://evil.example', 'http://127.0.0.1:1', 'https://127.0.0.1']) {
    await t.test(`Origin: ${origin} (not allowed) gets 403 and no upgrade`, async () => {
      const r = await tryUpgrade(bark.wsUrl, ['v12.stomp'], { origin });
      closeWs(r);
      assert.equal(r.ok, false, 'the upgrade must be refused');
      assert.equal(r.status, 403);
    });
  }

  await t.test('Origin: a foreign origin on a raw handshake gets 403, not 101', async () => {
    const r = await rawWsHandshake(bark.port, { headers: { Origin: 'http://evil.example' } });
    r.socket.destroy();
    assert.equal(r.status, 403, r.statusLine);
    assert.equal(r.headers['sec-websocket-accept'], undefined);
  });
});

test('http: --allowed-origins list', async (t) => {
  const bark = await startBark(['--allowed-origins', 'http://app.example,https://other.example:8443']);
  t.after(() => bark.stop());

  for (const origin of ['http://app.example', 'https://other.example:8443']) {
    await t.test(`listed origin ${origin} is accepted`, async () => {
      const r = await tryUpgrade(bark.wsUrl, ['v12.stomp'], { origin });
      closeWs(r);
      assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
      assert.equal(r.protocol, 'v12.stomp');
    });
  }

  for (const origin of ['http://evil.example', 'http://app.example:81', 'https://app.example']) {
    await t.test(`unlisted origin ${origin} gets 403`, async () => {
      const r = await tryUpgrade(bark.wsUrl, ['v12.stomp'], { origin });
      closeWs(r);
      assert.equal(r.ok, false);
      assert.equal(r.status, 403);
    });
  }

  await t.test('no Origin is still accepted', async () => {
    const r = await tryUpgrade(bark.wsUrl, ['v12.stomp']);
    closeWs(r);
    assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
  });
});

test('http: --allowed-origins *', async (t) => {
  const bark = await startBark(['--allowed-origins', '*']);
  t.after(() => bark.stop());

  for (const origin of ['http://evil.example', 'https://anything.example:1234', bark.url]) {
    await t.test(`any origin (${origin}) is accepted`, async () => {
      const r = await tryUpgrade(bark.wsUrl, ['v12.stomp'], { origin });
      closeWs(r);
      assert.equal(r.ok, true, `upgrade refused: ${r.status}`);
    });
  }
});
