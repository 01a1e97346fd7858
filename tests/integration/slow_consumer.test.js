'use strict';
// Slow consumers: a subscriber that stops reading its TCP socket is closed by the server once its
// outbound queue passes --send-buffer-bytes (or stays blocked past --send-time-limit), while a
// healthy subscriber of the same topic gets every message without delay.

const test = require('node:test');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const assert = require('node:assert/strict');
const {
  startBark, RawStomp, rawWsHandshake, encodeWsFrame, decodeWsFrames, frame, withTimeout, waitUntil, sleep, httpRequest,
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

// The healthy subscriber runs in a worker thread, so that its reading never waits for the
// publishing loop of this thread. It reports 'ready' once subscribed, then 'done' (or 'timeout')
// with [seq, publisher, sentAt, receivedAt, bodyLength] per message, and 'closed' if closed.
const HEALTHY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { RawStomp } = require(workerData.lib);
(async () => {
  const c = await RawStomp.connect(workerData.wsUrl);
  c.send('SUBSCRIBE', { id: 'healthy', destination: workerData.destination, receipt: 'hs' });
  await c.receipt('hs');
  parentPort.postMessage({ type: 'ready' });
  const report = (type) => parentPort.postMessage({ type, closed: c.closed, records: c.messages().map((m) =>
    [Number(m.headers['x-seq']), Number(m.headers['x-pub']), Number(m.headers['x-sent-at']), m.at, m.body.length]) });
  try {
    await c.waitMessages(workerData.count, workerData.timeoutMs);
    await new Promise((r) => setTimeout(r, 200));
    report('done');
  } catch (err) {
    report('timeout');
  }
  c.close();
})().catch((err) => parentPort.postMessage({ type: 'error', message: String(err && err.stack || err) }));
`;

function startHealthy(wsUrl, destination, count, timeoutMs) {
  const worker = new Worker(HEALTHY_WORKER, {
    eval: true,
    workerData: { wsUrl, destination, count, timeoutMs, lib: path.join(__dirname, 'lib', 'bark.js') },
  });
  const ready = new Promise((resolve, reject) => {
    worker.on('message', (m) => { if (m.type === 'ready') resolve(); if (m.type === 'error') reject(new Error(m.message)); });
    worker.on('error', reject);
  });
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m.type === 'done' || m.type === 'timeout') resolve(m);
      if (m.type === 'error') reject(new Error(m.message));
    });
    worker.on('error', reject);
  });
  return { worker, ready: withTimeout(ready, 5000, 'healthy subscriber ready'), result };
}

// Runs one scenario: a slow and a healthy subscriber on `destination`, then `count` messages of
// 1 KiB from 20 publishers (round robin), paced in bursts of `burst` every `pauseMs` ms.
async function scenario(bark, destination, count, { burst = 100, pauseMs = 10 } = {}) {
  const healthy = startHealthy(bark.wsUrl, destination, count, 15000);
  await healthy.ready;
  const slow = await slowSubscriber(bark.port, destination);

  // bark's resident memory, sampled while the flood runs.
  const rssBefore = bark.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, bark.rss()); }, 20);

  const PUBLISHERS = 20;
  const pubs = [];
  for (let i = 0; i < PUBLISHERS; i++) pubs.push(await RawStomp.connect(bark.wsUrl));
  const payload = 'p'.repeat(1024);
  const t0 = Date.now();
  for (let k = 0; k < count; k++) {
    const i = k % PUBLISHERS;
    pubs[i].send('SEND', { destination, 'x-seq': String(k), 'x-pub': String(i), 'x-sent-at': String(Date.now()) }, payload);
    if ((k + 1) % burst === 0) await sleep(pauseMs);
  }
  pubs.forEach((p, i) => p.send('SEND', { destination: '/sub/slowtest/sync', receipt: `done-${i}` }, ''));
  await Promise.all(pubs.map((p, i) => p.receipt(`done-${i}`, 15000)));

  const res = await withTimeout(healthy.result, 20000, 'healthy subscriber result');
  clearInterval(sampler);
  await healthy.worker.terminate();
  const records = res.records;
  const latencies = records.map(([, , sentAt, at]) => at - sentAt);
  return {
    slow, pubs, t0, res, records, rssBefore, rssPeak,
    allAt: records.length ? Math.max(...records.map((r) => r[3])) : Infinity,
    maxLatency: records.length ? Math.max(...latencies) : Infinity,
  };
}

// Asserts that the healthy subscriber got all `count` messages, each publisher's in order.
function assertHealthy(r, count, publishers = 20) {
  assert.equal(r.res.type, 'done', `healthy subscriber: ${r.records.length} of ${count} messages; closed: ${JSON.stringify(r.res.closed)}`);
  assert.equal(r.res.closed, null, 'the healthy subscriber was not closed');
  assert.equal(r.records.length, count);
  const perPub = new Map();
  for (const [seq, pub, , , len] of r.records) {
    assert.equal(len, 1024);
    assert.equal(seq % publishers, pub);
    if (!perPub.has(pub)) perPub.set(pub, []);
    perPub.get(pub).push(seq);
  }
  for (const [pub, seqs] of perPub) {
    const sorted = [...seqs].sort((a, b) => a - b);
    assert.deepEqual(seqs, sorted, `publisher ${pub}'s messages in order`);
  }
  assert.equal(new Set(r.records.map((x) => x[0])).size, count, 'no duplicates');
}

