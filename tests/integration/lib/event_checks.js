'use strict';
// Checks shared by the --events tests (webhook and Kafka): what a consumer received, in arrival
// order and with whatever duplicates at-least-once delivery brought, against what the store holds.

const assert = require('node:assert/strict');
const { fullHistory, api, ISO_MS_RE } = require('./bark');

// `received`: events in arrival order ({eventId, type, roomId, at, data, body}). `rooms`: [{room
// (the REST room JSON), token (a participant's), marks (how many read marks moved in it)}].
// Asserts: every copy of an event is the same bytes; each room's events arrive (first copies) in
// eventId order; the room's message.created events are its history, in order, with the data the
// history API serves; room.created is the room; read.updated events end at the last message.
// Returns {distinct, duplicates}.
async function checkEventsAgainstStore(bark, received, rooms) {
  const firstCopy = new Map(); // eventId → the first copy
  let duplicates = 0;
  for (const e of received) {
    assert.equal(typeof e.eventId, 'string', `eventId is a string: ${e.body}`);
    assert.match(e.at, ISO_MS_RE, `at is ISO-8601 with ms: ${e.body}`);
    if (firstCopy.has(e.eventId)) {
      duplicates++;
      assert.equal(e.body, firstCopy.get(e.eventId).body, `every copy of event ${e.eventId} is the same`);
    } else {
      firstCopy.set(e.eventId, e);
    }
  }
  const byRoom = new Map();
  for (const e of firstCopy.values()) {
    if (!byRoom.has(e.roomId)) byRoom.set(e.roomId, []);
    byRoom.get(e.roomId).push(e);
  }
  for (const { room, token, marks } of rooms) {
    const events = byRoom.get(room.roomId) || [];
    for (let i = 1; i < events.length; i++) {
      assert.ok(BigInt(events[i].eventId) > BigInt(events[i - 1].eventId),
        `room ${room.roomId}: event ${events[i].eventId} arrived after ${events[i - 1].eventId}`);
    }
    const history = await fullHistory(bark, token, room.roomId, { max: 1000 });
    const created = events.filter((e) => e.type === 'room.created');
    assert.equal(created.length, 1, `room ${room.roomId}: one room.created`);
    assert.deepEqual(created[0].data, room);
    assert.equal(events[0].type, 'room.created', `room ${room.roomId}: room.created comes first`);
    const messages = events.filter((e) => e.type === 'message.created').map((e) => e.data);
    assert.deepEqual(messages, history, `room ${room.roomId}: message.created events are its history, in order`);
    const reads = events.filter((e) => e.type === 'read.updated');
    assert.equal(reads.length, marks, `room ${room.roomId}: one read.updated per moved read mark`);
    if (marks > 0) {
      assert.equal(reads[reads.length - 1].data.lastReadMessageId, history[history.length - 1].messageId);
      assert.equal(reads[reads.length - 1].data.roomId, room.roomId);
    }
    assert.equal(events.length, 1 + history.length + marks, `room ${room.roomId}: nothing else`);
  }
  return { distinct: firstCopy.size, duplicates };
}

// bark's /metrics value of `name` (0 when absent).
async function metric(bark, name) {
  const r = await api(bark, 'GET', '/metrics');
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : 0;
}

// Polls the async `cond` every 50 ms until it resolves truthy; rejects after `ms`.
async function eventually(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { checkEventsAgainstStore, metric, eventually };
