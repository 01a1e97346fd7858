'use strict';
// The admin console in a real browser (Debian's Chromium through playwright-core) in front of three
// bark nodes over a real Redis, sharing a real PostgreSQL, with --dev: an admin signs in through the
// page's form, watches the live session count move while connections open on every node, finds a
// user and sees their sessions, disconnects them (the clients see the close), blocks them (a
// reconnect is refused with user-blocked on every node), unblocks them, and deletes a message from
// a room's history (both participants see it become a tombstone). A USER's cookie gets 403 from the
// page's API and the page shows its sign-in form; a cookie POST from a foreign Origin is refused.
// Screenshots go to build/test-artifacts/.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  startBark, chatConnect, createRoom, api, httpRequest, expectProtocolError, waitUntil, RawStomp, CONNECT_12, BARK_BIN,
} = require('./lib/bark');
const { startRedis, startPostgres } = require('./lib/servers');

const CHROMIUM = process.env.BARK_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-quic', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 15000;
const SECRET = 'admin-browser-test-secret-0123456789abcdef';
const ARTIFACTS = path.join(path.dirname(path.dirname(path.resolve(BARK_BIN))), 'test-artifacts');

const user = (userId) => ({ userId, username: `u${userId}`, role: 'USER' });
const salon = (userId) => ({ userId, username: `s${userId}`, role: 'SALON' });

async function expectBlocked(node, claims) {
  const c = await RawStomp.open(node.wsUrl, { token: node.token(claims) });
  c.send('CONNECT', CONNECT_12);
  await expectProtocolError(c, 'user-blocked', { closeCode: 1008 });
}

async function expectClosedWith(c, code) {
  const f = await c.waitFor('ERROR', 5000, `ERROR ${code}`);
  assert.equal(f.headers.message, code, c.dump());
  await c.waitClosed(5000);
}

