'use strict';
// Graceful stop (SPEC §2): SIGTERM during a chat load. Every receipted message is stored, the
// queued frames are flushed first, WebSocket clients see a close with 1001, a SockJS client sees
// its close frame, and bark exits 0 within 10 s.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { startBark, chatConnect, createRoom, fullHistory, sleep, waitUntil } = require('./lib/bark');

const CUST = { userId: 1301, username: 'sd-customer', role: 'USER' };
const SALON = { userId: 2301, username: 'sd-salon', role: 'SALON' };

// An xhr_streaming receiver: collects the SockJS frames of the response until it ends.
function sockjsStream(port, base, token) {
  const frames = [];
  let ended = false;
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `${base}/xhr_streaming`,
    headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
    let buf = '';
    res.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line && !/^h+$/.test(line)) frames.push(line);
      }
    });
    res.on('end', () => { ended = true; });
    res.on('error', () => { ended = true; });
  });
  req.on('error', () => { ended = true; });
  req.end();
  return { frames, ended: () => ended };
}

test('SIGTERM during a chat load', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-stop-'));
  const store = `sqlite:${path.join(dir, 'chat.db')}`;
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bark = await startBark(['--store', store, '--threads', '2']);
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const R = room.roomId;

  const salon = await chatConnect(bark, SALON);
  await salon.subscribe('room', `/sub/chat/${R}`);
  const senders = [await chatConnect(bark, CUST), await chatConnect(bark, CUST)];
  const sj = sockjsStream(bark.port, `/ws/chat/000/stop${Date.now()}`, bark.token(CUST));
  await waitUntil(() => sj.frames.includes('o'), 3000, 'the SockJS session to open');

  // Two senders keep up to 64 unreceipted SENDs each in flight (so the store's queue at the stop
  // is bounded on any machine); a third client starts sending without receipts at the SIGTERM and
  // never stops: bark must not act on its frames nor let them hold its close back.
  const WINDOW = 64;
  let stop = false;
  const receipts = (c) => c.frames.reduce((n, f) => n + (f.command === 'RECEIPT'), 0);
  const pumps = senders.map(async (c, k) => {
    let got = 0;
    for (let n = 0; !stop && !c.closed; n++) {
      while (n - got >= WINDOW && !stop && !c.closed) {
        await sleep(1);
        got = receipts(c);
      }
      c.chatSend(R, { messageText: `s${k} ${n}`, clientMessageId: `s${k}-${n}` }, { receipt: `s${k}-${n}` });
      if (n % 4 === 3) await sleep(0);
    }
  });
  const chatter = await chatConnect(bark, CUST);
  await chatter.subscribe('errors', '/user/queue/errors');
  await sleep(700);
  const t0 = Date.now();
  bark.proc.kill('SIGTERM');
  const exited = bark.stop({ killAfterMs: 15000 });
  await waitUntil(() => /signal 15: stopping/.test(bark.output()), 5000, 'bark to log the stop');
  const chatting = (async () => {
    for (let n = 0; !chatter.closed; n++) {
      chatter.chatSend(R, { messageText: `late ${n}`, clientMessageId: `late-${n}` });
      if (n % 8 === 7) await sleep(1);
    }
  })();
  const exit = await exited;
  const took = Date.now() - t0;
  stop = true;
  await Promise.all([...pumps, chatting]);

  await t.test('exit 0 within 10 s', () => {
    assert.equal(exit.code, 0, bark.output());
    assert.equal(exit.signal, null);
    assert.ok(took < 10000, `${took} ms`);
  });

  await t.test('WebSocket clients see a close with 1001, after their queued frames', async () => {
    for (const c of [salon, ...senders, chatter]) {
      const closed = await c.waitClosed(3000);
      assert.equal(closed.code, 1001, c.dump().slice(-400));
    }
  });

  await t.test('the SockJS client gets its close frame', async () => {
    await waitUntil(() => sj.frames.some((f) => f.startsWith('c[1001')), 3000, `c[1001...] in ${sj.frames.slice(-3)}`);
  });

  await t.test('every receipted message is stored; the subscriber got every broadcast before the close', async () => {
    const receipted = new Set();
    for (const c of senders) for (const f of c.frames) if (f.command === 'RECEIPT') receipted.add(f.headers['receipt-id']);
    assert.ok(receipted.size > 50, `${receipted.size} receipts before the stop`);
    const again = await startBark(['--store', store]);
    try {
      const hist = await fullHistory(again, again.token(CUST), R, { max: 1000 });
      const keys = new Set(hist.map((m) => m.clientMessageId));
      for (const k of receipted) assert.ok(keys.has(k), `receipted ${k} is stored`);
      const late = hist.filter((m) => m.clientMessageId.startsWith('late-'));
      assert.deepEqual(late, [], 'frames sent after the stop began are not acted on');
      assert.deepEqual(chatter.frames.filter((f) => f.command === 'MESSAGE' || f.command === 'ERROR'), [],
        'the late sender got no answers (no error either)');
      const seen = salon.json('room').map((m) => m.messageId);
      assert.deepEqual(seen, hist.slice(0, seen.length).map((m) => m.messageId), 'broadcasts in order, no gap');
      assert.ok(seen.length >= receipted.size, 'every receipted message was broadcast to the subscriber before 1001');
    } finally {
      await again.stop();
    }
  });
});
