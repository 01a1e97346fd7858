'use strict';
// The seed frontend's library, stompjs 2.3.3 (`Stomp.over(ws)`), against bark: connect, subscribe,
// send, receive, unsubscribe, disconnect; over a bare WebSocket (as over SockJS: no subprotocol)
// and through Stomp.client (which offers v10.stomp, v11.stomp).

const test = require('node:test');
const assert = require('node:assert/strict');
// A ws WebSocket that carries the test run's token in its upgrade request (bark requires a JWT).
const { AuthWebSocket: WebSocket } = require('./lib/bark');
const Stomp = require('stompjs');
const { startBark, withTimeout, sleep, waitUntil } = require('./lib/bark');

// Connects a stompjs 2.3.3 client over `ws`; resolves {client, frame (CONNECTED), ws}.
function connectOld(ws, headers = {}) {
  const client = Stomp.over(ws);
  client.debug = null;
  client.heartbeat.outgoing = 0;
  client.heartbeat.incoming = 0;
  return withTimeout(new Promise((resolve, reject) => {
    client.connect(headers, (f) => resolve({ client, frame: f, ws }),
      (err) => reject(new Error(`stompjs 2.3.3 error: ${typeof err === 'string' ? err : err.headers.message + ' ' + err.body}`)));
  }), 5000, 'stompjs 2.3.3 connect');
}

test('stompjs 2.3.3', async (t) => {
  const bark = await startBark(['--allow-client-publish']);
  const sockets = [];
  t.after(async () => { for (const s of sockets) s.terminate(); await bark.stop(); });
  const ws = (protocols) => { const s = new WebSocket(bark.wsUrl, protocols); sockets.push(s); return s; };

  await t.test('Stomp.over(ws) (no subprotocol, like SockJS): connect → STOMP 1.1', async () => {
    const { client, frame } = await connectOld(ws());
    assert.equal(client.connected, true);
    assert.equal(frame.command, 'CONNECTED');
    assert.equal(frame.headers.version, '1.1');
    assert.match(frame.headers.server || '', /^bark\//);
  });

  await t.test('subscribe, send, receive (JSON body like the seed), with custom headers', async () => {
    const { client: sub } = await connectOld(ws());
    const { client: pub } = await connectOld(ws());
    const got = [];
    const receipts = [];
    sub.onreceipt = (f) => receipts.push(f.headers['receipt-id']);
    sub.subscribe('/sub/legacy/room', (m) => got.push(m), { receipt: 'legacy-sub' });
    await waitUntil(() => receipts.includes('legacy-sub'), 3000, 'RECEIPT for the stompjs 2.3.3 SUBSCRIBE');
    const body = JSON.stringify({ roomId: 1, messageText: 'hello from 2.3.3 ✓', sendAt: new Date().toISOString() });
    pub.send('/sub/legacy/room', { 'content-type': 'application/json', 'x-seed': 'yes' }, body);
    await waitUntil(() => got.length >= 1, 3000, 'message to the stompjs 2.3.3 subscriber');
    const m = got[0];
    assert.equal(m.headers.destination, '/sub/legacy/room');
    assert.equal(m.headers['x-seed'], 'yes');
    assert.ok(m.headers['message-id']);
    // stompjs 2.3.3 decodes binary WebSocket messages byte by byte (Latin-1), so non-ASCII text
    // survives only in text messages, which is what the seed's frontend needs.
    assert.equal(m.body, body);
  });

  await t.test('unsubscribe stops delivery; disconnect callback runs', async () => {
    const { client: sub } = await connectOld(ws());
    const { client: pub } = await connectOld(ws());
    const got = [];
    const receipts = [];
    sub.onreceipt = (f) => receipts.push(f.headers['receipt-id']);
    const s = sub.subscribe('/sub/legacy/unsub', (m) => got.push(m.body), { receipt: 'u1' });
    await waitUntil(() => receipts.includes('u1'), 3000, 'SUBSCRIBE receipt');
    pub.send('/sub/legacy/unsub', {}, 'first');
    await waitUntil(() => got.length === 1, 3000, 'first message');
    s.unsubscribe();
    // A receipt-bearing frame after UNSUBSCRIBE makes sure the server processed it.
    sub.subscribe('/sub/legacy/other', () => {}, { receipt: 'u2' });
    await waitUntil(() => receipts.includes('u2'), 3000, 'receipt after UNSUBSCRIBE');
    pub.send('/sub/legacy/unsub', {}, 'second');
    await sleep(300);
    assert.deepEqual(got, ['first']);
    await withTimeout(new Promise((resolve) => sub.disconnect(resolve)), 3000, 'disconnect callback');
  });

  await t.test('Stomp.client (offers v10.stomp, v11.stomp) negotiates v11.stomp and STOMP 1.1', async () => {
    Stomp.WebSocketClass = WebSocket;
    const client = Stomp.client(bark.wsUrl);
    sockets.push(client.ws);
    client.debug = null;
    client.heartbeat.outgoing = 0;
    client.heartbeat.incoming = 0;
    const frame = await withTimeout(new Promise((resolve, reject) => client.connect({}, resolve, reject)), 5000,
      'Stomp.client connect');
    assert.equal(client.ws.protocol, 'v11.stomp');
    assert.equal(frame.headers.version, '1.1');
    const got = [];
    client.subscribe('/sub/legacy/client', (m) => got.push(m.body));
    client.send('/sub/legacy/client', {}, 'round trip');
    await waitUntil(() => got.length >= 1, 3000, 'round trip on Stomp.client');
    assert.equal(got[0], 'round trip');
  });

  await t.test('the default 10000,10000 heart-beat offer of stompjs 2.3.3 is accepted', async () => {
    const client = Stomp.over(ws());
    client.debug = null;
    const frame = await withTimeout(new Promise((resolve, reject) => client.connect({}, resolve, reject)), 5000,
      'connect');
    try {
      assert.match(frame.headers['heart-beat'], /^\d+,\d+$/);
      assert.equal(client.connected, true);
    } finally {
      client.disconnect(() => {});
    }
  });
});
