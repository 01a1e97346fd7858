'use strict';
// Heart-beating with a server started with --heartbeat 200,200: the server's EOLs, closing a silent
// client after twice the negotiated interval, and a library client that stays up.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startBark, RawStomp, stompJsConnect, stompJsReceipt, sleep } = require('./lib/bark');

test('heartbeat', async (t) => {
  const bark = await startBark(['--heartbeat', '200,200']);
  t.after(() => bark.stop());
  const open = [];
  t.afterEach(() => { while (open.length) open.pop().close(); });
  const connect = async (hb, version = '1.2') => {
    const c = await RawStomp.open(bark.wsUrl);
    open.push(c);
    const f = await c.connect({ 'accept-version': version, host: '127.0.0.1', 'heart-beat': hb });
    assert.equal(f.command, 'CONNECTED', c.dump());
    return { c, connected: f };
  };

  await t.test('CONNECTED to a 100,100 client says 200,200', async () => {
    const { connected } = await connect('100,100');
    assert.equal(connected.headers['heart-beat'], '200,200');
  });

  await t.test('client 200,200 (sending beats): the server sends an EOL about every 200 ms', async () => {
    const { c } = await connect('200,200');
    // Keep our side alive so the server does not close us meanwhile.
    const ping = setInterval(() => { if (c.isOpen) c.sendRaw('\n'); }, 100);
    try {
      const start = c.heartbeats.length;
      const t0 = Date.now();
      await sleep(1500);
      const beats = c.heartbeats.slice(start);
      const gaps = beats.slice(1).map((x, i) => x - beats[i]);
      assert.equal(c.closed, null, `connection closed: ${JSON.stringify(c.closed)}`);
      assert.ok(beats.length >= 4, `only ${beats.length} EOLs in ${Date.now() - t0} ms`);
      assert.ok(beats.length <= 30, `too many EOLs: ${beats.length} in 1.5 s`);
      assert.ok(Math.max(...gaps) < 450, `a gap between server EOLs of ${Math.max(...gaps)} ms (want ~200)`);
    } finally {
      clearInterval(ping);
    }
  });

  await t.test('client 200,1000: the server sends EOLs every ~1000 ms (max(CX, cy)), not every 200', async () => {
    const { c } = await connect('200,1000');
    const ping = setInterval(() => { if (c.isOpen) c.sendRaw('\n'); }, 100);
    try {
      const start = c.heartbeats.length;
      await sleep(1500);
      const beats = c.heartbeats.length - start;
      assert.equal(c.closed, null);
      assert.ok(beats >= 1 && beats <= 5, `${beats} EOLs in 1.5 s`);
    } finally {
      clearInterval(ping);
    }
  });

  await t.test('client 0,0: no heart-beats from the server', async () => {
    const { c } = await connect('0,0');
    await sleep(700);
    assert.equal(c.heartbeats.length, 0);
    assert.equal(c.closed, null, 'a 0,0 client is not closed for silence');
  });

  await t.test('a 1.0 client gets no heart-beats even if it asks', async () => {
    const { c } = await connect('200,200', '1.0');
    const ping = setInterval(() => { if (c.isOpen) c.sendRaw('\n'); }, 100);
    try {
      await sleep(700);
      assert.equal(c.heartbeats.length, 0);
    } finally {
      clearInterval(ping);
    }
  });

  await t.test('client 100,0 that goes silent is closed after ~2×max(100,200) = 400 ms', async () => {
    const { c, connected } = await connect('100,0');
    const closed = await c.waitClosed(2000);
    const after = closed.at - connected.at;
    assert.ok(after >= 300, `closed after only ${after} ms of silence`);
    assert.ok(after < 2000, `closed after ${after} ms`);
    assert.equal(c.heartbeats.length, 0, 'cy=0: the server sent no EOLs');
  });

  await t.test('client 100,0 that sends EOLs every 100 ms stays open past 1.2 s', async () => {
    const { c } = await connect('100,0');
    const ping = setInterval(() => { if (c.isOpen) c.sendRaw('\n'); }, 100);
    try {
      await sleep(1200);
      assert.equal(c.closed, null, `closed: ${JSON.stringify(c.closed)}`);
      c.send('SUBSCRIBE', { id: 'hb', destination: '/sub/hb', receipt: 'alive' });
      await c.receipt('alive');
    } finally {
      clearInterval(ping);
    }
  });

  await t.test('client 100,0 that keeps sending frames (not EOLs) stays open', async () => {
    const { c } = await connect('100,0');
    let n = 0;
    const tick = setInterval(() => {
      if (c.isOpen) c.send('SUBSCRIBE', { id: `s${n}`, destination: `/sub/hbf/${n}`, receipt: `r${n++}` });
    }, 120);
    try {
      await sleep(1000);
      assert.equal(c.closed, null, `closed: ${JSON.stringify(c.closed)}`);
      assert.ok(c.frames.filter((f) => f.command === 'RECEIPT').length >= 5);
    } finally {
      clearInterval(tick);
    }
  });

  await t.test('client 0,0 that is silent for 1 s is not closed', async () => {
    const { c } = await connect('0,0');
    await sleep(1000);
    assert.equal(c.closed, null);
    c.send('SUBSCRIBE', { id: 'q', destination: '/sub/q', receipt: 'still' });
    await c.receipt('still');
  });

  await t.test('@stomp/stompjs with heartbeatIncoming/Outgoing 200 stays connected for 2 s', async () => {
    const { client, closed, connected } = await stompJsConnect(bark.wsUrl, {
      heartbeatIncoming: 200, heartbeatOutgoing: 200,
    });
    let closedEvt = null;
    closed.then((e) => { closedEvt = e; });
    try {
      assert.equal(connected.headers['heart-beat'], '200,200');
      await sleep(2000);
      assert.equal(closedEvt, null, `connection closed: ${closedEvt && closedEvt.code}`);
      assert.equal(client.connected, true);
      await stompJsReceipt(client, 'hb-js', () => client.subscribe('/sub/hbjs', () => {}, { receipt: 'hb-js' }));
    } finally {
      await client.deactivate();
    }
  });
});
