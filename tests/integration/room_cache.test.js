'use strict';
// Rooms are read from the store on first use, not loaded at start, and a node keeps at most
// --room-cache of them: after a restart on the same SQLite file with a cache of two, six rooms are
// used in turn (each falling out and read again), every participant chats as before, and the
// rule of who may use a room holds for rooms read back from the store (USER 7 is not SALON 7).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBark, chatConnect, createRoom } = require('./lib/bark');

test('--room-cache 2: six rooms made before a restart, used in turns, with their access rule', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-room-cache-'));
  const flags = ['--store', `sqlite:${path.join(dir, 'chat.db')}`, '--room-cache', '2'];
  let bark = await startBark(flags);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Pairs whose ids collide across roles: customer 7 of salon 8, and salon 7's customer 8.
  const pairs = [[7, 8], [8, 7], [21, 22], [23, 24], [25, 26], [27, 28]];
  const rooms = [];
  for (const [customerId, salonId] of pairs) {
    const customer = { userId: customerId, username: `c${customerId}`, role: 'USER' };
    const salon = { userId: salonId, username: `s${salonId}`, role: 'SALON' };
    rooms.push({ customer, salon, room: await createRoom(bark, bark.token(customer), customerId, salonId) });
  }
  await bark.stop();
  bark = await startBark(flags);

  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  for (let turn = 0; turn < 2; turn++) {
    for (const { customer, salon, room } of rooms) {
      const s = await connect(salon);
      await s.subscribe('r', `/sub/chat/${room.roomId}`);
      const c = await connect(customer);
      c.chatSend(room.roomId, { messageText: `turn ${turn}`, clientMessageId: `t${turn}-${room.roomId}` }, { receipt: 'sent' });
      await c.receipt('sent');
      const [m] = await s.waitJson('r', 1);
      assert.equal(m.messageText, `turn ${turn}`);
      assert.equal(m.senderId, customer.userId);
      s.close();
      c.close();
    }
  }
  // Someone else's room, read back from the store: the same id in the other role is refused.
  for (const [who, room] of [[{ userId: 7, username: 'salon7', role: 'SALON' }, rooms[0].room],
    [{ userId: 7, username: 'user7', role: 'USER' }, rooms[1].room]]) {
    const c = await connect(who);
    c.send('SUBSCRIBE', { id: 's', destination: `/sub/chat/${room.roomId}`, receipt: 'sub' });
    const f = await c.waitFor('ERROR', 3000, `${who.role} 7: ERROR for room ${room.roomId}`);
    assert.equal(f.headers.message, 'forbidden', c.dump());
  }
});
