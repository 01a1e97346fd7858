'use strict';
// STOMP over SockJS at /ws/chat: the seed's client stack (sockjs-client 1.x + stompjs 2.3.3) on
// xhr-streaming, xhr-polling and websocket with a customer and a salon chatting in a room, and by
// hand: the opening request's cookie or Authorization header as the credentials, a missing or bad
// token, frames split across and packed into SockJS messages, STOMP heart-beats as "\n" messages,
// DISCONNECT, the raw /ws/chat/websocket endpoint, and that a closed session leaves no
// subscription behind.

const test = require('node:test');
const assert = require('node:assert/strict');
const SockJS = require('sockjs-client');
const Stomp = require('stompjs');
const {
  startBark, createRoom, chatConnect, RawStomp, ISO_MS_RE, sleep, waitUntil, withTimeout, frame,
} = require('./lib/bark');
const S = require('./lib/sockjs');

const CUST = { userId: 1001, username: 'customer-kim', role: 'USER' };
const SALON = { userId: 2001, username: 'salon-lee', role: 'SALON' };

const CONNECT = (headers = {}) => frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', ...headers });

// A stompjs 2.3.3 client over a sockjs-client connection restricted to `transport`. Resolves
// {client, sock, frame (CONNECTED), receipts, messages} or rejects with the STOMP ERROR / close.
function sockjsStomp(bark, transport, connectHeaders, { opened } = {}) {
  // At least 10 s for the transport to open (sockjs-client's own is ~0.7 s on loopback: too short
  // for a sanitizer build).
  const sock = new SockJS(`${bark.url}/ws/chat`, null, { transports: [transport], timeout: 10000 });
  const client = Stomp.over(sock);
  client.debug = null;
  client.heartbeat.outgoing = 0;
  client.heartbeat.incoming = 0;
  const receipts = [];
  client.onreceipt = (f) => receipts.push(f.headers['receipt-id']);
  if (opened) opened.push({ client, sock });
  return withTimeout(new Promise((resolve, reject) => {
    client.connect(connectHeaders, (f) => resolve({ client, sock, frame: f, receipts }), (err) => {
      const e = new Error(typeof err === 'string' ? err : `STOMP ${err.command} ${err.headers.message}: ${err.body}`);
      e.frame = typeof err === 'string' ? null : err;
      reject(e);
    });
  }), 8000, `sockjs-client (${transport}) + stompjs connect`);
}

const waitReceipt = (c, id, ms = 5000) => waitUntil(() => c.receipts.includes(id), ms, `RECEIPT ${id}`);

function assertChat(m, { roomId, from, text }) {
  assert.equal(m.roomId, roomId);
  assert.equal(m.senderId, from.userId);
  assert.equal(m.senderRole, from.role);
  assert.equal(m.senderName, from.username);
  assert.equal(m.messageText, text);
  assert.ok(Number.isInteger(m.messageId) && m.messageId > 0, `messageId ${m.messageId}`);
  assert.match(m.sendAt, ISO_MS_RE);
}

let seq = 0;
const rid = (p) => `${p}-${++seq}`;

