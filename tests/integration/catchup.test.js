'use strict';
// Catch-up (SPEC §5): SUBSCRIBE /sub/chat/{roomId} with `last-message-id: N` delivers the stored
// messages after N in order, then live ones — no gap, no duplicate — also while others send.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, chatConnect, createRoom, fullHistory, sleep, waitUntil,
} = require('./lib/bark');

const CUST = { userId: 1101, username: 'cu-customer', role: 'USER' };
const SALON = { userId: 2101, username: 'cu-salon', role: 'SALON' };
const ADMIN = { userId: 9101, username: 'cu-admin', role: 'ADMIN' };

const ids = (msgs) => msgs.map((m) => m.messageId);

// Sends `n` chat messages pipelined (receipts `${tag}-${i}`), in batches of `batch` with a short
// pause between batches; resolves once every RECEIPT arrived.
async function pump(c, roomId, tag, n, { batch = 5, pauseMs = 2, ms = 15000 } = {}) {
  for (let i = 0; i < n; i++) {
    c.chatSend(roomId, { messageText: `${tag} ${i}` }, { receipt: `${tag}-${i}` });
    if ((i + 1) % batch === 0) await sleep(pauseMs);
  }
  await waitUntil(() => receiptCount(c, tag) >= n, ms, `${n} receipts for ${tag}`);
}
const receiptCount = (c, tag) => c.frames.filter((f) => f.command === 'RECEIPT' && f.headers['receipt-id'].startsWith(`${tag}-`)).length;

test('catch-up', async (t) => {
  const bark = await startBark(['--max-send-rate', '0']);
  const open = [];
  t.after(async () => { for (const c of open) c.close(); await bark.stop(); });
  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };

  await t.test('reconnect with last-message-id K: exactly the missed messages in order, then live ones', async () => {
    const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
    const R = room.roomId;
    const cust = await connect(CUST);
    let salon = await connect(SALON);
    await salon.subscribe('room', `/sub/chat/${R}`);
    await pump(cust, R, 'before', 10);
    const seen = await salon.waitJson('room', 10);
    assert.deepEqual(seen.map((m) => m.messageText), [...Array(10).keys()].map((i) => `before ${i}`));
    const K = seen[9].messageId;
    salon.close();

    await pump(cust, R, 'missed', 30);
    salon = await connect(SALON);
    await salon.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(K) });
    const caught = await salon.waitJson('room', 30, 5000);
    assert.deepEqual(caught.map((m) => m.messageText), [...Array(30).keys()].map((i) => `missed ${i}`));
    const hist = await fullHistory(bark, bark.token(CUST), R);
    assert.deepEqual(caught, hist.filter((m) => m.messageId > K), 'the replayed messages are the stored ones, exactly');

    await pump(cust, R, 'live', 5);
    const all = await salon.waitJson('room', 35, 5000);
    await sleep(200);
    assert.equal(salon.messages('room').length, 35, 'nothing more (no duplicate)');
    assert.deepEqual(all.slice(30).map((m) => m.messageText), [...Array(5).keys()].map((i) => `live ${i}`));
    const full = await fullHistory(bark, bark.token(CUST), R);
    assert.deepEqual(ids(all), ids(full.filter((m) => m.messageId > K)));
    for (const f of salon.messages('room')) assert.equal(f.headers.destination, `/sub/chat/${R}`);

    // From the middle; past the end; without the header (live only).
    const mid = full[4].messageId;
    const a = await connect(SALON);
    await a.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(mid) });
    const b = await connect(CUST);
    await b.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(full[full.length - 1].messageId) });
    const c = await connect(ADMIN);
    await c.subscribe('room', `/sub/chat/${R}`);
    await pump(cust, R, 'tail', 2);
    const want = full.filter((m) => m.messageId > mid).length + 2;
    const ga = await a.waitJson('room', want, 5000);
    assert.deepEqual(ids(ga.slice(0, want - 2)), ids(full.filter((m) => m.messageId > mid)));
    assert.deepEqual(ga.slice(want - 2).map((m) => m.messageText), ['tail 0', 'tail 1']);
    const gb = await b.waitJson('room', 2);
    const gc = await c.waitJson('room', 2);
    await sleep(200);
    assert.deepEqual(b.json('room').map((m) => m.messageText), ['tail 0', 'tail 1'], 'last-message-id = latest: live only');
    assert.deepEqual(c.json('room').map((m) => m.messageText), ['tail 0', 'tail 1'], 'no last-message-id: live only');
    assert.deepEqual(gb, gc);
    assert.equal(a.messages('room').length, want);
  });

  for (const [name, subscribeAt, fromObserver] of [
    ['last-message-id 0, subscribed after ~20 of 200', 20, false],
    ['last-message-id 0, subscribed after ~100 of 200', 100, false],
    ['last-message-id = the id a live subscriber saw last, after ~150 of 200', 150, true],
  ]) {
    await t.test(`concurrent: 2 senders × 100 as fast as allowed; ${name}: every message exactly once, in order`, async () => {
      // A room of its own (a customer/salon pair has one room).
      const cu = { ...CUST, userId: CUST.userId + subscribeAt };
      const sa = { ...SALON, userId: SALON.userId + subscribeAt };
      const room = await createRoom(bark, bark.token(cu), cu.userId, sa.userId);
      const R = room.roomId;
      const cust = await connect(cu);
      const salon = await connect(sa);
      const observer = await connect(ADMIN);
      await observer.subscribe('room', `/sub/chat/${R}`);
      const tag = `c${subscribeAt}`;
      const sending = Promise.all([pump(cust, R, `${tag}a`, 100, { batch: 4 }), pump(salon, R, `${tag}b`, 100, { batch: 4 })]);
      await waitUntil(() => receiptCount(cust, `${tag}a`) + receiptCount(salon, `${tag}b`) >= subscribeAt, 15000,
        `${subscribeAt} messages stored`);
      const late = await connect(ADMIN);
      let from = 0;
      if (fromObserver) {
        const seen = observer.json('room');
        from = seen.length ? seen[seen.length - 1].messageId : 0;
      }
      const stored = receiptCount(cust, `${tag}a`) + receiptCount(salon, `${tag}b`);
      late.send('SUBSCRIBE', { id: 'late', destination: `/sub/chat/${R}`, 'last-message-id': String(from) });
      await sending;
      const hist = await fullHistory(bark, bark.token(cu), R);
      assert.equal(hist.length, 200);
      for (let i = 1; i < hist.length; i++) assert.ok(hist[i].messageId > hist[i - 1].messageId);
      const want = hist.filter((m) => m.messageId > from);
      await late.waitMessages(want.length, 10000, 'late');
      await observer.waitMessages(200, 10000, 'room');
      await sleep(300);
      const got = late.json('late');
      const dup = ids(got).filter((id, i, a) => a.indexOf(id) !== i);
      assert.deepEqual(dup, [], `duplicates (subscribed when ${stored} were stored, from ${from})`);
      assert.deepEqual(ids(got), ids(want), `the late subscriber (from ${from}, ${stored} stored at SUBSCRIBE) got every message after ${from} once, in order`);
      assert.deepEqual(got, want, 'bodies equal the stored messages');
      assert.deepEqual(observer.json('room'), hist, 'the live subscriber got the whole history in order');
    });
  }
});

