'use strict';
// The malformed-input catalog: hostile inputs at every layer (HTTP handshake, WebSocket frames,
// STOMP, tokens, chat payloads, rooms one does not belong to), each answered exactly as SPEC.md
// says, while a healthy customer and salon on the same server keep chatting without an error.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const crypto = require('node:crypto');
const {
  startBark, chatConnect, createRoom, RawStomp, mint, signJwt, rawWsHandshake, encodeWsFrame, decodeWsFrames,
  withTimeout, sleep, waitUntil, fullHistory,
} = require('./lib/bark');

const CUST = { userId: 7101, username: 'ho-customer', role: 'USER' };
const SALON = { userId: 8101, username: 'ho-salon', role: 'SALON' };
const OTHER = { userId: 7999, username: 'ho-other', role: 'USER' };
const MAX_FRAME = 16384;
const NUL = '\0';

// Sends raw bytes on a fresh TCP connection; resolves the first line the server answers (or
// 'closed' when it closes without one) — for answers to broken HTTP.
function httpRaw(port, bytes, ms = 3000) {
  return withTimeout(new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => {
      got += d.toString('latin1');
      const eol = got.indexOf('\r\n');
      if (eol >= 0) { s.destroy(); resolve(got.slice(0, eol)); }
    });
    s.on('close', () => resolve(got ? got.split('\r\n')[0] : 'closed'));
    s.on('error', (e) => (e.code === 'ECONNRESET' ? resolve('closed') : reject(e)));
  }), ms, 'HTTP answer');
}

