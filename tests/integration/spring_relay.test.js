'use strict';
// bark as the broker behind Spring's StompBrokerRelay (SPEC §9), with the seed's own Spring chat
// (tests/spring, built and started through scripts/spring-app.sh): the seed's browser client
// (SockJS + stomp.js 2.3.3, the JWT in a cookie) in Chromium and @stomp/stompjs over WebSocket,
// first on Spring's simple broker (the seed as it was, the control), then through Spring → bark →
// Spring: one instance, two instances on one bark (room messages and convertAndSendToUser across
// them), and bark restarted under both. (bark's TCP port on its own, with raw frames and stomp.py,
// is stomp_tcp.test.js.) The JVMs start once, side by side, and serve every subtest. Every wait is
// for an event, with a timeout: a message is known to arrive once a probe sent before it has
// arrived.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const WebSocket = require('ws');
const { startBark, mint, waitUntil, sleep, withTimeout } = require('./lib/bark');
const { startSpring } = require('./lib/spring');
const { freePort } = require('./lib/servers');

const CHROMIUM = process.env.BARK_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-quic', '--disable-component-update', '--disable-sync'];
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node_modules');
// The page loads the seed's libraries from /vendor/; the app does not ship them: the test serves
// them from the project's npm packages.
const VENDOR = {
  '/vendor/sockjs.min.js': path.join(NODE_MODULES, 'sockjs-client', 'dist', 'sockjs.min.js'),
  '/vendor/stomp.min.js': path.join(NODE_MODULES, 'stompjs', 'lib', 'stomp.min.js'),
};
const BENCH_BIN = process.env.BARK_BENCH_BIN || path.resolve(__dirname, '../../build/bin/bark-bench');
const WAIT_MS = 20000;
// The relay reconnects every 5 s; a JVM under load may take a few more.
const RECONNECT_MS = 40000;
const SECRET = crypto.randomBytes(24).toString('hex'); // the JWT secret of bark and every Spring
const RELAY_LOGIN = 'spring-relay';
const RELAY_PASSCODE = crypto.randomBytes(16).toString('hex');


const users = {
  alice: { userId: 301, username: 'alice', role: 'USER' },
  bob: { userId: 402, username: 'bob', role: 'SALON' },
  carol: { userId: 303, username: 'carol', role: 'USER' },
};
const tokenOf = (u) => mint(users[u], { secret: SECRET });

// ---------------------------------------------------------------------------------------------
// Participants: the seed's page in Chromium, or @stomp/stompjs; both subscribe to their room and
// to /user/queue/notifications on every (re)connect.

