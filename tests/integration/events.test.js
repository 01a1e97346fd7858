'use strict';
// --events with a webhook (SPEC §10): every committed change reaches the receiver at least once,
// signed, with an eventId that stays the same on every retry, each room's events in commit order,
// and the same as the store holds — while the receiver refuses its first attempts, and while it is
// down across a `kill -9` of bark between commit and delivery and the restart on the same store
// (SQLite, and PostgreSQL once). The graceful stop delivers the last writes first.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, api, waitUntil, BARK_BIN } = require('./lib/bark');
const { startPostgres } = require('./lib/servers');
const { startWebhookReceiver } = require('./lib/webhook');
const { checkEventsAgainstStore, metric, eventually } = require('./lib/event_checks');

const SECRET = 'webhook-secret-for-tests';
const PAIRS = [
  [{ userId: 9401, username: 'ev-c1', role: 'USER' }, { userId: 9501, username: 'ev-s1', role: 'SALON' }],
  [{ userId: 9402, username: 'ev-c2', role: 'USER' }, { userId: 9502, username: 'ev-s2', role: 'SALON' }],
];

// Sends `n` receipted messages to each room from its customer, then moves the salon's read mark
// to the room's last message. Resolves once every RECEIPT and read mark is back.
async function chatRound(bark, rooms, tag, n) {
  for (const r of rooms) {
    const c = await chatConnect(bark, r.customer);
    for (let i = 0; i < n; i++) {
      c.chatSend(r.room.roomId, { messageText: `${tag} ${i}`, clientMessageId: `${tag}-${r.room.roomId}-${i}` },
        { receipt: `${tag}-${i}` });
    }
    await waitUntil(() => c.frames.filter((f) => f.command === 'RECEIPT').length === n, 10000, `${n} receipts`);
    c.close();
    const p = `/api/chat/rooms/${r.room.roomId}/read`;
    const res = await api(bark, 'POST', p, { token: bark.token(r.salon), body: { lastReadMessageId: 1e12 } });
    assert.equal(res.status, 204, `${p}: ${res.body}`);
    r.marks++;
  }
}

async function makeRooms(bark) {
  const rooms = [];
  for (const [customer, salon] of PAIRS) {
    const room = await createRoom(bark, bark.token(customer), customer.userId, salon.userId);
    rooms.push({ room, customer, salon, marks: 0 });
  }
  return rooms;
}

const expected = (rooms, perRoom) => rooms.length * (1 + perRoom) + rooms.reduce((a, r) => a + r.marks, 0);

async function webhookAcrossACrash(t, storeUrl) {
  const hook = await startWebhookReceiver({ secret: SECRET, failFirst: 6 });
  t.after(() => hook.close());
  const flags = ['--store', storeUrl, '--events', hook.url, '--webhook-secret', SECRET];
  let bark = await startBark(flags);
  t.after(() => bark.stop());
  const rooms = await makeRooms(bark);

  // The receiver refuses its first six attempts: they are retried.
  await chatRound(bark, rooms, 'one', 15);
  await hook.waitFor((h) => h.ids().size === expected(rooms, 15), 15000, 'the first round delivered');
  assert.ok(await metric(bark, 'bark_events_retried_total') >= 6, 'the refused attempts were retried');

  // The receiver goes away; what commits now cannot be delivered before bark is killed.
  await hook.down();
  await chatRound(bark, rooms, 'two', 10);
  bark.proc.kill('SIGKILL');
  await waitUntil(() => bark.exited(), 5000, 'bark to die');
  const before = hook.ids().size;
  assert.ok(before < expected(rooms, 25), 'the second round was committed, not delivered');

  // bark comes back on the same store while the receiver is still down, then the receiver too.
  bark = await startBark(flags);
  await eventually(async () => await metric(bark, 'bark_events_retried_total') > 0, 5000,
    'the restarted bark to try while the receiver is down');
  await hook.up();
  await hook.waitFor((h) => h.ids().size === expected(rooms, 25), 20000, 'every event delivered after the restart');

  const { distinct, duplicates } = await checkEventsAgainstStore(bark, hook.events,
    rooms.map((r) => ({ ...r, token: bark.token(r.customer) })));
  assert.equal(distinct, expected(rooms, 25));
  assert.equal(hook.badSignatures, 0);
  for (let i = 0; i < hook.events.length; i++) {
    assert.equal(hook.headers[i]['x-bark-event-id'], hook.events[i].eventId);
    assert.equal(hook.headers[i]['x-bark-event-type'], hook.events[i].type);
  }
  await eventually(async () => await metric(bark, 'bark_events_pending') === 0, 5000, 'the outbox to be empty');
  assert.equal(await metric(bark, 'bark_events_dropped_total'), 0);
  t.diagnostic(`${distinct} events, ${duplicates} delivered twice, ${hook.attempts} attempts`);
}

test('webhook: every change delivered once signed, retried, and across kill -9 (SQLite)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-events-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await webhookAcrossACrash(t, `sqlite:${path.join(dir, 'chat.db')}`);
});

test('webhook: every change delivered once signed, retried, and across kill -9 (PostgreSQL)', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  await webhookAcrossACrash(t, await pg.createDatabase('events'));
});

test('the graceful stop delivers the last writes before bark exits', async (t) => {
  const hook = await startWebhookReceiver({ secret: SECRET });
  t.after(() => hook.close());
  const bark = await startBark(['--events', hook.url, '--webhook-secret', SECRET]);
  const rooms = await makeRooms(bark);
  await chatRound(bark, rooms, 'last', 30);
  await bark.stop();
  assert.equal(hook.ids().size, expected(rooms, 30), 'every event was delivered before the exit');
});

test('an http(s) --events URL needs --webhook-secret; an unknown scheme is refused', () => {
  const env = { ...process.env };
  delete env.BARK_WEBHOOK_SECRET;
  const missing = spawnSync(BARK_BIN, ['--jwt-secret', 'x', '--store', 'memory:', '--listen', '127.0.0.1:0',
    '--events', 'http://127.0.0.1:9/hook'], { encoding: 'utf8', env, timeout: 10000 });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--webhook-secret/);
  const unknown = spawnSync(BARK_BIN, ['--jwt-secret', 'x', '--store', 'memory:', '--listen', '127.0.0.1:0',
    '--events', 'ftp://example/x'], { encoding: 'utf8', env, timeout: 10000 });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /--events: expected kafka:\/\//);
});
