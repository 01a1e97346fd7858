'use strict';
// Presence (SPEC §11) against the real binary: SUBSCRIBE /sub/chat/{roomId}/presence delivers both
// participants' state at once, then each change; a user is online while one of their sessions is
// open, offline only --presence-grace ms after the last one closed (a reconnect or a second tab
// within it shows nothing); USER 2 and SALON 2 are two users; non-participants are refused; GET
// /api/chat/rooms shows the peer. Then three nodes sharing a real PostgreSQL, over a real Redis and
// over a real Kafka broker: a user on one node is seen on another, a node that joins late learns who
// is online, and a node killed with SIGKILL has its users reported offline within
// --presence-node-timeout.
//
// Absence ("no offline event") is shown without sleeping: a marker user closes after the user under
// test, so when the marker's offline event arrives on the same connection, any event for the user
// under test would have arrived before it (graces end in order and one loop delivers in order).

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, chatConnect, createRoom, api, expectProtocolError, waitUntil, ISO_MS_RE,
} = require('./lib/bark');
const { startKafka, startRedis, startPostgres } = require('./lib/servers');

const GRACE = 1500;

const user = (userId) => ({ userId, username: `u${userId}`, role: 'USER' });
const salon = (userId) => ({ userId, username: `s${userId}`, role: 'SALON' });

// The presence events of subscription `sub` on connection c, parsed.
const events = (c, sub) => c.messages(sub).map((f) => ({ ...JSON.parse(f.text), at: f.at }));

// Waits for the first event of `sub` after the `skip` first ones that matches `pred`.
async function nextEvent(c, sub, pred, ms = 5000, skip = 0) {
  let found;
  await waitUntil(() => {
    found = events(c, sub).slice(skip).find(pred);
    return found;
  }, ms, `a presence event on ${sub} matching ${pred}\n${c.dump()}`);
  return found;
}

const is = (who, online) => (e) => e.userId === who.userId && e.role === who.role && e.online === online;

// Subscribes (again, under a new id) until the state satisfies `pred`: a change may take a moment to
// cross nodes. Resolves the subscription id.
let subscriptions = 0;
async function subscribeUntil(c, roomId, pred, ms = 5000) {
  let sub;
  await waitUntil(async () => {
    sub = `w${++subscriptions}`;
    return pred(await subscribePresence(c, sub, roomId));
  }, ms, `a presence state of room ${roomId} that satisfies ${pred}`);
  return sub;
}

async function subscribePresence(c, sub, roomId) {
  await c.subscribe(sub, `/sub/chat/${roomId}/presence`);
  const state = await c.waitJson(sub, 2);
  return state.slice(0, 2);
}