// The seed's page on `spring`, as user `name` in room `room`.
async function seedPage(browser, spring, name, room) {
  const context = await browser.newContext();
  // The seed's login leaves the JWT in an HttpOnly cookie; the handshake carries it.
  await context.addCookies([{ name: 'Authorization', value: tokenOf(name), url: spring.url, httpOnly: true }]);
  await context.route('**/vendor/*.js', (route) => {
    const file = VENDOR[new URL(route.request().url()).pathname];
    return file ? route.fulfill({ path: file, contentType: 'application/javascript' }) : route.fulfill({ status: 404 });
  });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught ${e.message}`));
  await page.goto(`${spring.url}/?room=${room}`);
  const state = () => page.evaluate(() => ({
    connected: window.chat.connected,
    connects: window.chat.connects,
    texts: window.chat.messages.map((m) => m.messageText),
    notes: window.chat.notifications.map((n) => n.text),
    errors: window.chat.errors.slice(-5),
  }));
  const p = {
    name: `${name} (seed page on :${spring.port})`,
    state,
    problems,
    // Types into the page and presses Enter: the seed's sendMessage().
    async say(text) {
      await page.locator('#message-input').fill(text);
      await page.locator('#message-input').press('Enter');
    },
    notify: (to, text) => page.evaluate(([u, t]) => window.chat.notify(u, t), [to, text]),
    close: () => context.close(),
  };
  await waitFor(p, 'connected', (s) => s.connected && s.connects >= 1);
  return p;
}

// @stomp/stompjs on `spring`'s plain WebSocket endpoint, as user `name` in room `room`, the JWT in
// the upgrade request's cookie as the seed's page sends it. It reconnects by itself.
async function stompJsUser(spring, name, room) {
  const { Client } = require('@stomp/stompjs');
  const s = { connected: false, connects: 0, texts: [], notes: [], errors: [] };
  const client = new Client({
    webSocketFactory: () => new WebSocket(spring.wsUrl, ['v12.stomp', 'v11.stomp', 'v10.stomp'],
      { headers: { Cookie: `Authorization=${tokenOf(name)}` } }),
    reconnectDelay: 300,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: () => {},
  });
  client.onConnect = () => {
    client.subscribe(`/sub/chat/${room}`, (m) => s.texts.push(JSON.parse(m.body).messageText));
    client.subscribe('/user/queue/notifications', (m) => s.notes.push(JSON.parse(m.body).text));
    s.connected = true;
    s.connects++;
  };
  client.onStompError = (f) => s.errors.push(`ERROR ${f.headers.message}`);
  client.onWebSocketClose = () => { s.connected = false; };
  client.activate();
  const p = {
    name: `${name} (@stomp/stompjs on :${spring.port})`,
    state: async () => ({ ...s, texts: [...s.texts], notes: [...s.notes], errors: s.errors.slice(-5) }),
    problems: [],
    async say(text) {
      client.publish({
        destination: `/pub/chat/send/${room}`,
        body: JSON.stringify({ roomId: room, messageText: text, sendAt: new Date().toISOString() }),
      });
    },
    async notify(to, text) {
      client.publish({ destination: `/pub/chat/notify/${to}`, body: JSON.stringify({ text }) });
    },
    close: () => client.deactivate(),
  };
  await waitFor(p, 'connected', (st) => st.connected);
  return p;
}

// Waits until pred(state of participant p) holds; the failure shows the state.
async function waitFor(p, what, pred, ms = WAIT_MS) {
  let last;
  try {
    await waitUntil(async () => pred(last = await p.state()), ms, `${p.name}: ${what}`);
  } catch (e) {
    e.message += `\n  state: ${JSON.stringify(last)}`;
    throw e;
  }
}

const count = (list, text) => list.filter((x) => x === text).length;

// Sends probes until every receiver has one: a subscription made just before (on another TCP
// connection than the one the broadcast comes from, in relay mode) is then known to be live.
async function untilLive(send, receivers, field, label) {
  const end = Date.now() + WAIT_MS;
  for (let i = 1; ; i++) {
    const probe = `probe ${label} ${i}`;
    await send(probe);
    const deadline = Math.min(end, Date.now() + 500);
    for (;;) {
      const states = await Promise.all(receivers.map((r) => r.state()));
      if (states.every((s) => s[field].some((x) => x.startsWith(`probe ${label} `)))) return;
      if (Date.now() > deadline) break;
      await sleep(20);
    }
    if (Date.now() > end) {
      const states = await Promise.all(receivers.map(async (r) => `${r.name}: ${JSON.stringify(await r.state())}`));
      throw new Error(`timeout after ${WAIT_MS} ms: probes "${label}" to reach every receiver\n  ${states.join('\n  ')}`);
    }
  }
}

// `from` says `text` in its room, then a second message; every receiver gets both, the first
// exactly once (a duplicate would come before the second: one connection keeps the order).
async function roomExchange(from, receivers, text) {
  await untilLive((probe) => from.say(probe), receivers, 'texts', text);
  await from.say(text);
  await from.say(`${text} (end)`);
  for (const r of receivers) {
    await waitFor(r, `"${text}" and its end shown`, (s) => s.texts.includes(`${text} (end)`) && s.texts.includes(text));
    const s = await r.state();
    assert.equal(count(s.texts, text), 1, `${r.name}: "${text}" once: ${JSON.stringify(s.texts)}`);
  }
}

// `from` has the application send `text` to user `toName` (convertAndSendToUser); `to` gets it once.
async function notifyExchange(from, toName, to, text) {
  await untilLive((probe) => from.notify(toName, probe), [to], 'notes', text);
  await from.notify(toName, text);
  await from.notify(toName, `${text} (end)`);
  await waitFor(to, `notification "${text}"`, (s) => s.notes.includes(`${text} (end)`) && s.notes.includes(text));
  assert.equal(count((await to.state()).notes, text), 1, `${to.name}: notification "${text}" once`);
}

// ---------------------------------------------------------------------------------------------

test('Spring relay: the seed\'s Spring chat on its simple broker, then with bark behind its StompBrokerRelay',
  { timeout: 420000 }, async (t) => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/install-deps.sh (apt package chromium)`);
    const { chromium } = require('playwright-core');
    const stops = [];
    t.after(async () => {
      for (const stop of stops.reverse()) await stop().catch((e) => t.diagnostic(`cleanup: ${e.message}`));
    });

    // bark first (the relays connect to it as they start), then the JVMs side by side.
    const stompPort = await freePort();
    const barkFlags = ['--jwt-secret', SECRET, '--stomp-listen', `127.0.0.1:${stompPort}`,
      '--relay-login', RELAY_LOGIN, '--relay-passcode', RELAY_PASSCODE];
    let bark = await startBark(barkFlags);
    stops.push(() => bark.stop());
    const relay = { host: '127.0.0.1', port: stompPort, login: RELAY_LOGIN, passcode: RELAY_PASSCODE };
    const started = await Promise.allSettled([
      startSpring({ secret: SECRET }),
      startSpring({ secret: SECRET, relay, userBroadcast: true }),
      startSpring({ secret: SECRET, relay, userBroadcast: true }),
    ]);
    for (const r of started) if (r.status === 'fulfilled') stops.push(() => r.value.stop());
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [simple, springA, springB] = started.map((r) => r.value);
    for (const [name, s] of [['simple', simple], ['A', springA], ['B', springB]]) {
      t.diagnostic(`Spring ${name} (pid ${s.pid}) started in ${s.startMs} ms`);
    }

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    stops.push(() => browser.close());
    const participants = [];
    const join = async (promise) => {
      const p = await promise;
      participants.push(p);
      stops.push(() => p.close());
      return p;
    };

    await t.test('simple broker: the seed\'s page and @stomp/stompjs chat and notify through Spring alone', async () => {
      const alice = await join(seedPage(browser, simple, 'alice', 1));
      const bob = await join(stompJsUser(simple, 'bob', 1));
      await roomExchange(alice, [alice, bob], 'simple: hello from the page');
      await roomExchange(bob, [alice, bob], 'simple: hello from stompjs');
      await notifyExchange(alice, 'bob', bob, 'simple: a note for bob');
      await notifyExchange(bob, 'alice', alice, 'simple: a note for alice');
      const stored = (await simple.history(1)).map((m) => m.messageText);
      assert.equal(count(stored, 'simple: hello from the page'), 1, 'Spring stored the message once');
    });

    let alice;
    let carol;
    let bob;
    await t.test('relay: the seed\'s page and @stomp/stompjs through Spring → bark → Spring', async () => {
      assert.equal((await springA.waitBroker(true, RECONNECT_MS)).broker, 'relay');
      alice = await join(seedPage(browser, springA, 'alice', 2));
      carol = await join(stompJsUser(springA, 'carol', 2));
      await roomExchange(alice, [alice, carol], 'relay: hello from the page');
      await roomExchange(carol, [alice, carol], 'relay: hello from stompjs');
      await notifyExchange(alice, 'carol', carol, 'relay: a note for carol');
      const stored = (await springA.history(2)).map((m) => m.messageText);
      assert.equal(count(stored, 'relay: hello from the page'), 1, 'Spring stored the message once');
    });

    await t.test('bark-bench seed through Spring → bark: every message back; Spring\'s ERROR after each DISCONNECT is no error', async () => {
      // Spring's relay answers the broker's close after a receipted DISCONNECT with an ERROR
      // ("Connection to broker closed.") to the client, whatever the broker: bark-bench counts
      // those apart. Rooms 901.. keep the bench's messages out of the rooms above.
      const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bark-spring-bench-')), 'seed.json');
      const args = ['seed', '--url', springA.wsUrl, '--jwt-secret', SECRET, '--users', '10', '--loops', '5',
        '--subscribe-destination', '/sub/chat/90{room}', '--send-destination', '/pub/chat/send/90{room}',
        '--user-id-base', '5000', '--timeout', '20', '--json', json, '--no-progress'];
      const out = await withTimeout(new Promise((resolve, reject) => {
        const p = spawn(BENCH_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        p.stderr.on('data', (d) => { text += d; });
        p.on('error', reject);
        p.on('exit', (code) => resolve({ code, text }));
      }), 60000, 'bark-bench');
      const j = JSON.parse(fs.readFileSync(json, 'utf8'));
      fs.rmSync(path.dirname(json), { recursive: true, force: true });
      assert.equal(out.code, 0, out.text);
      assert.equal(j.errors, 0, out.text);
      assert.equal(j.messages_received, 50, out.text);
      assert.ok(j.errors_after_disconnect > 0, `Spring sent its ERROR after some DISCONNECT: ${out.text}`);
      for (const { reason } of j.failure_reasons) {
        assert.match(reason, /^after DISCONNECT.*: ERROR Connection to broker closed\./, out.text);
      }
    });

    await t.test('two Spring instances on one bark: room messages and user destinations cross between them', async () => {
      assert.ok(alice && carol, 'the relay subtest connected alice and carol');
      await springB.waitBroker(true, RECONNECT_MS);
      bob = await join(stompJsUser(springB, 'bob', 2));
      await roomExchange(alice, [alice, carol, bob], 'two: from the page on A');
      await roomExchange(bob, [alice, carol, bob], 'two: from stompjs on B');
      // bob's session is on B: A resolves him through the user registry broadcast, or hands the
      // message to B through /topic/unresolved-user; and the other way round.
      await notifyExchange(alice, 'bob', bob, 'two: A to bob on B');
      await notifyExchange(bob, 'alice', alice, 'two: B to alice on A');
      const onA = (await springA.history(2)).map((m) => m.messageText);
      const onB = (await springB.history(2)).map((m) => m.messageText);
      assert.equal(count(onB, 'two: from stompjs on B'), 1, 'B stored its own message');
      assert.equal(count(onA, 'two: from stompjs on B'), 0, 'A did not store B\'s message: bark broadcast it');
    });

    await t.test('bark restarted under the running Spring apps: relays reconnect, clients resubscribe', async () => {
      assert.ok(alice && carol && bob, 'the earlier subtests connected alice, carol and bob');
      const before = await Promise.all([alice, carol, bob].map((p) => p.state()));
      await bark.stop();
      await Promise.all([springA.waitBroker(false, RECONNECT_MS), springB.waitBroker(false, RECONNECT_MS)]);
      bark = await startBark(barkFlags);
      await Promise.all([springA.waitBroker(true, RECONNECT_MS), springB.waitBroker(true, RECONNECT_MS)]);
      // Each client lost its connection (Spring closes a client's WebSocket when its broker
      // connection fails) and made a new one.
      for (const [i, p] of [alice, carol, bob].entries()) {
        await waitFor(p, 'reconnected', (s) => s.connected && s.connects > before[i].connects, RECONNECT_MS);
      }
      await roomExchange(alice, [alice, carol, bob], 'after: from the page on A');
      await roomExchange(bob, [alice, carol, bob], 'after: from stompjs on B');
      await notifyExchange(alice, 'bob', bob, 'after: A to bob on B');
      await notifyExchange(bob, 'alice', alice, 'after: B to alice on A');
    });

    for (const p of participants) assert.deepEqual(p.problems, [], `${p.name}: no uncaught exceptions in the page`);
  });
