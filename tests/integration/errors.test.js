'use strict';
// Protocol faults: each gets one ERROR (message header = code, readable body, receipt-id when
// asked) and the connection closes; meanwhile a healthy client on the same server keeps getting
// every one of its messages.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startBark, RawStomp, expectProtocolError, frame, sleep, waitUntil } = require('./lib/bark');

test('errors (--max-frame-bytes 4096)', async (t) => {
  const bark = await startBark(['--max-frame-bytes', '4096', '--allow-client-publish']);
  const open = [];
  t.afterEach(() => { while (open.length) open.pop().close(); });

  // The healthy pair: a subscriber and a publisher ticking every 25 ms during all the cases below.
  const healthySub = await RawStomp.connect(bark.wsUrl);
  const healthyPub = await RawStomp.connect(bark.wsUrl);
  healthySub.send('SUBSCRIBE', { id: 'h', destination: '/sub/healthy', receipt: 'h' });
  await healthySub.receipt('h');
  let sent = 0;
  const ticker = setInterval(() => {
    if (healthyPub.isOpen) healthyPub.send('SEND', { destination: '/sub/healthy' }, `tick-${sent++}`);
  }, 25);
  t.after(async () => {
    clearInterval(ticker);
    healthySub.close();
    healthyPub.close();
    await bark.stop();
  });

  const raw = async (version = '1.2') => {
    const c = await RawStomp.connect(bark.wsUrl, { 'accept-version': version, host: '127.0.0.1' });
    open.push(c);
    return c;
  };

  await t.test('unknown command → ERROR unknown-command', async () => {
    const c = await raw();
    c.sendRaw('FROBNICATE\nreceipt:r1\n\n\0');
    await expectProtocolError(c, 'unknown-command');
  });

  await t.test('a server command sent by the client (MESSAGE) → ERROR unknown-command', async () => {
    const c = await raw();
    c.send('MESSAGE', { destination: '/sub/x', 'message-id': '1', subscription: '1' }, 'x');
    await expectProtocolError(c, 'unknown-command');
  });

  await t.test('duplicate subscription id → ERROR duplicate-subscription (with receipt-id)', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { id: 'same', destination: '/sub/e1', receipt: 'r1' });
    await c.receipt('r1');
    c.send('SUBSCRIBE', { id: 'same', destination: '/sub/e2', receipt: 'r2' });
    await expectProtocolError(c, 'duplicate-subscription', { receiptId: 'r2' });
  });

  await t.test('UNSUBSCRIBE of an unknown id → ERROR unknown-subscription (with receipt-id)', async () => {
    const c = await raw();
    c.send('UNSUBSCRIBE', { id: 'ghost', receipt: 'u1' });
    await expectProtocolError(c, 'unknown-subscription', { receiptId: 'u1' });
  });

  await t.test('a frame over --max-frame-bytes (4096) → ERROR frame-too-large', async () => {
    const c = await raw();
    c.send('SEND', { destination: '/sub/big' }, 'x'.repeat(5000));
    await expectProtocolError(c, 'frame-too-large');
  });

  await t.test('a frame over the limit split across WebSocket messages → ERROR frame-too-large', async () => {
    const c = await raw();
    const f = frame('SEND', { destination: '/sub/big' }, 'y'.repeat(6000));
    for (let i = 0; i < f.length; i += 1000) c.sendRaw(f.slice(i, i + 1000));
    await expectProtocolError(c, 'frame-too-large');
  });

  await t.test('a frame just under the limit is accepted', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { id: 'u', destination: '/sub/under', receipt: 's' });
    await c.receipt('s');
    c.send('SEND', { destination: '/sub/under', receipt: 'ok' }, 'z'.repeat(3900));
    await c.receipt('ok');
    const [m] = await c.waitMessages(1);
    assert.equal(m.body.length, 3900);
  });

  await t.test('a WebSocket message over 4 × --max-frame-bytes closes with 1009', async () => {
    const c = await raw();
    c.sendRaw('\n'.repeat(4 * 4096 + 100));
    const closed = await c.waitClosed();
    assert.equal(closed.code, 1009);
  });

  await t.test('65 headers → ERROR too-many-headers', async () => {
    const c = await raw();
    const headers = [['destination', '/sub/many']];
    for (let i = 1; i < 65; i++) headers.push([`h${i}`, 'v']);
    assert.equal(headers.length, 65);
    c.send('SEND', headers, 'x');
    await expectProtocolError(c, 'too-many-headers');
  });

  await t.test('64 headers are accepted', async () => {
    const c = await raw();
    const headers = [['destination', '/sub/sixtyfour'], ['receipt', 'r64']];
    for (let i = 2; i < 64; i++) headers.push([`h${i}`, 'v']);
    assert.equal(headers.length, 64);
    c.send('SEND', headers, 'x');
    await c.receipt('r64');
  });

  await t.test('an undefined escape (\\t) in a 1.2 header → ERROR bad-escape', async () => {
    const c = await raw();
    c.sendRaw('SEND\ndestination:/sub/esc\nx-bad:a\\tb\n\nbody\0');
    await expectProtocolError(c, 'bad-escape');
  });

  await t.test('a trailing backslash in a 1.1 header → ERROR bad-escape', async () => {
    const c = await raw('1.1');
    c.sendRaw('SEND\ndestination:/sub/esc\nx-bad:abc\\\n\nbody\0');
    await expectProtocolError(c, 'bad-escape');
  });

  await t.test('the same backslash sequence in 1.0 is not an escape (no ERROR)', async () => {
    const c = await raw('1.0');
    c.sendRaw('SUBSCRIBE\ndestination:/sub/ten\nx-raw:a\\tb\nreceipt:r10\n\n\0');
    await c.receipt('r10');
  });

  await t.test('content-length that is not a number → ERROR bad-content-length', async () => {
    const c = await raw();
    c.sendRaw('SEND\ndestination:/sub/cl\ncontent-length:abc\n\nbody\0');
    await expectProtocolError(c, 'bad-content-length');
  });

  await t.test('content-length body not followed by NUL → ERROR malformed-frame', async () => {
    const c = await raw();
    c.sendRaw('SEND\ndestination:/sub/cl\ncontent-length:3\n\nabcdef\0');
    await expectProtocolError(c, 'malformed-frame');
  });

  await t.test('SUBSCRIBE without destination → ERROR missing-header (with receipt-id)', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { id: 'x', receipt: 'm1' });
    await expectProtocolError(c, 'missing-header', { receiptId: 'm1' });
  });

  await t.test('SUBSCRIBE without id (1.2) → ERROR missing-header', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { destination: '/sub/noid' });
    await expectProtocolError(c, 'missing-header');
  });

  await t.test('SEND without destination → ERROR missing-header', async () => {
    const c = await raw();
    c.send('SEND', { receipt: 'nd' }, 'x');
    await expectProtocolError(c, 'missing-header', { receiptId: 'nd' });
  });

  await t.test('SUBSCRIBE with an unknown ack mode → ERROR', async () => {
    const c = await raw();
    c.send('SUBSCRIBE', { id: 'a', destination: '/sub/ackmode', ack: 'sometimes' });
    const f = await c.waitFor('ERROR');
    assert.ok(f.headers.message, 'message header');
    assert.ok(f.text.trim().length > 0, 'body');
    await c.waitClosed();
  });

  await t.test('nothing is processed after an ERROR: frames behind it in the same message are ignored', async () => {
    const c = await raw();
    c.sendRaw('BOGUS\n\n\0' + frame('SUBSCRIBE', { id: 'late', destination: '/sub/late', receipt: 'late' }));
    await expectProtocolError(c, 'unknown-command');
    assert.equal(c.frames.filter((f) => f.command === 'RECEIPT').length, 0);
    assert.equal(c.frames.filter((f) => f.command === 'ERROR').length, 1, 'exactly one ERROR');
  });

  await t.test('the healthy client received every tick, in order, during all of the above', async () => {
    await waitUntil(() => sent >= 40, 5000, 'the ticker to send 40 messages');
    const last = sent;
    await waitUntil(() => healthySub.messages().length >= last, 5000,
      `healthy subscriber to catch up with ${last} ticks (has ${healthySub.messages().length})`);
    const texts = healthySub.messages().map((m) => m.text);
    assert.ok(last >= 40, `the ticker ran (${last} ticks)`);
    assert.deepEqual(texts.slice(0, last), [...Array(last).keys()].map((i) => `tick-${i}`));
    assert.equal(healthySub.closed, null);
    assert.equal(healthyPub.closed, null);
    assert.equal(healthySub.frames.filter((f) => f.command === 'ERROR').length, 0);
  });
});

test('errors: header-too-long (default limits)', async (t) => {
  const bark = await startBark([]);
  t.after(() => bark.stop());
  const c = await RawStomp.connect(bark.wsUrl);
  t.after(() => c.close());
  c.send('SEND', { destination: '/sub/x', 'x-long': 'a'.repeat(9000) }, 'x');
  await expectProtocolError(c, 'header-too-long');
});
