'use strict';
// --events to a real Kafka: every committed change is a record of the topic, keyed by its room,
// read back by an independent client (kcat) and compared with the store; a bark killed with
// SIGKILL in the middle of a stream of sends and restarted on the same store ends with every
// committed change in the topic (each room's first copies in commit order), and so does a bark
// killed while Kafka is down and restarted before Kafka comes back.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, fullHistory, api, sleep, waitUntil } = require('./lib/bark');
const { startKafka } = require('./lib/servers');
const { checkEventsAgainstStore, eventually, metric } = require('./lib/event_checks');

const PAIRS = [
  [{ userId: 9601, username: 'ek-c1', role: 'USER' }, { userId: 9701, username: 'ek-s1', role: 'SALON' }],
  [{ userId: 9602, username: 'ek-c2', role: 'USER' }, { userId: 9702, username: 'ek-s2', role: 'SALON' }],
];
const TOPIC = 'bark-events-test';

// Every record of the topic so far, read with kcat: {key, ...event, body}, in partition order.
function consume(kafka) {
  const r = spawnSync('kcat', ['-C', '-b', kafka.bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-q',
    '-f', '%k\t%s\n'], { encoding: 'utf8', timeout: 20000, maxBuffer: 64 << 20 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.length > 0).map((line) => {
    const tab = line.indexOf('\t');
    const body = line.slice(tab + 1);
    return { key: line.slice(0, tab), ...JSON.parse(body), body };
  });
}

async function consumeUntil(kafka, n, ms, what) {
  let records = [];
  await eventually(async () => {
    records = consume(kafka);
    return new Set(records.map((e) => e.eventId)).size >= n;
  }, ms, what);
  return records;
}

async function makeRooms(bark) {
  const rooms = [];
  for (const [customer, salon] of PAIRS) {
    const room = await createRoom(bark, bark.token(customer), customer.userId, salon.userId);
    rooms.push({ room, customer, salon, marks: 0 });
  }
  return rooms;
}

// Sends until `stop()` says so, without waiting for receipts (the kill comes in the middle). With
// `settle`, then waits for the last send's receipt: a receipt comes once the send is stored, and a
// session's sends are stored in order, so every send is in the store before the caller goes on (a
// read mark moved before that would stop short of the room's last message).
async function pump(bark, rooms, tag, stop, { settle = false } = {}) {
  const clients = [];
  for (const r of rooms) clients.push({ r, c: await chatConnect(bark, r.customer) });
  await Promise.all(clients.map(async ({ r, c }) => {
    let last = null;
    for (let n = 0; !stop() && !c.closed; n++) {
      last = `${tag}-${n}`;
      c.chatSend(r.room.roomId, { messageText: `${tag} ${n}`, clientMessageId: last }, { receipt: last });
      if (n % 5 === 4) await sleep(2);
    }
    if (settle && last !== null) await c.receipt(last, 20000);
  }));
  for (const { c } of clients) c.close();
}

// How many events the store's state means: each room's creation, its messages, its moved marks.
async function expectedEvents(bark, rooms) {
  let n = 0;
  for (const r of rooms) n += 1 + (await fullHistory(bark, bark.token(r.customer), r.room.roomId, { max: 1000 })).length + r.marks;
  return n;
}

async function markRead(bark, rooms) {
  for (const r of rooms) {
    const p = `/api/chat/rooms/${r.room.roomId}/read`;
    const res = await api(bark, 'POST', p, { token: bark.token(r.salon), body: { lastReadMessageId: 1e12 } });
    assert.equal(res.status, 204, `${p}: ${res.body}`);
    r.marks++;
  }
}

test('--events kafka: records keyed by room, the same as the store, across kill -9 mid-stream and while Kafka is down', async (t) => {
  const kafka = await startKafka();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-events-kafka-'));
  const flags = ['--store', `sqlite:${path.join(dir, 'chat.db')}`, '--events', `kafka://${kafka.bootstrap}/${TOPIC}`];
  let bark = await startBark(flags);
  t.after(async () => {
    await bark.stop({ check: false });
    await kafka.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const rooms = await makeRooms(bark);
  const withTokens = () => rooms.map((r) => ({ ...r, token: bark.token(r.customer) }));

  // A stream of sends, killed in the middle; the restarted bark sends what the outbox kept.
  let stop = false;
  const sending = pump(bark, rooms, 'one', () => stop);
  await eventually(async () => await metric(bark, 'bark_events_delivered_total') > 20, 10000, 'events flowing');
  bark.proc.kill('SIGKILL');
  await waitUntil(() => bark.exited(), 5000, 'bark to die');
  stop = true;
  await sending;
  bark = await startBark(flags);
  await markRead(bark, rooms);
  let records = await consumeUntil(kafka, await expectedEvents(bark, rooms), 20000, 'every event in the topic');
  let result = await checkEventsAgainstStore(bark, records, withTokens());
  for (const e of records) assert.equal(e.key, String(e.roomId), 'the key is the roomId');
  t.diagnostic(`after kill -9: ${result.distinct} events, ${result.duplicates} copies more`);

  // Kafka stops; what commits meanwhile waits in the outbox (and in the producer, which dies with
  // bark: only the outbox keeps it) across a kill -9 and a restart of bark, and reaches the topic
  // once Kafka is back.
  await kafka.halt();
  stop = false;
  const more = pump(bark, rooms, 'two', () => stop, { settle: true });
  await sleep(500);
  stop = true;
  await more;
  await markRead(bark, rooms);
  await eventually(async () => await metric(bark, 'bark_events_pending') > 0, 5000, 'events to wait for Kafka');
  bark.proc.kill('SIGKILL');
  await waitUntil(() => bark.exited(), 5000, 'bark to die');
  bark = await startBark(flags);
  await kafka.restart();
  records = await consumeUntil(kafka, await expectedEvents(bark, rooms), 120000, 'every event after Kafka came back');
  result = await checkEventsAgainstStore(bark, records, withTokens());
  t.diagnostic(`after the Kafka restart: ${result.distinct} events, ${result.duplicates} copies more`);
  await bark.stop();
});
