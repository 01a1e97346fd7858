'use strict';
// REST (SPEC §6): authentication (Bearer or cookie, 401), rooms (201/200/403/400), the room list
// (latest activity first, lastMessage, unreadCount), message history paging through 1000 messages
// with before/after/limit, read marks, 404/405, posting messages, POST /api/publish and POST
// /api/dev/login.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, chatConnect, api, createRoom, showHttp, mint, decodeJwt, RawStomp, CONNECT_12, sleep, waitUntil,
} = require('./lib/bark');

const u = (userId, role = 'USER') => ({ userId, username: `${role.toLowerCase()}-${userId}`, role });
const ADMIN = u(9201, 'ADMIN');

// Asserts status `status` and, for 4xx, an error body {"error": "...", "message": "..."}.
function expectStatus(r, status, what) {
  assert.equal(r.status, status, `${what}: ${showHttp('', '', r)}`);
  if (status >= 400 && status !== 405) {
    assert.ok(r.json && typeof r.json.error === 'string' && r.json.error.length > 0, `${what}: error body ${r.body}`);
    assert.equal(typeof r.json.message, 'string', `${what}: error body ${r.body}`);
  }
}

test('rest', async (t) => {
  const bark = await startBark(['--max-send-rate', '0']);
  const open = [];
  t.after(async () => { for (const c of open) c.close(); await bark.stop(); });
  const connect = async (claims) => { const c = await chatConnect(bark, claims); open.push(c); return c; };
  const tok = (claims) => bark.token(claims);
  const call = (method, p, claims, body) => api(bark, method, p, { token: claims && tok(claims), body });

  await t.test('401 without a token, with a bad, forged or expired one; the cookie works like the header', async () => {
    const p = '/api/chat/rooms';
    expectStatus(await api(bark, 'GET', p), 401, 'no token');
    expectStatus(await api(bark, 'POST', p, { body: { customerId: 1, salonId: 2 } }), 401, 'POST without token');
    expectStatus(await api(bark, 'GET', p, { token: mint(u(1201), { secret: 'wrong' }) }), 401, 'wrong secret');
    expectStatus(await api(bark, 'GET', p, { token: tok({ ...u(1201), exp: Math.floor(Date.now() / 1000) - 600 }) }), 401, 'expired');
    expectStatus(await api(bark, 'GET', p, { token: tok({ ...u(1201), userId: '1201' }) }), 401, 'userId string');
    expectStatus(await api(bark, 'GET', p, { headers: { Authorization: 'Bearer not.a.jwt' } }), 401, 'garbage');
    expectStatus(await api(bark, 'GET', p, { headers: { Cookie: 'Authorization=garbage' } }), 401, 'garbage cookie');
    const r = await api(bark, 'GET', p, { headers: { Cookie: `lang=ko; Authorization=${tok(u(1201))}` } });
    expectStatus(r, 200, 'cookie');
    assert.ok(Array.isArray(r.json), r.body);
    expectStatus(await api(bark, 'GET', `${p}/1/messages`), 401, 'messages without token');
    expectStatus(await api(bark, 'POST', '/api/publish', { body: { destination: '/sub/x', payload: 1 } }), 401, 'publish without token');
  });

  await t.test('POST /api/chat/rooms: 201, then 200; who may create; 400 on bad bodies', async () => {
    const body = { customerId: 1201, salonId: 2201 };
    const r1 = await call('POST', '/api/chat/rooms', u(1201), body);
    expectStatus(r1, 201, 'create');
    assert.deepEqual(Object.keys(r1.json).sort(), ['createdAt', 'customerId', 'roomId', 'salonId']);
    assert.equal(r1.json.customerId, 1201);
    assert.equal(r1.json.salonId, 2201);
    assert.ok(!Number.isNaN(Date.parse(r1.json.createdAt)));
    const r2 = await call('POST', '/api/chat/rooms', u(2201, 'SALON'), body);
    expectStatus(r2, 200, 'existing (salon)');
    assert.deepEqual(r2.json, r1.json);
    expectStatus(await call('POST', '/api/chat/rooms', u(2201, 'SALON'), { customerId: 1202, salonId: 2201 }), 201, 'salon creates');
    expectStatus(await call('POST', '/api/chat/rooms', ADMIN, { customerId: 1203, salonId: 2203 }), 201, 'admin creates');
    expectStatus(await call('POST', '/api/chat/rooms', u(1201), { customerId: 1202, salonId: 2201 }), 403, 'another customer');
    expectStatus(await call('POST', '/api/chat/rooms', u(2202, 'SALON'), body), 403, 'another salon');
    expectStatus(await call('POST', '/api/chat/rooms', u(2201, 'USER'), body), 403, 'USER whose id is the salon id');
    expectStatus(await call('POST', '/api/chat/rooms', u(1201, 'SALON'), body), 403, 'SALON whose id is the customer id');
    for (const bad of ['{"customerId": 1201', '[]', JSON.stringify({ customerId: 1201 }), JSON.stringify({ customerId: '1201', salonId: 2201 })]) {
      expectStatus(await call('POST', '/api/chat/rooms', u(1201), bad), 400, `body ${bad}`);
    }
  });

  await t.test('GET /api/chat/rooms: the caller\'s rooms, latest activity first, lastMessage, unreadCount', async () => {
    const cu = u(1210);
    const A = await createRoom(bark, tok(cu), 1210, 2210);
    const B = await createRoom(bark, tok(cu), 1210, 2211);
    const C = await createRoom(bark, tok(cu), 1210, 2212);
    const c = await connect(cu);
    const s = await connect(u(2210, 'SALON'));
    const send = async (conn, roomId, text) => {
      const r = `r-${Math.random()}`;
      conn.chatSend(roomId, { messageText: text }, { receipt: r });
      await conn.receipt(r);
      await sleep(5);
    };
    await send(c, A.roomId, 'a1');
    await send(c, B.roomId, 'b1');
    let r = await call('GET', '/api/chat/rooms', cu);
    expectStatus(r, 200, 'list');
    const mine = r.json.filter((x) => [A.roomId, B.roomId, C.roomId].includes(x.roomId));
    assert.equal(r.json.length, 3, r.body);
    assert.deepEqual(mine.map((x) => x.roomId), [B.roomId, A.roomId, C.roomId], r.body);
    for (const e of r.json) {
      assert.deepEqual(Object.keys(e).sort(),
        ['customerId', 'lastMessage', 'peerLastSeenAt', 'peerOnline', 'roomId', 'salonId', 'unreadCount']);
    }
    const eC = r.json.find((x) => x.roomId === C.roomId);
    assert.equal(eC.lastMessage, null);
    assert.equal(eC.unreadCount, 0);
    assert.equal(eC.customerId, 1210);
    assert.equal(eC.salonId, 2212);
    assert.equal(r.json.find((x) => x.roomId === A.roomId).lastMessage.messageText, 'a1');
    await send(s, A.roomId, 'a2 from the salon');
    await send(s, A.roomId, 'a3 from the salon');
    r = await call('GET', '/api/chat/rooms', cu);
    assert.deepEqual(r.json.map((x) => x.roomId), [A.roomId, B.roomId, C.roomId], r.body);
    const eA = r.json.find((x) => x.roomId === A.roomId);
    assert.equal(eA.unreadCount, 2);
    const hist = await call('GET', `/api/chat/rooms/${A.roomId}/messages`, cu);
    assert.deepEqual(eA.lastMessage, hist.json.messages[0], 'lastMessage is the newest message, shaped as in history');
    assert.equal(eA.lastMessage.messageText, 'a3 from the salon');
    const rs = await call('GET', '/api/chat/rooms', u(2210, 'SALON'));
    assert.deepEqual(rs.json.map((x) => x.roomId), [A.roomId], 'the salon sees only its room');
    assert.equal(rs.json[0].unreadCount, 1);
    const none = await call('GET', '/api/chat/rooms', u(1299));
    expectStatus(none, 200, 'no rooms');
    assert.deepEqual(none.json, []);

    // POST .../read → 204 and unreadCount 0; errors.
    const last = eA.lastMessage.messageId;
    expectStatus(await call('POST', `/api/chat/rooms/${A.roomId}/read`, cu, { lastReadMessageId: last }), 204, 'read');
    r = await call('GET', '/api/chat/rooms', cu);
    assert.equal(r.json.find((x) => x.roomId === A.roomId).unreadCount, 0);
    expectStatus(await call('POST', `/api/chat/rooms/${A.roomId}/read`, u(1299), { lastReadMessageId: last }), 403, 'read non-participant');
    expectStatus(await call('POST', '/api/chat/rooms/987654/read', cu, { lastReadMessageId: 1 }), 404, 'read no room');
    expectStatus(await call('POST', `/api/chat/rooms/${A.roomId}/read`, cu, { lastReadMessageId: 'x' }), 400, 'read bad body');
    expectStatus(await call('POST', `/api/chat/rooms/${A.roomId}/read`, cu, 'not json'), 400, 'read not json');

    // Messages: 403 / 404 / ADMIN.
    expectStatus(await call('GET', `/api/chat/rooms/${A.roomId}/messages`, u(1299)), 403, 'history non-participant');
    expectStatus(await call('GET', `/api/chat/rooms/${A.roomId}/messages`, u(2211, 'SALON')), 403, 'history other salon');
    expectStatus(await call('GET', '/api/chat/rooms/987654/messages', cu), 404, 'history no room');
    const adm = await call('GET', `/api/chat/rooms/${A.roomId}/messages`, ADMIN);
    expectStatus(adm, 200, 'history admin');
    assert.equal(adm.json.messages.length, 3);
  });

  await t.test('405 for a wrong method on a known path', async () => {
    const cu = u(1201);
    for (const [m, p] of [['DELETE', '/api/chat/rooms'], ['PUT', '/api/chat/rooms/1/messages'],
      ['GET', '/api/chat/rooms/1/read'], ['GET', '/api/publish'], ['GET', '/api/dev/login']]) {
      const r = await call(m, p, cu);
      if (p === '/api/dev/login') { assert.ok([404, 405].includes(r.status), showHttp(m, p, r)); continue; }
      expectStatus(r, 405, `${m} ${p}`);
    }
  });

  await t.test('paging through 1000 messages with before and after: no gap, no repeat, hasMore, limits', async () => {
    const cu = u(1220);
    const sa = u(2220, 'SALON');
    const room = await createRoom(bark, tok(cu), 1220, 2220);
    const R = room.roomId;
    const base = `/api/chat/rooms/${R}/messages`;
    const observer = await connect(ADMIN);
    await observer.subscribe('room', `/sub/chat/${R}`);
    const c = await connect(cu);
    const s = await connect(sa);
    for (let i = 0; i < 500; i++) {
      c.chatSend(R, { messageText: `c${i}` }, { receipt: `p-${i}` });
      s.chatSend(R, { messageText: `s${i}` }, { receipt: `p-${i}` });
      if (i % 50 === 49) await sleep(5);
    }
    await Promise.all([c.receipt('p-499', 20000), s.receipt('p-499', 20000)]);
    const live = (await observer.waitJson('room', 1000, 20000));
    assert.equal(live.length, 1000);
    const asc = live.map((m) => m.messageId);
    const desc = asc.slice().reverse();
    const get = async (q, who = cu) => {
      const r = await call('GET', `${base}${q}`, who);
      expectStatus(r, 200, `GET ${base}${q}`);
      assert.deepEqual(Object.keys(r.json).sort(), ['hasMore', 'messages']);
      return r.json;
    };

    // Neither: the latest page, newest first, default limit 50.
    let page = await get('');
    assert.equal(page.messages.length, 50);
    assert.equal(page.hasMore, true);
    assert.deepEqual(page.messages, live.slice(-50).reverse(), 'latest page = the newest 50 as broadcast, newest first');

    // before, default limit: 20 pages.
    for (const limit of [null, 200, 77]) {
      const got = [];
      const more = [];
      let q = limit ? `?limit=${limit}` : '';
      for (let i = 0; i < 100; i++) {
        page = await get(q);
        got.push(...page.messages.map((m) => m.messageId));
        more.push(page.hasMore);
        if (!page.hasMore) break;
        const oldest = page.messages[page.messages.length - 1].messageId;
        q = `?before=${oldest}${limit ? `&limit=${limit}` : ''}`;
      }
      const per = limit || 50;
      assert.deepEqual(got, desc, `before-paging with limit ${limit}: all 1000, newest first, no gap or repeat`);
      assert.equal(more.length, Math.ceil(1000 / per), `pages with limit ${limit}`);
      assert.deepEqual(more, more.map((_, i) => i < more.length - 1), `hasMore with limit ${limit}: ${more}`);
    }

    // after: oldest first.
    for (const limit of [200, 37, null]) {
      const got = [];
      const more = [];
      let after = asc[0] - 1;
      for (let i = 0; i < 100; i++) {
        page = await get(`?after=${after}${limit ? `&limit=${limit}` : ''}`);
        got.push(...page.messages.map((m) => m.messageId));
        more.push(page.hasMore);
        if (!page.hasMore) break;
        after = page.messages[page.messages.length - 1].messageId;
      }
      const per = limit || 50;
      assert.deepEqual(got, asc, `after-paging with limit ${limit}: all 1000, oldest first`);
      assert.equal(more.length, Math.ceil(1000 / per), `pages with limit ${limit}`);
      assert.deepEqual(more, more.map((_, i) => i < more.length - 1), `hasMore with limit ${limit}`);
    }

    page = await get('?after=0&limit=3');
    assert.deepEqual(page.messages.map((m) => m.messageId), asc.slice(0, 3), 'after=0: from the beginning');
    page = await get('?limit=500');
    assert.equal(page.messages.length, 200, 'limit is capped at 200');
    assert.equal(page.hasMore, true);
    page = await get('?limit=1');
    assert.deepEqual(page.messages.map((m) => m.messageId), [asc[999]]);
    assert.equal(page.hasMore, true);
    page = await get(`?before=${asc[0]}`);
    assert.deepEqual(page, { messages: [], hasMore: false });
    page = await get(`?after=${asc[999]}`);
    assert.deepEqual(page, { messages: [], hasMore: false });
    page = await get(`?before=${asc[10]}&limit=200`);
    assert.deepEqual(page.messages.map((m) => m.messageId), asc.slice(0, 10).reverse());
    assert.equal(page.hasMore, false);
    page = await get(`?after=${asc[995]}`);
    assert.deepEqual(page.messages, live.slice(996));
    assert.equal(page.hasMore, false);
    page = await get('?limit=200', sa);
    assert.equal(page.messages.length, 200, 'the salon reads too');

    for (const q of ['?limit=0', '?limit=-1', '?limit=abc', '?limit=', '?before=abc', '?before=-5', '?after=1.5', '?after=x1']) {
      expectStatus(await call('GET', `${base}${q}`, cu), 400, `GET ${base}${q}`);
    }
  });

  await t.test('before and after together → 400', async () => {
    const room = await createRoom(bark, tok(u(1221)), 1221, 2221);
    expectStatus(await call('GET', `/api/chat/rooms/${room.roomId}/messages?before=10&after=1`, u(1221)), 400, 'both');
  });

  await t.test('POST /api/publish: /sub topic, /user/{id}/queue/x with a role to every session of that user only; 403 for non-admins', async () => {
    const t1 = await connect(u(1230));
    const t2 = await connect(u(2230, 'SALON'));
    await t1.subscribe('news', '/sub/news/today');
    await t2.subscribe('news', '/sub/news/today');
    const payload = { headline: '오늘의 소식', n: 1, nested: { ok: true }, list: [1, 'two'] };
    const r = await call('POST', '/api/publish', ADMIN, { destination: '/sub/news/today', payload });
    expectStatus(r, 202, 'publish topic');
    for (const c of [t1, t2]) {
      const [m] = await c.waitJson('news', 1);
      assert.deepEqual(m, payload);
      assert.equal(c.messages('news')[0].headers.destination, '/sub/news/today');
    }

    const a1 = await connect(u(1231));
    const a2 = await connect(u(1231));
    const other = await connect(u(1232));
    const salonSameId = await connect(u(1231, 'SALON'));  // another user: salons are numbered apart
    const wrongQueue = await connect(u(1231));
    for (const c of [a1, a2, other, salonSameId]) await c.subscribe('x', '/user/queue/x');
    await wrongQueue.subscribe('y', '/user/queue/y');
    const noRole = await call('POST', '/api/publish', ADMIN, { destination: '/user/1231/queue/x', payload: { hello: 'whom?' } });
    expectStatus(noRole, 400, 'publish to a user queue without a role');
    assert.equal(JSON.parse(noRole.body).error, 'role-required');
    expectStatus(await call('POST', '/api/publish', ADMIN, { destination: '/user/1231/queue/x', role: 'OWNER', payload: 1 }), 400, 'unknown role');
    const r2 = await call('POST', '/api/publish', ADMIN, { destination: '/user/1231/queue/x', role: 'USER', payload: { hello: 'user 1231' } });
    expectStatus(r2, 202, 'publish user queue');
    for (const c of [a1, a2]) {
      const [m] = await c.waitJson('x', 1);
      assert.deepEqual(m, { hello: 'user 1231' });
      assert.equal(c.messages('x')[0].headers.destination, '/user/queue/x');
    }
    const r4 = await call('POST', '/api/publish', ADMIN, { destination: '/user/1231/queue/x', role: 'SALON', payload: { hello: 'salon 1231' } });
    expectStatus(r4, 202, 'publish to the salon with the same id');
    const [s] = await salonSameId.waitJson('x', 1);
    assert.deepEqual(s, { hello: 'salon 1231' }, 'the salon gets only its own push');
    const r3 = await call('POST', '/api/publish', u(1231), { destination: '/user/1231/queue/x', role: 'USER', payload: { from: 'user' } });
    expectStatus(r3, 403, 'publish as a USER');
    expectStatus(await call('POST', '/api/publish', u(2230, 'SALON'), { destination: '/sub/news/today', payload: 2 }), 403, 'publish as a SALON');
    expectStatus(await call('POST', '/api/publish', ADMIN, { destination: '/pub/chat/send/1', payload: {} }), 400, 'publish to /pub');
    expectStatus(await call('POST', '/api/publish', ADMIN, '{"destination":'), 400, 'publish bad JSON');
    await sleep(300);
    assert.equal(other.messages().length, 0, 'another user got nothing');
    assert.equal(wrongQueue.messages().length, 0, 'another queue of the same user got nothing');
    assert.equal(a1.messages().length, 1, 'the USER\'s publish was not delivered');
    assert.equal(salonSameId.messages().length, 1, 'the push to USER 1231 did not reach SALON 1231');
    assert.equal(t1.messages().length, 1);
  });

  await t.test('POST .../messages: the REST twin of a SEND (broadcast, notification, retries once, who may, system messages)', async () => {
    const cust = u(9301);
    const salon = u(9301, 'SALON'); // the same id, another user
    const R = (await createRoom(bark, tok(cust), cust.userId, salon.userId)).roomId;
    const sc = await connect(salon);
    await sc.subscribe('room', `/sub/chat/${R}`);
    await sc.subscribe('notes', '/user/queue/notifications');
    const p = `/api/chat/rooms/${R}/messages`;
    const first = await call('POST', p, cust, { messageText: 'posted over REST', clientMessageId: 'r-1' });
    expectStatus(first, 201, 'a new message');
    assert.equal(first.json.messageText, 'posted over REST');
    assert.equal(first.json.senderId, cust.userId);
    assert.equal(first.json.senderRole, 'USER');
    assert.equal(first.json.clientMessageId, 'r-1');
    const [live] = await sc.waitJson('room', 1);
    assert.deepEqual(live, first.json, 'the answer is the broadcast');
    const [note] = await sc.waitJson('notes', 1);
    assert.equal(note.messageId, first.json.messageId);
    const again = await call('POST', p, cust, { messageText: 'posted over REST', clientMessageId: 'r-1' });
    expectStatus(again, 200, 'a retry');
    assert.deepEqual(again.json, first.json, 'the retry answers the stored message');
    // The salon's own message, then an admin's system message.
    expectStatus(await call('POST', p, salon, { messageText: 'from the salon' }), 201, 'the salon posts');
    const sys = await call('POST', p, ADMIN, { messageText: 'Your booking is confirmed' });
    expectStatus(sys, 201, 'an admin posts a system message');
    assert.equal(sys.json.senderRole, 'SYSTEM');
    assert.equal(sys.json.senderId, 0);
    await sc.waitJson('room', 3);
    await sleep(200);
    assert.equal(sc.messages('room').length, 3, 'the retry was not broadcast again');
    // Who may not, and bad bodies.
    expectStatus(await call('POST', p, u(9302), { messageText: 'intruder' }), 403, 'a non-participant');
    expectStatus(await call('POST', p, u(9301 + 1, 'SALON'), { messageText: 'intruder' }), 403, 'another salon');
    expectStatus(await call('POST', `/api/chat/rooms/987654/messages`, cust, { messageText: 'x' }), 404, 'no such room');
    expectStatus(await call('POST', p, cust, { messageText: '' }), 400, 'empty text');
    expectStatus(await call('POST', p, cust, { messageText: 'x'.repeat(4001) }), 400, 'too long');
    expectStatus(await call('POST', p, cust, { roomId: R + 1, messageText: 'x' }), 400, 'another roomId in the body');
    expectStatus(await call('POST', p, null, { messageText: 'x' }), 401, 'no token');
    const history = await call('GET', `${p}?limit=10`, cust);
    const stored = history.json.messages.slice().sort((a, b) => a.messageId - b.messageId);
    assert.deepEqual(stored.map((m) => m.messageText), ['posted over REST', 'from the salon', 'Your booking is confirmed']);
  });

  await t.test('POST /api/dev/login without --dev → 404', async () => {
    const r = await call('POST', '/api/dev/login', null, { userId: 1, username: 'x', role: 'USER' });
    assert.equal(r.status, 404, showHttp('POST', '/api/dev/login', r));
  });
});

