'use strict';
// Every branch of the room-access rule, through real clients. A room has a customer (USER 7) and a
// salon (SALON 9). Around them stand users that are wrong in one way only: the customer's id with
// the salon's role (SALON 7), the salon's id with the customer's role (USER 9), and the right role
// with another id (USER 8, SALON 8). Each is refused by every door into the room: SUBSCRIBE to
// the room and its /read and /typing topics, SEND, read marks over STOMP and REST, history, the
// room list, room creation, and the notifications on /user/queue. The participants and an ADMIN
// pass the same doors, so a rule that refused everyone would fail too.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startBark, chatConnect, api, createRoom, showHttp, sleep } = require('./lib/bark');

const CUSTOMER = { userId: 7, username: 'customer-7', role: 'USER' };
const SALON = { userId: 9, username: 'salon-9', role: 'SALON' };
const ADMIN = { userId: 7, username: 'admin-7', role: 'ADMIN' };
const OUTSIDERS = [
  ['SALON with the customer\'s id', { userId: 7, username: 'salon-7', role: 'SALON' }],
  ['USER with the salon\'s id', { userId: 9, username: 'customer-9', role: 'USER' }],
  ['USER with another id', { userId: 8, username: 'customer-8', role: 'USER' }],
  ['SALON with another id', { userId: 8, username: 'salon-8', role: 'SALON' }],
];
const INSIDERS = [['the customer', CUSTOMER], ['the salon', SALON], ['an ADMIN', ADMIN]];

