'use strict';
// The store goes away and comes back: a real PostgreSQL is stopped under a running bark and then
// started again on the same data. Meanwhile /readyz answers 503 naming the store, a SEND gets
// `unavailable` on /user/queue/errors (no RECEIPT, no broadcast, the connection stays open) and
// history answers 503. Once PostgreSQL is back, bark reconnects by itself: /readyz is 200 again,
// the same connections chat on, and history holds what was stored before and after, once each.
// Last, PostgreSQL freezes mid-commit and bark is stopped: the stop keeps its 10 s bound.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, fullHistory, api, httpRequest, sleep, waitUntil } = require('./lib/bark');
const { startPostgres } = require('./lib/servers');

const CUSTOMER = { userId: 9401, username: 'so-cust', role: 'USER' };
const SALON = { userId: 9501, username: 'so-salon', role: 'SALON' };

async function readyz(bark) {
  const r = await httpRequest(bark.port, { path: '/readyz' });
  return { status: r.status, body: JSON.parse(r.body) };
}

test('PostgreSQL stops and starts again under a running bark', async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.stop());
  // Trust authentication ignores the password; it is there to show it never leaks.
  const url = (await pg.createDatabase('outage')).replace('postgres@', 'postgres:s3cr3t-pw@');
  const bark = await startBark(['--store', url]);
  t.after(() => bark.stop());

  const room = (await createRoom(bark, bark.token(CUSTOMER), CUSTOMER.userId, SALON.userId)).roomId;
  const c = await chatConnect(bark, CUSTOMER);
  const s = await chatConnect(bark, SALON);
  t.after(() => { c.close(); s.close(); });
  await c.subscribe('errors', '/user/queue/errors');
  await s.subscribe('room', `/sub/chat/${room}`);

  await t.test('up: ready, and a message is stored', async () => {
    const r = await readyz(bark);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.store.ok, true);
    c.chatSend(room, { messageText: 'before', clientMessageId: 'so-before' }, { receipt: 'r-before' });
    await c.receipt('r-before');
    await s.waitJson('room', 1);
  });

  await pg.halt();

  await t.test('down: /readyz 503, SEND answered unavailable, history 503, nothing closed', async () => {
    const r = await readyz(bark);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.ready, false);
    assert.equal(r.body.store.ok, false);
    assert.match(r.body.store.detail, /postgres/i);
    assert.doesNotMatch(JSON.stringify(r.body), /s3cr3t-pw/);

    c.chatSend(room, { messageText: 'during', clientMessageId: 'so-during' }, { receipt: 'r-during' });
    const err = await c.waitFor((f) => f.command === 'MESSAGE' && f.headers.subscription === 'errors', 10000,
      'an error on /user/queue/errors');
    const body = JSON.parse(err.text);
    assert.equal(body.error, 'unavailable', err.text);
    assert.equal(body.receiptId, 'r-during');
    await sleep(200);
    assert.ok(!c.frames.some((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'r-during'), 'no RECEIPT');
    assert.equal(s.json('room').length, 1, 'no broadcast');
    assert.ok(!c.closed && !s.closed, 'both connections stay open');

    const h = await api(bark, 'GET', `/api/chat/rooms/${room}/messages`, { token: c.token });
    assert.equal(h.status, 503, h.body);
    assert.equal(h.json.error, 'unavailable');
    // The log arrives on its own pipe, maybe after the answers.
    await waitUntil(() => /warning rest: GET \/api\/chat\/rooms\/\{roomId\}\/messages answered 503: /.test(bark.output()),
      3000, 'the 503 in the log');
    await waitUntil(() => /error store: a batch of \d+ writes failed \(\S+: .*postgres/i.test(bark.output()), 3000,
      'the failed batch in the log');
    assert.doesNotMatch(bark.output(), /s3cr3t-pw|during/, 'without the password or the message text');
  });

  await pg.resume();

  await t.test('back: ready again without a restart, the same connections chat on', async () => {
    let r = await readyz(bark);
    for (const end = Date.now() + 15000; r.status !== 200 && Date.now() < end;) {
      await sleep(100);
      r = await readyz(bark);
    }
    assert.equal(r.status, 200, `/readyz within 15 s of the restart: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.store.ok, true);
    c.chatSend(room, { messageText: 'after', clientMessageId: 'so-after' }, { receipt: 'r-after' });
    await c.receipt('r-after', 10000);
    const got = await s.waitJson('room', 2);
    assert.deepEqual(got.map((m) => m.messageText), ['before', 'after']);
    const hist = await fullHistory(bark, c.token, room);
    assert.deepEqual(hist.map((m) => m.clientMessageId), ['so-before', 'so-after']);
    assert.ok(hist[1].messageId > hist[0].messageId);
    await waitUntil(() => /info  store: writes commit again after \d+ failed batches/.test(bark.output()), 3000,
      'the recovery in the log');
  });

  // PostgreSQL frozen (every one of its processes stopped): a commit never returns, so the stop
  // cannot finish its pending write. It must still end within 10 s, say why, and not claim success.
  await t.test('a store that stops answering: SIGTERM still ends bark within 10 s, status 1', async () => {
    const pids = [pg.pid, ...execFileSync('pgrep', ['-P', String(pg.pid)]).toString().trim().split('\n').map(Number)];
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      c.chatSend(room, { messageText: 'stuck', clientMessageId: 'so-stuck' }, { receipt: 'r-stuck' });
      await sleep(300);
      const t0 = Date.now();
      const exit = await bark.stop({ killAfterMs: 15000, check: false });
      const took = Date.now() - t0;
      assert.ok(took < 10000, `${took} ms`);
      assert.deepEqual(exit, { code: 1, signal: null }, bark.output());
      assert.match(bark.output(), /error stopping: not finished after \d+ ms/);
      assert.ok(!c.frames.some((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'r-stuck'), 'no RECEIPT');
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
  });
});