// The close is counted in /metrics once, and the log names the limit that closed it.
async function slowConsumerCounted(bark, logLine) {
  const m = await httpRequest(bark.port, { path: '/metrics' });
  assert.match(m.body, /^bark_slow_consumers_closed_total 1$/m);
  await waitUntil(() => logLine.test(bark.output()), 3000, `${logLine} in the log`);
}

test('slow consumer: --send-buffer-bytes 65536 --send-time-limit 1000', async (t) => {
  const bark = await startBark(['--send-buffer-bytes', '65536', '--send-time-limit', '1000', '--allow-client-publish']);
  const cleanup = [];
  t.after(async () => { for (const c of cleanup) c(); await bark.stop(); });

  // The kernel takes about 4 MB for a loopback reader that does not read (the server's socket
  // send buffer grows to tcp_wmem's maximum) before bark's own queue grows: send more than that.
  // Bursts of 20 (~22 KiB) stay well under the 64 KiB a reader that keeps up may have waiting.
  const COUNT = 6000;
  const r = await scenario(bark, '/sub/slowtest/a', COUNT, { burst: 20, pauseMs: 5 });
  cleanup.push(() => r.slow.sock.destroy(), ...r.pubs.map((p) => () => p.close()));

  await t.test('the healthy subscriber receives all messages, per publisher in order, quickly', () => {
    assertHealthy(r, COUNT);
    assert.ok(r.allAt - r.t0 < 8000, `all ${COUNT} received after ${r.allAt - r.t0} ms`);
    assert.ok(r.maxLatency < 1000, `max latency ${r.maxLatency} ms`);
    console.log(`# healthy: ${COUNT} messages in ${r.allAt - r.t0} ms, max latency ${r.maxLatency} ms`);
  });

  await t.test('bark\'s memory stays bounded while the slow subscriber holds its queue', (tt) => {
    // A sanitizer's allocator keeps freed memory in quarantine: RSS says nothing there.
    if (bark.sanitized()) {
      tt.skip('a sanitizer build');
      return;
    }
    const grown = r.rssPeak - r.rssBefore;
    console.log(`# RSS ${(r.rssBefore / 1048576).toFixed(1)} → peak ${(r.rssPeak / 1048576).toFixed(1)} MiB`);
    assert.ok(grown < 32 * 1048576, `RSS grew ${(grown / 1048576).toFixed(1)} MiB for 6 MiB of messages`);
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
    await slowConsumerCounted(bark, /aborted: slow-consumer: (send buffer full|write blocked)/);
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
  cleanup.push(() => r.slow.sock.destroy(), ...r.pubs.map((p) => () => p.close()));

  assertHealthy(r, COUNT);
  assert.ok(r.allAt - r.t0 < 8000, `all ${COUNT} received after ${r.allAt - r.t0} ms`);
  assert.ok(r.maxLatency < 2500, `healthy max latency ${r.maxLatency} ms`);

  await sleep(1500);
  r.slow.resume();
  await withTimeout(waitUntil(() => r.slow.state.closed || r.slow.state.ended, 10000, 'slow socket end'), 11000,
    `the server to close the blocked consumer (read ${r.slow.state.bytes} bytes, ${r.slow.messageCount()} MESSAGEs)`);
  assert.ok(r.slow.messageCount() < COUNT, `cut off: received ${r.slow.messageCount()} of ${COUNT}`);
  await slowConsumerCounted(bark, /aborted: slow-consumer: write blocked/);
});
