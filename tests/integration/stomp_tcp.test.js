'use strict';
// STOMP over plain TCP (--stomp-listen) and relay sessions (--relay-login/--relay-passcode), SPEC
// §9: a chat user over TCP is the same session as over WebSocket (tokens, rooms, receipts, errors)
// and meets WebSocket users in the same rooms; an independent client (stomp.py, Debian's
// python3-stomp) works; a relay session subscribes and sends under --relay-prefixes as Spring's
// StompBrokerRelay does (rooms included, custom headers copied, UNSUBSCRIBE and ACK for ids it
// never saw ignored); relay credentials count only on TCP; TLS with --stomp-tls.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startBark, chatConnect, createRoom, RawStomp, httpRequest, waitUntil, BARK_BIN } = require('./lib/bark');
const { openTcpStomp, stompPortOf } = require('./lib/tcp_stomp');

const CUST = { userId: 3301, username: 'tcp-customer', role: 'USER' };
const SALON = { userId: 3302, username: 'tcp-salon', role: 'SALON' };
const RELAY = { login: 'spring', passcode: 'relay-secret-1' };

async function tcpConnect(port, headers, opts) {
  const c = await openTcpStomp(port, opts);
  const f = await c.connect({ 'accept-version': '1.1,1.2', host: '127.0.0.1', ...headers });
  return { c, f };
}

