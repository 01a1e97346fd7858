'use strict';
// The chat layer over STOMP (SPEC §5 application destinations, user destinations, errors) with the
// SQLite store: rooms, sending both ways, identity from the token, participation rules, every
// application error code, clientMessageId retries, read marks, typing, notifications, the seed's
// own stompjs 2.3.3 client code with the cookie, and persistence across a restart.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const Stomp = require('stompjs');
const {
  startBark, chatConnect, api, createRoom, fullHistory, showHttp, ISO_MS_RE, sleep, waitUntil, withTimeout,
} = require('./lib/bark');

const CUST = { userId: 1001, username: 'customer-kim', role: 'USER' };
const SALON = { userId: 2001, username: 'salon-lee', role: 'SALON' };
const OTHER = { userId: 1002, username: 'other-park', role: 'USER' };
const ADMIN = { userId: 9001, username: 'admin-root', role: 'ADMIN' };
const CUST2 = { userId: 1003, username: 'customer-choi', role: 'USER' };

const BROADCAST_KEYS = ['messageId', 'roomId', 'senderId', 'senderRole', 'senderName', 'messageText', 'sendAt'];

// Checks one broadcast chat message against who sent what.
function assertChatMessage(m, { roomId, from, text, clientMessageId }) {
  const keys = BROADCAST_KEYS.concat(clientMessageId !== undefined ? ['clientMessageId'] : []);
  assert.deepEqual(Object.keys(m).sort(), keys.slice().sort(), `fields of ${JSON.stringify(m)}`);
  assert.equal(m.roomId, roomId);
  assert.equal(m.senderId, from.userId);
  assert.equal(m.senderRole, from.role);
  assert.equal(m.senderName, from.username);
  if (text !== undefined) assert.equal(m.messageText, text);
  assert.ok(Number.isInteger(m.messageId) && m.messageId > 0, `messageId ${m.messageId}`);
  assert.match(m.sendAt, ISO_MS_RE, `sendAt ${m.sendAt}`);
  assert.ok(Math.abs(Date.parse(m.sendAt) - Date.now()) < 60000, `sendAt ${m.sendAt} is the server's time (now ${new Date().toISOString()})`);
  if (clientMessageId !== undefined) assert.equal(m.clientMessageId, clientMessageId);
}

let seq = 0;
const rid = (p = 'r') => `${p}-${++seq}`;

// Sends a chat message and waits for its RECEIPT.
async function sendOk(c, roomId, body, ms = 3000) {
  const r = rid('ok');
  c.chatSend(roomId, body, { receipt: r });
  await c.receipt(r, ms);
  return r;
}