test('rest: POST /api/dev/login with --dev', async (t) => {
  const bark = await startBark(['--dev']);
  t.after(() => bark.stop());

  await t.test('sets the Authorization cookie and returns the token; the cookie works for CONNECT and REST', async () => {
    const r = await api(bark, 'POST', '/api/dev/login', { body: { userId: 1240, username: 'dev-user', role: 'USER' } });
    assert.ok([200, 201].includes(r.status), showHttp('POST', '/api/dev/login', r));
    const tokenBody = r.json && r.json.token;
    assert.equal(typeof tokenBody, 'string', r.body);
    const d = decodeJwt(tokenBody);
    assert.equal(d.payload.userId, 1240);
    assert.equal(d.payload.username, 'dev-user');
    assert.equal(d.payload.role, 'USER');
    assert.equal(typeof d.payload.exp, 'number');
    const cookies = [].concat(r.headers['set-cookie'] || []);
    const auth = cookies.find((c) => c.startsWith('Authorization='));
    assert.ok(auth, `Set-Cookie: ${JSON.stringify(cookies)}`);
    const [pair, ...attrs] = auth.split(';').map((x) => x.trim());
    assert.equal(pair, `Authorization=${tokenBody}`);
    const lower = attrs.map((a) => a.toLowerCase());
    for (const want of ['path=/', 'httponly', 'samesite=lax']) assert.ok(lower.includes(want), `${want} in ${auth}`);

    const c = await RawStomp.open(bark.wsUrl, { token: null, headers: { Cookie: pair } });
    try {
      c.send('CONNECT', CONNECT_12);
      const f = await c.next(3000);
      assert.equal(f.command, 'CONNECTED', c.dump());
      assert.equal(f.headers['user-name'], 'dev-user');
    } finally { c.close(); }
    const rooms = await api(bark, 'GET', '/api/chat/rooms', { headers: { Cookie: pair } });
    assert.equal(rooms.status, 200, showHttp('GET', '/api/chat/rooms', rooms));
    const withBearer = await api(bark, 'GET', '/api/chat/rooms', { token: tokenBody });
    assert.equal(withBearer.status, 200);
  });

  await t.test('bad login bodies → 400', async () => {
    for (const body of ['not json', { userId: 'x', username: 'a', role: 'USER' }, { userId: 1, username: '', role: 'USER' },
      { userId: 1, username: 'a', role: 'KING' }]) {
      const r = await api(bark, 'POST', '/api/dev/login', { body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${showHttp('POST', '/api/dev/login', r)}`);
    }
  });
});

test('rest: --rest-write-rate limits each user\'s writes (429 with Retry-After), users apart', async (t) => {
  const bark = await startBark(['--rest-write-rate', '2']);
  t.after(() => bark.stop());
  const create = (claims, salonId) => api(bark, 'POST', '/api/chat/rooms', {
    token: bark.token(claims), body: { customerId: claims.userId, salonId },
  });
  const kim = u(4100);
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await create(kim, 5000 + i));
  const created = answers.filter((r) => r.status === 201).length;
  const limited = answers.filter((r) => r.status === 429);
  assert.ok(created >= 4 && created <= 6, `a burst of about 4 (2/s, burst 2x), got ${created} of 12`);
  assert.ok(limited.length >= 6, `the rest refused, got ${limited.length}`);
  assert.equal(limited[0].headers['retry-after'], '1');
  assert.equal(limited[0].json.error, 'rate-limited');
  // Another user, and the salon with the same id, have their own budget.
  assert.equal((await create(u(4101), 6000)).status, 201);
  const salonSameId = u(4100, 'SALON');
  const r = await api(bark, 'POST', '/api/chat/rooms', { token: bark.token(salonSameId), body: { customerId: 1, salonId: 4100 } });
  assert.equal(r.status, 201, r.body);
  // Refusals are counted; after a second the user may write again.
  const m = await api(bark, 'GET', '/metrics');
  const line = m.body.split('\n').find((l) => l.startsWith('bark_rest_writes_rate_limited_total'));
  assert.ok(line && Number(line.split(' ').pop()) >= 6, line);
  await sleep(1100);
  assert.equal((await create(kim, 7000)).status, 201);
});

// SPEC §11: a salon with 20,000 customers pages through every room (keyset, latest activity
// first), also while messages move rooms to the top; unreadOnly; the unpaged form unchanged.
test('rest: the room list pages through 20,000 rooms', async (t) => {
  const bark = await startBark(['--rest-write-rate', '0', '--max-send-rate', '0']);
  t.after(() => bark.stop());
  const SALON = u(70000, 'SALON');
  const tok = (claims) => bark.token(claims);
  const N = 20000;
  const http = require('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const post = (p, claims, body) => new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port: bark.port, method: 'POST', path: p, agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), Authorization: `Bearer ${bark.token(claims)}` } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
  const rooms = [];
  for (let i = 0; i < N; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, N - i) }, (_, k) =>
      post('/api/chat/rooms', SALON, { customerId: 1 + i + k, salonId: SALON.userId })));
    for (const r of batch) { assert.equal(r.status, 201); rooms.push(r.json.roomId); }
  }
  // Three customers write: their rooms move to the top and get unread counts for the salon.
  const writers = [5, 12345, 19999];
  for (const c of writers) {
    const r = await post(`/api/chat/rooms/${rooms[c - 1]}/messages`, u(c), { messageText: `from ${c}` });
    assert.equal(r.status, 201);
  }
  const seen = new Set();
  const order = [];
  let cursor = '';
  let pages = 0;
  const started = Date.now();
  for (;;) {
    const p = `/api/chat/rooms?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await api(bark, 'GET', p, { token: tok(SALON) });
    expectStatus(r, 200, p);
    pages += 1;
    for (const room of r.json.rooms) { assert.ok(!seen.has(room.roomId), `room ${room.roomId} twice`); seen.add(room.roomId); order.push(room); }
    if (pages === 50) {
      // A message in a room already listed moves it to the top: later pages neither repeat nor lose rooms.
      const moved = await post(`/api/chat/rooms/${order[10].roomId}/messages`, u(order[10].customerId), { messageText: 'moving up' });
      assert.equal(moved.status, 201);
    }
    if (r.json.nextCursor === null) break;
    cursor = r.json.nextCursor;
    assert.ok(pages < 200, 'the pages end');
  }
  assert.equal(seen.size, N, 'every room once');
  assert.equal(pages, N / 200);
  assert.deepEqual(order.slice(0, 3).map((r) => r.customerId), writers.slice().reverse(), 'latest activity first');
  t.diagnostic(`${pages} pages of 200 in ${Date.now() - started} ms`);
  const unread = await api(bark, 'GET', '/api/chat/rooms?unreadOnly=true', { token: tok(SALON) });
  assert.deepEqual(unread.json.rooms.map((r) => r.customerId).sort((a, b) => a - b), [...writers, order[10].customerId].sort((a, b) => a - b));
  assert.equal(unread.json.nextCursor, null);
  const legacy = await api(bark, 'GET', '/api/chat/rooms', { token: tok(SALON) });
  assert.ok(Array.isArray(legacy.json), 'without paging parameters: the array, as before');
  assert.equal(legacy.json.length, 200);
  for (const bad of ['limit=0', 'limit=x', 'cursor=1.2', 'cursor=a.b.c', 'unreadOnly=yes']) {
    expectStatus(await api(bark, 'GET', `/api/chat/rooms?${bad}`, { token: tok(SALON) }), 400, bad);
  }
});
