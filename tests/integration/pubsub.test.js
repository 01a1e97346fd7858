'use strict';
// Publish/subscribe through bark's broker: delivery, fan-out, unsubscribe, Ant patterns, MESSAGE
// headers, binary-safe bodies, receipts, DISCONNECT, many clients on two threads, and the SEND and
// SUBSCRIBE destination rules.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, RawStomp, expectProtocolError, stompJsConnect, stompJsReceipt, sleep, withTimeout, frame,
} = require('./lib/bark');

test('pubsub (--allow-client-publish)', async (t) => {
  const bark = await startBark(['--allow-client-publish']);
  t.after(() => bark.stop());
  const open = [];
  t.afterEach(async () => {
    while (open.length) {
      const c = open.pop();
      if (c.close) c.close(); else await c.deactivate();
    }
  });
  const raw = async (headers) => { const c = await RawStomp.connect(bark.wsUrl, headers); open.push(c); return c; };
  const js = async (opts) => { const r = await stompJsConnect(bark.wsUrl, opts); open.push(r.client); return r.client; };
  const subscribe = async (c, id, destination, extra = {}) => {
    c.send('SUBSCRIBE', { id, destination, receipt: `sub-${id}`, ...extra });
    await c.receipt(`sub-${id}`);
  };

  await t.test('@stomp/stompjs: subscribe to /sub/news and receive a published message', async () => {
    const sub = await js();
    const pub = await js();
    const got = [];
    await stompJsReceipt(sub, 'r-news', () => sub.subscribe('/sub/news', (m) => got.push(m), { receipt: 'r-news' }));
    pub.publish({ destination: '/sub/news', body: 'hello news', headers: { 'content-type': 'text/plain' } });
    await withTimeout((async () => { while (got.length < 1) await sleep(10); })(), 3000, 'message on /sub/news');
    assert.equal(got[0].body, 'hello news');
    assert.equal(got[0].headers.destination, '/sub/news');
    await sleep(100);
    assert.equal(got.length, 1, 'exactly one delivery');
  });

  await t.test('@stomp/stompjs: a UTF-8 body round-trips', async () => {
    const sub = await js();
    const got = [];
    const text = 'héllo ✓ 日本語 🎉';
    await stompJsReceipt(sub, 'r-utf', () => sub.subscribe('/sub/utf8', (m) => got.push(m), { receipt: 'r-utf' }));
    sub.publish({ destination: '/sub/utf8', body: text });
    await withTimeout((async () => { while (got.length < 1) await sleep(10); })(), 3000, 'utf-8 message');
    assert.equal(got[0].body, text);
    assert.equal(got[0].headers['content-length'], String(Buffer.byteLength(text)));
  });

  await t.test('two subscribers both get the message; the publisher (not subscribed) gets none', async () => {
    const a = await raw();
    const b = await raw();
    const p = await raw();
    await subscribe(a, 'a1', '/sub/two');
    await subscribe(b, 'b1', '/sub/two');
    p.send('SEND', { destination: '/sub/two', receipt: 'p1' }, 'to both');
    await p.receipt('p1');
    const [ma] = await a.waitMessages(1);
    const [mb] = await b.waitMessages(1);
    assert.equal(ma.text, 'to both');
    assert.equal(mb.text, 'to both');
    assert.equal(ma.headers.subscription, 'a1');
    assert.equal(mb.headers.subscription, 'b1');
    await sleep(100);
    assert.equal(p.messages().length, 0);
    assert.equal(a.messages().length, 1);
  });

  await t.test('a client subscribed to its own topic receives its own SEND', async () => {
    const c = await raw();
    await subscribe(c, 's', '/sub/self');
    c.send('SEND', { destination: '/sub/self' }, 'echo');
    const [m] = await c.waitMessages(1);
    assert.equal(m.text, 'echo');
  });

  await t.test('UNSUBSCRIBE stops delivery to that subscription only', async () => {
    const a = await raw();
    const b = await raw();
    const p = await raw();
    await subscribe(a, 'ua', '/sub/unsub');
    await subscribe(b, 'ub', '/sub/unsub');
    p.send('SEND', { destination: '/sub/unsub' }, 'one');
    await a.waitMessages(1);
    await b.waitMessages(1);
    a.send('UNSUBSCRIBE', { id: 'ua', receipt: 'u' });
    await a.receipt('u');
    p.send('SEND', { destination: '/sub/unsub' }, 'two');
    const mb = await b.waitMessages(2);
    assert.deepEqual(mb.map((m) => m.text), ['one', 'two']);
    await sleep(200);
    assert.deepEqual(a.messages().map((m) => m.text), ['one'], 'no delivery after UNSUBSCRIBE');
  });

  await t.test('patterns: /sub/pat/* , /sub/pat/** and /sub/a?c match as Ant patterns', async () => {
    const s = await raw();
    await subscribe(s, 'one', '/sub/pat/*');
    await subscribe(s, 'any', '/sub/pat/**');
    await subscribe(s, 'q', '/sub/a?c');
    const p = await raw();
    const dests = ['/sub/pat/x', '/sub/pat/x/y', '/sub/pat/x/y/z', '/sub/patx/y', '/sub/other/x',
      '/sub/abc', '/sub/a-c', '/sub/ac', '/sub/abbc', '/sub/a/c', '/sub/abc/d'];
    for (const d of dests) p.send('SEND', { destination: d }, d);
    p.send('SEND', { destination: '/sub/pat/end', receipt: 'done' }, '/sub/pat/end');
    await p.receipt('done');
    // The end marker reaches both pattern subscriptions; wait a little more for stragglers.
    await s.waitFor((f) => f.command === 'MESSAGE' && f.text === '/sub/pat/end' && f.headers.subscription === 'any');
    await s.waitFor((f) => f.command === 'MESSAGE' && f.text === '/sub/pat/end' && f.headers.subscription === 'one');
    await sleep(200);
    const of = (id) => s.messages(id).map((m) => m.text).sort();
    assert.deepEqual(of('one'), ['/sub/pat/end', '/sub/pat/x']);
    assert.deepEqual(of('any'), ['/sub/pat/end', '/sub/pat/x', '/sub/pat/x/y', '/sub/pat/x/y/z']);
    assert.deepEqual(of('q'), ['/sub/a-c', '/sub/abc']);
    // MESSAGE destination is the concrete destination, not the pattern.
    for (const m of s.messages()) assert.equal(m.headers.destination, m.text);
  });

  await t.test('a message matching two subscriptions of one client comes once per subscription', async () => {
    const s = await raw();
    await subscribe(s, 'exact', '/sub/dup/x');
    await subscribe(s, 'wild', '/sub/dup/*');
    s.send('SEND', { destination: '/sub/dup/x' }, 'x');
    await s.waitMessages(2);
    await sleep(150);
    assert.deepEqual(s.messages().map((m) => m.headers.subscription).sort(), ['exact', 'wild']);
  });

  await t.test('MESSAGE headers: destination, message-id, subscription, content-type, content-length, custom', async () => {
    const s = await raw();
    const p = await raw();
    await subscribe(s, 'h-1', '/sub/hdr');
    const body = 'header check';
    p.send('SEND', {
      destination: '/sub/hdr', 'content-type': 'text/plain;charset=utf-8', 'x-custom': 'value1',
      'x-escaped': 'a\\cb\\nc', receipt: 'r',
    }, body);
    p.send('SEND', { destination: '/sub/hdr' }, 'second');
    await p.receipt('r');
    const [m, m2] = await s.waitMessages(2);
    assert.equal(m.headers.destination, '/sub/hdr');
    assert.ok(m.headers['message-id'], 'message-id present');
    assert.notEqual(m.headers['message-id'], m2.headers['message-id'], 'message-ids are unique');
    assert.equal(m.headers.subscription, 'h-1');
    assert.equal(m.headers['content-type'], 'text/plain;charset=utf-8');
    assert.equal(m.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(m.headers['x-custom'], 'value1');
    assert.equal(m.headers['x-escaped'], 'a:b\nc');
    assert.equal(m.text, body);
    assert.equal(m.headers.receipt, undefined, 'the SEND receipt header is not forwarded');
    assert.equal(m.headers.ack, undefined, 'no ack header in auto mode');
    assert.ok(m2.headers['content-type'], 'content-type present even when the SEND had none');
    assert.equal(m2.headers['content-length'], '6');
  });

  await t.test('a body with NUL bytes round-trips via content-length', async () => {
    const s = await raw();
    const p = await raw();
    await subscribe(s, 'nul', '/sub/nul');
    const body = 'a\0b\0\0c\n';
    p.send('SEND', { destination: '/sub/nul', 'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body), receipt: 'r' }, body);
    await p.receipt('r');
    const [m] = await s.waitMessages(1);
    assert.equal(m.headers['content-length'], String(Buffer.byteLength(body)));
    assert.equal(m.text, body);
  });

  await t.test('a non-UTF-8 binary body (sent in a binary WebSocket message) round-trips', async () => {
    // RFC 6455: a text message must be valid UTF-8, so such a body can only come back in a binary
    // WebSocket message; `ws` fails the connection (1007) on invalid UTF-8 in a text message.
    const s = await raw();
    const p = await raw();
    await subscribe(s, 'bin', '/sub/binary');
    const body = Buffer.from([0x61, 0x00, 0x62, 0x00, 0x00, 0x63, 0xff, 0xfe, 0x0a]);
    p.send('SEND', { destination: '/sub/binary', 'content-type': 'application/octet-stream',
      'content-length': body.length, receipt: 'r' }, body);
    await p.receipt('r');
    const [m] = await s.waitMessages(1);
    assert.equal(m.headers['content-length'], String(body.length));
    assert.deepEqual([...m.body], [...body]);
  });

  await t.test('WebSocket messages of every size up to the limit are read whole (first piece 512 bytes, then 64 KiB pieces)', async () => {
    const s = await raw();
    const p = await raw();
    await subscribe(s, 'sizes', '/sub/sizes');
    // Frames whose WebSocket message ends just before, at and after the read pieces' edges.
    const head = frame('SEND', { destination: '/sub/sizes', 'content-type': 'text/plain', receipt: 'z0' }, '').length;
    const lengths = [1, 511 - head, 512 - head, 513 - head, 4000, 60000, 65535 - head, 3 * 4096 + 7];
    const bodies = lengths.map((n, i) => `${i}:`.padEnd(n, String.fromCharCode(97 + i)));
    bodies.forEach((b, i) => p.send('SEND', { destination: '/sub/sizes', 'content-type': 'text/plain', receipt: `z${i}` }, b));
    await p.receipt(`z${bodies.length - 1}`);
    const got = await s.waitMessages(bodies.length);
    assert.deepEqual(got.map((m) => m.text.length), bodies.map((b) => Buffer.byteLength(b)));
    got.forEach((m, i) => assert.equal(m.text, bodies[i], `message ${i}`));
    // Many frames in one WebSocket message, and one frame over the limit still closes.
    const many = bodies.slice(0, 3).map((b) => frame('SEND', { destination: '/sub/sizes', 'content-type': 'text/plain' }, b)).join('');
    p.sendRaw(many);
    const more = await s.waitMessages(bodies.length + 3);
    assert.deepEqual(more.slice(-3).map((m) => m.text), bodies.slice(0, 3));
    p.sendRaw(frame('SEND', { destination: '/sub/sizes' }, 'x'.repeat(5 * 65536)));
    await p.waitClosed(5000);
  });

  await t.test('an empty body is delivered with content-length 0', async () => {
    const s = await raw();
    await subscribe(s, 'e', '/sub/empty');
    s.send('SEND', { destination: '/sub/empty' });
    const [m] = await s.waitMessages(1);
    assert.equal(m.body.length, 0);
    assert.equal(m.headers['content-length'], '0');
  });

  await t.test('receipts on SUBSCRIBE, SEND and UNSUBSCRIBE', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { id: '1', destination: '/sub/rc', receipt: 'rs' });
    assert.equal((await c.next()).headers['receipt-id'], 'rs');
    c.send('SEND', { destination: '/sub/rc', receipt: 'rp' }, 'x');
    // The SEND's RECEIPT and our own MESSAGE may come in either order.
    await c.receipt('rp');
    await c.waitMessages(1);
    c.send('UNSUBSCRIBE', { id: '1', receipt: 'ru' });
    await c.receipt('ru');
    assert.deepEqual(c.frames.filter((f) => f.command === 'RECEIPT').map((f) => f.headers['receipt-id']),
      ['rs', 'rp', 'ru']);
  });

  await t.test('DISCONNECT with receipt → RECEIPT, then the server closes (1000)', async () => {
    const c = await raw();
    await subscribe(c, 'd', '/sub/disc');
    c.send('DISCONNECT', { receipt: 'bye' });
    const r = await c.next();
    assert.equal(r.command, 'RECEIPT', c.dump());
    assert.equal(r.headers['receipt-id'], 'bye');
    const closed = await c.waitClosed(3000);
    assert.equal(closed.code, 1000);
  });

  await t.test('after a subscriber disconnects, publishing to its topic still works for others', async () => {
    const a = await raw();
    const b = await raw();
    await subscribe(a, 'x', '/sub/gone');
    await subscribe(b, 'y', '/sub/gone');
    a.send('DISCONNECT', { receipt: 'bye' });
    await a.receipt('bye');
    await a.waitClosed();
    b.send('SEND', { destination: '/sub/gone', receipt: 'r' }, 'still');
    await b.receipt('r');
    const [m] = await b.waitMessages(1);
    assert.equal(m.text, 'still');
  });

  await t.test('SEND to /sub/chat/1 is refused even with --allow-client-publish (send-not-allowed)', async () => {
    const c = await raw();
    c.send('SEND', { destination: '/sub/chat/1', receipt: 'r' }, '{}');
    await expectProtocolError(c, 'send-not-allowed', { receiptId: 'r' });
    assert.equal(c.frames.filter((f) => f.command === 'RECEIPT').length, 0);
  });

  await t.test('SEND to /pub/unknown → /user/queue/errors unknown-destination, no RECEIPT, still open', async () => {
    const c = await raw();
    await subscribe(c, 'errs', '/user/queue/errors');
    c.send('SEND', { destination: '/pub/unknown', 'content-type': 'application/json', receipt: 'pr' }, '{"a":1}');
    const m = await c.waitFor('MESSAGE', 3000, 'an error MESSAGE on /user/queue/errors');
    assert.equal(m.headers.subscription, 'errs');
    const err = JSON.parse(m.text);
    assert.equal(err.error, 'unknown-destination');
    assert.equal(typeof err.message, 'string');
    assert.equal(err.receiptId, 'pr');
    // Still open and working; and no RECEIPT for the failed SEND.
    c.send('SUBSCRIBE', { id: 'after', destination: '/sub/after', receipt: 'ok' });
    await c.receipt('ok');
    assert.equal(c.frames.filter((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === 'pr').length, 0);
    assert.equal(c.closed, null);
  });

  await t.test('SEND to /pub/unknown without receipt: the error has no receiptId', async () => {
    const c = await raw();
    await subscribe(c, 'errs', '/user/queue/errors');
    c.send('SEND', { destination: '/pub/nothing/here' }, 'x');
    const m = await c.waitFor('MESSAGE');
    const err = JSON.parse(m.text);
    assert.equal(err.error, 'unknown-destination');
    assert.equal(err.receiptId, undefined);
  });

  await t.test('/user/queue/errors of one session does not get another session\'s errors', async () => {
    const a = await raw();
    const b = await raw();
    await subscribe(a, 'e', '/user/queue/errors');
    await subscribe(b, 'e', '/user/queue/errors');
    a.send('SEND', { destination: '/pub/unknown' }, 'x');
    await a.waitMessages(1);
    b.send('SUBSCRIBE', { id: 'sync', destination: '/sub/sync', receipt: 'sync' });
    await b.receipt('sync');
    await sleep(150);
    assert.equal(b.messages().length, 0);
  });

  for (const dest of ['/topic/x', '/queue/x', '/pub/chat/send/1', 'sub/no-slash', '/sub/bad\\ccolon']) {
    await t.test(`SUBSCRIBE to ${dest} → ERROR invalid-destination`, async () => {
      const c = await raw();
      c.send('SUBSCRIBE', { id: '1', destination: dest, receipt: 'r' });
      await expectProtocolError(c, 'invalid-destination');
    });
  }

  await t.test('SEND to /topic/x → ERROR invalid-destination', async () => {
    const c = await raw();
    c.send('SEND', { destination: '/topic/x' }, 'x');
    await expectProtocolError(c, 'invalid-destination');
  });

  await t.test('SEND to /user/queue/errors → ERROR (not allowed)', async () => {
    const c = await raw();
    c.send('SEND', { destination: '/user/queue/errors' }, 'x');
    const f = await c.waitFor('ERROR');
    assert.ok(['invalid-destination', 'send-not-allowed'].includes(f.headers.message), f.headers.message);
    await c.waitClosed();
  });
});

test('pubsub without --allow-client-publish', async (t) => {
  const bark = await startBark([]);
  t.after(() => bark.stop());

  await t.test('SEND to /sub/x → ERROR send-not-allowed, then close', async () => {
    const c = await RawStomp.connect(bark.wsUrl);
    try {
      c.send('SEND', { destination: '/sub/x', receipt: 'r' }, 'x');
      await expectProtocolError(c, 'send-not-allowed', { receiptId: 'r' });
    } finally { c.close(); }
  });

  await t.test('SUBSCRIBE to /sub/x still works', async () => {
    const c = await RawStomp.connect(bark.wsUrl);
    try {
      c.send('SUBSCRIBE', { id: '1', destination: '/sub/x', receipt: 'r' });
      await c.receipt('r');
    } finally { c.close(); }
  });
});

test('pubsub: 20 clients on --threads 2, everyone receives everything in per-publisher order', async (t) => {
  const bark = await startBark(['--threads', '2', '--allow-client-publish']);
  const clients = [];
  t.after(async () => { for (const c of clients) c.close(); await bark.stop(); });
  const N = 20;
  const PER = 10;
  for (let i = 0; i < N; i++) {
    const c = await RawStomp.connect(bark.wsUrl);
    clients.push(c);
    c.send('SUBSCRIBE', { id: 'mt', destination: '/sub/mt/room', receipt: 'sub' });
  }
  await Promise.all(clients.map((c) => c.receipt('sub', 5000)));
  for (let k = 0; k < PER; k++) {
    clients.forEach((c, i) => c.send('SEND', { destination: '/sub/mt/room', 'x-from': String(i) }, `${i}:${k}`));
  }
  await Promise.all(clients.map((c) => c.waitMessages(N * PER, 10000)));
  await sleep(100);
  for (const [ci, c] of clients.entries()) {
    const msgs = c.messages();
    assert.equal(msgs.length, N * PER, `client ${ci} got ${msgs.length} messages`);
    const perPublisher = new Map();
    for (const m of msgs) {
      const [from, k] = m.text.split(':').map(Number);
      assert.equal(m.headers['x-from'], String(from));
      if (!perPublisher.has(from)) perPublisher.set(from, []);
      perPublisher.get(from).push(k);
    }
    assert.equal(perPublisher.size, N);
    for (const [from, ks] of perPublisher) {
      assert.deepEqual(ks, [...Array(PER).keys()], `client ${ci}: order of publisher ${from}`);
    }
    const ids = new Set(msgs.map((m) => m.headers['message-id']));
    assert.equal(ids.size, msgs.length, `client ${ci}: message-ids unique`);
  }
});