test('STOMP over TCP', async (t) => {
  const bark = await startBark(['--stomp-listen', '127.0.0.1:0', '--relay-login', RELAY.login,
    '--relay-passcode', RELAY.passcode, '--threads', '2']);
  const open = [];
  t.after(async () => {
    for (const c of open) c.close();
    await bark.stop();
  });
  const port = stompPortOf(bark);
  const room = await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId);
  const R = room.roomId;

  await t.test('a chat user over TCP: token as passcode, rooms, receipts; meets a WebSocket user', async () => {
    const { c, f } = await tcpConnect(port, { passcode: bark.token(CUST) });
    open.push(c);
    assert.equal(f.command, 'CONNECTED', c.dump());
    assert.equal(f.headers.version, '1.2');
    assert.match(f.headers['heart-beat'], /^\d+,\d+$/, 'CONNECTED carries heart-beat (a relay depends on it)');
    assert.equal(f.headers['user-name'], CUST.username);
    await c.subscribe('room', `/sub/chat/${R}`);
    const ws = await chatConnect(bark, SALON);
    open.push(ws);
    await ws.subscribe('room', `/sub/chat/${R}`);
    c.chatSend(R, { messageText: 'over tcp' }, { receipt: 'tcp-1' });
    await c.receipt('tcp-1');
    const [atWs] = await ws.waitJson('room', 1);
    assert.equal(atWs.messageText, 'over tcp');
    assert.equal(atWs.senderId, CUST.userId);
    ws.chatSend(R, { messageText: 'over websocket' }, { receipt: 'ws-1' });
    const got = await c.waitJson('room', 2);
    assert.deepEqual(got.map((m) => m.messageText), ['over tcp', 'over websocket']);
    assert.ok(c.messages('room').every((m) => m.headers.subscription === 'room'));
  });

  await t.test('the chat rules hold over TCP: a non-participant is refused, a bad token is token-invalid', async () => {
    const other = { userId: 3303, username: 'tcp-other', role: 'USER' };
    const { c } = await tcpConnect(port, { passcode: bark.token(other) });
    open.push(c);
    c.send('SUBSCRIBE', { id: 'x', destination: `/sub/chat/${R}`, receipt: 'r' });
    const e = await c.waitFor('ERROR');
    assert.equal(e.headers.message, 'forbidden');
    await c.waitClosed();
    const bad = await openTcpStomp(port);
    open.push(bad);
    const refused = await bad.connect({ 'accept-version': '1.2', host: 'h', passcode: 'not-a-token' });
    assert.equal(refused.command, 'ERROR');
    assert.equal(refused.headers.message, 'token-invalid');
    await bad.waitClosed();
  });

  await t.test('an independent client: stomp.py (python3-stomp) connects with a token, subscribes, sends, gets its message', () => {
    const script = `
import json, sys, threading, stomp
port, token, room = int(sys.argv[1]), sys.argv[2], sys.argv[3]
got = threading.Event()
class L(stomp.ConnectionListener):
    def on_message(self, frame):
        body = json.loads(frame.body)
        if body.get("messageText") == "from stomp.py":
            print("MESSAGE", frame.headers["subscription"], body["senderId"]); got.set()
    def on_error(self, frame):
        print("ERROR", frame.headers.get("message")); got.set()
conn = stomp.Connection12([("127.0.0.1", port)], heartbeats=(0, 0))
conn.set_listener("", L())
conn.connect(passcode=token, wait=True)
conn.subscribe(destination="/sub/chat/" + room, id="py", ack="auto")
conn.send(destination="/pub/chat/send/" + room, body=json.dumps({"messageText": "from stomp.py"}),
          content_type="application/json", receipt="py-1")
ok = got.wait(10)
conn.disconnect()
sys.exit(0 if ok else 3)
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, String(port), bark.token(SALON), String(R)], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, `stomp.py: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^MESSAGE py ${SALON.userId}$`, 'm'));
  });

  await t.test('a relay session: any room and Spring\'s destinations, custom headers copied, unknown ids ignored', async () => {
    const { c: relay, f } = await tcpConnect(port, { login: RELAY.login, passcode: RELAY.passcode, 'heart-beat': '10000,10000' });
    open.push(relay);
    assert.equal(f.command, 'CONNECTED', relay.dump());
    assert.equal(f.headers['heart-beat'].split(',').length, 2);
    // Spring's system session and two of its client sessions.
    for (const [id, dest] of [['a', `/sub/chat/${R}`], ['b', '/queue/notifications-user0a1b'], ['c', '/topic/unresolved-user'], ['d', '/topic/simp-user-registry']]) {
      await relay.subscribe(id, dest);
    }
    const sender = (await tcpConnect(port, { login: RELAY.login, passcode: RELAY.passcode })).c;
    open.push(sender);
    // @SendTo("/sub/chat/{roomId}") from the application: a broadcast to the room, with Spring's headers.
    sender.send('SEND', { destination: `/sub/chat/${R}`, 'content-type': 'application/json', 'simpOrigDestination': `/sub/chat/${R}`, receipt: 's-1' },
      JSON.stringify({ roomId: R, messageText: 'from spring' }));
    await sender.receipt('s-1');
    const [m] = await relay.waitMessages(1, 3000, 'a');
    assert.equal(m.headers.subscription, 'a');
    assert.equal(m.headers.simpOrigDestination, `/sub/chat/${R}`, 'custom SEND headers reach the MESSAGE');
    assert.equal(JSON.parse(m.text).messageText, 'from spring');
    // convertAndSendToUser: Spring resolves /user/queue/notifications to the session's own queue.
    sender.send('SEND', { destination: '/queue/notifications-user0a1b', simpOrigDestination: '/user/queue/notifications', receipt: 's-2' }, 'for you');
    const [n] = await relay.waitMessages(1, 3000, 'b');
    assert.equal(n.headers.simpOrigDestination, '/user/queue/notifications');
    assert.equal(n.text, 'for you');
    // What the relay forwards unconditionally: UNSUBSCRIBE and ACK for ids bark never saw.
    relay.send('UNSUBSCRIBE', { id: 'app-sub-7', receipt: 'u-1' });
    await relay.receipt('u-1');
    relay.send('ACK', { id: '12345', receipt: 'k-1' });
    await relay.receipt('k-1');
    // Outside --relay-prefixes: refused.
    sender.send('SEND', { destination: '/elsewhere/x', receipt: 's-3' }, 'x');
    const err = await sender.waitFor('ERROR');
    assert.equal(err.headers.message, 'send-not-allowed');
    // The application loses that connection: bark says so in its log.
    await waitUntil(() => /warning relay session=\S+ ERROR send-not-allowed: /.test(bark.output()), 3000, 'the warning');
    assert.equal(relay.closed, null, relay.dump());
  });

  await t.test('a relay session sends and gets frames over --max-frame-bytes (Spring\'s user registry); a user does not', async () => {
    // Spring's user registry broadcast: one SEND of ~160 bytes per WebSocket session of the
    // instance, every 10 s. 14,000 sessions: over 2 MB, over --max-frame-bytes (64 KiB) and over
    // --send-buffer-bytes (1 MiB) of the sessions it is delivered to.
    const users = {};
    for (let i = 0; i < 14000; i++) {
      const id = crypto.randomUUID();
      users[`user-${i}`] = { name: `user-${i}`, sessions: [{ id, subscriptions: [{ id: 'sub-0', destination: `/sub/chat/${i}` }] }] };
    }
    const registry = JSON.stringify({ id: crypto.randomUUID(), users });
    assert.ok(registry.length > 2e6, `${registry.length} bytes`);
    const systems = [];
    for (let i = 0; i < 2; i++) {
      const { c, f } = await tcpConnect(port, { login: RELAY.login, passcode: RELAY.passcode, 'heart-beat': '10000,10000' });
      open.push(c);
      assert.equal(f.command, 'CONNECTED', c.dump());
      await c.subscribe('registry', '/topic/simp-user-registry');
      systems.push(c);
    }
    systems[0].send('SEND', { destination: '/topic/simp-user-registry', 'content-type': 'application/json', receipt: 'reg-1' }, registry);
    await systems[0].receipt('reg-1', 10000);
    for (const c of systems) {
      const [m] = await c.waitMessages(1, 10000, 'registry');
      assert.equal(m.text.length, registry.length);
      assert.equal(c.closed, null, 'still open');
    }
    // A user's session over TCP keeps --max-frame-bytes.
    const { c: user } = await tcpConnect(port, { passcode: bark.token(CUST) });
    open.push(user);
    user.send('SEND', { destination: `/pub/chat/send/${R}`, 'content-type': 'application/json' }, registry.slice(0, 100000));
    const e = await user.waitFor('ERROR');
    assert.equal(e.headers.message, 'frame-too-large');
  });

  await t.test('relay credentials: a wrong passcode is token-invalid; over WebSocket they are no relay', async () => {
    const { f } = await tcpConnect(port, { login: RELAY.login, passcode: 'wrong' });
    assert.equal(f.command, 'ERROR');
    assert.equal(f.headers.message, 'token-invalid');
    const ws = await RawStomp.open(bark.wsUrl, { token: null });
    open.push(ws);
    const g = await ws.connect({ 'accept-version': '1.2', host: 'h', login: RELAY.login, passcode: RELAY.passcode });
    assert.equal(g.command, 'ERROR', 'the relay login is no credential on WebSocket');
    assert.equal(g.headers.message, 'token-invalid');
  });

  await t.test('/metrics counts TCP connections apart', async () => {
    const { c } = await tcpConnect(port, { passcode: bark.token(CUST) });
    open.push(c);
    const m = (await httpRequest(bark.port, { path: '/metrics' })).body;
    const tcp = Number(/^bark_connections\{transport="tcp"\} (\d+)$/m.exec(m)[1]);
    assert.ok(tcp >= 1, m);
  });
});

test('STOMP over TLS (--stomp-tls)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-stomp-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bark = await startBark(['--stomp-listen', '127.0.0.1:0', '--stomp-tls', '--tls-cert', cert, '--tls-key', key]);
  t.after(async () => {
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const { c, f } = await tcpConnect(stompPortOf(bark), { passcode: bark.token(CUST) }, { tls: { ca: fs.readFileSync(cert) } });
  assert.equal(f.command, 'CONNECTED', c.dump());
  await c.subscribe('news', '/sub/news');
  c.close();
  // --stomp-tls alone is a usage error.
  const bad = spawnSync(BARK_BIN, ['--stomp-tls', '--dev', '--store', 'memory:'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--stomp-tls needs --stomp-listen/);
});

test('STOMP over TCP: a graceful stop closes TCP sessions and exits 0', async () => {
  const bark = await startBark(['--stomp-listen', '127.0.0.1:0']);
  const { c } = await tcpConnect(stompPortOf(bark), { passcode: bark.token(CUST) });
  await c.subscribe('news', '/sub/news');
  const stopped = bark.stop();
  await c.waitClosed(12000);
  await stopped;
});
