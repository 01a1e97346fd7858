'use strict';
// CONNECT/STOMP handling: version negotiation, CONNECTED headers, frame order, receipts, and how
// frames may be split or batched across WebSocket messages.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, RawStomp, expectProtocolError, frame, stompJsConnect, stompJsReceipt, sleep,
} = require('./lib/bark');

test('connect', async (t) => {
  const bark = await startBark([]);
  t.after(() => bark.stop());
  const open = [];
  t.afterEach(() => { while (open.length) open.pop().close(); });
  const raw = async (opts) => { const c = await RawStomp.open(bark.wsUrl, opts); open.push(c); return c; };

  const cases = [
    { accept: '1.0,1.1,1.2', want: '1.2' },
    { accept: '1.2,1.1,1.0', want: '1.2' },
    { accept: '1.1', want: '1.1' },
    { accept: '1.0,1.1', want: '1.1' },
    { accept: '1.0', want: '1.0' },
    { accept: '1.1,2.0', want: '1.1' },
  ];
  for (const { accept, want } of cases) {
    await t.test(`accept-version ${accept} (no subprotocol) → version ${want}`, async () => {
      const c = await raw();
      const f = await c.connect({ 'accept-version': accept, host: '127.0.0.1' });
      assert.equal(f.command, 'CONNECTED', c.dump());
      assert.equal(f.headers.version, want);
    });
  }

  await t.test('no accept-version header → version 1.0', async () => {
    const c = await raw();
    const f = await c.connect({ host: '127.0.0.1' });
    assert.equal(f.command, 'CONNECTED', c.dump());
    // A 1.0 CONNECTED may omit version; if present it must say 1.0.
    assert.ok(f.headers.version === undefined || f.headers.version === '1.0', `version ${f.headers.version}`);
    // It is a working 1.0 session: SUBSCRIBE without id, receipt answered.
    c.send('SUBSCRIBE', { destination: '/sub/v10', receipt: 'r10' });
    await c.receipt('r10');
  });

  await t.test('accept-version 2.0 only → ERROR version-not-supported (version header), then close', async () => {
    const c = await raw();
    c.send('CONNECT', { 'accept-version': '2.0', host: '127.0.0.1' });
    const f = await expectProtocolError(c, 'version-not-supported');
    assert.ok(f.headers.version, 'ERROR carries a version header');
    assert.deepEqual(f.headers.version.split(',').map((s) => s.trim()).sort(), ['1.0', '1.1', '1.2']);
    assert.equal(c.frames.filter((x) => x.command === 'CONNECTED').length, 0);
  });

  // The version is negotiated by accept-version alone (SPEC §3, as Spring and RabbitMQ do): the
  // subprotocol never narrows it.
  await t.test('subprotocol v11.stomp + accept-version 1.0,1.1,1.2 → version 1.2 (accept-version decides)', async () => {
    const c = await raw({ protocols: ['v11.stomp'] });
    assert.equal(c.ws.protocol, 'v11.stomp');
    const f = await c.connect({ 'accept-version': '1.0,1.1,1.2', host: '127.0.0.1' });
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.2');
  });

  await t.test('subprotocol v12.stomp + accept-version 1.1 only → version 1.1, not version-not-supported', async () => {
    const c = await raw({ protocols: ['v12.stomp'] });
    assert.equal(c.ws.protocol, 'v12.stomp');
    const f = await c.connect({ 'accept-version': '1.1', host: '127.0.0.1' });
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.1');
  });

  await t.test('subprotocols v10,v11,v12.stomp offered, then accept-version 1.0,1.1 → version 1.1', async () => {
    const c = await raw({ protocols: ['v10.stomp', 'v11.stomp', 'v12.stomp'] });
    assert.equal(c.ws.protocol, 'v12.stomp');
    const f = await c.connect({ 'accept-version': '1.0,1.1', host: '127.0.0.1' });
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.1');
  });

  await t.test('CONNECTED carries version, heart-beat, server bark/<v>, session, user-name', async () => {
    const c = await raw({ protocols: ['v12.stomp'] });
    const f = await c.connect({ 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0' });
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.2');
    assert.match(f.headers['heart-beat'] || '', /^\d+,\d+$/, 'heart-beat header');
    assert.match(f.headers.server || '', /^bark\/\S+/, 'server header');
    assert.ok(f.headers.session && f.headers.session.length > 0, 'session header');
    assert.ok('user-name' in f.headers, `user-name header present; got ${JSON.stringify(f.headers)}`);
  });

  await t.test('session ids differ between connections', async () => {
    const a = await raw();
    const b = await raw();
    const fa = await a.connect();
    const fb = await b.connect();
    assert.ok(fa.headers.session);
    assert.ok(fb.headers.session);
    assert.notEqual(fa.headers.session, fb.headers.session);
  });

  await t.test('STOMP command works like CONNECT', async () => {
    const c = await raw();
    const f = await c.connect({ 'accept-version': '1.2', host: '127.0.0.1' }, 'STOMP');
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.2');
    c.send('SUBSCRIBE', { id: 's', destination: '/sub/stompcmd', receipt: 'r1' });
    await c.receipt('r1');
  });

  for (const [command, headers] of [
    ['SUBSCRIBE', { id: '0', destination: '/sub/x' }],
    ['SEND', { destination: '/sub/x' }],
    ['DISCONNECT', { receipt: 'bye' }],
  ]) {
    await t.test(`${command} before CONNECT → ERROR not-connected, then close`, async () => {
      const c = await raw();
      c.send(command, headers, command === 'SEND' ? 'hi' : '');
      await expectProtocolError(c, 'not-connected', { closeCode: 1002 });
      assert.equal(c.frames.filter((x) => x.command === 'RECEIPT').length, 0, 'no RECEIPT before CONNECTED');
    });
  }

  await t.test('a second CONNECT → ERROR already-connected, then close', async () => {
    const c = await raw();
    await c.connect();
    c.send('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1' });
    await expectProtocolError(c, 'already-connected');
  });

  await t.test('receipts on frames after CONNECT come back in order with the right ids', async () => {
    const c = await raw();
    await c.connect();
    c.send('SUBSCRIBE', { id: 's1', destination: '/sub/receipts', receipt: 'r-sub' });
    c.send('BEGIN', { transaction: 'tx', receipt: 'r-begin' });
    c.send('ABORT', { transaction: 'tx', receipt: 'r-abort' });
    c.send('UNSUBSCRIBE', { id: 's1', receipt: 'r-unsub' });
    const got = [];
    for (let i = 0; i < 4; i++) {
      const f = await c.next();
      assert.equal(f.command, 'RECEIPT', c.dump());
      got.push(f.headers['receipt-id']);
    }
    assert.deepEqual(got, ['r-sub', 'r-begin', 'r-abort', 'r-unsub']);
  });

  await t.test('a receipt-id with escaped characters round-trips (1.2)', async () => {
    const c = await raw();
    await c.connect();
    c.send('SUBSCRIBE', { id: 's1', destination: '/sub/esc', receipt: 'a\\cb\\\\c' });
    const f = await c.next();
    assert.equal(f.command, 'RECEIPT', c.dump());
    assert.equal(f.headers['receipt-id'], 'a:b\\c');
  });

  await t.test('CONNECT and SUBSCRIBE in one WebSocket message', async () => {
    const c = await raw();
    c.sendRaw(frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1' }) +
      frame('SUBSCRIBE', { id: 'x', destination: '/sub/batched', receipt: 'rb' }));
    const f = await c.next();
    assert.equal(f.command, 'CONNECTED', c.dump());
    await c.receipt('rb');
  });

  await t.test('one frame split across several WebSocket messages (byte by byte at the end)', async () => {
    const c = await raw();
    await c.connect();
    const s = frame('SUBSCRIBE', { id: 'y', destination: '/sub/split', receipt: 'rs' });
    c.sendRaw(s.slice(0, 5));
    await sleep(20);
    c.sendRaw(s.slice(5, 20));
    await sleep(20);
    for (const ch of s.slice(20)) c.sendRaw(ch);
    await c.receipt('rs');
  });

  await t.test('frames in a binary WebSocket message are accepted', async () => {
    const c = await raw();
    c.sendRaw(Buffer.from(frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1' })), { binary: true });
    const f = await c.next();
    assert.equal(f.command, 'CONNECTED', c.dump());
    c.sendRaw(Buffer.from(frame('SUBSCRIBE', { id: 'z', destination: '/sub/bin', receipt: 'rz' })), { binary: true });
    await c.receipt('rz');
  });

  await t.test('EOLs before CONNECT and between frames are ignored', async () => {
    const c = await raw();
    c.sendRaw('\n\r\n' + frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1' }) + '\n\n');
    const f = await c.next();
    assert.equal(f.command, 'CONNECTED', c.dump());
    c.sendRaw('\n' + frame('SUBSCRIBE', { id: 'w', destination: '/sub/eol', receipt: 'rw' }) + '\r\n');
    await c.receipt('rw');
  });

  await t.test('@stomp/stompjs connects with STOMP 1.2 over v12.stomp', async () => {
    const { client, connected, ws } = await stompJsConnect(bark.wsUrl);
    try {
      assert.equal(ws.protocol, 'v12.stomp');
      assert.equal(connected.headers.version, '1.2');
      assert.match(connected.headers.server || '', /^bark\//);
      await stompJsReceipt(client, 'js-r', () => client.subscribe('/sub/js', () => {}, { receipt: 'js-r' }));
    } finally {
      await client.deactivate();
    }
  });

  await t.test('DISCONNECT without receipt closes the connection', async () => {
    const c = await raw();
    await c.connect();
    c.send('DISCONNECT');
    const closed = await c.waitClosed();
    assert.ok([1000, 1005].includes(closed.code), `close code ${closed.code}`);
  });
});
