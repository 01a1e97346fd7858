'use strict';
// bark's log: one line per event (UTC time, level, key=value context); WebSocket and SockJS
// sessions logged when they open and when they close, with how long they lasted and why; refused
// authentications with their reason. Never a token, a password or a message's text, even when a
// chat message, a forged token and a store password pass through.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startBark, chatConnect, createRoom, RawStomp, httpRequest, sleep, waitUntil } = require('./lib/bark');

const CUST = { userId: 1501, username: 'lg-customer', role: 'USER' };
const SALON = { userId: 2501, username: 'lg-salon', role: 'SALON' };
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info |warning|error|critical) \S.*$/;

test('log lines: format, session open and close, refusals, and nothing secret', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-logs-'));
  const bark = await startBark(['--store', `sqlite:${path.join(dir, 'l.db')}`, '--sockjs-disconnect-delay', '300']);
  t.after(async () => {
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const secretText = `private words ${Math.random().toString(36).slice(2)}`;
  const custToken = bark.token(CUST);

  // A WebSocket chat, closed by the client.
  const room = (await createRoom(bark, custToken, CUST.userId, SALON.userId)).roomId;
  const c = await chatConnect(bark, CUST, { token: custToken });
  const s = await chatConnect(bark, SALON);
  await s.subscribe('room', `/sub/chat/${room}`);
  c.chatSend(room, { messageText: secretText }, { receipt: 'r1' });
  await c.receipt('r1');
  await s.waitJson('room', 1);
  c.close();
  s.close();

  // A forged token.
  const forged = `${custToken.slice(0, -6)}AAAAAA`;
  const f = await RawStomp.open(bark.wsUrl, { token: null });
  f.send('CONNECT', { 'accept-version': '1.2', host: '127.0.0.1', Authorization: `Bearer ${forged}` });
  const err = await f.waitFor('ERROR');
  assert.equal(err.headers.message, 'token-invalid');
  f.close();

  // A SockJS session over xhr that connects, then is abandoned (no receiving request).
  const base = '/ws/chat/000/logsession1';
  const open = await httpRequest(bark.port, { method: 'POST', path: `${base}/xhr` });
  assert.equal(open.body, 'o\n');
  const connect = `CONNECT\naccept-version:1.2\nhost:127.0.0.1\nAuthorization:Bearer ${custToken}\n\n\u0000`;
  const sent = await httpRequest(bark.port, { method: 'POST', path: `${base}/xhr_send`,
    headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify([connect]) });
  assert.equal(sent.status, 204);
  const polled = await httpRequest(bark.port, { method: 'POST', path: `${base}/xhr` });
  assert.match(polled.body, /CONNECTED/);

  await waitUntil(() => /sockjs close session=\S+ after \d+ ms: /.test(bark.output()) &&
    (bark.output().match(/ws close session=/g) || []).length >= 3, 5000, 'the closes to be logged');
  await sleep(100);
  const lines = bark.output().split('\n').filter((l) => l.length > 0 && !l.startsWith('bark listening on '));

  await t.test('every line: UTC time, level, message', () => {
    assert.ok(lines.length >= 8, lines.join('\n'));
    for (const l of lines) assert.match(l, LINE);
  });

  await t.test('WebSocket sessions: open, and close with duration and reason', () => {
    const opens = lines.filter((l) => / ws open session=\S+ loop=\d+/.test(l));
    const closes = lines.filter((l) => / ws close session=\S+ after \d+ ms: \S/.test(l));
    assert.ok(opens.length >= 3, lines.join('\n'));
    assert.ok(closes.length >= 3, lines.join('\n'));
    for (const o of opens) {
      const id = / session=(\S+)/.exec(o)[1];
      assert.ok(closes.some((x) => x.includes(` session=${id} `)), `session ${id} logged its close`);
    }
  });

  await t.test('SockJS sessions: open, and close with duration and reason', () => {
    assert.ok(lines.some((l) => / info +sockjs open session=\S+ loop=\d+/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => / info +sockjs close session=\S+ after \d+ ms: no receiving request/.test(l)),
      lines.join('\n'));
  });

  await t.test('a refused authentication is logged with its reason', () => {
    assert.ok(lines.some((l) => /refused: token-invalid/.test(l)), lines.join('\n'));
  });

  await t.test('no token, signature or message text in the log', () => {
    const all = lines.join('\n');
    for (const secret of [custToken, forged, custToken.split('.')[2], forged.split('.')[2], secretText]) {
      assert.ok(!all.includes(secret), `the log holds ${secret.slice(0, 12)}...`);
    }
  });
});