const upgrade = (port, extra) => `GET /ws/chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
  `Connection: Upgrade\r\n${extra}\r\n`;
const KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

// Completes a handshake by hand, writes `bytes`, resolves the close code the server sends (from
// its close frame), or 'closed' if it drops the connection without one.
async function wsRaw(bark, bytes, ms = 3000) {
  const hs = await rawWsHandshake(bark.port, { token: bark.token(CUST) });
  assert.equal(hs.status, 101);
  const { socket } = hs;
  return withTimeout(new Promise((resolve) => {
    let buf = hs.rest;
    const check = () => {
      const { frames } = decodeWsFrames(buf);
      const close = frames.find((f) => f.opcode === 8);
      if (close) { socket.destroy(); resolve(close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005); }
    };
    socket.on('data', (d) => { buf = Buffer.concat([buf, d]); check(); });
    socket.on('close', () => resolve('closed'));
    socket.on('error', () => resolve('closed'));
    socket.resume();
    socket.write(bytes);
    check();
  }), ms, 'the server closing the WebSocket');
}

// A client frame with explicit control of every header bit.
function wsFrame({ fin = true, rsv = 0, opcode = 1, masked = true, payload = Buffer.alloc(0), length }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = length ?? data.length;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  let ext = Buffer.alloc(0);
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) { head.push((masked ? 0x80 : 0) | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(len); }
  else { head.push((masked ? 0x80 : 0) | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(BigInt(len)); }
  const mask = masked ? crypto.randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(data);
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), ext, mask, body]);
}

const stompFrame = (cmd, headers = {}, body = '') =>
  `${cmd}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}${Object.keys(headers).length ? '\n' : ''}\n${body}${NUL}`;

// Opens a WebSocket without credentials and sends CONNECT with `passcode` (a token).
async function connectWith(bark, token) {
  const c = await RawStomp.open(bark.wsUrl, { token: null, authVia: 'none' });
  c.send('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', passcode: token });
  return c;
}

// Waits for an ERROR with message `code` and a body, then the close (with `closeCode`).
async function protocolError(c, code, closeCode) {
  const f = await c.waitFor('ERROR', 3000, `ERROR ${code}`);
  assert.equal(f.headers.message, code, c.dump());
  assert.ok(f.text.trim().length > 0, 'a readable body');
  const closed = await c.waitClosed(3000);
  if (closeCode) assert.equal(closed.code, closeCode, c.dump());
}

// Waits for an application error `code` on /user/queue/errors, and checks the connection stays
// open and sent no RECEIPT for it.
async function appError(c, code, receipt) {
  const seen = c.messages('errors').length;
  await c.waitMessages(seen + 1, 3000, 'errors');
  const e = c.json('errors')[seen];
  assert.equal(e.error, code, JSON.stringify(e));
  assert.equal(e.receiptId, receipt);
  await sleep(50);
  assert.equal(c.closed, null, 'still open');
  assert.ok(!c.frames.some((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === receipt), 'no RECEIPT');
}

test('the malformed-input catalog', async (t) => {
  const bark = await startBark(['--max-frame-bytes', String(MAX_FRAME), '--allowed-origins', 'https://app.example']);
  const open = [];
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const R = room.roomId;
  const otherRoom = (await createRoom(bark, bark.token(OTHER), OTHER.userId, SALON.userId)).roomId;

  // The healthy pair chats every 20 ms during every case below.
  const cust = await chatConnect(bark, CUST);
  const salon = await chatConnect(bark, SALON);
  await salon.subscribe('room', `/sub/chat/${R}`);
  await cust.subscribe('errors', '/user/queue/errors');
  let sent = 0;
  const ticker = setInterval(() => {
    cust.chatSend(R, { messageText: `tick ${sent}` }, { receipt: `tick-${sent}` });
    sent += 1;
  }, 20);
  t.after(async () => {
    clearInterval(ticker);
    for (const c of [cust, salon, ...open]) c.close();
    await bark.stop();
  });

  const stomp = async (claims = CUST) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  const rawStomp = async () => {
    const c = await RawStomp.open(bark.wsUrl, { token: bark.token(CUST) });
    open.push(c);
    return c;
  };
  const now = Math.floor(Date.now() / 1000);
  const claims = { userId: 7101, username: 'ho-customer', role: 'USER', exp: now + 600 };
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const HS = { alg: 'HS256', typ: 'JWT' };
  const signed = (payload) => signJwt(HS, payload, { secret: bark.secret });
  const { userId: _dropped, ...withoutUserId } = claims;

  // [name, run]: each run asserts the answer SPEC.md gives for that input.
  const cases = [
    // --- HTTP and the WebSocket handshake ---
    ['handshake: wrong Sec-WebSocket-Version → 426', async () => {
      assert.match(await httpRaw(bark.port, upgrade(bark.port, `${KEY}Sec-WebSocket-Version: 12\r\n`)), / 426 /);
    }],
    ['handshake: no Sec-WebSocket-Key → 400', async () => {
      assert.match(await httpRaw(bark.port, upgrade(bark.port, 'Sec-WebSocket-Version: 13\r\n')), / 400 /);
    }],
    ['handshake: disallowed Origin → 403, no upgrade', async () => {
      const hs = await rawWsHandshake(bark.port, { headers: { Origin: 'https://evil.example' } });
      hs.socket.destroy();
      assert.equal(hs.status, 403);
    }],
    ['handshake: 20 KB of headers → 431', async () => {
      const big = `X-Junk: ${'a'.repeat(20000)}\r\n`;
      assert.match(await httpRaw(bark.port, upgrade(bark.port, `${KEY}Sec-WebSocket-Version: 13\r\n${big}`)), / 431 /);
    }],
    ['handshake: 200 header lines → 431', async () => {
      let many = '';
      for (let i = 0; i < 200; i++) many += `X-H${i}: ${'v'.repeat(60)}\r\n`;
      assert.match(await httpRaw(bark.port, `GET /healthz HTTP/1.1\r\nHost: x\r\n${many}\r\n`), / 431 /);
    }],
    ['HTTP: a garbage request line → 400', async () => {
      assert.match(await httpRaw(bark.port, 'HELLO THERE\r\n\r\n'), / 400 /);
    }],
    ['HTTP: a bad chunked body → 400', async () => {
      assert.match(await httpRaw(bark.port,
        'POST /api/chat/rooms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), / 400 /);
    }],
    ['HTTP: a body over the limit → 413', async () => {
      assert.match(await httpRaw(bark.port,
        `POST /api/chat/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 << 20}\r\n\r\n`), / 413 /);
    }],
    // --- WebSocket frames ---
    ['ws: an unmasked client frame → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ masked: false, payload: 'x' })), 1002);
    }],
    ['ws: a reserved opcode (3) → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ opcode: 3, payload: 'x' })), 1002);
    }],
    ['ws: reserved bits set without an extension → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ rsv: 4, payload: 'x' })), 1002);
    }],
    ['ws: a fragmented control frame (ping, FIN=0) → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ fin: false, opcode: 9, payload: 'x' })), 1002);
    }],
    ['ws: a control frame over 125 bytes → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ opcode: 9, payload: 'x'.repeat(126) })), 1002);
    }],
    ['ws: a continuation with nothing to continue → close 1002', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ opcode: 0, payload: 'x' })), 1002);
    }],
    ['ws: a frame declaring 2^40 bytes → close 1009', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ payload: 'x', length: 2 ** 40 }).subarray(0, 20)), 1009);
    }],
    ['ws: a message over 4 × --max-frame-bytes → close 1009', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ opcode: 2, payload: Buffer.alloc(4 * MAX_FRAME + 1, 65) })), 1009);
    }],
    ['ws: a text message that is not UTF-8 → close 1007', async () => {
      assert.equal(await wsRaw(bark, wsFrame({ opcode: 1, payload: Buffer.from([0xc3, 0x28]) })), 1007);
    }],
    // --- STOMP ---
    ['stomp: SEND before CONNECT → ERROR not-connected', async () => {
      const c = await rawStomp();
      c.ws.send(stompFrame('SEND', { destination: `/pub/chat/send/${R}` }, '{}'));
      await protocolError(c, 'not-connected', 1002);
    }],
    ['stomp: an unknown command → ERROR unknown-command', async () => {
      const c = await stomp();
      c.ws.send(stompFrame('FROB'));
      await protocolError(c, 'unknown-command', 1002);
    }],
    ['stomp: a header line without a colon → ERROR malformed-frame', async () => {
      const c = await stomp();
      c.ws.send(`SEND\ndestination /pub/x\n\nhi${NUL}`);
      await protocolError(c, 'malformed-frame', 1002);
    }],
    ['stomp: an undefined escape (\\t) in 1.2 → ERROR bad-escape', async () => {
      const c = await stomp();
      c.ws.send(`SUBSCRIBE\nid:a\\tb\ndestination:/sub/x\n\n${NUL}`);
      await protocolError(c, 'bad-escape', 1002);
    }],
    ['stomp: 65 headers → ERROR too-many-headers', async () => {
      const c = await stomp();
      const h = { destination: '/sub/x' };
      for (let i = 0; i < 65; i++) h[`x-${i}`] = 'v';
      c.ws.send(stompFrame('SEND', h, 'x'));
      await protocolError(c, 'too-many-headers', 1002);
    }],
    ['stomp: a frame over --max-frame-bytes → ERROR frame-too-large', async () => {
      const c = await stomp();
      c.ws.send(stompFrame('SEND', { destination: `/pub/chat/send/${R}` }, 'x'.repeat(MAX_FRAME + 1)));
      await protocolError(c, 'frame-too-large', 1002);
    }],
    ['stomp: content-length that is not a number → ERROR bad-content-length', async () => {
      const c = await stomp();
      c.ws.send(stompFrame('SEND', { destination: '/sub/x', 'content-length': 'ten' }, 'x'));
      await protocolError(c, 'bad-content-length', 1002);
    }],
    ['stomp: content-length shorter than the body (no NUL after it) → ERROR malformed-frame', async () => {
      const c = await stomp();
      c.ws.send(stompFrame('SEND', { destination: '/sub/x', 'content-length': '2' }, 'hello'));
      await protocolError(c, 'malformed-frame', 1002);
    }],
    ['stomp: content-length past the limit → ERROR frame-too-large', async () => {
      const c = await stomp();
      c.ws.send(stompFrame('SEND', { destination: '/sub/x', 'content-length': String(1 << 30) }, 'x'));
      await protocolError(c, 'frame-too-large', 1002);
    }],
    ['stomp: a duplicate subscription id → ERROR duplicate-subscription', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's', destination: '/sub/a' });
      c.send('SUBSCRIBE', { id: 's', destination: '/sub/b', receipt: 'dup' });
      await protocolError(c, 'duplicate-subscription', 1002);
    }],
    ['stomp: SUBSCRIBE without destination → ERROR missing-header', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's' });
      await protocolError(c, 'missing-header', 1002);
    }],
    ['stomp: SEND to /sub/** → ERROR send-not-allowed', async () => {
      const c = await stomp();
      c.send('SEND', { destination: '/sub/news' }, 'spam');
      await protocolError(c, 'send-not-allowed', 1002);
    }],
    ['stomp: SUBSCRIBE outside /sub and /user → ERROR invalid-destination', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's', destination: '/pub/chat/send/1' });
      await protocolError(c, 'invalid-destination', 1002);
    }],
    ['stomp: a wildcard under /sub/chat → ERROR invalid-destination', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's', destination: '/sub/chat/**' });
      await protocolError(c, 'invalid-destination', 1002);
    }],
    // --- tokens ---
    ['token: none at all → ERROR token-missing', async () => {
      const c = await RawStomp.open(bark.wsUrl, { token: null, authVia: 'none' });
      open.push(c);
      c.send('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1' });
      await protocolError(c, 'token-missing', 1008);
    }],
    // Tokens sent in CONNECT's passcode: [what is wrong, the token, the ERROR message].
    ...[
      ['a forged signature', signJwt(HS, claims, { secret: 'not-the-secret' }), 'token-invalid'],
      ['expired past the leeway', bark.token(CUST, { ttl: -120 }), 'token-expired'],
      ['alg none', signJwt({ alg: 'none', typ: 'JWT' }, claims), 'token-invalid'],
      ['RS256 where an HS256 secret is configured',
        signJwt({ alg: 'RS256', typ: 'JWT' }, claims, { privateKey: rsa.privateKey }), 'token-invalid'],
      ['no userId claim', signed(withoutUserId), 'token-invalid'],
      ['userId as a string', signed({ ...claims, userId: '7101' }), 'token-invalid'],
      ['an unknown role', signed({ ...claims, role: 'ROOT' }), 'token-invalid'],
      ['an empty username', signed({ ...claims, username: '' }), 'token-invalid'],
      ['not base64url at all', 'a.b$.c', 'token-invalid'],
    ].map(([what, token, code]) => [`token: ${what} → ERROR ${code}`, async () => {
      const c = await connectWith(bark, token);
      open.push(c);
      await protocolError(c, code, 1008);
    }]),
    // --- chat payloads (application errors: the connection stays open) ---
    ['chat: messageText as a number → bad-json', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, { messageText: 42 }, { receipt: 'j1' });
      await appError(c, 'bad-json', 'j1');
    }],
    ['chat: not JSON → bad-json', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, '{"messageText": "unterminated', { receipt: 'j2' });
      await appError(c, 'bad-json', 'j2');
    }],
    ['chat: 4001 characters → text-too-long', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, { messageText: 'é'.repeat(4001) }, { receipt: 'j3' });
      await appError(c, 'text-too-long', 'j3');
    }],
    ['chat: an empty text → empty-text', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, { messageText: '' }, { receipt: 'j4' });
      await appError(c, 'empty-text', 'j4');
    }],
    ['chat: a body that is not UTF-8 (binary message) → bad-json', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      const head = Buffer.from(`SEND\ndestination:/pub/chat/send/${R}\nreceipt:j5\ncontent-type:application/json\n\n`);
      c.ws.send(Buffer.concat([head, Buffer.from('{"messageText":"'), Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'), Buffer.from([0])]), { binary: true });
      await appError(c, 'bad-json', 'j5');
    }],
    ['chat: roomId in the body differs from the destination → room-mismatch', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, { roomId: R + 1000, messageText: 'hi' }, { receipt: 'j6' });
      await appError(c, 'room-mismatch', 'j6');
    }],
    ['chat: a clientMessageId over 64 characters → bad-client-message-id', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(R, { messageText: 'hi', clientMessageId: 'k'.repeat(65) }, { receipt: 'j7' });
      await appError(c, 'bad-client-message-id', 'j7');
    }],
    ['chat: a room that does not exist → not-found', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(99999999, { messageText: 'hi' }, { receipt: 'j8' });
      await appError(c, 'not-found', 'j8');
    }],
    // --- rooms one does not belong to ---
    ['cross-room: SUBSCRIBE to another pair\'s room → ERROR forbidden, close 1008', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's', destination: `/sub/chat/${otherRoom}` });
      await protocolError(c, 'forbidden', 1008);
    }],
    ['cross-room: SUBSCRIBE to its typing topic → ERROR forbidden, close 1008', async () => {
      const c = await stomp();
      c.send('SUBSCRIBE', { id: 's', destination: `/sub/chat/${otherRoom}/typing` });
      await protocolError(c, 'forbidden', 1008);
    }],
    // Patterns are open outside rooms only: one that could match a room topic would read them all.
    ...['/sub/**', `/sub/*/${otherRoom}`, '/sub/**/typing', '/sub/ch?t/**', '/**'].map((pattern) => [
      `cross-room: a wildcard that reaches rooms (${pattern}) → ERROR invalid-destination`, async () => {
        const c = await stomp();
        c.send('SUBSCRIBE', { id: 's', destination: pattern });
        await protocolError(c, 'invalid-destination', 1002);
      }]),
    ['cross-room: SEND into another pair\'s room → forbidden, not stored', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.chatSend(otherRoom, { messageText: 'intrusion' }, { receipt: 'x1' });
      await appError(c, 'forbidden', 'x1');
      const hist = await fullHistory(bark, bark.token(OTHER), otherRoom);
      assert.deepEqual(hist.filter((m) => m.messageText === 'intrusion'), [], 'nothing stored');
    }],
    ['cross-room: a read mark in another pair\'s room → forbidden', async () => {
      const c = await stomp();
      await c.subscribe('errors', '/user/queue/errors');
      c.sendJson(`/pub/chat/read/${otherRoom}`, { lastReadMessageId: 1 }, { receipt: 'x2' });
      await appError(c, 'forbidden', 'x2');
    }],
  ];

  assert.ok(cases.length >= 40, `${cases.length} cases`);
  for (const [name, run] of cases) {
    await t.test(name, run);
  }

  await t.test('the healthy pair chatted through all of it: every message, in order, no error', async () => {
    clearInterval(ticker);
    const n = sent;
    await waitUntil(() => salon.messages('room').length >= n, 5000, `${n} messages`);
    assert.deepEqual(salon.json('room').map((m) => m.messageText), Array.from({ length: n }, (_, i) => `tick ${i}`));
    assert.equal(cust.messages('errors').length, 0, 'no error for the healthy sender');
    assert.equal(cust.closed, null);
    assert.equal(salon.closed, null);
  });
});