test('chat (sqlite store)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-chat-'));
  const dbFlag = `sqlite:${path.join(dir, 'bark.db')}`;
  let bark = await startBark(['--store', dbFlag, '--max-send-rate', '50']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const connect = async (claims, opts) => { const c = await chatConnect(bark, claims, opts); open.push(c); return c; };
  const tok = (claims) => bark.token(claims);

  let room;
  let cust;
  let salon;

  await t.test('room: customer creates it (201), again → 200 with the same room; the salon gets the same', async () => {
    const r1 = await api(bark, 'POST', '/api/chat/rooms', { token: tok(CUST), body: { customerId: 1001, salonId: 2001 } });
    assert.equal(r1.status, 201, showHttp('POST', '/api/chat/rooms', r1));
    room = r1.json;
    assert.equal(room.customerId, 1001);
    assert.equal(room.salonId, 2001);
    assert.ok(Number.isInteger(room.roomId));
    assert.ok(!Number.isNaN(Date.parse(room.createdAt)), `createdAt ${room.createdAt}`);
    const r2 = await api(bark, 'POST', '/api/chat/rooms', { token: tok(CUST), body: { customerId: 1001, salonId: 2001 } });
    assert.equal(r2.status, 200, showHttp('POST', '/api/chat/rooms', r2));
    assert.deepEqual(r2.json, room);
    const r3 = await api(bark, 'POST', '/api/chat/rooms', { token: tok(SALON), body: { customerId: 1001, salonId: 2001 } });
    assert.equal(r3.status, 200, showHttp('POST', '/api/chat/rooms', r3));
    assert.equal(r3.json.roomId, room.roomId);
  });

  await t.test('customer and salon exchange messages both ways; order, ids, sendAt and sender from the token', async () => {
    cust = await connect(CUST);
    salon = await connect(SALON);
    for (const c of [cust, salon]) {
      await c.subscribe('room', `/sub/chat/${room.roomId}`);
      await c.subscribe('errors', '/user/queue/errors');
    }
    const script = [[cust, CUST, 'hello from the customer'], [salon, SALON, '안녕하세요, 살롱입니다'],
      [cust, CUST, 'can I book at 3?'], [salon, SALON, 'yes ✓']];
    for (const [c, , text] of script) await sendOk(c, room.roomId, { messageText: text });
    const a = await cust.waitJson('room', 4);
    const b = await salon.waitJson('room', 4);
    assert.deepEqual(a, b, 'both sides see the same messages');
    script.forEach(([, from, text], i) => assertChatMessage(a[i], { roomId: room.roomId, from, text }));
    for (let i = 1; i < a.length; i++) assert.ok(a[i].messageId > a[i - 1].messageId, 'ids increase');
    const f = cust.messages('room')[0];
    assert.equal(f.headers.destination, `/sub/chat/${room.roomId}`);
    assert.match(f.headers['content-type'] || '', /^application\/json/);
    assert.equal(cust.json('errors').length, 0);
  });

  await t.test('identity comes from the token, never from the payload', async () => {
    const before = cust.messages('room').length;
    await sendOk(cust, room.roomId, {
      messageText: 'evil?', senderId: 999, senderName: 'evil', senderRole: 'ADMIN', messageId: 1, sendAt: '1999-01-01T00:00:00.000Z',
    });
    const [m] = (await salon.waitJson('room', before + 1)).slice(before);
    assertChatMessage(m, { roomId: room.roomId, from: CUST, text: 'evil?' });
    assert.ok(m.messageId > 1);
  });

  await t.test('roomId in the body is optional', async () => {
    const before = salon.messages('room').length;
    const r = rid();
    cust.sendJson(`/pub/chat/send/${room.roomId}`, { messageText: 'no roomId in body' }, { receipt: r });
    await cust.receipt(r);
    const [m] = (await salon.waitJson('room', before + 1)).slice(before);
    assertChatMessage(m, { roomId: room.roomId, from: CUST, text: 'no roomId in body' });
  });

  await t.test('a non-participant cannot SUBSCRIBE the room or its /read and /typing → ERROR forbidden, close 1008', async () => {
    for (const dest of [`/sub/chat/${room.roomId}`, `/sub/chat/${room.roomId}/read`, `/sub/chat/${room.roomId}/typing`, '/sub/chat/987654']) {
      const o = await connect(OTHER);
      o.send('SUBSCRIBE', { id: 'x', destination: dest, receipt: 'rx' });
      const f = await o.waitFor('ERROR', 3000, `ERROR forbidden for ${dest}`);
      assert.equal(f.headers.message, 'forbidden', `${dest}: ${o.dump()}`);
      assert.ok(f.text.trim().length > 0);
      const closed = await o.waitClosed();
      assert.equal(closed.code, 1008, `${dest}: ${o.dump()}`);
      assert.equal(o.frames.filter((x) => x.command === 'RECEIPT').length, 0);
    }
  });

  await t.test('a non-participant SEND → /user/queue/errors forbidden, no RECEIPT, no broadcast, still open', async () => {
    const o = await connect(OTHER);
    await o.subscribe('errors', '/user/queue/errors');
    const before = salon.messages('room').length;
    o.chatSend(room.roomId, { messageText: 'let me in' }, { receipt: 'intruder' });
    const [e] = await o.waitJson('errors', 1);
    assert.equal(e.error, 'forbidden', JSON.stringify(e));
    assert.equal(e.receiptId, 'intruder');
    assert.equal(typeof e.message, 'string');
    // Proof that the server went on: a receipt for a later frame, and the room got nothing.
    await o.subscribe('other', '/sub/lobby');
    await sleep(200);
    assert.equal(salon.messages('room').length, before, 'no broadcast of the intruder');
    assert.equal(o.frames.filter((x) => x.command === 'RECEIPT' && x.headers['receipt-id'] === 'intruder').length, 0);
    assert.equal(o.closed, null);
  });

  await t.test('ADMIN can subscribe and send', async () => {
    const adm = await connect(ADMIN);
    await adm.subscribe('room', `/sub/chat/${room.roomId}`);
    const before = cust.messages('room').length;
    const salonBefore = salon.messages('room').length;
    await sendOk(salon, room.roomId, { messageText: 'for the admin too' });
    const [m] = await adm.waitJson('room', 1);
    assertChatMessage(m, { roomId: room.roomId, from: SALON, text: 'for the admin too' });
    await sendOk(adm, room.roomId, { messageText: 'admin here' });
    const [n] = (await cust.waitJson('room', before + 2)).slice(before + 1);
    assertChatMessage(n, { roomId: room.roomId, from: ADMIN, text: 'admin here' });
    // The salon's copy travels on another connection than the admin's RECEIPT: wait for it too,
    // so the next case counts from a settled point.
    await salon.waitJson('room', salonBefore + 2);
  });

  await t.test('every application error code on /user/queue/errors; no RECEIPT; the connection stays open', async () => {
    const R = room.roomId;
    const cases = [
      ['bad-json', `/pub/chat/send/${R}`, '{"messageText": "unterminated'],
      ['bad-json', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R, messageText: 5 })],
      ['room-mismatch', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R + 1000, messageText: 'wrong room' })],
      ['not-found', '/pub/chat/send/987654', JSON.stringify({ roomId: 987654, messageText: 'nobody' })],
      ['empty-text', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R, messageText: '' })],
      ['text-too-long', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R, messageText: 'a'.repeat(4001) })],
      ['text-too-long', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R, messageText: '강'.repeat(4001) })],
      ['bad-client-message-id', `/pub/chat/send/${R}`, JSON.stringify({ roomId: R, messageText: 'x', clientMessageId: 'c'.repeat(65) })],
      ['unknown-destination', `/pub/chat/nothing/${R}`, JSON.stringify({ roomId: R, messageText: 'x' })],
    ];
    const before = salon.messages('room').length;
    const errBefore = cust.messages('errors').length;
    cases.forEach(([, dest, body], i) => cust.send('SEND', { destination: dest, 'content-type': 'application/json', receipt: `bad-${i}` }, body));
    // Frames of one room answer in order; the unknown room is read from the store first, so its
    // answer may come later than the next frames': match the answers by receipt id.
    const answers = (await cust.waitJson('errors', errBefore + cases.length, 5000)).slice(errBefore);
    const index = (e) => Number(String(e.receiptId).replace('bad-', ''));
    const errs = [...answers].sort((a, b) => index(a) - index(b));
    assert.deepEqual(errs.map((e) => e.receiptId), cases.map((_, i) => `bad-${i}`), JSON.stringify(answers, null, 1));
    assert.deepEqual(errs.map((e) => e.error), cases.map(([code]) => code), JSON.stringify(answers, null, 1));
    const sameRoom = answers.filter((e) => e.error !== 'not-found').map(index);
    assert.deepEqual(sameRoom, [...sameRoom].sort((a, b) => a - b), 'one room\'s answers come in frame order');
    errs.forEach((e) => assert.ok(typeof e.message === 'string' && e.message.length > 0, JSON.stringify(e)));
    // Without a receipt header: no receiptId.
    cust.send('SEND', { destination: `/pub/chat/send/${R}`, 'content-type': 'application/json' }, JSON.stringify({ roomId: R, messageText: '' }));
    const [last] = (await cust.waitJson('errors', errBefore + cases.length + 1)).slice(-1);
    assert.equal(last.error, 'empty-text');
    assert.ok(!('receiptId' in last), JSON.stringify(last));

    // The limits' accepted side: 4000 characters (ASCII, Hangul, astral emoji: code points), 64-char id.
    const okTexts = ['a'.repeat(4000), '강'.repeat(4000), '😀'.repeat(4000)];
    for (const text of okTexts) await sendOk(cust, R, { messageText: text });
    await sendOk(cust, R, { messageText: 'id of 64', clientMessageId: 'c'.repeat(64) });
    const got = (await salon.waitJson('room', before + 4)).slice(before);
    assert.deepEqual(got.map((m) => m.messageText), [...okTexts, 'id of 64'], 'only the valid SENDs were broadcast, texts intact');
    assert.equal(got[3].clientMessageId, 'c'.repeat(64));
    await sleep(200);
    assert.equal(salon.messages('room').length, before + 4, 'no broadcast for a faulty SEND');
    const badReceipts = cust.frames.filter((x) => x.command === 'RECEIPT' && /^bad-/.test(x.headers['receipt-id']));
    assert.equal(badReceipts.length, 0, 'no RECEIPT for a faulty SEND');
    assert.equal(cust.closed, null);
  });

  await t.test('clientMessageId retry: stored once, two receipts, one broadcast', async () => {
    const R = room.roomId;
    const before = salon.messages('room').length;
    const cmid = `cm-${Date.now()}`;
    await sendOk(cust, R, { messageText: 'retry me', clientMessageId: cmid });
    await sendOk(cust, R, { messageText: 'retry me', clientMessageId: cmid, sendAt: new Date(Date.now() + 5000).toISOString() });
    await sendOk(cust, R, { messageText: 'after the retry' });
    const got = (await salon.waitJson('room', before + 2)).slice(before);
    await sleep(200);
    const all = salon.json('room').slice(before);
    assert.deepEqual(all.map((m) => m.messageText), ['retry me', 'after the retry'], JSON.stringify(all));
    assertChatMessage(got[0], { roomId: R, from: CUST, text: 'retry me', clientMessageId: cmid });
    const hist = await fullHistory(bark, tok(CUST), R);
    assert.equal(hist.filter((m) => m.clientMessageId === cmid).length, 1, 'history has the message once');
    assert.deepEqual(hist.find((m) => m.clientMessageId === cmid), got[0], 'history entry shaped exactly as the broadcast');
    assert.equal(cust.json('errors').filter((e) => e.receiptId && e.receiptId.startsWith('ok-')).length, 0);
    // The same clientMessageId from another sender is another message.
    await sendOk(salon, R, { messageText: 'same id, other sender', clientMessageId: cmid });
    const m = await waitUntil(() => cust.json('room').find((x) => x.messageText === 'same id, other sender'), 3000, 'salon message');
    assertChatMessage(m, { roomId: R, from: SALON, text: 'same id, other sender', clientMessageId: cmid });
    assert.ok(m.messageId > got[1].messageId);
  });

  await t.test('typing: broadcast to /sub/chat/{roomId}/typing, not stored', async () => {
    const R = room.roomId;
    await salon.subscribe('typing', `/sub/chat/${R}/typing`);
    const histBefore = (await fullHistory(bark, tok(CUST), R)).length;
    const r1 = rid(); const r2 = rid();
    cust.sendJson(`/pub/chat/typing/${R}`, { typing: true }, { receipt: r1 });
    cust.sendJson(`/pub/chat/typing/${R}`, { typing: false }, { receipt: r2 });
    await cust.receipt(r1); await cust.receipt(r2);
    const ev = await salon.waitJson('typing', 2);
    assert.deepEqual(ev, [{ roomId: R, userId: 1001, typing: true }, { roomId: R, userId: 1001, typing: false }]);
    assert.equal((await fullHistory(bark, tok(CUST), R)).length, histBefore, 'typing is not stored');
    assert.equal(salon.messages('room').filter((m) => /typing/.test(m.text)).length, 0, 'not on the room topic');
  });

  let room2;
  let salonNotify;
  let ids2 = [];
  await t.test('notifications: every session of the salon gets one per message of someone else, unreadCount rising', async () => {
    room2 = await createRoom(bark, tok(CUST2), CUST2.userId, SALON.userId);
    await salon.subscribe('notif', '/user/queue/notifications');
    salonNotify = await connect(SALON); // a second session: notifications only
    await salonNotify.subscribe('notif', '/user/queue/notifications');
    // A customer whose id is the salon's: another user (customers and salons are numbered apart).
    const sameIdCustomer = await connect({ userId: SALON.userId, username: 'customer-same-id', role: 'USER' });
    await sameIdCustomer.subscribe('notif', '/user/queue/notifications');
    const c2 = await connect(CUST2);
    await c2.subscribe('notif', '/user/queue/notifications');
    await c2.subscribe('room', `/sub/chat/${room2.roomId}`);
    const texts = ['first', 'second', `${'가'.repeat(150)}`];
    for (const text of texts) await sendOk(c2, room2.roomId, { messageText: text });
    const mine = await c2.waitJson('room', 3);
    ids2 = mine.map((m) => m.messageId);
    const want = texts.map((text, i) => ({
      type: 'message', roomId: room2.roomId, messageId: ids2[i], senderId: CUST2.userId,
      preview: [...text].slice(0, 100).join(''), unreadCount: i + 1,
    }));
    const nA = (await salon.waitJson('notif', 3)).filter((n) => n.roomId === room2.roomId);
    const nB = (await salonNotify.waitJson('notif', 3)).filter((n) => n.roomId === room2.roomId);
    assert.deepEqual(nA, want);
    assert.deepEqual(nB, want);
    assert.equal(salonNotify.messages().length, 3, 'the notifications-only session got nothing else');
    await sleep(200);
    assert.equal(c2.messages('notif').length, 0, 'no notification for one\'s own messages');
    assert.equal(sameIdCustomer.messages('notif').length, 0, 'USER 2001 gets none of SALON 2001\'s notifications');
    sameIdCustomer.close();
    c2.close();
  });

  await t.test('read marks: /pub/chat/read broadcast, unreadCount in GET /api/chat/rooms drops, REST read → 204', async () => {
    const R2 = room2.roomId;
    const c2 = await connect(CUST2);
    await c2.subscribe('read', `/sub/chat/${R2}/read`);
    const unread = async (claims) => {
      const r = await api(bark, 'GET', '/api/chat/rooms', { token: tok(claims) });
      assert.equal(r.status, 200, showHttp('GET', '/api/chat/rooms', r));
      const e = r.json.find((x) => x.roomId === R2);
      assert.ok(e, `room ${R2} in ${r.body}`);
      return e;
    };
    let e = await unread(SALON);
    assert.equal(e.unreadCount, 3);
    assert.equal(e.lastMessage && e.lastMessage.messageId, ids2[2], JSON.stringify(e));
    assert.equal((await unread(CUST2)).unreadCount, 0, 'own messages are not unread');
    const r = rid();
    salon.sendJson(`/pub/chat/read/${R2}`, { lastReadMessageId: ids2[1] }, { receipt: r });
    await salon.receipt(r);
    const [mark] = await c2.waitJson('read', 1);
    assert.deepEqual(mark, { roomId: R2, userId: SALON.userId, lastReadMessageId: ids2[1] });
    e = await unread(SALON);
    assert.equal(e.unreadCount, 1);
    // A new message after the read: the notification's unreadCount counts from the read mark.
    await sendOk(c2, R2, { messageText: 'fourth' });
    const n = await waitUntil(() => salonNotify.json('notif').find((x) => x.preview === 'fourth'), 3000, 'notification for "fourth"');
    assert.equal(n.unreadCount, 2);
    const last = n.messageId;
    const rr = await api(bark, 'POST', `/api/chat/rooms/${R2}/read`, { token: tok(SALON), body: { lastReadMessageId: last } });
    assert.equal(rr.status, 204, showHttp('POST', 'read', rr));
    assert.equal((await unread(SALON)).unreadCount, 0);
    ids2.push(last);

    // A mark beyond the room's last message stops at it (STOMP and REST): the other side is not
    // told that unsent messages were read, and a later message is unread again.
    const far = last + 1000000;
    const r2 = rid();
    salon.sendJson(`/pub/chat/read/${R2}`, { lastReadMessageId: far }, { receipt: r2 });
    await salon.receipt(r2);
    const marks = await c2.waitJson('read', 3);
    assert.deepEqual(marks[marks.length - 1], { roomId: R2, userId: SALON.userId, lastReadMessageId: last });
    const rFar = await api(bark, 'POST', `/api/chat/rooms/${R2}/read`, { token: tok(SALON), body: { lastReadMessageId: far } });
    assert.equal(rFar.status, 204, showHttp('POST', 'read', rFar));
    await sendOk(c2, R2, { messageText: 'fifth' });
    const n5 = await waitUntil(() => salonNotify.json('notif').find((x) => x.preview === 'fifth'), 3000, 'notification for "fifth"');
    assert.equal(n5.unreadCount, 1);
    assert.equal((await unread(SALON)).unreadCount, 1);
    ids2.push(n5.messageId);
  });

  await t.test('the seed\'s client: stompjs 2.3.3 Stomp.over(ws), token in the Authorization cookie', async () => {
    const roomId = room.roomId;
    const ws = new WebSocket(bark.wsUrl, { headers: { Cookie: `Authorization=${tok(CUST)}` }, perMessageDeflate: false });
    const stompClient = Stomp.over(ws);
    stompClient.debug = null;
    try {
      const got = [];
      const connected = await withTimeout(new Promise((resolve, reject) => stompClient.connect({}, resolve,
        (err) => reject(new Error(`stompjs 2.3.3: ${typeof err === 'string' ? err : `${err.headers.message} ${err.body}`}`)))), 5000, 'seed connect');
      assert.equal(connected.headers['user-name'], CUST.username);
      stompClient.subscribe('/sub/chat/' + roomId, (message) => got.push(JSON.parse(message.body)));
      const messageText = '시드 클라이언트에서 보냄';
      const before = salon.messages('room').length;
      // The subscription is in effect once a later frame was handled: wait a moment, like a UI would.
      await sleep(200);
      stompClient.send('/pub/chat/send/' + roomId, {}, JSON.stringify({ roomId, messageText, sendAt: new Date().toISOString() }));
      await waitUntil(() => got.length >= 1, 3000, 'the seed client receives its own message');
      assertChatMessage(got[0], { roomId, from: CUST, text: messageText });
      const [m] = (await salon.waitJson('room', before + 1)).slice(before);
      assert.deepEqual(m, got[0]);
    } finally {
      ws.terminate();
    }
  });

  await t.test('persistence: after SIGTERM and a restart on the same file, history and read marks are there', async () => {
    // Presence (peerOnline, peerLastSeenAt) lives in memory, not in the store: kept apart.
    const presence = new Map();
    const roomsOf = async (b, claims) => {
      const r = await api(b, 'GET', '/api/chat/rooms', { token: b.token(claims) });
      assert.equal(r.status, 200, showHttp('GET', '/api/chat/rooms', r));
      return r.json.map(({ peerOnline, peerLastSeenAt, ...stored }) => {
        presence.set(`${claims.role}:${stored.roomId}`, { peerOnline, peerLastSeenAt });
        return stored;
      });
    };
    const h1 = await fullHistory(bark, tok(CUST), room.roomId);
    const h2 = await fullHistory(bark, tok(SALON), room2.roomId);
    const rs = await roomsOf(bark, SALON);
    const rc = await roomsOf(bark, CUST);
    assert.ok(h1.length >= 15, `history of room 1: ${h1.length}`);
    assert.equal(h2.length, 5);
    // Make the customer's view non-trivial: read up to the middle of room 1.
    const mid = h1[Math.floor(h1.length / 2)].messageId;
    const rr = await api(bark, 'POST', `/api/chat/rooms/${room.roomId}/read`, { token: tok(CUST), body: { lastReadMessageId: mid } });
    assert.equal(rr.status, 204);
    const rc2 = await roomsOf(bark, CUST);
    for (const c of open) c.close();
    open.length = 0;
    const ex = await bark.stop();
    assert.equal(ex.code, 0, `exit after SIGTERM: ${JSON.stringify(ex)}`);
    bark = await startBark(['--store', dbFlag, '--max-send-rate', '50', '--jwt-secret', bark.secret]);
    assert.deepEqual(await fullHistory(bark, bark.token(CUST), room.roomId), h1);
    assert.deepEqual(await fullHistory(bark, bark.token(SALON), room2.roomId), h2);
    assert.deepEqual(await roomsOf(bark, SALON), rs, 'rooms, last messages and unread counts of the salon');
    assert.deepEqual(await roomsOf(bark, CUST), rc2, 'rooms and unread counts of the customer (read mark kept)');
    for (const [k, v] of presence) {
      assert.deepEqual(v, { peerOnline: false, peerLastSeenAt: null }, `${k}: a restarted node has seen nobody yet`);
    }
    const e1 = rc2.find((x) => x.roomId === room.roomId);
    const expectUnread = h1.filter((m) => m.messageId > mid && m.senderId !== CUST.userId).length;
    assert.equal(e1.unreadCount, expectUnread, `customer's unread after reading up to ${mid}: ${JSON.stringify(e1)}`);
    assert.ok(rc.find((x) => x.roomId === room.roomId).unreadCount >= expectUnread);
    // Ids go on increasing after the restart.
    const c = await connect(CUST);
    await c.subscribe('room', `/sub/chat/${room.roomId}`);
    await sendOk(c, room.roomId, { messageText: 'after restart' });
    const [m] = await c.waitJson('room', 1);
    assert.ok(m.messageId > h1[h1.length - 1].messageId);
  });
});

