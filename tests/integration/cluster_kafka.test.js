'use strict';
// Three bark nodes joined through a real Apache Kafka broker (a single KRaft node started here with
// scripts/kafka.sh), sharing a real PostgreSQL: the scenarios every cluster bus passes
// (lib/cluster_scenarios.js), then what Kafka adds: an outage of the broker under a steady stream
// loses no broadcast on the nodes that stayed up, repeats none and keeps room order, and a node
// killed with SIGKILL mid-stream and restarted leaves every receipted message with every live
// subscriber (through the bus or catch-up).

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, chatConnect, createRoom, fullHistory, httpRequest, sleep, waitUntil,
} = require('./lib/bark');
const { startKafka, startPostgres } = require('./lib/servers');
const { clusterScenarios, CUST, SALON, ids, readyz, receipts } = require('./lib/cluster_scenarios');

const waitReady = async (node, want, ms = 15000) => {
  const end = Date.now() + ms;
  let r = await readyz(node);
  while ((r.status === 200) !== want && Date.now() < end) { await sleep(50); r = await readyz(node); }
  assert.equal(r.status === 200, want, `readyz ${r.status}: ${r.body}`);
  return r;
};

test('cluster of three nodes over Kafka and PostgreSQL', async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.stop());
  await clusterScenarios(t, {
    name: 'Kafka', url: `kafka://${kafka.bootstrap}/scenarios`, kill: () => kafka.halt('SIGKILL'), restart: () => kafka.restart(), countsChannels: false,
  });
});

test('Kafka: an outage under a steady stream, and a node killed mid-stream', async (t) => {
  const kafka = await startKafka();
  const pg = await startPostgres();
  const db = await pg.createDatabase('kafka_outage');
  const open = [];
  const nodes = {};
  t.after(async () => {
    for (const c of open) c.close();
    await Promise.all(Object.values(nodes).map((n) => n.stop({ check: false })));
    await kafka.stop();
    await pg.stop();
  });
  const url = `kafka://${kafka.bootstrap}/outage`;
  const start = (name) => startBark(['--store', db, '--cluster', url, '--node-id', name,
    '--allow-client-publish', '--threads', '2', '--max-send-rate', '0']);
  for (const name of ['A', 'B', 'C']) nodes[name] = await start(name);
  for (const n of Object.values(nodes)) await waitReady(n, true);
  const connect = async (node, claims) => { const c = await chatConnect(node, claims); open.push(c); return c; };

  await t.test('Kafka stopped for 10 s mid-stream: nothing lost or repeated on nodes that stayed up, order kept', async () => {
    const R = (await createRoom(nodes.A, nodes.A.token(CUST), CUST.userId, SALON.userId)).roomId;
    const sender = await connect(nodes.A, CUST);
    const news = await connect(nodes.A, CUST);
    const watchers = [await connect(nodes.B, SALON), await connect(nodes.C, CUST)];
    for (const w of watchers) {
      await w.subscribe('room', `/sub/chat/${R}`);
      await w.subscribe('news', '/sub/news');
    }
    let n = 0;
    let streaming = true;
    // A steady stream: a chat message and a topic broadcast (not stored) every 20 ms.
    const stream = (async () => {
      while (streaming) {
        sender.chatSend(R, { messageText: `m ${n}` }, { receipt: `s-${n}` });
        news.sendJson('/sub/news', { n });
        n += 1;
        await sleep(20);
      }
    })();
    await sleep(1000);
    await kafka.halt();
    for (const node of [nodes.B, nodes.C]) {
      const r = await waitReady(node, false);
      assert.equal(r.json.cluster.state, 'down');
    }
    await sleep(10000);
    await kafka.restart();
    for (const node of Object.values(nodes)) await waitReady(node, true, 30000);
    await sleep(1000);
    streaming = false;
    await stream;
    await waitUntil(() => receipts(sender, 's') === n, 10000, 'every message receipted');
    const stored = await fullHistory(nodes.A, nodes.A.token(CUST), R);
    assert.equal(stored.length, n);
    for (const w of watchers) {
      const got = await w.waitJson('room', n, 20000);
      assert.deepEqual(ids(got), ids(stored), 'every message once, in messageId order');
      const topic = await w.waitJson('news', n, 20000);
      assert.deepEqual(topic.map((x) => x.n), Array.from({ length: n }, (_, i) => i),
        'every broadcast of the topic once, in order: Kafka held them across the outage');
    }
    await sleep(300);
    for (const w of watchers) {
      assert.equal(w.messages('room').length, n, 'no repeat');
      assert.equal(w.messages('news').length, n, 'no repeat');
    }
  });

  await t.test('a node killed with SIGKILL mid-stream and restarted: every receipted message reaches every live subscriber', async () => {
    const salon2 = { ...SALON, userId: SALON.userId + 1 };
    const R = (await createRoom(nodes.A, nodes.A.token(CUST), CUST.userId, salon2.userId)).roomId;
    const senderA = await connect(nodes.A, CUST);
    const senderB = await connect(nodes.B, salon2);
    const watcherC = await connect(nodes.C, CUST);
    await watcherC.subscribe('room', `/sub/chat/${R}`);
    const stopped = { v: false };
    let a = 0;
    let b = 0;
    const streamA = (async () => {
      while (!stopped.v) { senderA.chatSend(R, { messageText: `a ${a}` }, { receipt: `a-${a}` }); a += 1; await sleep(10); }
    })();
    const streamB = (async () => {
      while (!stopped.v && !senderB.closed) { senderB.chatSend(R, { messageText: `b ${b}` }, { receipt: `b-${b}` }); b += 1; await sleep(10); }
    })();
    await sleep(1000);
    nodes.B.proc.kill('SIGKILL');
    await sleep(1000);
    nodes.B = await start('B');
    await waitReady(nodes.B, true);
    const watcherB = await connect(nodes.B, salon2);
    const seen = watcherC.json('room');
    await watcherB.subscribe('room', `/sub/chat/${R}`, { 'last-message-id': String(seen.length ? seen[seen.length - 1].messageId : 0) });
    await sleep(1000);
    stopped.v = true;
    await streamA;
    await streamB;
    await waitUntil(() => receipts(senderA, 'a') === a, 10000, 'every message of A receipted');
    const stored = await fullHistory(nodes.A, nodes.A.token(CUST), R);
    const receiptedB = senderB.frames.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id']);
    const storedTexts = new Set(stored.map((m) => m.messageText));
    for (const id of receiptedB) assert.ok(storedTexts.has(id.replace('-', ' ')), `receipted ${id} is stored`);
    const got = await watcherC.waitJson('room', stored.length, 20000);
    assert.deepEqual(ids(got), ids(stored), 'C, which stayed up: everything, once, in order');
    const fromB = await watcherB.waitJson('room', 1, 20000);
    const tail = stored.filter((m) => m.messageId > seen[seen.length - 1].messageId);
    await waitUntil(() => watcherB.messages('room').length >= tail.length, 20000, 'B caught up');
    assert.deepEqual(ids(watcherB.json('room')), ids(tail), 'the restarted node: catch-up then live, no gap, no repeat');
    assert.ok(fromB.length > 0);
  });
});