test('browser: the admin console over three nodes', { timeout: 115000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/install-deps.sh (apt package chromium)`);
  const { chromium } = require('playwright-core');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const redis = await startRedis();
  const pg = await startPostgres();
  const db = await pg.createDatabase('admin_browser');
  const nodes = {};
  const open = [];
  let browser;
  t.after(async () => {
    if (browser) await browser.close().catch(() => {});
    for (const c of open) c.close();
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    await pg.stop();
    await redis.stop();
  });
  for (const name of ['A', 'B', 'C']) {
    nodes[name] = await startBark(['--dev', '--jwt-secret', SECRET, '--store', db, '--cluster', redis.url,
      '--node-id', name, '--threads', '2']);
  }
  const { A, B, C } = nodes;
  const connect = async (node, claims) => { const c = await chatConnect(node, claims); open.push(c); return c; };

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught ${e.message}`));
  const text = (sel) => page.locator(sel).textContent();
  const waitIn = async (what, fn, arg) => {
    try {
      await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 50 });
    } catch (e) {
      throw new Error(`${what}: ${e.message.split('\n')[0]}\n${problems.join('\n')}`);
    }
  };

  // Clicks Find until the page lists n sessions of the user (a node slower than --admin-wait is
  // named unanswered and its sessions are missing from that answer; the next Find asks again).
  const findUntil = async (n) => {
    await waitUntil(async () => {
      await page.locator('#user-find').click();
      await page.waitForFunction((before) => document.querySelector('#user-status').textContent !== before,
        await text('#user-status'), { timeout: 2000, polling: 20 }).catch(() => {});
      return (await page.locator('#user-status').getAttribute('data-sessions')) === String(n);
    }, WAIT_MS, `${n} session(s) listed: ${await text('#user-status')}`);
  };

  await t.test('the dev sign-in form, then live figures that move with the connections', async () => {
    await page.goto(`${A.url}/admin`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.locator('#login-user-id').fill('1');
    await page.locator('#login-username').fill('root');
    await page.locator('#login-submit').click();
    await page.locator('#console').waitFor({ state: 'visible' });
    await waitIn('the three nodes listed', () => document.querySelectorAll('#nodes tbody tr').length === 3
      && [...document.querySelectorAll('#nodes tbody tr td:nth-child(2)')].every((td) => td.textContent === 'up'));
    await waitIn('a session count', () => /^\d+$/.test(document.querySelector('#total-sessions').textContent));
    const before = Number(await text('#total-sessions'));
    await connect(A, user(50));
    await connect(B, user(50));
    await connect(C, user(50));
    await waitIn('the count up by three', (n) => Number(document.querySelector('#total-sessions').textContent) === n,
      before + 3);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-live.png'), fullPage: true });
  });

  await t.test('find a user, disconnect them: their clients see the close', async () => {
    const clients = [await connect(A, user(60)), await connect(C, user(60))];
    await page.locator('#user-id').fill('60');
    await page.locator('#user-role').selectOption('USER');
    await findUntil(2);
    const rows = await page.locator('#user-sessions tbody tr').allTextContents();
    assert.ok(rows.some((r) => r.startsWith('A')) && rows.some((r) => r.startsWith('C')), rows.join('\n'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-user.png'), fullPage: true });
    await page.locator('#user-disconnect').click();
    for (const c of clients) await expectClosedWith(c, 'disconnected');
    // The sessions leave the list as their closes complete, on their own loops, after the answer.
    await findUntil(0);
  });

  await t.test('block: the client is closed and every node refuses it; unblock lets it back', async () => {
    const c = await connect(B, user(60));
    await findUntil(1);
    await page.locator('#block-minutes').fill('5');
    await page.locator('#block-reason').fill('testing');
    await page.locator('#user-block').click();
    await expectClosedWith(c, 'user-blocked');
    await waitIn('shown blocked', () => document.querySelector('#user-status').dataset.blocked === 'true');
    for (const n of [A, B, C]) await expectBlocked(n, user(60));
    await connect(A, salon(60)); // SALON 60 is someone else
    await page.locator('#user-unblock').click();
    await waitIn('shown unblocked', () => document.querySelector('#user-status').dataset.blocked === 'false');
    for (const n of [A, B, C]) await connect(n, user(60));
  });

  await t.test('delete a message from a room\'s history: the participants see it disappear', async () => {
    const room = await createRoom(A, A.token(user(70)), 70, 71);
    const cust = await connect(B, user(70));
    const sal = await connect(C, salon(71));
    for (const c of [cust, sal]) await c.subscribe('r', `/sub/chat/${room.roomId}`);
    const sent = await api(A, 'POST', `/api/chat/rooms/${room.roomId}/messages`,
      { token: A.token(user(70)), body: { messageText: 'please delete me' } });
    assert.equal(sent.status, 201, sent.body);
    for (const c of [cust, sal]) await c.waitJson('r', 1, 5000);

    await page.locator('#participant-id').fill('70');
    await page.locator('#participant-role').selectOption('USER');
    await page.locator('#participant-find').click();
    await page.locator(`#room-list a[data-room-id="${room.roomId}"]`).click();
    const row = page.locator(`#history tr[data-message-id="${sent.json.messageId}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /please delete me/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-room.png'), fullPage: true });
    await row.locator('button.delete').click();
    for (const c of [cust, sal]) {
      const [, gone] = await c.waitJson('r', 2, 5000);
      assert.equal(gone.messageId, sent.json.messageId);
      assert.equal(gone.deleted, true);
      assert.equal(gone.messageText, '');
    }
    await waitIn('the row shown deleted', (id) => {
      const r = document.querySelector(`#history tr[data-message-id="${id}"]`);
      return r && r.classList.contains('deleted');
    }, sent.json.messageId);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-console.png'), fullPage: true });
  });

  await t.test('a USER cookie gets 403 from the API and the sign-in form; a foreign Origin cannot write', async () => {
    const other = await browser.newContext();
    await other.addCookies([{ name: 'Authorization', value: A.token(user(80)), url: A.url }]);
    const p = await other.newPage();
    await p.goto(`${A.url}/admin`);
    await p.locator('#login').waitFor({ state: 'visible' });
    assert.match(await p.locator('#login-note').textContent(), /not an ADMIN token/);
    const status = await p.evaluate(async () => (await fetch('/api/admin/stats')).status);
    assert.equal(status, 403);
    await other.close();

    const cookie = `Authorization=${A.token({ userId: 1, username: 'root', role: 'ADMIN' })}`;
    const r = await httpRequest(A.port, { method: 'POST', path: '/api/admin/users/60/disconnect?role=USER',
      headers: { Cookie: cookie, Origin: 'http://attacker.example' } });
    assert.equal(r.status, 403, r.body);
    assert.deepEqual(problems, []);
  });
});