test('chat: rate limit (--max-send-rate 5, burst 10)', async (t) => {
  const bark = await startBark(['--max-send-rate', '5']);
  const c = await chatConnect(bark, CUST);
  const s = await chatConnect(bark, SALON);
  t.after(async () => { c.close(); s.close(); await bark.stop(); });
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  await c.subscribe('errors', '/user/queue/errors');
  await s.subscribe('room', `/sub/chat/${room.roomId}`);
  const N = 30;
  for (let i = 0; i < N; i++) c.chatSend(room.roomId, { messageText: `burst ${i}` }, { receipt: `b-${i}` });
  await waitUntil(() => {
    const receipts = c.frames.filter((f) => f.command === 'RECEIPT' && /^b-/.test(f.headers['receipt-id'])).length;
    return receipts + c.messages('errors').length >= N;
  }, 5000, `an answer to each of the ${N} SENDs:\n${c.dump()}`);
  const receipts = c.frames.filter((f) => f.command === 'RECEIPT' && /^b-/.test(f.headers['receipt-id'])).map((f) => f.headers['receipt-id']);
  const errs = c.json('errors');
  assert.ok(errs.every((e) => e.error === 'rate-limited'), JSON.stringify(errs));
  assert.ok(receipts.length >= 5 && receipts.length <= 15, `${receipts.length} SENDs accepted of ${N} (burst 10)`);
  assert.equal(receipts.length + errs.length, N);
  assert.equal(new Set([...receipts, ...errs.map((e) => e.receiptId)]).size, N, 'each SEND answered once');
  await sleep(300);
  const got = s.json('room');
  assert.equal(got.length, receipts.length, 'only accepted SENDs were broadcast');
  assert.deepEqual(got.map((m) => `b-${m.messageText.split(' ')[1]}`), receipts, 'receipts and broadcasts match, in order');
  assert.equal(c.closed, null, 'rate limiting does not close the connection');
  await sleep(1100);
  c.chatSend(room.roomId, { messageText: 'after the pause' }, { receipt: 'later' });
  await c.receipt('later');
});