test('room access: every door, role and id each wrong on its own', async (t) => {
  const bark = await startBark(['--allow-client-publish']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
  });
  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  const room = await createRoom(bark, bark.token(CUSTOMER), CUSTOMER.userId, SALON.userId);
  const R = room.roomId;
  // A message so that history, marks and notifications have something to show.
  const cust = await connect(CUSTOMER);
  await cust.subscribe('room', `/sub/chat/${R}`);
  cust.chatSend(R, { messageText: 'first' }, { receipt: 'first' });
  await cust.receipt('first');
  const [first] = await cust.waitJson('room', 1);

  for (const [who, claims] of OUTSIDERS) {
    await t.test(`${who} is refused everywhere`, async () => {
      // SUBSCRIBE: the room and its side topics, each on its own connection (the refusal closes it).
      for (const dest of [`/sub/chat/${R}`, `/sub/chat/${R}/read`, `/sub/chat/${R}/typing`]) {
        const c = await connect(claims);
        c.send('SUBSCRIBE', { id: 's', destination: dest, receipt: 'sub' });
        const f = await c.waitFor('ERROR', 3000, `${who}: ERROR for ${dest}`);
        assert.equal(f.headers.message, 'forbidden', `${who} ${dest}: ${c.dump()}`);
        assert.equal(c.frames.filter((x) => x.command === 'RECEIPT').length, 0, `${who} ${dest}`);
      }
      // Another user's queue by its broker key or its id is not a destination a client may name.
      for (const dest of ['/user/SALON-9/queue/notifications', '/user/USER-7/queue/notifications', '/user/9/queue/notifications']) {
        const c = await connect(claims);
        c.send('SUBSCRIBE', { id: 'u', destination: dest, receipt: 'sub' });
        const f = await c.waitFor('ERROR', 3000, `${who}: ERROR for ${dest}`);
        assert.equal(f.headers.message, 'invalid-destination', `${who} ${dest}: ${c.dump()}`);
      }
      // SEND, read mark and typing over STOMP: refused on /user/queue/errors, nothing reaches the room.
      const c = await connect(claims);
      await c.subscribe('errors', '/user/queue/errors');
      await c.subscribe('notes', '/user/queue/notifications');
      const roomBefore = cust.messages('room').length;
      c.chatSend(R, { messageText: `from ${who}` }, { receipt: 'send' });
      c.sendJson(`/pub/chat/read/${R}`, { lastReadMessageId: first.messageId }, { receipt: 'read' });
      c.sendJson(`/pub/chat/typing/${R}`, { typing: true }, { receipt: 'typing' });
      const errors = await c.waitJson('errors', 3);
      assert.deepEqual(errors.map((e) => [e.receiptId, e.error]),
        [['send', 'forbidden'], ['read', 'forbidden'], ['typing', 'forbidden']], `${who}: ${c.dump()}`);
      assert.equal(c.frames.filter((x) => x.command === 'RECEIPT' && /^(send|read|typing)$/.test(x.headers['receipt-id'])).length, 0);
      // REST: history, read mark, room list, creation.
      const tok = bark.token(claims);
      const history = await api(bark, 'GET', `/api/chat/rooms/${R}/messages`, { token: tok });
      assert.equal(history.status, 403, `${who}: ${showHttp('GET', 'messages', history)}`);
      const read = await api(bark, 'POST', `/api/chat/rooms/${R}/read`, { token: tok, body: { lastReadMessageId: first.messageId } });
      assert.equal(read.status, 403, `${who}: ${showHttp('POST', 'read', read)}`);
      const list = await api(bark, 'GET', '/api/chat/rooms', { token: tok });
      assert.equal(list.status, 200);
      assert.deepEqual(list.json.filter((r) => r.roomId === R), [], `${who} does not see the room in its list`);
      const create = await api(bark, 'POST', '/api/chat/rooms', { token: tok, body: { customerId: CUSTOMER.userId, salonId: SALON.userId } });
      assert.equal(create.status, 403, `${who}: ${showHttp('POST', 'rooms', create)}`);
      // A message of the customer notifies the salon, never an outsider; a later message of its
      // own proves the outsider's queue works and that nothing came before it.
      cust.chatSend(R, { messageText: `while ${who} listens` }, { receipt: `while-${who}` });
      await cust.receipt(`while-${who}`);
      await cust.waitJson('room', roomBefore + 1);
      const probe = await api(bark, 'POST', '/api/publish', {
        token: bark.token(ADMIN), body: { destination: `/user/${claims.userId}/queue/notifications`, role: claims.role, payload: { probe: who } },
      });
      assert.equal(probe.status, 202, showHttp('POST', '/api/publish', probe));
      const [note] = await c.waitJson('notes', 1);
      assert.deepEqual(note, { probe: who }, `${who} got only its own probe`);
      await sleep(100);
      assert.equal(c.messages('notes').length, 1, `${who}: ${c.dump()}`);
      assert.equal(cust.messages('room').length, roomBefore + 1, `nothing from ${who} reached the room`);
    });
  }

  for (const [who, claims] of INSIDERS) {
    await t.test(`${who} passes every door`, async () => {
      const c = claims === CUSTOMER ? cust : await connect(claims);
      for (const [id, dest] of [['r', `/sub/chat/${R}`], ['rd', `/sub/chat/${R}/read`], ['ty', `/sub/chat/${R}/typing`]]) {
        await c.subscribe(`${id}-in`, dest);
      }
      c.chatSend(R, { messageText: `from ${who}` }, { receipt: `send-${who}` });
      await c.receipt(`send-${who}`);
      const [mine] = (await c.waitJson('r-in', 1)).slice(-1);
      assert.equal(mine.messageText, `from ${who}`);
      const tok = bark.token(claims);
      const history = await api(bark, 'GET', `/api/chat/rooms/${R}/messages`, { token: tok });
      assert.equal(history.status, 200, `${who}: ${showHttp('GET', 'messages', history)}`);
      assert.ok(history.json.messages.some((m) => m.messageId === first.messageId));
      const create = await api(bark, 'POST', '/api/chat/rooms', { token: tok, body: { customerId: CUSTOMER.userId, salonId: SALON.userId } });
      assert.equal(create.status, 200, `${who}: ${showHttp('POST', 'rooms', create)}`);
      assert.equal(create.json.roomId, R);
      if (claims.role !== 'ADMIN') {
        const read = await api(bark, 'POST', `/api/chat/rooms/${R}/read`, { token: tok, body: { lastReadMessageId: mine.messageId } });
        assert.equal(read.status, 204, `${who}: ${showHttp('POST', 'read', read)}`);
        const list = await api(bark, 'GET', '/api/chat/rooms', { token: tok });
        assert.deepEqual(list.json.filter((r) => r.roomId === R).length, 1, `${who} sees the room in its list`);
      }
    });
  }

  await t.test('the salon is notified of the customer\'s messages, the customer of the salon\'s', async () => {
    const salon = await connect(SALON);
    await salon.subscribe('notes', '/user/queue/notifications');
    await cust.subscribe('notes', '/user/queue/notifications');
    cust.chatSend(R, { messageText: 'for the salon' }, { receipt: 'n1' });
    await cust.receipt('n1');
    const [n] = await salon.waitJson('notes', 1);
    assert.equal(n.roomId, R, JSON.stringify(n));
    salon.chatSend(R, { messageText: 'for the customer' }, { receipt: 'n2' });
    await salon.receipt('n2');
    const [m] = await cust.waitJson('notes', 1);
    assert.equal(m.roomId, R, JSON.stringify(m));
  });
});
