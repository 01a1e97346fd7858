'use strict';
// permessage-deflate (--ws-compression): negotiated only when the server has it on and the client
// offers it; a chat stream arrives intact and in fewer bytes on the wire; no-context-takeover and a
// smaller window are what the handshake answers; clients that do not offer it are served as before;
// Chromium negotiates it on the page's own WebSocket and on SockJS's websocket transport.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, httpRequest, BARK_BIN } = require('./lib/bark');

const CHROMIUM = process.env.BARK_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-quic', '--disable-component-update', '--disable-sync'];

const CUSTOMER = { userId: 8801, username: 'zc', role: 'USER' };
const SALON = { userId: 8901, username: 'zs', role: 'SALON' };

// The wire bytes a client has read so far (the TCP socket under ws).
const wireBytes = (c) => c.ws._socket.bytesRead;

// The salon subscribes, the customer sends `n` long, repetitive messages; resolves what the salon
// received (parsed) and how many bytes its socket read for them.
let streams = 0;
async function stream(bark, { n = 40, offer = true } = {}) {
  const tag = `z${++streams}`;
  const room = await createRoom(bark, bark.token(CUSTOMER), CUSTOMER.userId, SALON.userId);
  const salon = await chatConnect(bark, SALON, { perMessageDeflate: offer });
  const customer = await chatConnect(bark, CUSTOMER, { perMessageDeflate: offer });
  try {
    await salon.subscribe('r', `/sub/chat/${room.roomId}`);
    const before = wireBytes(salon);
    const texts = [];
    for (let i = 0; i < n; i++) {
      const text = `${i}: ` + '푸들 미용 예약 가능한 시간이 있을까요? The poodle needs a full groom. '.repeat(20);
      texts.push(text);
      customer.chatSend(room.roomId, { messageText: text, clientMessageId: `${tag}-${i}` });
    }
    const got = await salon.waitJson('r', n, 10000);
    assert.equal(got.length, n, 'nothing else on the subscription');
    const payload = salon.messages('r').reduce((sum, m) => sum + Buffer.byteLength(m.raw), 0);
    return { got, texts, wire: wireBytes(salon) - before, payload, extensions: salon.upgradeHeaders['sec-websocket-extensions'] || '' };
  } finally {
    salon.close();
    customer.close();
  }
}

test('--ws-compression off (default): not negotiated even when offered', async (t) => {
  const bark = await startBark(['--store', 'memory:']);
  t.after(() => bark.stop());
  const r = await stream(bark, { n: 5 });
  assert.equal(r.extensions, '', 'no extension negotiated');
  assert.deepEqual(r.got.map((m) => m.messageText), r.texts);
  assert.ok(r.wire >= r.payload, `uncompressed: ${r.wire} wire bytes for ${r.payload} of frames`);
});

test('--ws-compression on: negotiated, intact, fewer bytes; a client without it is served plainly', async (t) => {
  const bark = await startBark(['--store', 'memory:', '--ws-compression', 'on']);
  t.after(() => bark.stop());
  const r = await stream(bark);
  assert.match(r.extensions, /^permessage-deflate/, 'negotiated');
  assert.doesNotMatch(r.extensions, /server_no_context_takeover/);
  assert.deepEqual(r.got.map((m) => m.messageText), r.texts, 'every message intact and in order');
  assert.ok(r.wire * 4 < r.payload, `compressed: ${r.wire} wire bytes for ${r.payload} of frames`);
  t.diagnostic(`on: ${r.payload} bytes of frames in ${r.wire} wire bytes`);

  const plain = await stream(bark, { n: 5, offer: false });
  assert.equal(plain.extensions, '');
  assert.deepEqual(plain.got.map((m) => m.messageText), plain.texts);
  assert.ok(plain.wire >= plain.payload);

  // Small frames (RECEIPTs, heart-beats) go uncompressed; a frame sent compressed by the client is
  // read (ws compresses every message above its threshold of 1 KiB).
  const c = await chatConnect(bark, CUSTOMER, { perMessageDeflate: { threshold: 0 } });
  t.after(() => c.close());
  await c.subscribe('me', '/user/queue/notifications');
  assert.ok(c.isOpen);
});

