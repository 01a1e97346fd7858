'use strict';
// Slow consumers: a subscriber that stops reading its TCP socket is closed by the server once its
// outbound queue passes --send-buffer-bytes (or stays blocked past --send-time-limit), while a
// healthy subscriber of the same topic gets every message without delay.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  startBark, RawStomp, rawWsHandshake, encodeWsFrame, decodeWsFrames, frame, withTimeout, waitUntil, sleep,
} = require('./lib/bark');

// A subscriber made by hand on a plain TCP socket; it subscribes, waits for the RECEIPT, then
// stops reading (socket paused) until resume() is called.
async function slowSubscriber(port, destination) {
  const hs = await rawWsHandshake(port, { headers: { 'Sec-WebSocket-Protocol': 'v12.stomp' } });
  assert.equal(hs.status, 101, hs.statusLine);
  const sock = hs.socket;
  const state = { bytes: 0, buf: Buffer.from(hs.rest), wsFrames: [], closed: false, closedAt: null, error: null };
  const onData = (chunk) => {
    state.bytes += chunk.length;
    state.buf = Buffer.concat([state.buf, chunk]);
    const { frames, rest } = decodeWsFrames(state.buf);
    state.wsFrames.push(...frames.map((f) => ({ opcode: f.opcode, text: f.opcode === 8 ? null : f.payload.toString('utf8'), payload: f.payload })));
    state.buf = Buffer.from(rest);
  };
  sock.on('data', onData);
  sock.on('end', () => { state.ended = true; });
  sock.on('close', () => { state.closed = true; state.closedAt = Date.now(); });
  sock.on('error', (e) => { state.error = e; });
  sock.write(encodeWsFrame(frame('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0' })));
  sock.write(encodeWsFrame(frame('SUBSCRIBE', { id: 'slow', destination, receipt: 'slow-sub' })));
  sock.resume();
  await waitUntil(() => state.wsFrames.some((f) => f.text && f.text.includes('receipt-id:slow-sub')), 5000,
    'slow subscriber RECEIPT');
  sock.pause();
  return {
    sock,
    state,
    resume: () => sock.resume(),
    // STOMP MESSAGE frames seen so far (counted per text; several may share one WebSocket message).
    messageCount: () => (state.wsFrames.map((f) => f.text || '').join('').match(/MESSAGE\n/g) || []).length,
    closeCode: () => {
      const c = state.wsFrames.find((f) => f.opcode === 8);
      return c && c.payload.length >= 2 ? c.payload.readUInt16BE(0) : null;
    },
  };
}

// Runs one scenario: a slow and a healthy subscriber on `destination`, `count` messages of 1 KiB
// from 20 publishers (each at most 100 + remainder, to stay within any per-connection rate).
async function scenario(bark, destination, count) {
  const healthy = await RawStomp.connect(bark.wsUrl);
  healthy.send('SUBSCRIBE', { id: 'healthy', destination, receipt: 'hs' });
  await healthy.receipt('hs');
  const slow = await slowSubscriber(bark.port, destination);

  const PUBLISHERS = 20;
  const pubs = [];
  for (let i = 0; i < PUBLISHERS; i++) pubs.push(await RawStomp.connect(bark.wsUrl));
  const payload = 'p'.repeat(1024);
  const t0 = Date.now();
  for (let k = 0; k < count; k++) {
    const p = pubs[k % PUBLISHERS];
    p.send('SEND', { destination, 'x-seq': String(k), 'x-sent-at': String(Date.now()) }, payload);
  }
  pubs.forEach((p, i) => p.send('SEND', { destination: '/sub/slowtest/sync', receipt: `done-${i}` }, ''));
  await Promise.all(pubs.map((p, i) => p.receipt(`done-${i}`, 15000)));

  const msgs = await healthy.waitMessages(count, 15000);
  const allAt = Date.now();
  const latencies = msgs.map((m) => m.at - Number(m.headers['x-sent-at']));
  return { healthy, slow, pubs, msgs, t0, allAt, maxLatency: Math.max(...latencies) };
}