test('STOMP over SockJS (/ws/chat)', async (t) => {
  const bark = await startBark(['--sockjs-disconnect-delay', '1000', '--heartbeat', '300,300']);
  const opened = []; // sockjs-client connections
  const raws = [];   // RawStomp connections
  t.after(async () => {
    for (const { sock } of opened) { try { sock.close(); } catch { /* closed */ } }
    for (const c of raws) c.close();
    S.closeAll();
    await bark.stop();
  });
  const P = bark.port;
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const roomId = room.roomId;
  const dest = `/sub/chat/${roomId}`;
  // A salon watching the room over plain STOMP/WebSocket, to see what the SockJS side sends.
  const watcher = await chatConnect(bark, SALON);
  raws.push(watcher);
  await watcher.subscribe('room', dest);

  for (const transport of ['xhr-streaming', 'xhr-polling', 'websocket']) {
    await t.test(`sockjs-client ${transport} + stompjs 2.3.3: customer and salon chat both ways, with receipts`, async () => {
      const cust = await sockjsStomp(bark, transport, { passcode: bark.token(CUST) }, { opened });
      const salon = await sockjsStomp(bark, transport, { Authorization: `Bearer ${bark.token(SALON)}` }, { opened });
      assert.equal(cust.sock.transport, transport);
      assert.equal(salon.sock.transport, transport);
      assert.equal(cust.frame.headers['user-name'], CUST.username);
      assert.equal(salon.frame.headers['user-name'], SALON.username);
      const got = { cust: [], salon: [] };
      for (const [name, c] of [['cust', cust], ['salon', salon]]) {
        const r = rid(`sub-${name}`);
        c.client.subscribe(dest, (m) => got[name].push(JSON.parse(m.body)), { receipt: r });
        await waitReceipt(c, r);
      }
      const script = [
        [cust, CUST, `hello over ${transport}`],
        [salon, SALON, `안녕하세요 (${transport})`],
        [cust, CUST, 'line one\nline two "quoted" \\ back\u2028slash'],
        [salon, SALON, 'see you ✓'],
      ];
      for (const [c, , text] of script) {
        const r = rid('send');
        c.client.send(`/pub/chat/send/${roomId}`, { receipt: r, 'content-type': 'application/json' },
          JSON.stringify({ roomId, messageText: text, sendAt: new Date().toISOString() }));
        await waitReceipt(c, r);
      }
      await waitUntil(() => got.cust.length >= 4 && got.salon.length >= 4, 5000, 'four messages on both sides');
      assert.deepEqual(got.cust, got.salon);
      script.forEach(([, from, text], i) => assertChat(got.cust[i], { roomId, from, text }));
      // The plain WebSocket side saw the same messages.
      const ids = got.cust.map((m) => m.messageId);
      await waitUntil(() => ids.every((id) => watcher.json('room').some((m) => m.messageId === id)), 3000, 'watcher sees them');

      // A frame split over many SockJS messages (stompjs cuts frames at maxWebSocketFrameSize).
      cust.client.maxWebSocketFrameSize = 40;
      const r = rid('split');
      const long = `split frame over ${transport}: ${'가나다라마바사'.repeat(20)}`;
      cust.client.send(`/pub/chat/send/${roomId}`, { receipt: r }, JSON.stringify({ messageText: long }));
      await waitReceipt(cust, r);
      await waitUntil(() => got.salon.length >= 5, 3000, 'split message at the salon');
      assertChat(got.salon[4], { roomId, from: CUST, text: long });

      for (const c of [cust, salon]) {
        await withTimeout(new Promise((resolve) => c.client.disconnect(resolve)), 3000, 'stompjs disconnect');
      }
    });
  }

  await t.test('sockjs-client + stompjs without a token: ERROR token-missing; a bad one: token-invalid', async () => {
    for (const transport of ['xhr-streaming', 'websocket']) {
      await assert.rejects(sockjsStomp(bark, transport, {}, { opened }), (err) => {
        assert.ok(err.frame, err.message);
        assert.equal(err.frame.command, 'ERROR');
        assert.equal(err.frame.headers.message, 'token-missing', `${transport}: ${err.message}`);
        return true;
      });
      await assert.rejects(sockjsStomp(bark, transport, { passcode: 'not.a.jwt' }, { opened }), (err) => {
        assert.ok(err.frame, err.message);
        assert.equal(err.frame.headers.message, 'token-invalid', `${transport}: ${err.message}`);
        return true;
      });
    }
  });

  await t.test('raw xhr_streaming: the opening request\'s Authorization cookie authenticates CONNECT', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat', { headers: { Cookie: `Authorization=${bark.token(CUST)}` } }).open();
    await s.sendOk('CONNECT\naccept-version:1.2\n\n\u0000');
    const f = await s.waitStomp('CONNECTED');
    assert.equal(f.headers['user-name'], CUST.username, s.dump());
    assert.equal(f.headers.version, '1.2');
    // Each server frame is a message of its own, with its NUL.
    assert.ok(s.messages[0].startsWith('CONNECTED\n') && s.messages[0].endsWith('\u0000'), JSON.stringify(s.messages[0]));
    s.abort();
  });

  await t.test('raw xhr_send: a session opened with a cookie token takes sends only with a cookie token of the same user', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat', { headers: { Cookie: `Authorization=${bark.token(CUST)}` } }).open();
    const salonSameId = { userId: CUST.userId, username: 'salon-same-id', role: 'SALON' };
    const intruders = [
      ['no cookie', {}],
      ['another user', { Cookie: `Authorization=${bark.token(SALON)}` }],
      ['the same id, another role', { Cookie: `Authorization=${bark.token(salonSameId)}` }],
      ['an invalid token', { Cookie: 'Authorization=not.a.jwt' }],
    ];
    for (const [who, headers] of intruders) {
      const r = await S.POST(P, `${s.url}/xhr_send`, { body: JSON.stringify(['SEND\ndestination:/pub/x\n\nforged\u0000']), headers });
      assert.equal(r.status, 403, `${who}: ${r.status} ${r.body}`);
    }
    await s.sendOk('CONNECT\naccept-version:1.2\n\n\u0000');  // the owner's own cookie goes along
    const f = await s.waitStomp('CONNECTED');
    assert.equal(f.headers['user-name'], CUST.username, s.dump());
    assert.equal(s.stomp.length, 1, `nothing the intruders sent was read: ${s.dump()}`);
    s.abort();
  });

  await t.test('raw xhr: the opening request\'s Authorization header authenticates; CONNECT passcode wins over both', async () => {
    const url = `/ws/chat/000/${S.newSessionId()}`;
    let r = await S.POST(P, `${url}/xhr`, { headers: { Authorization: `Bearer ${bark.token(SALON)}` } });
    assert.equal(r.body, 'o\n');
    r = await S.POST(P, `${url}/xhr_send`, { body: JSON.stringify([CONNECT()]) });
    assert.equal(r.status, 204, r.body);
    r = await S.POST(P, `${url}/xhr`);
    const fr = S.parseSockJsFrame(r.body.trimEnd());
    assert.equal(fr.type, 'a', r.body);
    assert.match(fr.messages[0], /^CONNECTED\n/);
    assert.match(fr.messages[0], new RegExp(`\nuser-name:${SALON.username}\n`));

    const other = { userId: 1099, username: 'passcode-user', role: 'USER' };
    const s = await new S.SockJsSession(P, '/ws/chat', {
      headers: { Cookie: `Authorization=${bark.token(CUST)}`, Authorization: `Bearer ${bark.token(SALON)}` },
    }).open();
    await s.sendOk(CONNECT({ passcode: bark.token(other) }));
    const f = await s.waitStomp('CONNECTED');
    assert.equal(f.headers['user-name'], other.username, s.dump());
    s.abort();
  });

  await t.test('raw xhr_streaming without a token: ERROR token-missing, then the session closes (c frame, then c again on a new receiver)', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat').open();
    await s.sendOk(CONNECT());
    const f = await s.waitStomp('ERROR');
    assert.equal(f.headers.message, 'token-missing', s.dump());
    assert.ok(f.text.trim().length > 0, 'a readable body');
    const c = await s.waitClose();
    assert.ok(Number.isInteger(c.code), c.raw);
    await waitUntil(() => s.ended, 3000, 'the streaming response ends after the c frame');
    const r = await S.POST(P, `${s.url}/xhr`);
    assert.equal(r.body, `${c.raw}\n`, 'the close frame is repeated to a new receiver');
    assert.equal(s.stomp.filter((x) => x.command === 'CONNECTED').length, 0);
  });

  await t.test('raw: an expired token → ERROR token-expired', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat').open();
    await s.sendOk(CONNECT({ passcode: bark.token(CUST, { ttl: -3600 }) }));
    const f = await s.waitStomp('ERROR');
    assert.equal(f.headers.message, 'token-expired', s.dump());
    await s.waitClose();
    s.abort();
  });

  await t.test('raw: one frame split across messages and xhr_sends; several frames in one message; receipts', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat').open();
    const c = CONNECT({ passcode: bark.token(CUST) });
    await s.sendOk(c.slice(0, 5), c.slice(5, 20));
    await s.sendOk(c.slice(20));
    await s.waitStomp('CONNECTED');
    const sub = frame('SUBSCRIBE', { id: 'room', destination: dest, receipt: 'r-sub' });
    const send = frame('SEND', { destination: `/pub/chat/send/${roomId}`, 'content-type': 'application/json', receipt: 'r-send' },
      JSON.stringify({ messageText: 'packed' }));
    await s.sendOk(sub + send);
    await s.waitStomp((x) => x.command === 'RECEIPT' && x.headers['receipt-id'] === 'r-sub', 3000, 'RECEIPT r-sub');
    await s.waitStomp((x) => x.command === 'RECEIPT' && x.headers['receipt-id'] === 'r-send', 3000, 'RECEIPT r-send');
    const m = await s.waitStomp('MESSAGE');
    assert.equal(m.headers.destination, dest);
    assert.equal(m.headers.subscription, 'room');
    assertChat(JSON.parse(m.text), { roomId, from: CUST, text: 'packed' });
    // Message from the plain WebSocket side arrives on the SockJS session.
    const r = rid('w');
    watcher.chatSend(roomId, { messageText: 'from the websocket side' }, { receipt: r });
    await watcher.receipt(r);
    const m2 = await s.waitStomp((x) => x.command === 'MESSAGE' && JSON.parse(x.text).messageText === 'from the websocket side', 3000, 'second MESSAGE');
    assertChat(JSON.parse(m2.text), { roomId, from: SALON, text: 'from the websocket side' });
    // DISCONNECT with a receipt: RECEIPT, then the session closes.
    await s.sendOk(frame('DISCONNECT', { receipt: 'bye' }));
    await s.waitStomp((x) => x.command === 'RECEIPT' && x.headers['receipt-id'] === 'bye', 3000, 'RECEIPT bye');
    await s.waitClose();
  });

  await t.test('raw: STOMP heart-beats are "\\n" messages (CONNECT heart-beat 0,300)', async () => {
    const s = await new S.SockJsSession(P, '/ws/chat').open();
    await s.sendOk(CONNECT({ passcode: bark.token(CUST), 'heart-beat': '0,300' }));
    const f = await s.waitStomp('CONNECTED');
    assert.equal(f.headers['heart-beat'].split(',')[0], '300', `server sends every 300 ms: ${f.raw}`);
    await waitUntil(() => s.messages.filter((m) => m === '\n').length >= 2, 3000, 'two "\\n" messages');
    s.abort();
  });

  await t.test('raw websocket transport /ws/chat/{server}/{session}/websocket: SockJS framing around STOMP', async () => {
    const w = await S.WsQueue.open(`ws://127.0.0.1:${P}/ws/chat/000/${S.newSessionId()}/websocket`,
      { headers: { Authorization: `Bearer ${bark.token(SALON)}` } });
    try {
      assert.equal(await w.recv(), 'o');
      w.send(JSON.stringify([CONNECT()]));
      let msg;
      do { msg = await w.recv(); } while (msg === 'h');
      const fr = S.parseSockJsFrame(msg);
      assert.equal(fr.type, 'a', msg);
      assert.match(fr.messages[0], new RegExp(`^CONNECTED\n[^\0]*user-name:${SALON.username}\n`));
    } finally {
      w.close();
    }
  });

  await t.test('/ws/chat/websocket is plain STOMP over WebSocket', async () => {
    const c = await RawStomp.connect(`ws://127.0.0.1:${P}/ws/chat/websocket`,
      { 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0' }, { token: bark.token(CUST) });
    raws.push(c);
    await c.subscribe('room', dest);
    const r = rid('plain');
    c.chatSend(roomId, { messageText: 'plain ws' }, { receipt: r });
    await c.receipt(r);
    const [m] = await c.waitJson('room', 1);
    assertChat(m, { roomId, from: CUST, text: 'plain ws' });
    c.close();
  });

  await t.test('closing a SockJS session unsubscribes it: nothing is delivered to it, the room keeps working', async () => {
    // A raw session subscribed to the room, then its receiver aborted.
    const s = await new S.SockJsSession(P, '/ws/chat').open();
    await s.sendOk(CONNECT({ passcode: bark.token(CUST) }));
    await s.waitStomp('CONNECTED');
    await s.sendOk(frame('SUBSCRIBE', { id: 'room', destination: dest, receipt: 'r1' }));
    await s.waitStomp('RECEIPT');
    s.abort();
    // A sockjs-client one, subscribed, then closed without DISCONNECT.
    const gone = await sockjsStomp(bark, 'xhr-streaming', { passcode: bark.token(CUST) }, { opened });
    const goneGot = [];
    const r0 = rid('gone-sub');
    gone.client.subscribe(dest, (m) => goneGot.push(m.body), { receipt: r0 });
    await waitReceipt(gone, r0);
    gone.sock.close();
    await sleep(150);

    // The room goes on for the others.
    const before = watcher.json('room').length;
    for (let i = 0; i < 5; i++) {
      const r = rid('after-close');
      watcher.chatSend(roomId, { messageText: `after close ${i}` }, { receipt: r });
      await watcher.receipt(r);
    }
    await watcher.waitMessages(before + 5, 3000, 'room');
    const fresh = await sockjsStomp(bark, 'xhr-polling', { passcode: bark.token(CUST) }, { opened });
    const freshGot = [];
    const r2 = rid('fresh-sub');
    fresh.client.subscribe(dest, (m) => freshGot.push(JSON.parse(m.body)), { receipt: r2 });
    await waitReceipt(fresh, r2);
    const r3 = rid('fresh');
    watcher.chatSend(roomId, { messageText: 'to the fresh client' }, { receipt: r3 });
    await watcher.receipt(r3);
    await waitUntil(() => freshGot.some((m) => m.messageText === 'to the fresh client'), 3000, 'fresh client gets the room');
    assert.equal(goneGot.length, 0, 'the closed sockjs-client session got nothing');

    // The aborted session is closed: a new receiver gets its close frame, no MESSAGE.
    const r = await S.POST(P, `${s.url}/xhr`);
    assert.equal(r.body, 'c[1002,"Connection interrupted"]\n', r.body);
    // Once forgotten, the same session id is a new session that inherits no subscription.
    let reopened;
    const deadline = Date.now() + 4000;
    for (;;) {
      const x = await S.POST_async(P, `${s.url}/xhr_streaming`);
      await x.read();
      const first = await x.read();
      if (first === 'o\n') { reopened = x; break; }
      x.close();
      assert.equal(first, 'c[1002,"Connection interrupted"]\n');
      if (Date.now() > deadline) throw new Error('the closed session was not forgotten within 4 s');
      await sleep(200);
    }
    try {
      const r4 = rid('old-id');
      watcher.chatSend(roomId, { messageText: 'not for the old session' }, { receipt: r4 });
      await watcher.receipt(r4);
      const chunk = await reopened.read(500).catch((err) => (/^timeout/.test(err.message) ? null : Promise.reject(err)));
      assert.ok(chunk === null || !/MESSAGE/.test(chunk), `a new session with the old id got: ${JSON.stringify(chunk)}`);
    } finally {
      reopened.close();
    }
  });
});

