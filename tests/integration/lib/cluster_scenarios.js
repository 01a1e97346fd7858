'use strict';
// The cluster scenarios every cluster bus must pass, run by cluster.test.js (Redis) and
// cluster_kafka.test.js (Kafka): three bark nodes joined through the bus, sharing a real PostgreSQL
// started here: chat across nodes, the user registry across nodes, messageId order whichever node
// sends, exactly-once delivery, topics and patterns, catch-up, /metrics, and the bus killed and
// restarted in the middle of a chat.
//
// bus: { name, url, kill(), restart(), countsChannels } — countsChannels: the bus subscribes per
// destination (Redis) and /readyz's `channels` follows the local interest.

const assert = require('node:assert/strict');
const {
  startBark, chatConnect, createRoom, fullHistory, httpRequest, sleep, waitUntil,
} = require('./bark');
const { startPostgres } = require('./servers');

const CUST = { userId: 3101, username: 'cl-customer', role: 'USER' };
const SALON = { userId: 4101, username: 'cl-salon', role: 'SALON' };

const ids = (msgs) => msgs.map((m) => m.messageId);
const readyz = async (node) => httpRequest(node.port, { path: '/readyz' });
const receipts = (c, tag) => c.frames.filter((f) => f.command === 'RECEIPT' && f.headers['receipt-id'].startsWith(`${tag}-`)).length;

