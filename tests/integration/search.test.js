'use strict';
// Full-text search (GET /api/chat/search) through real HTTP against a real bark, on a SQLite file
// and on a real PostgreSQL server: Korean found inside words, Latin case ignored, edits (STOMP
// and REST) and deletes reflected at once, keyset paging, and only the caller's rooms: never
// another pair's room, USER 7 and SALON 7 find different messages, a room not theirs is 403.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBark, chatConnect, createRoom, api, showHttp } = require('./lib/bark');
const { startPostgres } = require('./lib/servers');

const C7 = { userId: 7, username: 'search-customer-7', role: 'USER' };
const S7 = { userId: 7, username: 'search-salon-7', role: 'SALON' }; // same id, another person
const S8 = { userId: 8, username: 'search-salon-8', role: 'SALON' };
const C9 = { userId: 9, username: 'search-customer-9', role: 'USER' };
const ADMIN = { userId: 1, username: 'search-admin', role: 'ADMIN' };

async function scenario(t, storeUrl) {
  const bark = await startBark(['--store', storeUrl, '--max-send-rate', '0']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
  });
  const tok = (who) => bark.token(who);
  const search = async (who, query, expectStatus = 200) => {
    const p = `/api/chat/search?${query}`;
    const r = await api(bark, 'GET', p, { token: tok(who) });
    assert.equal(r.status, expectStatus, showHttp('GET', p, r));
    return r.json;
  };
  const texts = async (who, query) => (await search(who, query)).messages.map((m) => m.messageText);
  const post = async (who, roomId, messageText) => {
    const r = await api(bark, 'POST', `/api/chat/rooms/${roomId}/messages`, { token: tok(who), body: { messageText } });
    assert.equal(r.status, 201, showHttp('POST', 'messages', r));
    return r.json;
  };
  const q = (s) => `q=${encodeURIComponent(s)}`;

  // Room A: USER 7 with SALON 8. Room B: USER 9 with SALON 7.
  const A = (await createRoom(bark, tok(C7), C7.userId, S8.userId)).roomId;
  const B = (await createRoom(bark, tok(C9), C9.userId, S7.userId)).roomId;
  const a1 = await post(C7, A, '강아지미용은 언제 되나요?');
  const a2 = await post(S8, A, 'Grooming at 3 PM, see you at the SALON');
  const b1 = await post(C9, B, '고양이 미용 예약할게요');
  const b2 = await post(S7, B, 'secret salon note');

  await t.test('Korean inside a word, Latin in any case, newest first, shaped as history', async () => {
    const r = await search(C7, q('미용'));
    assert.deepEqual(r.messages.map((m) => m.messageId), [a1.messageId]);
    assert.equal(r.hasMore, false);
    const hist = await api(bark, 'GET', `/api/chat/rooms/${A}/messages`, { token: tok(C7) });
    assert.deepEqual(r.messages[0], hist.json.messages.find((m) => m.messageId === a1.messageId));
    assert.deepEqual(await texts(C7, q('salon')), [a2.messageText]);
    assert.deepEqual(await texts(C7, q('SEE YOU')), [a2.messageText]);
    assert.deepEqual(await texts(C7, 'q=see+you'), [a2.messageText]); // + is a space in a query string
    assert.deepEqual(await texts(C7, q('고양이')), []);
  });

  await t.test('only the caller\'s rooms: USER 7 and SALON 7 are two people; ADMIN sees all', async () => {
    assert.deepEqual(await texts(C7, q('salon')), [a2.messageText], 'not room B\'s "secret salon note"');
    assert.deepEqual(await texts(S7, q('salon')), [b2.messageText]);
    assert.deepEqual(await texts(S7, q('미용')), [b1.messageText]);
    assert.deepEqual(await texts(S8, q('미용')), [a1.messageText]);
    assert.deepEqual(await texts(ADMIN, q('미용')), [b1.messageText, a1.messageText]);
    assert.deepEqual(await texts(ADMIN, `${q('미용')}&roomId=${A}`), [a1.messageText]);
    assert.deepEqual(await texts(C7, `${q('미용')}&roomId=${A}`), [a1.messageText]);
    const forbidden = await search(C7, `${q('secret')}&roomId=${B}`, 403);
    assert.equal(forbidden.error, 'forbidden');
    assert.equal((await search(S7, `${q('미용')}&roomId=${A}`, 403)).error, 'forbidden');
    assert.equal((await search(C7, `${q('미용')}&roomId=999999`, 404)).error, 'not-found');
  });

  await t.test('authentication and bounded queries', async () => {
    const none = await api(bark, 'GET', `/api/chat/search?${q('미용')}`);
    assert.equal(none.status, 401, showHttp('GET', 'search', none));
    const cookie = await api(bark, 'GET', `/api/chat/search?${q('미용')}`, { headers: { Cookie: `Authorization=${tok(C7)}` } });
    assert.equal(cookie.status, 200, showHttp('GET', 'search', cookie));
    assert.equal((await search(C7, q('요'), 400)).error, 'query-too-short');
    assert.equal((await search(C7, q('   '), 400)).error, 'query-too-short');
    assert.equal((await search(C7, '', 400)).error, 'query-too-short');
    assert.equal((await search(C7, q('a'.repeat(101)), 400)).error, 'query-too-long');
    assert.equal((await search(C7, `q=${'%41'.repeat(2000)}`, 400)).error, 'query-too-long');
    assert.equal((await search(C7, `${q('미용')}&limit=0`, 400)).error, 'bad-request');
    assert.equal((await search(C7, `${q('미용')}&before=x`, 400)).error, 'bad-request');
    assert.equal((await search(C7, `${q('미용')}&roomId=-1`, 400)).error, 'bad-request');
    assert.equal((await search(C7, `q=%ff%fe`, 200)).messages.length, 0); // not UTF-8: folded, found nowhere
  });

  await t.test('edits over STOMP and REST are found by the new text only; deletes never', async () => {
    const cust = await chatConnect(bark, C7);
    open.push(cust);
    cust.sendJson(`/pub/chat/edit/${A}`, { messageId: a1.messageId, messageText: '강아지목욕은 언제 되나요?' }, { receipt: 'e1' });
    await cust.receipt('e1');
    assert.deepEqual(await texts(C7, q('미용')), []);
    assert.deepEqual(await texts(C7, q('목욕')), ['강아지목욕은 언제 되나요?']);

    const patched = await api(bark, 'PATCH', `/api/chat/rooms/${B}/messages/${b2.messageId}`,
      { token: tok(S7), body: { messageText: 'public salon note' } });
    assert.equal(patched.status, 200, showHttp('PATCH', 'message', patched));
    assert.deepEqual(await texts(S7, q('secret')), []);
    assert.deepEqual(await texts(S7, q('public')), ['public salon note']);

    const del = await api(bark, 'DELETE', `/api/chat/rooms/${A}/messages/${a1.messageId}`, { token: tok(C7) });
    assert.equal(del.status, 200, showHttp('DELETE', 'message', del));
    assert.deepEqual(await texts(C7, q('목욕')), []);
    assert.deepEqual(await texts(ADMIN, q('목욕')), []);
    const adminDel = await api(bark, 'DELETE', `/api/chat/rooms/${B}/messages/${b1.messageId}`, { token: tok(ADMIN) });
    assert.equal(adminDel.status, 200, showHttp('DELETE', 'message', adminDel));
    assert.deepEqual(await texts(S7, q('미용')), []);
  });

  await t.test('keyset pages by message id, limit bounded', async () => {
    const sent = [];
    for (let i = 0; i < 12; i++) sent.push((await post(C7, A, `page test 미용 ${i}`)).messageId);
    const seen = [];
    let before = '';
    for (let pages = 0; pages < 10; pages++) {
      const r = await search(C7, `${q('page test')}&limit=5${before}`);
      assert.ok(r.messages.length <= 5);
      seen.push(...r.messages.map((m) => m.messageId));
      if (!r.hasMore) { assert.equal(r.nextBefore, null); break; }
      assert.equal(r.nextBefore, r.messages.at(-1).messageId);
      before = `&before=${r.nextBefore}`;
    }
    assert.deepEqual(seen, sent.slice().reverse());
    const big = await search(C7, `${q('page test')}&limit=100000`);
    assert.equal(big.messages.length, 12);
  });
}

test('search on SQLite', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-search-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await scenario(t, `sqlite:${path.join(dir, 'chat.db')}`);
});

test('search on PostgreSQL', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  await scenario(t, await pg.createDatabase('search'));
});