test('slow consumer: --send-buffer-bytes 65536 --send-time-limit 1000', async (t) => {
  const bark = await startBark(['--send-buffer-bytes', '65536', '--send-time-limit', '1000', '--allow-client-publish']);
  const cleanup = [];
  t.after(async () => { for (const c of cleanup) c(); await bark.stop(); });

  const COUNT = 2000;
  const r = await scenario(bark, '/sub/slowtest/a', COUNT);
  cleanup.push(() => r.healthy.close(), () => r.slow.sock.destroy(), ...r.pubs.map((p) => () => p.close()));

  await t.test('the healthy subscriber receives all messages, in order, quickly', () => {
    assert.equal(r.msgs.length, COUNT);
    assert.deepEqual(r.msgs.map((m) => Number(m.headers['x-seq'])), [...Array(COUNT).keys()]);
    assert.ok(r.msgs.every((m) => m.body.length === 1024));
    assert.ok(r.allAt - r.t0 < 5000, `all ${COUNT} received after ${r.allAt - r.t0} ms`);
    assert.ok(r.maxLatency < 2000, `max latency ${r.maxLatency} ms`);
    assert.equal(r.healthy.closed, null);
  });

  await t.test('the slow subscriber is closed by the server', async () => {
    // Give the server the send-time-limit to notice, then read what is left and expect the end.
    await sleep(1200);
    r.slow.resume();
    await withTimeout(waitUntil(() => r.slow.state.closed || r.slow.state.ended, 10000, 'slow socket end'), 11000,
      `the server to close the slow consumer (read ${r.slow.state.bytes} bytes, ${r.slow.messageCount()} MESSAGEs)`);
    const got = r.slow.messageCount();
    assert.ok(got < COUNT, `the slow consumer was cut off (received ${got} of ${COUNT})`);
    const code = r.slow.closeCode();
    if (code !== null) assert.equal(code, 1008, 'close code for a slow consumer');
  });

  await t.test('the server still serves new clients afterwards', async () => {
    const c = await RawStomp.connect(bark.wsUrl);
    try {
      c.send('SUBSCRIBE', { id: 'x', destination: '/sub/slowtest/after', receipt: 'x' });
      await c.receipt('x');
      c.send('SEND', { destination: '/sub/slowtest/after' }, 'fine');
      const [m] = await c.waitMessages(1);
      assert.equal(m.text, 'fine');
    } finally { c.close(); }
  });
});

test('slow consumer: a write blocked past --send-time-limit (large send buffer)', async (t) => {
  const bark = await startBark(['--send-buffer-bytes', String(256 * 1024 * 1024), '--send-time-limit', '1000',
    '--allow-client-publish']);
  const cleanup = [];
  t.after(async () => { for (const c of cleanup) c(); await bark.stop(); });

  // More than the kernel buffers of one loopback connection hold (client rcvbuf + server sndbuf).
  const COUNT = 6000;
  const r = await scenario(bark, '/sub/slowtest/b', COUNT);
  cleanup.push(() => r.healthy.close(), () => r.slow.sock.destroy(), ...r.pubs.map((p) => () => p.close()));

  assert.equal(r.msgs.length, COUNT);
  assert.ok(r.allAt - r.t0 < 8000, `all ${COUNT} received after ${r.allAt - r.t0} ms`);
  assert.ok(r.maxLatency < 2500, `healthy max latency ${r.maxLatency} ms`);

  await sleep(1500);
  r.slow.resume();
  await withTimeout(waitUntil(() => r.slow.state.closed || r.slow.state.ended, 10000, 'slow socket end'), 11000,
    `the server to close the blocked consumer (read ${r.slow.state.bytes} bytes, ${r.slow.messageCount()} MESSAGEs)`);
  assert.ok(r.slow.messageCount() < COUNT, `cut off: received ${r.slow.messageCount()} of ${COUNT}`);
});