test('presence on one node', async (t) => {
  const bark = await startBark(['--presence-grace', String(GRACE)]);
  const open = [];
  t.after(async () => { for (const c of open) c.close(); await bark.stop(); });
  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  const room = async (customer, salonUser) => (await createRoom(bark, bark.token(customer), customer.userId,
    salonUser.userId)).roomId;

  await t.test('SUBSCRIBE delivers both participants at once: the subscriber online, the peer never seen', async () => {
    const C = user(101);
    const S = salon(201);
    const R = await room(C, S);
    const c = await connect(C);
    const state = await subscribePresence(c, 'p', R);
    assert.deepEqual(state.map((e) => e.role).sort(), ['SALON', 'USER']);
    const mine = state.find((e) => e.role === 'USER');
    const peer = state.find((e) => e.role === 'SALON');
    assert.deepEqual(mine, { roomId: R, userId: C.userId, role: 'USER', online: true, lastSeenAt: null });
    assert.deepEqual(peer, { roomId: R, userId: S.userId, role: 'SALON', online: false, lastSeenAt: null });
    const f = c.messages('p')[0];
    assert.equal(f.headers.destination, `/sub/chat/${R}/presence`);
    assert.equal(f.headers['content-type'], 'application/json');
  });

  await t.test('the peer connecting is online at once; its close is offline only after the grace', async () => {
    const C = user(102);
    const S = salon(202);
    const R = await room(C, S);
    const c = await connect(C);
    await subscribePresence(c, 'p', R);
    const s = await connect(S);
    const on = await nextEvent(c, 'p', is(S, true), 3000, 2);
    assert.equal(on.lastSeenAt, null);
    assert.equal(on.roomId, R);

    const closedAt = Date.now();
    s.close();
    const off = await nextEvent(c, 'p', is(S, false), GRACE + 3000, 2);
    assert.ok(off.at - closedAt >= GRACE, `offline ${off.at - closedAt} ms after the close, grace ${GRACE}`);
    assert.match(off.lastSeenAt, ISO_MS_RE);
    const seen = Date.parse(off.lastSeenAt);
    assert.ok(seen >= closedAt - 50 && seen <= closedAt + 1000, `lastSeenAt ${off.lastSeenAt} is the close`);
    assert.equal(events(c, 'p').length, 4, 'state (2), online, offline: nothing else');
  });

  await t.test('a second tab keeps the user online; a reconnect within the grace shows nothing', async () => {
    const C = user(103);
    const S = salon(203);
    const M = salon(303); // the marker
    const R = await room(C, S);
    const RM = await room(C, M);
    const c = await connect(C);
    await subscribePresence(c, 'p', R);
    await subscribePresence(c, 'm', RM);

    const tab1 = await connect(S);
    const tab2 = await connect(S);
    await nextEvent(c, 'p', is(S, true), 3000, 2);
    let marker = await connect(M);
    await nextEvent(c, 'm', is(M, true), 3000, 2);
    tab1.close();
    marker.close();
    await nextEvent(c, 'm', is(M, false), GRACE + 3000, 2);
    assert.deepEqual(events(c, 'p').slice(2).map((e) => e.online), [true], 'one tab closed: still online');

    // A reconnect within the grace: close the last tab and open a new one at once.
    marker = await connect(M);
    await nextEvent(c, 'm', is(M, true), 3000, 4);
    tab2.close();
    const back = await connect(S);
    marker.close();
    await nextEvent(c, 'm', is(M, false), GRACE + 3000, 4);
    assert.deepEqual(events(c, 'p').slice(2).map((e) => e.online), [true], 'the reconnect was not seen');

    back.close();
    const off = await nextEvent(c, 'p', is(S, false), GRACE + 3000, 2);
    assert.match(off.lastSeenAt, ISO_MS_RE);
  });

  await t.test('USER 2 and SALON 2 are two users', async () => {
    const C = user(2);
    const S = salon(2);
    const R = await room(C, S);
    const admin = await connect({ userId: 1, username: 'ops', role: 'ADMIN' });
    const state = await subscribePresence(admin, 'p', R); // an ADMIN may read any room
    assert.deepEqual(state.map((e) => [e.role, e.userId, e.online]).sort(),
      [['SALON', 2, false], ['USER', 2, false]]);
    const cust = await connect(C);
    const on = await nextEvent(admin, 'p', (e) => e.online, 3000, 2);
    assert.deepEqual([on.role, on.userId], ['USER', 2]);
    const s = await connect(S);
    const salonOn = await nextEvent(admin, 'p', is(S, true), 3000, 3);
    assert.equal(salonOn.userId, 2);
    cust.close();
    const off = await nextEvent(admin, 'p', (e) => !e.online, GRACE + 3000, 4);
    assert.deepEqual([off.role, off.userId], ['USER', 2], 'the customer left, not the salon');
    const fresh = await connect(user(199));
    const R2 = await room(user(199), S);
    const now = await subscribePresence(fresh, 'q', R2);
    assert.equal(now.find((e) => e.role === 'SALON').online, true, 'SALON 2 is still online');
    s.close();
  });

  await t.test('ADMIN sessions make nobody online, even with a participant\'s id', async () => {
    const C = user(104);
    const S = salon(204);
    const M = salon(304);
    const R = await room(C, S);
    const RM = await room(C, M);
    const c = await connect(C);
    await subscribePresence(c, 'p', R);
    await subscribePresence(c, 'm', RM);
    await connect({ userId: S.userId, username: 'admin-204', role: 'ADMIN' });
    const marker = await connect(M);
    await nextEvent(c, 'm', is(M, true), 3000, 2);
    marker.close();
    await nextEvent(c, 'm', is(M, false), GRACE + 3000, 2);
    assert.equal(events(c, 'p').length, 2, 'only the state: the ADMIN did not bring salon 204 online');
  });

  await t.test('a non-participant is refused (ERROR forbidden)', async () => {
    const R = await room(user(105), salon(205));
    const other = await connect(user(106));
    other.send('SUBSCRIBE', { id: 'p', destination: `/sub/chat/${R}/presence`, receipt: 'r' });
    await expectProtocolError(other, 'forbidden', { receiptId: 'r', closeCode: 1008 });
    const otherSalon = await connect(salon(105)); // the customer's id, the other role
    otherSalon.send('SUBSCRIBE', { id: 'p', destination: `/sub/chat/${R}/presence` });
    await expectProtocolError(otherSalon, 'forbidden', { closeCode: 1008 });
    const nowhere = await connect(user(105));
    nowhere.send('SUBSCRIBE', { id: 'p', destination: '/sub/chat/999999/presence' });
    await expectProtocolError(nowhere, 'forbidden', { closeCode: 1008 });
  });

  await t.test('GET /api/chat/rooms shows peerOnline and peerLastSeenAt', async () => {
    const C = user(107);
    const S = salon(207);
    const R = await room(C, S);
    const list = async (who, query = '') => {
      const r = await api(bark, 'GET', `/api/chat/rooms${query}`, { token: bark.token(who) });
      assert.equal(r.status, 200, r.body);
      const rooms = Array.isArray(r.json) ? r.json : r.json.rooms;
      return rooms.find((x) => x.roomId === R);
    };
    let mine = await list(C);
    assert.equal(mine.peerOnline, false);
    assert.equal(mine.peerLastSeenAt, null);

    const s = await connect(S);
    mine = await list(C);
    assert.equal(mine.peerOnline, true);
    assert.equal(mine.peerLastSeenAt, null);
    const c = await connect(C);
    const theirs = await list(S, '?limit=10');
    assert.equal(theirs.peerOnline, true, 'the salon sees its customer');

    const closedAt = Date.now();
    s.close();
    await subscribePresence(c, 'p', R);
    await nextEvent(c, 'p', is(S, false), GRACE + 3000, 0);
    mine = await list(C, '?limit=10');
    assert.equal(mine.peerOnline, false);
    assert.match(mine.peerLastSeenAt, ISO_MS_RE);
    assert.ok(Math.abs(Date.parse(mine.peerLastSeenAt) - closedAt) < 1000, mine.peerLastSeenAt);

    const admin = await api(bark, 'GET', '/api/chat/rooms', { token: bark.token({ userId: 9, username: 'a', role: 'ADMIN' }) });
    const seen = admin.json.find((x) => x.roomId === R);
    assert.ok(seen && !('peerOnline' in seen), 'an ADMIN is nobody\'s peer: no peer fields');
  });

  await t.test('/metrics counts presence', async () => {
    const r = await api(bark, 'GET', '/metrics');
    for (const name of ['bark_presence_online_users', 'bark_presence_watched_rooms', 'bark_presence_changes_total',
      'bark_presence_room_events_total']) {
      assert.match(r.body, new RegExp(`^${name} \\d+`, 'm'), name);
    }
  });
});