// SPEC §5 and §11: a client that comes back after 100,000 messages catches up on one connection,
// without being closed as a slow consumer: the replay reads its next page only when the
// connection's queue has drained, so the backlog never fills the send buffer (1 MiB here, the
// default; the backlog is ~30 MB).
test('catch-up of a 100,000-message backlog on one connection', async (t) => {
  const bark = await startBark(['--max-send-rate', '0']);
  const open = [];
  t.after(async () => { for (const c of open) c.close(); await bark.stop(); });
  const R = (await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId)).roomId;
  const sender = await chatConnect(bark, SALON);
  open.push(sender);
  sender.trace = []; sender.trace.push = () => 0; // 100,000 frames: no wire trace
  const N = 100000;
  for (let i = 0; i < N; i++) {
    const last = i === N - 1;
    sender.chatSend(R, { messageText: `backlog ${i}` }, last || i % 5000 === 4999 ? { receipt: `b-${i}` } : {});
    if (i % 5000 === 4999) await sender.receipt(`b-${i}`, 30000); // keep the sender's queue short
  }
  const reader = await chatConnect(bark, CUST);
  open.push(reader);
  reader.trace = []; reader.trace.push = () => 0;
  const started = Date.now();
  await reader.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': '0' }, 30000);
  await reader.waitMessages(N, 120000);
  const took = Date.now() - started;
  t.diagnostic(`${N} messages caught up in ${took} ms on one connection`);
  assert.equal(reader.closed, null, 'never closed');
  const got = reader.json('room');
  assert.equal(got.length, N);
  for (let i = 0; i < N; i++) {
    if (got[i].messageText !== `backlog ${i}`) assert.fail(`message ${i} is ${got[i].messageText}`);
  }
  // Live messages follow the backlog.
  sender.chatSend(R, { messageText: 'live' }, { receipt: 'live' });
  await reader.waitMessages(N + 1, 5000);
  assert.equal(reader.json('room')[N].messageText, 'live');
  const metrics = (await require('./lib/bark').httpRequest(bark.port, { path: '/metrics' })).body;
  assert.match(metrics, /^bark_slow_consumers_closed_total 0$/m);
});