async function clusterScenarios(t, bus) {
  const pg = await startPostgres();
  const db = await pg.createDatabase('cluster');
  const open = [];
  const nodes = {};
  t.after(async () => {
    for (const c of open) c.close();
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    await pg.stop();
  });
  for (const name of ['A', 'B', 'C']) {
    nodes[name] = await startBark(['--store', db, '--cluster', bus.url, '--node-id', name,
      '--allow-client-publish', '--threads', '2', '--max-send-rate', '0']);
  }
  const { A, B, C } = nodes;
  const connect = async (node, claims) => { const c = await chatConnect(node, claims); open.push(c); return c; };

  await t.test('/readyz reports every node joined', async () => {
    for (const [name, node] of Object.entries(nodes)) {
      const end = Date.now() + 5000;
      let r = await readyz(node);
      while (r.status !== 200 && Date.now() < end) { await sleep(50); r = await readyz(node); }
      assert.equal(r.status, 200, `${name}: ${r.body}`);
      assert.equal(r.json.cluster.state, 'up');
      assert.equal(r.json.cluster.node, name);
    }
  });

  await t.test('a customer on A and a salon on C chat; the customer on B gets the notifications', async () => {
    const room = await createRoom(A, A.token(CUST), CUST.userId, SALON.userId);
    const R = room.roomId;
    const custA = await connect(A, CUST);
    const salonC = await connect(C, SALON);
    const custB = await connect(B, CUST);
    await custA.subscribe('room', `/sub/chat/${R}`);
    await custA.subscribe('typing', `/sub/chat/${R}/typing`);
    await salonC.subscribe('room', `/sub/chat/${R}`); // a room created on A, first used on C
    await salonC.subscribe('notes', '/user/queue/notifications');
    await custB.subscribe('notes', '/user/queue/notifications');

    custA.chatSend(R, { messageText: 'hello from A', clientMessageId: 'c-1' }, { receipt: 'a-1' });
    await custA.receipt('a-1');
    const [atC] = await salonC.waitJson('room', 1);
    assert.equal(atC.messageText, 'hello from A');
    assert.equal(atC.senderId, CUST.userId);
    const [noteC] = await salonC.waitJson('notes', 1);
    assert.deepEqual(noteC, { type: 'message', roomId: R, messageId: atC.messageId, senderId: CUST.userId,
      preview: 'hello from A', unreadCount: 1 });

    salonC.chatSend(R, { messageText: 'hi from C' }, { receipt: 'c-1' });
    await salonC.receipt('c-1');
    const both = await custA.waitJson('room', 2);
    assert.deepEqual(both.map((m) => m.messageText), ['hello from A', 'hi from C']);
    const [noteB] = await custB.waitJson('notes', 1);
    assert.equal(noteB.preview, 'hi from C');
    assert.equal(noteB.messageId, both[1].messageId);
    assert.equal(noteB.unreadCount, 1);

    salonC.sendJson(`/pub/chat/typing/${R}`, { typing: true });
    const [typing] = await custA.waitJson('typing', 1);
    assert.deepEqual(typing, { roomId: R, userId: SALON.userId, typing: true });

    // A backend's push to a user's queues (POST /api/publish on any node) reaches every session of
    // the user on every node; a SEND's own error stays with the session that sent it.
    await custA.subscribe('errors', '/user/queue/errors');
    await custB.subscribe('errors', '/user/queue/errors');
    const admin = A.token({ userId: 1, username: 'ops', role: 'ADMIN' });
    const pushed = await httpRequest(C.port, { method: 'POST', path: '/api/publish', token: admin,
      body: { destination: `/user/${CUST.userId}/queue/errors`, role: 'USER', payload: { error: 'account', message: 'check your account' } } });
    assert.equal(pushed.status, 202, pushed.body);
    assert.deepEqual((await custA.waitJson('errors', 1))[0], { error: 'account', message: 'check your account' });
    assert.deepEqual((await custB.waitJson('errors', 1))[0], { error: 'account', message: 'check your account' });
    custA.chatSend(R, { messageText: '' }, { receipt: 'bad-1' });
    await custA.waitJson('errors', 2);
    assert.equal(custA.json('errors')[1].error, 'empty-text');
    assert.equal(custA.json('errors')[1].receiptId, 'bad-1');

    await sleep(200);
    assert.equal(custB.messages('errors').length, 1, 'the SEND error went to the sending session only');
    assert.equal(custA.messages('room').length, 2, 'no duplicate at A');
    assert.equal(salonC.messages('room').length, 2, 'no duplicate at C');
    assert.equal(custB.messages('notes').length, 1, 'one notification per message');
    // A message keeps one message-id on every node; ids of different nodes never collide.
    const idsAt = (c) => c.messages('room').map((m) => m.headers['message-id']);
    assert.deepEqual(idsAt(custA), idsAt(salonC));
    assert.match(idsAt(custA)[0], /^A:\d+$/);
    assert.match(idsAt(custA)[1], /^C:\d+$/);
  });

  await t.test('messages sent at once from two nodes arrive in the same (messageId) order everywhere', async () => {
    const salon2 = { ...SALON, userId: SALON.userId + 1 };
    const room = await createRoom(B, B.token(CUST), CUST.userId, salon2.userId);
    const R = room.roomId;
    const watchers = [await connect(A, CUST), await connect(B, salon2), await connect(C, CUST)];
    for (const w of watchers) await w.subscribe('room', `/sub/chat/${R}`);
    const sendA = await connect(A, CUST);
    const sendC = await connect(C, salon2);
    const N = 400;
    for (let i = 0; i < N; i++) {
      sendA.chatSend(R, { messageText: `A ${i}` }, { receipt: `a-${i}` });
      sendC.chatSend(R, { messageText: `C ${i}` }, { receipt: `c-${i}` });
      if (i % 50 === 49) await sleep(1);
    }
    await waitUntil(() => receipts(sendA, 'a') === N && receipts(sendC, 'c') === N, 20000, 'every receipt');
    const stored = await fullHistory(A, A.token(CUST), R);
    assert.equal(stored.length, 2 * N);
    for (const w of watchers) {
      const got = await w.waitJson('room', 2 * N, 10000);
      assert.deepEqual(ids(got), ids(stored), 'the stored order, without gap or repeat');
    }
    // Both senders really interleaved (else the test proves little).
    const firstC = stored.findIndex((m) => m.messageText.startsWith('C '));
    const lastA = stored.map((m) => m.messageText.startsWith('A ')).lastIndexOf(true);
    assert.ok(firstC < lastA, 'the two nodes\' messages interleave');
  });

  await t.test('broadcasts that are not stored, published from both loops of a node at once, reach another node once each', async () => {
    const salon3 = { ...SALON, userId: SALON.userId + 3 };
    const R = (await createRoom(A, A.token(CUST), CUST.userId, salon3.userId)).roomId;
    const watcher = await connect(B, salon3);
    await watcher.subscribe('flood', '/sub/flood/*');
    await watcher.subscribe('typing', `/sub/chat/${R}/typing`);
    await watcher.subscribe('read', `/sub/chat/${R}/read`);
    await watcher.subscribe('room', `/sub/chat/${R}`);
    // Four connections on A land on its two event loops, which publish to the bus side by side.
    const senders = [];
    for (let k = 0; k < 4; k++) senders.push(await connect(A, CUST));
    senders[0].chatSend(R, { messageText: 'to be read' }, { receipt: 'r-0' });
    await senders[0].receipt('r-0');
    const [msg] = await watcher.waitJson('room', 1);
    const N = 150;
    for (let i = 0; i < N; i++) {
      senders.forEach((c, k) => {
        c.sendJson(`/sub/flood/${k}`, { k, i });
        if (i % 10 === 0) c.sendJson(`/pub/chat/typing/${R}`, { typing: i % 20 === 0 });
      });
      if (i % 25 === 24) await sleep(1);
    }
    senders[1].sendJson(`/pub/chat/read/${R}`, { lastReadMessageId: msg.messageId });
    const flood = await watcher.waitJson('flood', 4 * N, 10000);
    await watcher.waitJson('typing', 4 * (N / 10), 10000);
    const [read] = await watcher.waitJson('read', 1, 5000);
    assert.deepEqual(read, { roomId: R, userId: CUST.userId, lastReadMessageId: msg.messageId });
    await sleep(300);
    assert.equal(watcher.messages('flood').length, 4 * N, 'no repeat');
    assert.equal(watcher.messages('typing').length, 4 * (N / 10), 'no repeat');
    assert.equal(watcher.messages('read').length, 1, 'no repeat');
    for (let k = 0; k < 4; k++) {
      assert.deepEqual(flood.filter((m) => m.k === k).map((m) => m.i), Array.from({ length: N }, (_, i) => i),
        `sender ${k}'s messages, all and in order`);
    }
  });

  await t.test('catch-up on one node while another node sends: from last-message-id on, no gap, no repeat', async () => {
    const salon4 = { ...SALON, userId: SALON.userId + 4 };
    const R = (await createRoom(C, C.token(salon4), CUST.userId, salon4.userId)).roomId;
    const sender = await connect(C, salon4);
    for (let i = 0; i < 10; i++) sender.chatSend(R, { messageText: `old ${i}` }, { receipt: `old-${i}` });
    await waitUntil(() => receipts(sender, 'old') === 10, 5000, 'ten receipts');
    const before = await fullHistory(C, C.token(salon4), R);
    const from = before[3].messageId;
    // The next 20 are sent while the subscriber on A replays from the store.
    const live = (async () => {
      for (let i = 0; i < 20; i++) {
        sender.chatSend(R, { messageText: `new ${i}` }, { receipt: `new-${i}` });
        await sleep(2);
      }
    })();
    const reader = await connect(A, CUST);
    await reader.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(from) });
    await live;
    await waitUntil(() => receipts(sender, 'new') === 20, 5000, 'twenty receipts');
    const stored = await fullHistory(A, A.token(CUST), R);
    const expected = stored.filter((m) => m.messageId > from);
    assert.equal(expected.length, 26);
    const got = await reader.waitJson('room', expected.length, 10000);
    await sleep(300);
    assert.deepEqual(ids(reader.json('room')), ids(expected), 'every message after last-message-id, once, in order');
    assert.deepEqual(ids(got), ids(expected));
  });

  await t.test('edits and deletes from two nodes: every node sees each change once, in change order; catch-up on a third replays them', async () => {
    const salon5 = { ...SALON, userId: SALON.userId + 5 };
    const R = (await createRoom(A, A.token(CUST), CUST.userId, salon5.userId)).roomId;
    const watchers = [await connect(A, CUST), await connect(B, salon5), await connect(C, CUST)];
    for (const w of watchers) await w.subscribe('room', `/sub/chat/${R}`);
    const custA = await connect(A, CUST);
    const salonC = await connect(C, salon5);
    for (let i = 0; i < 10; i++) {
      custA.chatSend(R, { messageText: `c${i}` }, { receipt: `ec-${i}` });
      salonC.chatSend(R, { messageText: `s${i}` }, { receipt: `es-${i}` });
    }
    await waitUntil(() => receipts(custA, 'ec') === 10 && receipts(salonC, 'es') === 10, 10000, 'twenty receipts');
    const stored = await fullHistory(A, A.token(CUST), R);
    const own = (who) => stored.filter((m) => m.senderId === who.userId && m.senderRole === who.role);
    for (const w of watchers) await w.waitJson('room', 20, 10000);
    const K = Math.max(...stored.map((m) => m.messageId));
    const reader = await connect(B, salon5); // leaves now, comes back after the changes
    // Edits and deletes from both nodes at once, mixed with new messages.
    // 20 changes: each of the customer's messages edited on A, each of the salon's deleted on C.
    own(CUST).forEach((m, i) => custA.sendJson(`/pub/chat/edit/${R}`, { messageId: m.messageId, messageText: `c${i} edited` }, { receipt: `ee-${i}` }));
    own(salon5).forEach((m, i) => salonC.sendJson(`/pub/chat/delete/${R}`, { messageId: m.messageId }, { receipt: `ed-${i}` }));
    for (let i = 0; i < 5; i++) custA.chatSend(R, { messageText: `late ${i}` }, { receipt: `el-${i}` });
    await waitUntil(() => receipts(custA, 'ee') === 10 && receipts(salonC, 'ed') === 10 && receipts(custA, 'el') === 5,
      10000, 'twenty-five receipts');
    const seqs = [];
    for (const w of watchers) {
      const got = (await w.waitJson('room', 45, 10000)).slice(20);
      seqs.push(got.map((m) => m.changeId || m.messageId));
    }
    await sleep(300);
    for (const w of watchers) assert.equal(w.messages('room').length, 45, 'no repeat');
    for (let i = 1; i < seqs[0].length; i++) assert.ok(seqs[0][i - 1] < seqs[0][i], 'in change order');
    assert.deepEqual(seqs[1], seqs[0], 'node B saw the changes as node A did');
    assert.deepEqual(seqs[2], seqs[0], 'node C saw the changes as node A did');
    await reader.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(K) });
    const replay = await reader.waitJson('room', 25, 10000);
    assert.deepEqual(replay.map((m) => m.changeId || m.messageId), seqs[0], 'catch-up replays the same changes');
    const final = await fullHistory(B, B.token(salon5), R);
    assert.equal(final.filter((m) => m.deleted).length, 10);
    assert.equal(final.filter((m) => m.editedAt).length, 10);
    // The reader ends in the state of a watcher that never left, and of the store.
    const stateOf = (msgs) => [...new Map(msgs.map((m) => [m.messageId, m])).values()].sort((a, b) => a.messageId - b.messageId);
    assert.deepEqual(stateOf([...stored, ...replay]), stateOf(watchers[1].json('room')));
    assert.deepEqual(stateOf([...stored, ...replay]), final);
  });

  await t.test('/metrics: the bus is up, and every publish to the bus was answered and timed', async () => {
    const r = await httpRequest(A.port, { path: '/metrics' });
    assert.equal(r.status, 200);
    const sample = (name) => {
      const m = new RegExp(`^${name.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(r.body);
      assert.ok(m, `${name} in /metrics`);
      return Number(m[1]);
    };
    assert.equal(sample('bark_cluster_up'), 1);
    assert.equal(sample('bark_cluster_state{state="up"}'), 1);
    assert.equal(sample('bark_cluster_state{state="connecting"}'), 0);
    assert.equal(sample('bark_cluster_state{state="down"}'), 0);
    const published = sample('bark_cluster_published_total');
    const timed = sample('bark_cluster_publish_seconds_count');
    assert.ok(published >= 400, `A published ${published}`);
    // Replies may still be on their way for the newest publishes.
    assert.ok(timed >= 400 && timed <= published, `${timed} of ${published} publishes timed`);
    assert.equal(sample('bark_cluster_publish_seconds_bucket{le="+Inf"}'), timed);
    assert.ok(sample('bark_cluster_publish_seconds_sum') > 0);
  });

  await t.test('topics and patterns: each subscription gets a message once, from any node', async () => {
    const on = async (node, claims) => connect(node, claims);
    const b = await on(B, CUST);
    const c = await on(C, SALON);
    const before = (await readyz(B)).json.cluster.channels;
    await b.subscribe('exact', '/sub/news/a');
    await b.subscribe('star', '/sub/news/*');
    await b.subscribe('deep', '/sub/news/**');
    await c.subscribe('star', '/sub/news/*');
    if (bus.countsChannels) {
      // /sub/news/* and /sub/news/** share one Redis glob (its `*` crosses '/'): one channel, one pattern.
      assert.equal((await readyz(B)).json.cluster.channels, before + 2, 'B subscribed to one channel and one pattern');
    }
    const a = await on(A, CUST);
    a.sendJson('/sub/news/a', { n: 1 }, { receipt: 'p-1' });
    a.sendJson('/sub/news/b', { n: 2 }, { receipt: 'p-2' });
    a.sendJson('/sub/news/x/y', { n: 3 }, { receipt: 'p-3' });
    await a.receipt('p-3');
    await b.waitJson('deep', 3);
    await c.waitJson('star', 2);
    await sleep(300);
    assert.deepEqual(b.json('exact'), [{ n: 1 }]);
    assert.deepEqual(b.json('star'), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(b.json('deep'), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.deepEqual(c.json('star'), [{ n: 1 }, { n: 2 }]);
    b.send('UNSUBSCRIBE', { id: 'exact' });
    b.send('UNSUBSCRIBE', { id: 'star' });
    b.send('UNSUBSCRIBE', { id: 'deep', receipt: 'u-1' });
    await b.receipt('u-1');
    if (bus.countsChannels) {
      const end = Date.now() + 3000;
      let after = (await readyz(B)).json.cluster.channels;
      while (after !== before && Date.now() < end) { await sleep(50); after = (await readyz(B)).json.cluster.channels; }
      assert.equal(after, before, 'B left the channels when its last subscriber did');
    }
  });

  await t.test(`${bus.name} killed mid-chat: local delivery goes on; after restart the gap is filled in order`, async () => {
    const salon3 = { ...SALON, userId: SALON.userId + 2 };
    const room = await createRoom(A, A.token(CUST), CUST.userId, salon3.userId);
    const R = room.roomId;
    const custA = await connect(A, CUST);
    const salonC = await connect(C, salon3);
    await custA.subscribe('room', `/sub/chat/${R}`);
    await salonC.subscribe('room', `/sub/chat/${R}`);
    for (let i = 0; i < 5; i++) custA.chatSend(R, { messageText: `before ${i}` }, { receipt: `b-${i}` });
    await salonC.waitJson('room', 5);

    await bus.kill();
    for (const node of [A, C]) {
      const end = Date.now() + 5000;
      let r = await readyz(node);
      while (r.status === 200 && Date.now() < end) { await sleep(50); r = await readyz(node); }
      assert.equal(r.status, 503, `not ready without ${bus.name}`);
      assert.equal(r.json.cluster.state, 'down');
    }
    const metricsA = (await httpRequest(A.port, { path: '/metrics' })).body;
    assert.match(metricsA, /^bark_cluster_state\{state="down"\} 1$/m);
    assert.match(metricsA, /^bark_cluster_up 0$/m);
    for (let i = 0; i < 5; i++) custA.chatSend(R, { messageText: `during ${i}` }, { receipt: `d-${i}` });
    await waitUntil(() => receipts(custA, 'd') === 5, 5000, `receipts while ${bus.name} is down`);
    const local = await custA.waitJson('room', 10);
    assert.deepEqual(local.slice(5).map((m) => m.messageText), [0, 1, 2, 3, 4].map((i) => `during ${i}`),
      'the sender\'s node delivers locally');

    await bus.restart();
    for (const node of [A, B, C]) {
      const end = Date.now() + 10000;
      let r = await readyz(node);
      while (r.status !== 200 && Date.now() < end) { await sleep(50); r = await readyz(node); }
      assert.equal(r.status, 200, `ready again: ${r.body}`);
    }
    const caught = await salonC.waitJson('room', 10, 15000);
    assert.deepEqual(caught.slice(5).map((m) => m.messageText), [0, 1, 2, 3, 4].map((i) => `during ${i}`),
      'the node that missed them gets them, in order');

    salonC.chatSend(R, { messageText: 'after' }, { receipt: 'x-1' });
    await custA.waitJson('room', 11, 5000);
    const stored = await fullHistory(A, A.token(CUST), R);
    await sleep(200);
    assert.deepEqual(ids(custA.json('room')), ids(stored));
    assert.deepEqual(ids(salonC.json('room')), ids(stored));

    // A new session anywhere catches up from the shared store.
    const late = await connect(B, CUST);
    await late.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': '0' });
    assert.deepEqual(ids(await late.waitJson('room', 11)), ids(stored));
  });
}

module.exports = { clusterScenarios, CUST, SALON, ids, readyz, receipts };