// Three nodes (and a fourth that joins late) over the bus at `url`, sharing a real PostgreSQL.
// `outage` (optional): { kill(), restart() } of the bus.
async function presenceAcrossNodes(t, url, stopBus, outage) {
  const TIMEOUT = 3000;
  const pg = await startPostgres();
  const db = await pg.createDatabase('presence');
  const open = [];
  const nodes = {};
  t.after(async () => {
    for (const c of open) c.close();
    await Promise.all(Object.values(nodes).map((n) => n.stop({ check: !n.killed })));
    await pg.stop();
    await stopBus();
  });
  const start = async (name) => {
    nodes[name] = await startBark(['--store', db, '--cluster', url, '--node-id', name, '--threads', '2',
      '--presence-grace', '1000', '--presence-node-timeout', String(TIMEOUT)]);
    return nodes[name];
  };
  const A = await start('A');
  const B = await start('B');
  const C = await start('C');
  const connect = async (node, claims) => { const c = await chatConnect(node, claims); open.push(c); return c; };
  const cust = user(501);
  const sal = salon(601);
  const R = (await createRoom(A, A.token(cust), cust.userId, sal.userId)).roomId;
  for (const n of [A, B, C]) {
    await waitUntil(async () => (await api(n, 'GET', '/readyz')).status === 200, 5000, 'node ready');
  }

  await t.test('a user on node A is seen online by a subscriber on node B, then offline after the grace', async () => {
    const watcher = await connect(B, cust);
    await subscribePresence(watcher, 'p', R);
    const s = await connect(A, sal);
    await nextEvent(watcher, 'p', is(sal, true), 3000, 2);
    const closedAt = Date.now();
    s.close();
    const off = await nextEvent(watcher, 'p', is(sal, false), 5000, 2);
    assert.ok(off.at - closedAt >= 1000, `offline after ${off.at - closedAt} ms, grace 1000`);
    assert.ok(Math.abs(Date.parse(off.lastSeenAt) - closedAt) < 1000, off.lastSeenAt);
  });

  if (outage) {
    await t.test('a change made while the bus is down arrives once it is back (a snapshot fills the gap)', async () => {
      const watcher = await connect(B, cust);
      const sub = await subscribeUntil(watcher, R, (state) => !state.find((e) => e.role === 'SALON').online);
      await outage.kill();
      const s = await connect(A, sal); // its announcement is lost
      await outage.restart();
      const on = await nextEvent(watcher, sub, is(sal, true), 15000, 2);
      assert.equal(on.lastSeenAt, null);
      const resyncs = await waitUntil(async () => {
        const m = /^bark_presence_resyncs_total (\d+)/m.exec((await api(B, 'GET', '/metrics')).body);
        return m && Number(m[1]);
      }, 3000, 'B counts its resync');
      assert.ok(resyncs >= 1);
      s.close();
      await nextEvent(watcher, sub, is(sal, false), 5000, 3);
    });
  }

  await t.test('a subscriber on another node gets the state at once, and a node that joins late learns it', async () => {
    const s = await connect(C, sal);
    const onB = await connect(B, cust);
    await subscribeUntil(onB, R, (state) => state.find((e) => e.role === 'SALON').online);
    const D = await start('D');
    await waitUntil(async () => (await api(D, 'GET', '/readyz')).status === 200, 5000, 'D ready');
    const onD = await connect(D, cust);
    // D never heard the salon connect: it learns from the snapshots the others answer its join with.
    await subscribeUntil(onD, R, (state) => state.find((e) => e.role === 'SALON').online);
    s.close();
  });

  await t.test(`a node killed with SIGKILL has its users offline within --presence-node-timeout (${TIMEOUT} ms)`, async () => {
    const watcher = await connect(B, cust);
    const s = await connect(C, sal);
    const sub = await subscribeUntil(watcher, R, (state) => state.find((e) => e.role === 'SALON').online);
    const killedAt = Date.now();
    C.killed = true;
    C.proc.kill('SIGKILL');
    const off = await nextEvent(watcher, sub, is(sal, false), TIMEOUT + 3000, 2);
    const took = off.at - killedAt;
    assert.ok(took <= TIMEOUT + 800, `offline ${took} ms after the kill; the bound is ${TIMEOUT} ms`);
    assert.ok(took >= TIMEOUT / 3, `offline ${took} ms after the kill: C's last heartbeat counts, not the kill`);
    const seen = Date.parse(off.lastSeenAt);
    assert.ok(seen <= killedAt + 100 && seen >= killedAt - TIMEOUT, `lastSeenAt ${off.lastSeenAt} is C's last word`);
    s.close();
  });
}

test('presence across nodes over Redis', async (t) => {
  const redis = await startRedis();
  await presenceAcrossNodes(t, redis.url, () => redis.stop(),
    { kill: () => redis.kill('SIGKILL'), restart: () => redis.restart() });
});

test('presence across nodes over Kafka', async (t) => {
  const kafka = await startKafka();
  await presenceAcrossNodes(t, `kafka://${kafka.bootstrap}/presence`, () => kafka.stop());
});
