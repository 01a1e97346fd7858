'use strict';
// bark behind nginx (docs/deploy.md): Debian's nginx runs packaging/nginx/bark.conf, as shipped,
// in front of two bark nodes joined over Redis and sharing a PostgreSQL store. The seed's client
// (sockjs-client + stomp.js 2.3.3 in Chromium, from the page bark serves through nginx, logged in
// by the cookie) chats over every SockJS transport the browser has: each session's requests must
// reach the node that holds it (nginx hashes the session path), the streaming transports must not
// be buffered, and the customer's and the salon's sessions land on different nodes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startBark, httpRequest, createRoom } = require('./lib/bark');
const { startRedis, startPostgres, startNginx } = require('./lib/servers');

const CHROMIUM = process.env.BARK_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-quic', '--disable-component-update', '--disable-sync'];
const CONF = path.join(__dirname, '..', '..', 'packaging', 'nginx', 'bark.conf');
const SECRET = 'nginx-test-secret-0123456789abcdef0123';
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'iframe-eventsource',
  'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling'];

// In the page: a stomp.js client over `new SockJS('/ws/chat')` restricted to one transport,
// authenticated by the page's cookie. Resolves the transport sockjs-client really uses.
// sockjs-client gives a transport about twice the /info round trip (~0.7 s on loopback) to open
// before it gives up; a sanitizer build behind nginx may need longer, so the test allows 10 s.
async function connectIn(page, name, transport) {
  return page.evaluate(([n, t]) => new Promise((resolve, reject) => {
    const sock = new SockJS('/ws/chat', null, { transports: [t], timeout: 10000 });
    const client = Stomp.over(sock);
    client.debug = null;
    client.heartbeat.outgoing = 0;
    client.heartbeat.incoming = 0;
    window.clients = window.clients || {};
    window.got = window.got || {};
    window.clients[n] = { sock, client };
    window.got[n] = [];
    const timer = setTimeout(() => reject(new Error(`${t}: no CONNECTED in 10 s`)), 10000);
    client.connect({}, () => { clearTimeout(timer); resolve(sock.transport); },
      (err) => { clearTimeout(timer); reject(new Error(`${t}: ${typeof err === 'string' ? err : err.headers.message}`)); });
  }), [name, transport]);
}

const subscribeIn = (page, name, destination) => page.evaluate(([n, d]) => new Promise((resolve) => {
  const { client } = window.clients[n];
  client.subscribe(d, (m) => window.got[n].push(JSON.parse(m.body)), { receipt: `sub-${n}` });
  const prev = client.onreceipt;
  client.onreceipt = (f) => { if (f.headers['receipt-id'] === `sub-${n}`) resolve(true); else if (prev) prev(f); };
}), [name, destination]);

const sendIn = (page, name, roomId, text) => page.evaluate(([n, r, t]) => {
  window.clients[n].client.send(`/pub/chat/send/${r}`, {}, JSON.stringify({ roomId: r, messageText: t }));
}, [name, roomId, text]);

const waitGot = (page, name, text) => page.waitForFunction(([n, t]) => (window.got[n] || []).some((m) => m.messageText === t),
  [name, text], { timeout: 10000, polling: 50 });

async function loginIn(page, claims) {
  const r = await page.evaluate((c) => fetch('/api/dev/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(c), credentials: 'same-origin',
  }).then((x) => x.status), claims);
  assert.equal(r, 200, 'dev login through nginx');
}

// bark_connections{transport="..."} of a node.
async function connections(node, transport) {
  const body = (await httpRequest(node.port, { path: '/metrics' })).body;
  const m = new RegExp(`^bark_connections\\{transport="${transport}"\\} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : 0;
}

test('nginx in front of two nodes: the seed\'s client over every SockJS transport', { timeout: 180000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/install-deps.sh`);
  const redis = await startRedis();
  const pg = await startPostgres();
  const db = await pg.createDatabase('nginx');
  const nodes = [];
  let nginx;
  let browser;
  t.after(async () => {
    if (browser) await browser.close().catch(() => {});
    if (nginx) await nginx.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await pg.stop();
    await redis.stop();
  });
  for (const id of ['A', 'B']) {
    nodes.push(await startBark(['--dev', '--jwt-secret', SECRET, '--store', db, '--cluster', redis.url,
      '--node-id', id, '--sockjs-heartbeat', '2000']));
  }
  const conf = fs.readFileSync(CONF, 'utf8')
    .replace('server 127.0.0.1:8081', `server 127.0.0.1:${nodes[0].port}`)
    .replace('server 127.0.0.1:8082', `server 127.0.0.1:${nodes[1].port}`);
  nginx = await startNginx(conf);

  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const open = async (claims) => {
    const page = await (await browser.newContext()).newPage();
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push(e.message));
    const r = await page.goto(`${nginx.url}/`);
    assert.equal(r.status(), 200, 'the demo page through nginx');
    await loginIn(page, claims);
    return page;
  };
  const cust = { userId: 7301, username: 'nx-customer', role: 'USER' };
  const salon = { userId: 7302, username: 'nx-salon', role: 'SALON' };
  const custPage = await open(cust);
  const salonPage = await open(salon);
  const room = await createRoom(nodes[0], nodes[0].token(cust), cust.userId, salon.userId);
  const R = room.roomId;

  for (const transport of TRANSPORTS) {
    await t.test(`${transport}: both sides connect through nginx and chat both ways`, async () => {
      assert.equal(await connectIn(custPage, transport, transport), transport);
      assert.equal(await connectIn(salonPage, transport, transport), transport);
      await subscribeIn(custPage, transport, `/sub/chat/${R}`);
      await subscribeIn(salonPage, transport, `/sub/chat/${R}`);
      await sendIn(custPage, transport, R, `hello over ${transport}`);
      await waitGot(salonPage, transport, `hello over ${transport}`);
      await sendIn(salonPage, transport, R, `reply over ${transport}`);
      await waitGot(custPage, transport, `reply over ${transport}`);
    });
  }

  await t.test('the sessions are spread over both nodes, and each HTTP transport stayed on its node', async () => {
    // Every client above is still connected: each node holds some of them.
    const perNode = [];
    for (const node of nodes) {
      perNode.push((await connections(node, 'sockjs-http')) + (await connections(node, 'sockjs-websocket')));
    }
    assert.equal(perNode[0] + perNode[1], 2 * TRANSPORTS.length, `connections per node: ${perNode}`);
    assert.ok(perNode[0] > 0 && perNode[1] > 0, `both nodes hold sessions: ${perNode}`);
    // A session's requests that reached a node without the session would have been answered 404.
    const misrouted = nginx.accessLog().split('\n').filter((l) => /\/ws\/chat\/[^ ]+ HTTP\/1\.1" 404 /.test(l));
    assert.deepEqual(misrouted, [], 'no SockJS request reached a node that does not hold its session');
    assert.deepEqual([...custPage.problems, ...salonPage.problems], []);
  });
});
