'use strict';
// The admin API (SPEC §13) against the real binary with real HTTP and real STOMP clients: every
// endpoint's roles (401 without a token, 403 for USER and SALON), bounds and unknown users; the
// same-origin rule for cookie writes (Bearer exempt); a user's sessions listed, disconnected,
// blocked (CONNECT refused with ERROR user-blocked, the block kept across a restart of the
// SQLite store) and unblocked; USER 7 and SALON 7 kept apart; the participants' delete; the admin
// metrics. Then three nodes over a real Redis, and over a real Kafka, sharing a real PostgreSQL:
// sessions gathered from every node, a block on one node refusing and closing on every node, and a
// SIGSTOPped node named in "unanswered" within the bounded wait instead of a hang.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startBark, chatConnect, createRoom, api, httpRequest, expectProtocolError, waitUntil, RawStomp, CONNECT_12,
} = require('./lib/bark');
const { startKafka, startRedis, startPostgres } = require('./lib/servers');

const admin = (userId = 1) => ({ userId, username: `admin${userId}`, role: 'ADMIN' });
const user = (userId) => ({ userId, username: `u${userId}`, role: 'USER' });
const salon = (userId) => ({ userId, username: `s${userId}`, role: 'SALON' });

// A CONNECT that must be refused with `user-blocked`.
async function expectBlocked(node, claims) {
  const c = await RawStomp.open(node.wsUrl, { token: node.token(claims) });
  c.send('CONNECT', CONNECT_12);
  const f = await expectProtocolError(c, 'user-blocked', { closeCode: 1008 });
  assert.match(f.text, /blocked until \d{4}-/);
}

// The ERROR a connected client gets when an admin closes it, and the close.
async function expectClosedWith(c, code) {
  const f = await c.waitFor('ERROR', 5000, `ERROR ${code}`);
  assert.equal(f.headers.message, code, c.dump());
  await c.waitClosed(5000);
}

