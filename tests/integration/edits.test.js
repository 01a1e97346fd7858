'use strict';
// Edits and deletes (SPEC §11) through real clients on a real SQLite file: who may change a
// message, the broadcast of its new state, history showing the latest state, a deleted text gone
// from the database file, and catch-up that replays the changes made to older messages while a
// client was away, so it ends in the state of a client that never left.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startBark, chatConnect, createRoom, fullHistory, api, sleep, waitUntil, ISO_MS_RE,
} = require('./lib/bark');

const CUST = { userId: 5101, username: 'ed-customer', role: 'USER' };
const SALON = { userId: 5101, username: 'ed-salon', role: 'SALON' }; // same id as the customer: another user
const OTHER = { userId: 5102, username: 'ed-other', role: 'USER' };
const ADMIN = { userId: 9501, username: 'ed-admin', role: 'ADMIN' };

// A room's state as a client keeps it: each message by id, in its latest state.
function applyAll(state, msgs) {
  for (const m of msgs) state.set(m.messageId, m);
  return state;
}
const latest = (m) => Math.max(m.messageId, m.changeId || 0);

test('edits and deletes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-edits-'));
  const db = path.join(dir, 'chat.db');
  const bark = await startBark(['--store', `sqlite:${db}`, '--max-send-rate', '0']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const R = room.roomId;
  const cust = await connect(CUST);
  const salon = await connect(SALON);
  await cust.subscribe('errors', '/user/queue/errors');
  await salon.subscribe('errors', '/user/queue/errors');
  await salon.subscribe('room', `/sub/chat/${R}`);
  let receiptNo = 0;
  const send = async (c, destination, body) => {
    const id = `r-${++receiptNo}`;
    c.sendJson(destination, body, { receipt: id });
    await c.receipt(id);
  };

  await t.test('the sender edits over STOMP: stored, broadcast as the new state, history shows it', async () => {
    await send(cust, `/pub/chat/send/${R}`, { messageText: 'helo' });
    await send(cust, `/pub/chat/send/${R}`, { messageText: 'second' });
    const [first, second] = await salon.waitJson('room', 2);
    await send(cust, `/pub/chat/edit/${R}`, { messageId: first.messageId, messageText: 'hello' });
    const [, , edited] = await salon.waitJson('room', 3);
    assert.equal(edited.messageId, first.messageId);
    assert.equal(edited.messageText, 'hello');
    assert.match(edited.editedAt, ISO_MS_RE);
    assert.ok(edited.changeId > second.messageId, 'an edit is the room\'s newest change');
    assert.equal(edited.sendAt, first.sendAt);
    assert.equal(edited.deleted, undefined);
    const hist = await fullHistory(bark, bark.token(CUST), R);
    assert.deepEqual(hist.map((m) => m.messageText), ['hello', 'second']);
    assert.deepEqual(hist[0], edited);
  });

  await t.test('who may: another user (even with the same id) cannot edit or delete; ADMIN deletes but does not edit', async () => {
    await send(cust, `/pub/chat/send/${R}`, { messageText: 'customer\'s words' });
    const msgs = await salon.waitJson('room', 4);
    const target = msgs[3];
    const before = salon.messages('room').length;
    for (const [dest, body] of [[`/pub/chat/edit/${R}`, { messageId: target.messageId, messageText: 'salon rewrites' }],
      [`/pub/chat/delete/${R}`, { messageId: target.messageId }]]) {
      salon.sendJson(dest, body, { receipt: 'never' });
      const [err] = await salon.waitJson('errors', salon.messages('errors').length + 1);
      assert.equal(salon.json('errors').at(-1).error, 'forbidden');
      assert.ok(err);
    }
    const r1 = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/${target.messageId}`,
      { token: bark.token(SALON), body: { messageText: 'salon rewrites' } });
    assert.equal(r1.status, 403);
    assert.equal(r1.json.error, 'forbidden');
    const r2 = await api(bark, 'DELETE', `/api/chat/rooms/${R}/messages/${target.messageId}`, { token: bark.token(OTHER) });
    assert.equal(r2.status, 403, 'not a participant of the room');
    const r3 = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/${target.messageId}`,
      { token: bark.token(ADMIN), body: { messageText: 'admin rewrites' } });
    assert.equal(r3.status, 403);
    const r4 = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/999999999`,
      { token: bark.token(CUST), body: { messageText: 'x' } });
    assert.equal(r4.status, 404);
    assert.equal(r4.json.error, 'not-found');
    const r5 = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/${target.messageId}`,
      { token: bark.token(CUST), body: { messageText: '' } });
    assert.equal(r5.status, 400);
    assert.equal(r5.json.error, 'empty-text');
    assert.ok(!salon.frames.some((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'never'));
    assert.equal(salon.messages('room').length, before, 'nothing refused was broadcast');
    const hist = await fullHistory(bark, bark.token(CUST), R);
    assert.equal(hist.at(-1).messageText, 'customer\'s words');

    const admin = await connect(ADMIN);
    await send(admin, `/pub/chat/delete/${R}`, { messageId: target.messageId });
    const deleted = (await salon.waitJson('room', before + 1)).at(-1);
    assert.equal(deleted.messageId, target.messageId);
    assert.equal(deleted.deleted, true);
    assert.equal(deleted.messageText, '');
    assert.match(deleted.deletedAt, ISO_MS_RE);
  });

  await t.test('REST PATCH and DELETE: 200 with the new state, broadcast like STOMP; a second DELETE is not broadcast', async () => {
    const n = salon.messages('room').length + 1;
    await send(salon, `/pub/chat/send/${R}`, { messageText: 'our price list: 30,000 won' });
    const mine = (await salon.waitJson('room', n)).at(-1);
    const p = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/${mine.messageId}`,
      { token: bark.token(SALON), body: { messageText: 'our price list: 35,000 won' } });
    assert.equal(p.status, 200, p.body);
    assert.equal(p.json.messageText, 'our price list: 35,000 won');
    const bcast = (await salon.waitJson('room', n + 1)).at(-1);
    assert.deepEqual(bcast, p.json);
    const d = await api(bark, 'DELETE', `/api/chat/rooms/${R}/messages/${mine.messageId}`, { token: bark.token(SALON) });
    assert.equal(d.status, 200, d.body);
    assert.equal(d.json.deleted, true);
    assert.deepEqual((await salon.waitJson('room', n + 2)).at(-1), d.json);
    const again = await api(bark, 'DELETE', `/api/chat/rooms/${R}/messages/${mine.messageId}`, { token: bark.token(SALON) });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, d.json);
    const edit = await api(bark, 'PATCH', `/api/chat/rooms/${R}/messages/${mine.messageId}`,
      { token: bark.token(SALON), body: { messageText: 'revived' } });
    assert.equal(edit.status, 404, 'a deleted message cannot be edited');
    // A read-back through a later message proves nothing more was broadcast meanwhile.
    await send(salon, `/pub/chat/send/${R}`, { messageText: 'marker' });
    const all = await salon.waitJson('room', n + 3);
    assert.equal(all.at(-1).messageText, 'marker');
  });

  await t.test('bad edit and delete frames → /user/queue/errors with a clear code', async () => {
    const base = cust.messages('errors').length;
    cust.sendJson(`/pub/chat/edit/${R}`, { messageText: 'no id' });
    cust.sendJson(`/pub/chat/delete/${R}`, { messageId: 'seven' });
    cust.sendJson(`/pub/chat/edit/${R}`, '{"messageId":1,');
    cust.sendJson(`/pub/chat/edit/${R}`, { messageId: 1, messageText: 'x'.repeat(4001) });
    cust.sendJson(`/pub/chat/delete/${R + 1000}`, { messageId: 1 });
    const errs = (await cust.waitJson('errors', base + 5)).slice(base).map((e) => e.error);
    assert.deepEqual(errs, ['bad-json', 'bad-json', 'bad-json', 'text-too-long', 'not-found']);
  });

  await t.test('catch-up replays the edits and deletes of older messages, once each, in change order', async () => {
    const room2 = await createRoom(bark, bark.token(CUST), CUST.userId, OTHER.userId + 100);
    const R2 = room2.roomId;
    const salon2 = { userId: OTHER.userId + 100, username: 'ed-salon2', role: 'SALON' };
    const stayer = await connect(salon2);
    await stayer.subscribe('room', `/sub/chat/${R2}`);
    let leaver = await connect(salon2);
    await leaver.subscribe('room', `/sub/chat/${R2}`);
    for (let i = 0; i < 6; i++) await send(cust, `/pub/chat/send/${R2}`, { messageText: `m${i}` });
    const seen = await leaver.waitJson('room', 6);
    await send(cust, `/pub/chat/edit/${R2}`, { messageId: seen[0].messageId, messageText: 'm0 before leaving' });
    const seenAll = await leaver.waitJson('room', 7);
    const K = Math.max(...seenAll.map(latest));
    const leaverState = applyAll(new Map(), seenAll);
    leaver.close();

    // While away: edits of old messages, a delete, new messages, an edit of a new one.
    await send(cust, `/pub/chat/edit/${R2}`, { messageId: seen[1].messageId, messageText: 'm1 edited' });
    await send(cust, `/pub/chat/delete/${R2}`, { messageId: seen[2].messageId });
    await send(cust, `/pub/chat/send/${R2}`, { messageText: 'm6' });
    await send(cust, `/pub/chat/edit/${R2}`, { messageId: seen[0].messageId, messageText: 'm0 edited again' });
    const m6 = (await stayer.waitJson('room', 11)).at(-2);
    await send(cust, `/pub/chat/edit/${R2}`, { messageId: m6.messageId, messageText: 'm6 edited' });
    await stayer.waitJson('room', 12);

    leaver = await connect(salon2);
    await leaver.subscribe('room', `/sub/chat/${R2}`, { 'last-message-id': String(K) });
    const replay = await leaver.waitJson('room', 4, 5000);
    await sleep(200);
    assert.equal(leaver.messages('room').length, 4, 'each changed message once');
    assert.deepEqual(replay.map((m) => m.messageText), ['m1 edited', '', 'm0 edited again', 'm6 edited']);
    for (let i = 1; i < replay.length; i++) assert.ok(latest(replay[i - 1]) < latest(replay[i]), 'in change order');

    const stayerState = applyAll(new Map(), stayer.json('room'));
    applyAll(leaverState, replay);
    assert.deepEqual([...leaverState.entries()].sort((a, b) => a[0] - b[0]),
      [...stayerState.entries()].sort((a, b) => a[0] - b[0]), 'the same state as a client that never left');
    const hist = await fullHistory(bark, bark.token(CUST), R2);
    assert.deepEqual(hist, [...stayerState.values()].sort((a, b) => a.messageId - b.messageId), 'and as the store');

    // Live changes go on after the replay, once each.
    await send(cust, `/pub/chat/edit/${R2}`, { messageId: seen[3].messageId, messageText: 'm3 live' });
    const after = await leaver.waitJson('room', 5);
    assert.equal(after.at(-1).messageText, 'm3 live');
    await sleep(200);
    assert.equal(leaver.messages('room').length, 5);
  });

  await t.test('a subscriber away during 20 edits and deletes ends in the state of one that stayed', async () => {
    const salon3 = { userId: OTHER.userId + 200, username: 'ed-salon3', role: 'SALON' };
    const R3 = (await createRoom(bark, bark.token(CUST), CUST.userId, salon3.userId)).roomId;
    const stayer = await connect(salon3);
    await stayer.subscribe('room', `/sub/chat/${R3}`);
    const writer = await connect(salon3);
    for (let i = 0; i < 12; i++) await send(i % 2 ? writer : cust, `/pub/chat/send/${R3}`, { messageText: `x${i}` });
    const before = await stayer.waitJson('room', 12);
    const K = Math.max(...before.map(latest));
    // 20 changes from both sides, some to the same message, mixed with 4 new messages.
    let changes = 0;
    for (let round = 0; changes < 20; round++) {
      for (const m of before) {
        if (changes === 20) break;
        const by = m.senderRole === 'USER' ? cust : writer;
        if (round === 0 && m.messageId % 3 === 0) {
          await send(by, `/pub/chat/delete/${R3}`, { messageId: m.messageId });
        } else if (!(round > 0 && m.messageId % 3 === 0)) {
          await send(by, `/pub/chat/edit/${R3}`, { messageId: m.messageId, messageText: `x${m.messageId} r${round}` });
        } else continue;
        changes++;
        if (changes % 5 === 0) await send(cust, `/pub/chat/send/${R3}`, { messageText: `new after ${changes}` });
      }
    }
    const total = 12 + 20 + 4;
    await stayer.waitJson('room', total, 5000);
    const back = await connect(salon3);
    await back.subscribe('room', `/sub/chat/${R3}`, { 'last-message-id': String(K) });
    const stateOf = (msgs) => [...applyAll(new Map(), msgs).entries()].sort((a, b) => a[0] - b[0]);
    await waitUntil(() => back.messages('room').length > 0, 5000, 'the replay');
    await sleep(300);
    const replay = back.json('room');
    assert.equal(new Set(replay.map((m) => m.messageId)).size, replay.length, 'each message once');
    for (let i = 1; i < replay.length; i++) assert.ok(latest(replay[i - 1]) < latest(replay[i]), 'in change order');
    assert.deepEqual(stateOf([...before, ...replay]), stateOf(stayer.json('room')));
    assert.deepEqual(stateOf([...before, ...replay]).map(([, m]) => m), await fullHistory(bark, bark.token(CUST), R3));
  });

  await t.test('--edit-window: an edit later than the window is refused, a delete is not', async () => {
    const strict = await startBark(['--edit-window', '1', '--max-send-rate', '0']);
    try {
      const r = await createRoom(strict, strict.token(CUST), CUST.userId, SALON.userId);
      const c = await chatConnect(strict, CUST);
      try {
        await c.subscribe('errors', '/user/queue/errors');
        await c.subscribe('room', `/sub/chat/${r.roomId}`);
        c.chatSend(r.roomId, { messageText: 'quick' }, { receipt: 's' });
        await c.receipt('s');
        const [m] = await c.waitJson('room', 1);
        c.sendJson(`/pub/chat/edit/${r.roomId}`, { messageId: m.messageId, messageText: 'in time' }, { receipt: 'e1' });
        await c.receipt('e1');
        await sleep(1100); // the window is one second of real time
        c.sendJson(`/pub/chat/edit/${r.roomId}`, { messageId: m.messageId, messageText: 'too late' });
        const [err] = await c.waitJson('errors', 1);
        assert.equal(err.error, 'edit-window-passed');
        const p = await api(strict, 'PATCH', `/api/chat/rooms/${r.roomId}/messages/${m.messageId}`,
          { token: strict.token(CUST), body: { messageText: 'too late' } });
        assert.equal(p.status, 409);
        assert.equal(p.json.error, 'edit-window-passed');
        const d = await api(strict, 'DELETE', `/api/chat/rooms/${r.roomId}/messages/${m.messageId}`, { token: strict.token(CUST) });
        assert.equal(d.status, 200);
      } finally { c.close(); }
    } finally { await strict.stop(); }
  });

  await t.test('a deleted text is gone from the SQLite file, not only hidden', async () => {
    const secret = `my-address-${Date.now()}-12-hidden-street`;
    const n = salon.messages('room').length + 1;
    await send(cust, `/pub/chat/send/${R}`, { messageText: secret });
    const m = (await salon.waitJson('room', n)).at(-1);
    await send(cust, `/pub/chat/delete/${R}`, { messageId: m.messageId });
    await salon.waitJson('room', n + 1);
    await bark.stop(); // closes the database: the WAL is checkpointed into the file
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('chat.db'));
    assert.ok(files.includes('chat.db'));
    for (const f of files) {
      assert.equal(fs.readFileSync(path.join(dir, f)).includes(Buffer.from(secret)), false, `${f} holds the deleted text`);
    }
    assert.ok(fs.readFileSync(db).includes(Buffer.from('m1 edited')), 'stored texts are in the file (the check can see them)');
  });
});