test('STOMP over sockjs-client xhr-streaming across stream renewals (--sockjs-stream-bytes 4096)', async (t) => {
  const bark = await startBark(['--sockjs-stream-bytes', '4096']);
  const opened = [];
  t.after(async () => {
    for (const { sock } of opened) { try { sock.close(); } catch { /* closed */ } }
    S.closeAll();
    await bark.stop();
  });
  const { roomId } = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const cust = await sockjsStomp(bark, 'xhr-streaming', { passcode: bark.token(CUST) }, { opened });
  const salon = await sockjsStomp(bark, 'xhr-streaming', { passcode: bark.token(SALON) }, { opened });
  const got = [];
  cust.client.subscribe(`/sub/chat/${roomId}`, (m) => got.push(JSON.parse(m.body).messageText), { receipt: 'renew-sub' });
  await waitReceipt(cust, 'renew-sub');
  // 40 × about 450 bytes of MESSAGE frames in groups of 5 (each group received before the next
  // is sent): the receiving response is renewed several times, between groups and within them.
  const texts = Array.from({ length: 40 }, (_, i) => `renewal ${i} ${'r'.repeat(200)}`);
  for (let g = 0; g < texts.length; g += 5) {
    for (const text of texts.slice(g, g + 5)) {
      salon.client.send(`/pub/chat/send/${roomId}`, {}, JSON.stringify({ messageText: text }));
    }
    await waitUntil(() => got.length >= g + 5, 5000, `messages ${g}..${g + 4} across renewals (got ${got.length})`);
  }
  assert.deepEqual(got, texts, 'every message once, in order');
  assert.equal(cust.client.connected, true);
});