test('the admin API on one node', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-admin-'));
  const db = `sqlite:${path.join(dir, 'bark.db')}`;
  let bark = await startBark(['--store', db]);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const connect = async (claims, node = bark) => { const c = await chatConnect(node, claims); open.push(c); return c; };
  const A = () => bark.token(admin());
  const call = (method, p, opts = {}) => api(bark, method, p, { token: A(), ...opts });

  await t.test('401 without a token, 403 for USER and SALON on every endpoint', async () => {
    const endpoints = [
      ['GET', '/api/admin/stats'], ['GET', '/api/admin/nodes'], ['GET', '/api/admin/users/7/sessions?role=USER'],
      ['POST', '/api/admin/users/7/disconnect?role=USER'], ['POST', '/api/admin/users/7/block?role=USER', { minutes: 5 }],
      ['DELETE', '/api/admin/users/7/block?role=USER'], ['GET', '/api/admin/rooms?participant=7&role=USER'],
      ['GET', '/api/admin/rooms/1'], ['DELETE', '/api/admin/rooms/1/messages/1'],
    ];
    for (const [method, p, body] of endpoints) {
      const none = await api(bark, method, p, { body });
      assert.equal(none.status, 401, `${method} ${p} without a token: ${none.body}`);
      for (const claims of [user(7), salon(7)]) {
        const r = await api(bark, method, p, { token: bark.token(claims), body });
        assert.equal(r.status, 403, `${method} ${p} as ${claims.role}: ${r.body}`);
        assert.equal(r.json.error, 'forbidden');
      }
    }
  });

  await t.test('stats and nodes name this node, count sessions by transport, and wait for nobody', async () => {
    const before = (await call('GET', '/api/admin/stats')).json;
    assert.equal(before.nodes.length, 1);
    assert.deepEqual(before.unanswered, []);
    const n0 = before.nodes[0].sessionsTotal;
    const c = await connect(user(31));
    const after = (await call('GET', '/api/admin/stats')).json;
    assert.equal(after.nodes[0].sessionsTotal, n0 + 1);
    assert.ok(after.nodes[0].sessions.websocket >= 1, JSON.stringify(after.nodes[0]));
    assert.equal(typeof after.nodes[0].values.published, 'number');
    assert.equal(typeof after.nodes[0].values['connections.websocket'], 'number');
    const nodes = (await call('GET', '/api/admin/nodes')).json;
    assert.equal(nodes.nodes.length, 1);
    assert.equal(nodes.nodes[0].self, true);
    assert.equal(nodes.nodes[0].state, 'none');
    c.close();
  });

  await t.test('a user\'s sessions: transport, since, subscriptions; USER 7 and SALON 7 apart', async () => {
    const u = await connect(user(7));
    await u.subscribe('q', '/user/queue/errors');
    await connect(user(7));
    await connect(salon(7));
    const r = await call('GET', '/api/admin/users/7/sessions?role=USER');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.user, { role: 'USER', userId: 7 });
    assert.equal(r.json.blocked, null);
    assert.equal(r.json.sessions.length, 2, r.body);
    for (const s of r.json.sessions) {
      assert.equal(s.transport, 'websocket');
      assert.equal(s.username, 'u7');
      assert.ok(Math.abs(Date.parse(s.since) - Date.now()) < 60000, s.since);
      assert.equal(typeof s.node, 'string');
    }
    assert.deepEqual(r.json.sessions.map((s) => s.subscriptions).sort(), [0, 1]);
    const s7 = await call('GET', '/api/admin/users/7/sessions?role=SALON');
    assert.equal(s7.json.sessions.length, 1);
    const nobody = await call('GET', '/api/admin/users/99999/sessions?role=USER');
    assert.equal(nobody.status, 200);
    assert.deepEqual(nobody.json.sessions, []);
  });

  await t.test('sessions name their transport: SockJS over XHR streaming and over WebSocket', async () => {
    const SockJS = require('sockjs-client');
    const Stomp = require('stompjs');
    const clients = [];
    for (const transport of ['xhr-streaming', 'websocket']) {
      const sock = new SockJS(`${bark.url}/ws/chat`, null, { transports: [transport], timeout: 10000 });
      const client = Stomp.over(sock);
      client.debug = null;
      client.heartbeat.outgoing = 0;
      client.heartbeat.incoming = 0;
      await new Promise((resolve, reject) => client.connect({ passcode: bark.token(user(13)) }, resolve, reject));
      clients.push(client);
    }
    const r = await call('GET', '/api/admin/users/13/sessions?role=USER');
    assert.deepEqual(r.json.sessions.map((s) => s.transport).sort(), ['sockjs-websocket', 'sockjs-xhr_streaming']);
    const stats = (await call('GET', '/api/admin/stats')).json.nodes[0];
    assert.ok(stats.sessions['sockjs-xhr_streaming'] >= 1, JSON.stringify(stats.sessions));
    const d = await call('POST', '/api/admin/users/13/disconnect?role=USER');
    assert.equal(d.json.closed, 2);
    await waitUntil(async () => (await call('GET', '/api/admin/users/13/sessions?role=USER')).json.sessions.length === 0,
      5000, 'both SockJS sessions gone');
    for (const c of clients) c.ws.close();
  });

  await t.test('bad ids, roles and block lengths are 400', async () => {
    for (const p of ['/api/admin/users/abc/sessions?role=USER', '/api/admin/users/7/sessions',
      '/api/admin/users/7/sessions?role=user', '/api/admin/users/-1/sessions?role=USER',
      '/api/admin/users/99999999999999999999/sessions?role=USER']) {
      const r = await call('GET', p);
      assert.equal(r.status, 400, `${p}: ${r.body}`);
    }
    for (const body of [{ minutes: 0 }, { minutes: 525601 }, { minutes: -5 }, { minutes: 1.5 }, { minutes: '5' }, {},
      [], 'not json', { minutes: 5, reason: 7 }, { minutes: 5, reason: 'x'.repeat(501) }]) {
      const r = await call('POST', '/api/admin/users/7/block?role=USER', { body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    }
  });

  await t.test('disconnect closes every session of that user only', async () => {
    const a = await connect(user(8));
    const b = await connect(user(8));
    const other = await connect(salon(8));
    const r = await call('POST', '/api/admin/users/8/disconnect?role=USER');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.closed, 2);
    await expectClosedWith(a, 'disconnected');
    await expectClosedWith(b, 'disconnected');
    await other.subscribe('still', '/user/queue/errors');
    assert.equal(other.closed, null);
  });

  await t.test('block: sessions closed, CONNECT and REST refused with user-blocked; SALON 9 untouched; unblock', async () => {
    const room = await createRoom(bark, bark.token(user(9)), 9, 9);
    const c = await connect(user(9));
    const s = await connect(salon(9));
    const r = await call('POST', '/api/admin/users/9/block?role=USER', { body: { minutes: 10, reason: 'spam' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.closed, 1);
    assert.equal(r.json.blocked.role, 'USER');
    assert.equal(r.json.blocked.reason, 'spam');
    assert.match(r.json.blocked.by, /ADMIN 1/);
    const until = Date.parse(r.json.blocked.until);
    assert.ok(Math.abs(until - (Date.now() + 10 * 60000)) < 10000, r.json.blocked.until);
    await expectClosedWith(c, 'user-blocked');
    await expectBlocked(bark, user(9));
    // The REST API and attachments refuse the same user: 403, not 401 (the token is good).
    const rest = [
      ['GET', '/api/chat/rooms'],
      ['POST', `/api/chat/rooms/${room.roomId}/messages`, { messageText: 'around the block' }],
      ['GET', `/api/chat/rooms/${room.roomId}/messages`],
      ['GET', '/api/chat/search?q=block'],
      ['GET', '/api/chat/attachments/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ];
    for (const [method, p, body] of rest) {
      const refused = await api(bark, method, p, { token: bark.token(user(9)), body });
      assert.equal(refused.status, 403, `${method} ${p}: ${refused.body}`);
      assert.equal(refused.json.error, 'user-blocked', refused.body);
      assert.match(refused.json.message, /blocked until \d{4}-/);
    }
    const history = await api(bark, 'GET', `/api/chat/rooms/${room.roomId}/messages`, { token: bark.token(salon(9)) });
    assert.equal(history.status, 200, history.body);
    assert.equal(history.json.messages.length, 0, 'the blocked user stored nothing');
    await s.subscribe('ok', '/user/queue/errors'); // SALON 9 is another person
    await connect(salon(9));
    const listed = await call('GET', '/api/admin/users/9/sessions?role=USER');
    assert.equal(listed.json.blocked.userId, 9);

    const un = await call('DELETE', '/api/admin/users/9/block?role=USER');
    assert.equal(un.status, 200, un.body);
    assert.equal(un.json.unblocked, true);
    await connect(user(9));
    assert.equal((await api(bark, 'GET', '/api/chat/rooms', { token: bark.token(user(9)) })).status, 200);
    const again = await call('DELETE', '/api/admin/users/9/block?role=USER');
    assert.equal(again.json.unblocked, false);
  });

  await t.test('a block is kept in the store: refused after a restart', async () => {
    const r = await call('POST', '/api/admin/users/10/block?role=SALON', { body: { minutes: 5 } });
    assert.equal(r.status, 200, r.body);
    await bark.stop();
    bark = await startBark(['--store', db]);
    await expectBlocked(bark, salon(10));
    await connect(user(10));
    assert.equal((await call('DELETE', '/api/admin/users/10/block?role=SALON')).status, 200);
    await connect(salon(10));
  });

  await t.test('cookie writes need this origin; Bearer writes do not; reads are not checked', async () => {
    const cookie = { Cookie: `Authorization=${A()}` };
    const host = `127.0.0.1:${bark.port}`;
    const post = (headers) => httpRequest(bark.port, { method: 'POST', path: '/api/admin/users/11/disconnect?role=USER', headers });
    for (const headers of [{ ...cookie }, { ...cookie, Origin: 'http://evil.example' }, { ...cookie, Origin: 'null' },
      { ...cookie, Origin: `http://127.0.0.1:${bark.port + 1}` }, { ...cookie, Referer: 'http://evil.example/admin' }]) {
      const r = await post(headers);
      assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.body}`);
      assert.equal(r.json.error, 'cross-origin');
    }
    assert.equal((await post({ ...cookie, Origin: `http://${host}` })).status, 200);
    assert.equal((await post({ ...cookie, Referer: `http://${host}/admin` })).status, 200);
    assert.equal((await post({ Authorization: `Bearer ${A()}`, Origin: 'http://evil.example' })).status, 200);
    const read = await httpRequest(bark.port, { path: '/api/admin/stats', headers: { ...cookie, Origin: 'http://evil.example' } });
    assert.equal(read.status, 200);
  });

  await t.test('rooms by participant and by id; an admin delete is the participants\' delete', async () => {
    const cust = user(21);
    const sal = salon(22);
    const room = await createRoom(bark, bark.token(cust), 21, 22);
    const c = await connect(cust);
    await c.subscribe('r', `/sub/chat/${room.roomId}`);
    const sent = await api(bark, 'POST', `/api/chat/rooms/${room.roomId}/messages`,
      { token: bark.token(sal), body: { messageText: 'rude words' } });
    assert.equal(sent.status, 201, sent.body);
    await c.waitJson('r', 1);

    const list = await call('GET', '/api/admin/rooms?participant=21&role=USER');
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json.rooms.map((r) => r.roomId), [room.roomId]);
    assert.equal(list.json.rooms[0].lastMessage.messageText, 'rude words');
    assert.equal((await call('GET', '/api/admin/rooms?participant=21&role=SALON')).json.rooms.length, 0);
    assert.equal((await call('GET', '/api/admin/rooms?participant=21')).status, 400);
    const one = await call('GET', `/api/admin/rooms/${room.roomId}`);
    assert.deepEqual([one.json.customerId, one.json.salonId], [21, 22]);
    assert.equal((await call('GET', '/api/admin/rooms/987654')).status, 404);

    const del = await call('DELETE', `/api/admin/rooms/${room.roomId}/messages/${sent.json.messageId}`);
    assert.equal(del.status, 200, del.body);
    assert.equal(del.json.deleted, true);
    const [, gone] = await c.waitJson('r', 2);
    assert.equal(gone.messageId, sent.json.messageId);
    assert.equal(gone.deleted, true);
    assert.equal(gone.messageText, '');
    const history = await api(bark, 'GET', `/api/chat/rooms/${room.roomId}/messages`, { token: bark.token(cust) });
    assert.equal(history.json.messages[0].deleted, true);
    assert.equal((await call('DELETE', `/api/admin/rooms/${room.roomId}/messages/999999`)).status, 404);
    assert.equal((await call('DELETE', `/api/admin/rooms/987654/messages/1`)).status, 404);
  });

  await t.test('GET /admin serves the page; /metrics counts each action', async () => {
    const page = await httpRequest(bark.port, { path: '/admin' });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.body, /bark admin/);
    // The process restarted above: this one has done every action but a block so far.
    const b = await call('POST', '/api/admin/users/12/block?role=USER', { body: { minutes: 10, reason: 'spam' } });
    assert.equal(b.status, 200, b.body);
    const metrics = (await api(bark, 'GET', '/metrics')).body;
    for (const action of ['disconnect', 'block', 'unblock', 'delete-message']) {
      const m = new RegExp(`^bark_admin_actions_total\\{action="${action}"\\} (\\d+)`, 'm').exec(metrics);
      assert.ok(m && Number(m[1]) >= 1, `${action} counted:\n${metrics}`);
    }
    assert.match(bark.output(), /admin: ADMIN 1 \(admin1\) blocks USER 12 for 10 min until \S+ \(spam\)/);
  });
});

// Three nodes over the bus at `url`, sharing a real PostgreSQL; `stopBus` stops the bus.
async function acrossNodes(t, url, stopBus) {
  const pg = await startPostgres();
  const db = await pg.createDatabase('admin');
  const nodes = {};
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    for (const n of Object.values(nodes)) {
      if (n.stopped) n.proc.kill('SIGCONT');
    }
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    await pg.stop();
    await stopBus();
  });
  for (const name of ['A', 'B', 'C']) {
    nodes[name] = await startBark(['--store', db, '--cluster', url, '--node-id', name, '--threads', '2']);
  }
  const { A, B, C } = nodes;
  const connect = async (node, claims) => { const c = await chatConnect(node, claims); open.push(c); return c; };
  const call = (node, method, p, opts = {}) => api(node, method, p, { token: node.token(admin()), ...opts });
  // Every node knows the two others (hellos every 2 s).
  for (const n of [A, B, C]) {
    await waitUntil(async () => {
      const r = await call(n, 'GET', '/api/admin/nodes');
      return r.status === 200 && r.json.nodes.filter((x) => x.answered).length === 3;
    }, 10000, 'three nodes answering');
  }

  await t.test('stats and sessions are gathered from every node', async () => {
    await connect(A, user(7));
    await connect(B, user(7));
    await connect(C, salon(7));
    const stats = (await call(A, 'GET', '/api/admin/stats')).json;
    assert.deepEqual(stats.nodes.map((n) => n.node).sort(), ['A', 'B', 'C']);
    assert.deepEqual(stats.unanswered, []);
    for (const n of stats.nodes) assert.equal(n.state, 'up');
    const s = (await call(C, 'GET', '/api/admin/users/7/sessions?role=USER')).json;
    assert.deepEqual(s.sessions.map((x) => x.node).sort(), ['A', 'B']);
  });

  await t.test('a block on node B closes the user\'s sessions on A and C and is refused on every node', async () => {
    const onA = await connect(A, user(40));
    const onC = await connect(C, user(40));
    const r = await call(B, 'POST', '/api/admin/users/40/block?role=USER', { body: { minutes: 3 } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.closed, 2);
    await expectClosedWith(onA, 'user-blocked');
    await expectClosedWith(onC, 'user-blocked');
    for (const n of [A, B, C]) await expectBlocked(n, user(40));
    await connect(A, salon(40));
    assert.equal((await call(C, 'DELETE', '/api/admin/users/40/block?role=USER')).status, 200);
    for (const n of [A, B, C]) await connect(n, user(40));
  });

  await t.test('disconnect from node A closes sessions on B and C', async () => {
    const onB = await connect(B, salon(41));
    const onC = await connect(C, salon(41));
    const r = await call(A, 'POST', '/api/admin/users/41/disconnect?role=SALON');
    assert.equal(r.json.closed, 2, r.body);
    assert.deepEqual(r.json.nodes.map((n) => n.node).sort(), ['A', 'B', 'C']);
    await expectClosedWith(onB, 'disconnected');
    await expectClosedWith(onC, 'disconnected');
  });

  await t.test('a SIGSTOPped node is named in "unanswered" after the bounded wait', async () => {
    C.proc.kill('SIGSTOP');
    C.stopped = true;
    try {
      const t0 = Date.now();
      const stats = await call(A, 'GET', '/api/admin/stats');
      const took = Date.now() - t0;
      assert.equal(stats.status, 200, stats.body);
      assert.deepEqual(stats.json.unanswered, ['C']);
      assert.deepEqual(stats.json.nodes.map((n) => n.node).sort(), ['A', 'B']);
      assert.ok(took >= 900 && took < 3000, `answered after ${took} ms`);
      const nodesView = (await call(B, 'GET', '/api/admin/nodes')).json;
      assert.deepEqual(nodesView.unanswered, ['C']);
      assert.equal(nodesView.nodes.find((n) => n.node === 'C').state, 'unanswered');
      const sessions = (await call(A, 'GET', '/api/admin/users/7/sessions?role=USER')).json;
      assert.deepEqual(sessions.unanswered, ['C']);
    } finally {
      C.proc.kill('SIGCONT');
      C.stopped = false;
    }
    await waitUntil(async () => (await call(A, 'GET', '/api/admin/stats')).json.unanswered.length === 0, 10000,
      'C answers again');
  });
}

test('the admin API across three nodes over Redis', async (t) => {
  const redis = await startRedis();
  await acrossNodes(t, redis.url, () => redis.stop());
});

test('the admin API across three nodes over Kafka', async (t) => {
  const kafka = await startKafka();
  await acrossNodes(t, `kafka://${kafka.bootstrap}/admin`, () => kafka.stop());
});
