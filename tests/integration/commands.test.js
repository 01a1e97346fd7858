'use strict';
// --commands: backends' message.send commands read from a real Kafka topic (produced here with
// kcat, an independent client) are stored and broadcast like a SEND: to the room's subscribers, in
// history, once per clientMessageId; system messages without a sender; malformed commands and
// refused senders skipped and counted. A bark killed with SIGKILL mid-stream and restarted ends
// with every command stored exactly once.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  startBark, chatConnect, createRoom, fullHistory, httpRequest, sleep, waitUntil,
} = require('./lib/bark');
const { startKafka } = require('./lib/servers');

const CUST = { userId: 7, username: 'cmd-customer', role: 'USER' };
const SALON = { userId: 9, username: 'cmd-salon', role: 'SALON' };

// Produces each line of `lines` as one message of `topic` with kcat, keyed by `key` (a backend keys
// its commands by room, so a room's commands keep their order).
function produce(kafka, topic, lines, key = 'room') {
  const input = lines.map((l) => `${key}\t${l}`).join('\n');
  const r = spawnSync('kcat', ['-P', '-K', '\t', '-b', kafka.bootstrap, '-t', topic], { input: `${input}\n`, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, `kcat: ${r.stderr}`);
}

function metric(text, name) {
  const m = new RegExp(`^${name.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('--commands over a real Kafka', async (t) => {
  const kafka = await startKafka();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-commands-'));
  const store = `sqlite:${path.join(dir, 'bark.db')}`;
  const topic = 'cmds';
  const flags = ['--store', store, '--commands', `kafka://${kafka.bootstrap}/${topic}`];
  let bark = await startBark(flags);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop({ check: false });
    await kafka.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const metrics = async () => (await httpRequest(bark.port, { path: '/metrics' })).body;
  const R = (await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId)).roomId;
  const same = (await createRoom(bark, bark.token({ userId: 5, username: 'five', role: 'USER' }), 5, 5)).roomId;

  await t.test('stored and broadcast like a SEND; duplicates once; malformed and refused ones skipped and counted', async () => {
    const cust = await chatConnect(bark, CUST);
    open.push(cust);
    await cust.subscribe('room', `/sub/chat/${R}`);
    await cust.subscribe('notes', '/user/queue/notifications');
    const cmd = (o) => JSON.stringify({ type: 'message.send', roomId: R, ...o });
    produce(kafka, topic, [
      cmd({ senderId: 9, messageText: 'from the salon backend', clientMessageId: 'k-1' }),
      cmd({ senderId: 9, messageText: 'from the salon backend', clientMessageId: 'k-1' }), // a duplicate
      '{"type":"message.send",', // malformed JSON
      cmd({ senderId: 9, messageText: 'no id' }), // clientMessageId is required
      cmd({ senderId: 8, messageText: 'not a participant', clientMessageId: 'k-2' }),
      cmd({ senderId: 7, senderRole: 'SALON', messageText: 'the customer id with the salon role', clientMessageId: 'k-3' }),
      JSON.stringify({ type: 'message.send', roomId: same, senderId: 5, messageText: 'which side?', clientMessageId: 'k-4' }),
      cmd({ messageText: 'Your booking is confirmed', clientMessageId: 'k-5' }), // a system message
    ]);
    const got = await cust.waitJson('room', 2, 30000);
    assert.deepEqual(got.map((m) => [m.senderId, m.senderRole, m.messageText]), [
      [9, 'SALON', 'from the salon backend'],
      [0, 'SYSTEM', 'Your booking is confirmed'],
    ]);
    assert.equal(got[0].clientMessageId, 'k-1');
    const notes = await cust.waitJson('notes', 2, 5000);
    assert.deepEqual(notes.map((n) => n.messageId), got.map((m) => m.messageId), 'the customer is notified of both');
    // Every command answered: two stored, the duplicate answered by the first, five skipped.
    await waitUntil(async () => {
      const text = await metrics();
      return metric(text, 'bark_commands_stored_total') + metric(text, 'bark_commands_skipped_total{reason="malformed"}') +
        metric(text, 'bark_commands_skipped_total{reason="refused"}') === 8;
    }, 10000, 'eight commands answered');
    const m = await metrics();
    assert.equal(metric(m, 'bark_commands_consumed_total'), 8);
    assert.equal(metric(m, 'bark_commands_stored_total'), 3, 'two messages and the duplicate\'s answer');
    assert.equal(metric(m, 'bark_commands_skipped_total{reason="malformed"}'), 2);
    assert.equal(metric(m, 'bark_commands_skipped_total{reason="refused"}'), 3);
    assert.match(bark.output(), /commands: skipped .*not a participant/);
    assert.match(bark.output(), /commands: skipped .*ambiguous-sender/);
    await sleep(300);
    assert.equal(cust.messages('room').length, 2, 'the duplicate is not broadcast again');
    const stored = await fullHistory(bark, bark.token(CUST), R);
    assert.deepEqual(stored.map((x) => x.messageId), got.map((x) => x.messageId));
  });

  await t.test('offsets are committed: a restart reads only new commands', async () => {
    await bark.stop();
    bark = await startBark(flags);
    produce(kafka, topic, [JSON.stringify({ type: 'message.send', roomId: R, senderId: 7, messageText: 'after the restart', clientMessageId: 'k-6' })]);
    await waitUntil(async () => metric(await metrics(), 'bark_commands_stored_total') === 1, 30000, 'the new command stored');
    await sleep(500);
    assert.equal(metric(await metrics(), 'bark_commands_consumed_total'), 1, 'nothing read twice');
    const stored = await fullHistory(bark, bark.token(CUST), R);
    assert.deepEqual(stored.map((x) => x.messageText).slice(-1), ['after the restart']);
  });

  await t.test('SIGKILL mid-stream and a restart: every command stored exactly once', async () => {
    const N = 300;
    const lines = [];
    for (let i = 0; i < N; i++) {
      lines.push(JSON.stringify({ type: 'message.send', roomId: R, senderId: i % 2 ? 7 : 9, messageText: `bulk ${i}`, clientMessageId: `bulk-${i}` }));
    }
    produce(kafka, topic, lines);
    await waitUntil(async () => (metric(await metrics(), 'bark_commands_stored_total') || 0) >= 20, 30000, 'some commands stored');
    bark.proc.kill('SIGKILL');
    await waitUntil(() => bark.exited(), 5000, 'bark gone');
    bark = await startBark(flags);
    await waitUntil(async () => {
      const all = await fullHistory(bark, bark.token(CUST), R);
      return all.filter((x) => x.messageText.startsWith('bulk ')).length >= N;
    }, 60000, 'every bulk command stored');
    await sleep(500);
    const all = (await fullHistory(bark, bark.token(CUST), R)).filter((x) => x.messageText.startsWith('bulk '));
    assert.equal(all.length, N, 'each once');
    assert.deepEqual(all.map((x) => x.messageText).sort(), lines.map((l) => JSON.parse(l).messageText).sort());
  });
});
