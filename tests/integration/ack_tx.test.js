'use strict';
// Acknowledgement modes (client, client-individual; 1.2 and 1.1 styles) and transactions
// (BEGIN/COMMIT/ABORT of SENDs and ACKs).

const test = require('node:test');
const assert = require('node:assert/strict');
const { startBark, RawStomp, expectProtocolError, sleep } = require('./lib/bark');

test('ack and transactions', async (t) => {
  const bark = await startBark(['--allow-client-publish']);
  t.after(() => bark.stop());
  const open = [];
  t.afterEach(() => { while (open.length) open.pop().close(); });
  let topicN = 0;
  const topic = () => `/sub/acktx/${++topicN}`;
  const raw = async (version = '1.2') => {
    const c = await RawStomp.connect(bark.wsUrl, { 'accept-version': version, host: '127.0.0.1' });
    open.push(c);
    return c;
  };
  const subscribe = async (c, id, destination, extra = {}) => {
    c.send('SUBSCRIBE', { id, destination, receipt: `sub-${id}`, ...extra });
    await c.receipt(`sub-${id}`);
  };
  // Publishes bodies from a separate connection and waits for the SEND receipts.
  const publish = async (dest, bodies) => {
    const p = await raw();
    bodies.forEach((b, i) => p.send('SEND', { destination: dest, receipt: `p${i}` }, b));
    for (let i = 0; i < bodies.length; i++) await p.receipt(`p${i}`);
    return p;
  };

  await t.test('client mode (1.2): MESSAGE has ack; ACK of the 3rd settles 1..3 (ACK of the 1st → unknown-ack)', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client' });
    await publish(d, ['m1', 'm2', 'm3']);
    const msgs = await c.waitMessages(3);
    assert.deepEqual(msgs.map((m) => m.text), ['m1', 'm2', 'm3']);
    for (const m of msgs) assert.ok(m.headers.ack, `MESSAGE has an ack header:\n${m.raw}`);
    assert.equal(new Set(msgs.map((m) => m.headers.ack)).size, 3, 'ack ids are distinct');
    c.send('ACK', { id: msgs[2].headers.ack, receipt: 'a3' });
    await c.receipt('a3');
    c.send('ACK', { id: msgs[0].headers.ack, receipt: 'a1' });
    await expectProtocolError(c, 'unknown-ack', { receiptId: 'a1' });
  });

  await t.test('client mode: ACK of an unknown id → ERROR unknown-ack, then close', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client' });
    c.send('ACK', { id: 'no-such-ack-id', receipt: 'x' });
    await expectProtocolError(c, 'unknown-ack', { receiptId: 'x' });
  });

  await t.test('ACK on an auto subscription\'s message id → ERROR unknown-ack', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d);
    await publish(d, ['auto']);
    const [m] = await c.waitMessages(1);
    assert.equal(m.headers.ack, undefined);
    c.send('ACK', { id: m.headers['message-id'] });
    await expectProtocolError(c, 'unknown-ack');
  });

  await t.test('client-individual mode: ACK settles just the one message', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client-individual' });
    await publish(d, ['i1', 'i2', 'i3']);
    const msgs = await c.waitMessages(3);
    for (const m of msgs) assert.ok(m.headers.ack, 'MESSAGE has an ack header');
    c.send('ACK', { id: msgs[1].headers.ack, receipt: 'a2' });
    await c.receipt('a2');
    c.send('ACK', { id: msgs[0].headers.ack, receipt: 'a1' }); // still pending: individual mode
    await c.receipt('a1');
    c.send('NACK', { id: msgs[2].headers.ack, receipt: 'n3' });
    await c.receipt('n3');
    await sleep(200);
    assert.equal(c.messages().length, 3, 'a NACKed message is not redelivered');
    c.send('ACK', { id: msgs[1].headers.ack, receipt: 'again' }); // already settled
    await expectProtocolError(c, 'unknown-ack', { receiptId: 'again' });
  });

  await t.test('client mode: NACK settles that and earlier messages', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client' });
    await publish(d, ['n1', 'n2']);
    const msgs = await c.waitMessages(2);
    c.send('NACK', { id: msgs[1].headers.ack, receipt: 'n' });
    await c.receipt('n');
    c.send('ACK', { id: msgs[0].headers.ack });
    await expectProtocolError(c, 'unknown-ack');
  });

  await t.test('STOMP 1.1: ACK with message-id + subscription', async () => {
    const d = topic();
    const c = await raw('1.1');
    await subscribe(c, 'sub11', d, { ack: 'client-individual' });
    await publish(d, ['v1', 'v2']);
    const msgs = await c.waitMessages(2);
    assert.equal(msgs[0].headers.subscription, 'sub11');
    c.send('ACK', { 'message-id': msgs[1].headers['message-id'], subscription: 'sub11', receipt: 'a' });
    await c.receipt('a');
    c.send('ACK', { 'message-id': msgs[0].headers['message-id'], subscription: 'sub11', receipt: 'b' });
    await c.receipt('b');
    c.send('ACK', { 'message-id': msgs[0].headers['message-id'], subscription: 'sub11', receipt: 'c' });
    await expectProtocolError(c, 'unknown-ack', { receiptId: 'c' });
  });

  await t.test('STOMP 1.1 ACK without message-id → ERROR missing-header', async () => {
    const d = topic();
    const c = await raw('1.1');
    await subscribe(c, 's', d, { ack: 'client' });
    c.send('ACK', { subscription: 's' });
    await expectProtocolError(c, 'missing-header');
  });

  await t.test('STOMP 1.2 ACK without id → ERROR missing-header', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client' });
    c.send('ACK', {});
    await expectProtocolError(c, 'missing-header');
  });

  await t.test('transaction: SENDs are delivered only on COMMIT, in order', async () => {
    const d = topic();
    const s = await raw();
    await subscribe(s, 's', d);
    const c = await raw();
    c.send('BEGIN', { transaction: 'tx1', receipt: 'b' });
    await c.receipt('b');
    c.send('SEND', { destination: d, transaction: 'tx1', receipt: 's1' }, 'tx-a');
    c.send('SEND', { destination: d, transaction: 'tx1', receipt: 's2' }, 'tx-b');
    await c.receipt('s1');
    await c.receipt('s2');
    await sleep(300);
    assert.equal(s.messages().length, 0, 'nothing delivered before COMMIT');
    c.send('COMMIT', { transaction: 'tx1', receipt: 'c' });
    await c.receipt('c');
    const msgs = await s.waitMessages(2);
    assert.deepEqual(msgs.map((m) => m.text), ['tx-a', 'tx-b']);
    // The transaction is over: its name can be begun again.
    c.send('BEGIN', { transaction: 'tx1', receipt: 'b2' });
    await c.receipt('b2');
  });

  await t.test('transaction: ABORT drops its SENDs; SENDs outside it still go', async () => {
    const d = topic();
    const s = await raw();
    await subscribe(s, 's', d);
    const c = await raw();
    c.send('BEGIN', { transaction: 'tx2' });
    c.send('SEND', { destination: d, transaction: 'tx2' }, 'aborted-1');
    c.send('SEND', { destination: d }, 'outside');
    c.send('SEND', { destination: d, transaction: 'tx2' }, 'aborted-2');
    c.send('ABORT', { transaction: 'tx2', receipt: 'a' });
    await c.receipt('a');
    c.send('SEND', { destination: d, receipt: 'm' }, 'marker');
    await c.receipt('m');
    await s.waitFor((f) => f.command === 'MESSAGE' && f.text === 'marker');
    await sleep(200);
    assert.deepEqual(s.messages().map((m) => m.text), ['outside', 'marker']);
    c.send('COMMIT', { transaction: 'tx2', receipt: 'late' });
    await expectProtocolError(c, 'unknown-transaction', { receiptId: 'late' });
  });

  await t.test('transaction: DISCONNECT drops an open transaction', async () => {
    const d = topic();
    const s = await raw();
    await subscribe(s, 's', d);
    const c = await raw();
    c.send('BEGIN', { transaction: 'tx3' });
    c.send('SEND', { destination: d, transaction: 'tx3' }, 'never');
    c.send('DISCONNECT', { receipt: 'bye' });
    await c.receipt('bye');
    const p = await publish(d, ['marker']);
    assert.ok(p);
    await s.waitFor((f) => f.command === 'MESSAGE' && f.text === 'marker');
    await sleep(200);
    assert.deepEqual(s.messages().map((m) => m.text), ['marker']);
  });

  await t.test('COMMIT of an unknown transaction → ERROR unknown-transaction', async () => {
    const c = await raw();
    c.send('COMMIT', { transaction: 'nope', receipt: 'r' });
    await expectProtocolError(c, 'unknown-transaction', { receiptId: 'r' });
  });

  await t.test('ABORT of an unknown transaction → ERROR unknown-transaction', async () => {
    const c = await raw();
    c.send('ABORT', { transaction: 'nope' });
    await expectProtocolError(c, 'unknown-transaction');
  });

  await t.test('SEND naming an unknown transaction → ERROR unknown-transaction', async () => {
    const c = await raw();
    c.send('SEND', { destination: topic(), transaction: 'nope' }, 'x');
    await expectProtocolError(c, 'unknown-transaction');
  });

  await t.test('BEGIN of an open transaction → ERROR duplicate-transaction', async () => {
    const c = await raw();
    c.send('BEGIN', { transaction: 'dup', receipt: 'b1' });
    await c.receipt('b1');
    c.send('BEGIN', { transaction: 'dup', receipt: 'b2' });
    await expectProtocolError(c, 'duplicate-transaction', { receiptId: 'b2' });
  });

  await t.test('BEGIN without transaction header → ERROR missing-header', async () => {
    const c = await raw();
    c.send('BEGIN', {});
    await expectProtocolError(c, 'missing-header');
  });

  await t.test('ACK inside a transaction: dropped on ABORT, takes effect on COMMIT', async () => {
    const d = topic();
    const c = await raw();
    await subscribe(c, 's', d, { ack: 'client-individual' });
    await publish(d, ['t1', 't2']);
    const [m1, m2] = await c.waitMessages(2);
    // ACK m1 in a transaction that is aborted: m1 stays pending, so a plain ACK still works.
    c.send('BEGIN', { transaction: 'ta' });
    c.send('ACK', { id: m1.headers.ack, transaction: 'ta', receipt: 'ta-ack' });
    await c.receipt('ta-ack');
    c.send('ABORT', { transaction: 'ta', receipt: 'ta-abort' });
    await c.receipt('ta-abort');
    c.send('ACK', { id: m1.headers.ack, receipt: 'plain1' });
    await c.receipt('plain1');
    // ACK m2 in a committed transaction: afterwards m2 is no longer pending.
    c.send('BEGIN', { transaction: 'tc' });
    c.send('ACK', { id: m2.headers.ack, transaction: 'tc', receipt: 'tc-ack' });
    await c.receipt('tc-ack');
    c.send('COMMIT', { transaction: 'tc', receipt: 'tc-commit' });
    await c.receipt('tc-commit');
    c.send('ACK', { id: m2.headers.ack, receipt: 'plain2' });
    await expectProtocolError(c, 'unknown-ack', { receiptId: 'plain2' });
  });
});