test('--ws-compression no-context-takeover and a smaller window: what the handshake answers', async (t) => {
  const bark = await startBark(['--store', 'memory:', '--ws-compression', 'no-context-takeover',
    '--ws-compression-window-bits', '10']);
  t.after(() => bark.stop());
  const r = await stream(bark);
  assert.match(r.extensions, /permessage-deflate/);
  assert.match(r.extensions, /server_no_context_takeover/);
  assert.match(r.extensions, /server_max_window_bits=10/);
  // ws lets the server choose the client's window: the same 2^10, and its ~1.5 KB SENDs, which
  // it compresses, are inflated in a 2^10 window (a larger one would break the stream).
  assert.match(r.extensions, /client_max_window_bits=10/);
  assert.deepEqual(r.got.map((m) => m.messageText), r.texts);
  // Each message compressed on its own still shrinks a repetitive one.
  assert.ok(r.wire * 2 < r.payload, `compressed: ${r.wire} wire bytes for ${r.payload} of frames`);
  t.diagnostic(`no-context-takeover, 2^10 window: ${r.payload} bytes of frames in ${r.wire} wire bytes`);

  // A client whose offer leaves client_max_window_bits out compresses with a 2^15 window, the only
  // one it accepts: still negotiated, and its compressed frames still read.
  const room = await createRoom(bark, bark.token(CUSTOMER), CUSTOMER.userId, SALON.userId);
  const wide = await chatConnect(bark, CUSTOMER, { perMessageDeflate: { clientMaxWindowBits: false, threshold: 0 } });
  t.after(() => wide.close());
  const ext = wide.upgradeHeaders['sec-websocket-extensions'] || '';
  assert.match(ext, /permessage-deflate/);
  assert.doesNotMatch(ext, /client_max_window_bits/);
  await wide.subscribe('w', `/sub/chat/${room.roomId}`);
  // Its second half repeats its first from 1,764 bytes back: past a 2^10 window, within 2^15.
  const half = Array.from({ length: 300 }, (_, i) => `w${(i * 7919) % 10007}`).join(' ');
  const long = `${half} ${half}`;
  wide.chatSend(room.roomId, { messageText: long, clientMessageId: 'wide-1' });
  const [echo] = await wide.waitJson('w', 1, 10000);
  assert.equal(echo.messageText, long);
});

test('--ws-compression bad values: exit 2 with one line naming the option', () => {
  for (const flags of [['--ws-compression', 'gzip'], ['--ws-compression-window-bits', '8'], ['--ws-compression-window-bits', '16']]) {
    const r = spawnSync(BARK_BIN, ['--store', 'memory:', '--listen', '127.0.0.1:0', ...flags], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(flags[0]), flags.join(' '));
  }
});

test('--ws-compression in Chromium: the page WebSocket and SockJS websocket negotiate it, STOMP works', { timeout: 60000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/install-deps.sh (apt package chromium)`);
  const { chromium } = require('playwright-core');
  const bark = await startBark(['--dev', '--store', 'memory:', '--ws-compression', 'on', '--ws-compression-window-bits', '12']);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(async () => {
    await browser.close().catch(() => {});
    await bark.stop();
  });
  const index = await httpRequest(bark.port, { path: '/' });
  assert.equal(index.status, 200);
  const context = await browser.newContext();
  await context.addCookies([{ name: 'Authorization', value: bark.token(CUSTOMER), url: bark.url }]);
  const page = await context.newPage();
  await page.goto(bark.url);
  for (const p of ['/ws/chat', `/ws/chat/000/${Math.random().toString(36).slice(2, 10)}/websocket`]) {
    const r = await page.evaluate((wsPath) => new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}${wsPath}`, ['v12.stomp']);
      const big = 'x'.repeat(3000);
      let got = '';
      const sockjs = wsPath.endsWith('/websocket');
      const out = (s) => ws.send(sockjs ? JSON.stringify([s]) : s);
      ws.onmessage = (e) => {
        got += e.data;
        if (sockjs && e.data === 'o') out('CONNECT\naccept-version:1.2\nhost:x\n\n\0');
        if (got.includes('CONNECTED')) {
          out(`SEND\ndestination:/pub/nowhere\nreceipt:r1\n\n${big}\0`);
          got = '';
        }
        if (got.includes('ERROR') || got.includes('RECEIPT')) {
          resolve({ extensions: ws.extensions, got });
          ws.close();
        }
      };
      ws.onopen = () => { if (!sockjs) out('CONNECT\naccept-version:1.2\nhost:x\n\n\0'); };
      ws.onerror = () => reject(new Error(`WebSocket error on ${wsPath}`));
      setTimeout(() => reject(new Error(`no answer on ${wsPath}: ${got}`)), 10000);
    }), p);
    assert.match(r.extensions, /^permessage-deflate/, `${p}: Chromium negotiated deflate`);
    assert.match(r.extensions, /server_max_window_bits=12/, `${p}: with the server's window`);
    // A 3 KB SEND went compressed and was read: the answer is about it (an ERROR for its
    // destination, or its RECEIPT), not a broken connection.
    assert.match(r.got, /RECEIPT|ERROR/, `${p}: ${r.got}`);
  }
});
