'use strict';
// Crash safety: bark is killed with SIGKILL at a random moment of a chat load, then restarted on
// the same store. Every message that was receipted or broadcast before the kill is in history
// exactly once, and the clients' retries (same clientMessageId) are stored once — with the SQLite
// file and with PostgreSQL.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBark, chatConnect, createRoom, fullHistory, sleep, waitUntil } = require('./lib/bark');
const { startPostgres } = require('./lib/servers');

const PAIRS = [
  [{ userId: 9201, username: 'cr-c1', role: 'USER' }, { userId: 9301, username: 'cr-s1', role: 'SALON' }],
  [{ userId: 9202, username: 'cr-c2', role: 'USER' }, { userId: 9302, username: 'cr-s2', role: 'SALON' }],
];
const ROUNDS = 3;

// One round: senders pump messages (each with a clientMessageId and a receipt) until SIGKILL.
// Resolves what the clients know: every message sent, the receipted ones and the broadcast ones.
async function loadUntilKilled(bark, rooms, round) {
  const sent = new Map();      // clientMessageId → {roomId, text}
  const receipted = new Set(); // clientMessageIds with a RECEIPT
  const broadcast = new Map(); // clientMessageId → messageId seen by a subscriber
  const clients = [];
  for (const [i, [cust, salon]] of PAIRS.entries()) {
    const roomId = rooms[i];
    const s = await chatConnect(bark, cust);
    const w = await chatConnect(bark, salon);
    await w.subscribe('room', `/sub/chat/${roomId}`);
    clients.push({ s, w, roomId, tag: `r${round}p${i}` });
  }
  let stop = false;
  const pumps = clients.map(async ({ s, roomId, tag }) => {
    for (let n = 0; !stop && !s.closed; n++) {
      const key = `${tag}-${n}`;
      sent.set(key, { roomId, text: `${tag} message ${n}` });
      s.chatSend(roomId, { messageText: `${tag} message ${n}`, clientMessageId: key }, { receipt: key });
      if (n % 5 === 4) await sleep(2);
    }
  });
  await sleep(300 + Math.floor(Math.random() * 1200));
  bark.proc.kill('SIGKILL');
  await waitUntil(() => bark.exited(), 5000, 'bark to die');
  stop = true;
  await Promise.all(pumps);
  for (const { s, w } of clients) {
    for (const f of s.frames) if (f.command === 'RECEIPT') receipted.add(f.headers['receipt-id']);
    for (const m of w.json('room')) broadcast.set(m.clientMessageId, m.messageId);
    s.close();
    w.close();
  }
  return { sent, receipted, broadcast };
}

async function crashRounds(t, storeUrl) {
  let bark = await startBark(['--store', storeUrl]);
  const rooms = [];
  for (const [cust, salon] of PAIRS) rooms.push((await createRoom(bark, bark.token(cust), cust.userId, salon.userId)).roomId);
  t.after(async () => { await bark.stop(); });

  for (let round = 0; round < ROUNDS; round++) {
    const { sent, receipted, broadcast } = await loadUntilKilled(bark, rooms, round);
    assert.ok(receipted.size > 0, 'some messages were receipted before the kill');
    bark = await startBark(['--store', storeUrl]);

    const stored = new Map(); // clientMessageId → stored messages
    for (const [i, [cust]] of PAIRS.entries()) {
      const hist = await fullHistory(bark, bark.token(cust), rooms[i], { max: 1000 });
      for (let k = 1; k < hist.length; k++) assert.ok(hist[k].messageId > hist[k - 1].messageId, 'ids increase');
      for (const m of hist) {
        if (!m.clientMessageId) continue;
        if (!stored.has(m.clientMessageId)) stored.set(m.clientMessageId, []);
        stored.get(m.clientMessageId).push(m);
      }
    }
    for (const [key, list] of stored) assert.equal(list.length, 1, `${key} stored once`);
    for (const key of receipted) assert.ok(stored.has(key), `receipted ${key} survived the crash`);
    for (const [key, id] of broadcast) {
      assert.ok(stored.has(key), `broadcast ${key} survived the crash`);
      assert.equal(stored.get(key)[0].messageId, id, `${key} kept its messageId`);
      assert.equal(stored.get(key)[0].messageText, sent.get(key).text);
    }

    // The clients retry what was not receipted, with the same keys: each is stored once.
    const retry = [...sent.keys()].filter((k) => !receipted.has(k));
    const byRoom = new Map();
    for (const k of retry) {
      const { roomId } = sent.get(k);
      if (!byRoom.has(roomId)) byRoom.set(roomId, []);
      byRoom.get(roomId).push(k);
    }
    for (const [i, [cust]] of PAIRS.entries()) {
      const keys = byRoom.get(rooms[i]) || [];
      if (keys.length === 0) continue;
      const c = await chatConnect(bark, cust);
      for (const k of keys) c.chatSend(rooms[i], { messageText: sent.get(k).text, clientMessageId: k }, { receipt: k });
      await waitUntil(() => c.frames.filter((f) => f.command === 'RECEIPT').length === keys.length, 10000,
        `${keys.length} retries receipted`);
      c.close();
      const hist = await fullHistory(bark, bark.token(cust), rooms[i], { max: 1000 });
      const counts = new Map();
      for (const m of hist) counts.set(m.clientMessageId, (counts.get(m.clientMessageId) || 0) + 1);
      for (const k of keys) assert.equal(counts.get(k), 1, `retry of ${k} stored once`);
    }
    t.diagnostic(`round ${round}: ${sent.size} sent, ${receipted.size} receipted, ${broadcast.size} broadcast, ` +
      `${stored.size} in history before retries, ${retry.length} retried`);
  }
}

test('SIGKILL during a chat load: nothing receipted or broadcast is lost or doubled (SQLite)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-crash-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await crashRounds(t, `sqlite:${path.join(dir, 'chat.db')}`);
});

test('SIGKILL during a chat load: nothing receipted or broadcast is lost or doubled (PostgreSQL)', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  await crashRounds(t, await pg.createDatabase('crash'));
});
