'use strict';
// The demo page in a real browser (Debian's Chromium through playwright-core): a customer and a
// salon log in through the page in two browser contexts, open a room, chat both ways over
// SockJS + stomp.js 2.3.3 (the seed's client), see typing, read marks and each other's presence,
// survive a dropped connection without losing or repeating a message, see the history after a
// reload, edit and delete their messages, and renew a login about to expire without reconnecting. Once over
// SockJS's websocket transport, once with WebSocket removed from the page (XHR transports).
// bark runs with --dev and the real SQLite store. A screenshot is left in the build directory.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startBark, httpRequest, api, chatConnect, fullHistory, BARK_BIN } = require('./lib/bark');

const CHROMIUM = process.env.BARK_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-quic', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 15000;
const SCREENSHOT = path.join(path.dirname(path.dirname(path.resolve(BARK_BIN))), 'browser-test.png');

// A page with its console errors and uncaught exceptions kept for assertion messages.
async function openPage(browser, name, { noWebSocket = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  if (noWebSocket) await context.addInitScript(() => { delete window.WebSocket; });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`${name}: uncaught ${e.message}`));
  page.console = [];
  page.on('console', (m) => { if (m.type() === 'error') page.console.push(`${name}: ${m.text()}`); });
  return page;
}

// What the page shows, for assertion messages.
async function describe(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const texts = [...document.querySelectorAll('[data-testid=message]')]
      .map((m) => `${m.dataset.messageId || 'pending'}:${m.querySelector('.msg-text').textContent}`);
    return `status=${q('#conn-status').dataset.state} (${q('#conn-status').textContent}) ` +
      `live=${q('#room-view').dataset.live} typing="${q('#typing').textContent}" ` +
      `errors=${JSON.stringify([...document.querySelectorAll('[data-testid=error]')].map((e) => e.textContent))} ` +
      `messages=${JSON.stringify(texts)}`;
  }).catch((e) => `(page unreadable: ${e.message})`);
}

// Waits for fn (run in the page with arg) to be truthy; the failure names `what` and the page state.
async function waitIn(page, what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 50 });
  } catch (e) {
    throw new Error(`${what}: ${e.message.split('\n')[0]}\n  page: ${await describe(page)}\n  ${[...page.problems, ...page.console].join("\n  ")}`);
  }
}

const online = (page) => waitIn(page, 'connection online',
  () => document.querySelector('#conn-status').dataset.state === 'online');
const live = (page) => waitIn(page, 'room subscribed',
  () => document.querySelector('#room-view').dataset.live === 'true');
// How many messages (stored or pending) show exactly `text`.
const countText = (page, text) => page.evaluate((t) => [...document.querySelectorAll('[data-testid=message-text]')]
  .filter((e) => e.textContent === t).length, text);
const shows = (page, text, what) => waitIn(page, `${what}: "${text}" shown`,
  (t) => [...document.querySelectorAll('[data-testid=message][data-message-id] [data-testid=message-text]')]
    .some((e) => e.textContent === t), text);

async function login(page, url, { userId, username, role }) {
  await page.goto(url);
  await page.locator('#login-user-id').fill(String(userId));
  await page.locator('#login-username').fill(username);
  await page.locator('#login-role').selectOption(role);
  await page.locator('#login-submit').click();
  await page.locator('#chat').waitFor({ state: 'visible' });
  await online(page);
}

// Types text key by key (typing indicator), then Enter.
async function say(page, text) {
  const input = page.locator('#message-input');
  await input.click();
  await input.pressSequentially(text, { delay: 5 });
  await input.press('Enter');
}

// The whole conversation, in two fresh browser contexts. `noWebSocket` removes WebSocket from the
// pages, so sockjs-client falls back to its XHR transports (as behind a proxy that blocks upgrades).
async function conversation(t, { bark, browser, customerId, salonId, noWebSocket, transport, paging, screenshot }) {
  const alice = await openPage(browser, 'customer', { noWebSocket });
  const salon = await openPage(browser, 'salon', { noWebSocket });
  let roomId;
  // Each step builds on the one before: after a failure the rest are skipped, not failed again.
  let failed = null;
  const step = (name, fn) => t.test(name, async (st) => {
    if (failed) {
      st.skip(`after "${failed}" failed`);
      return;
    }
    try {
      await fn(st);
    } catch (e) {
      failed = name;
      throw e;
    }
  });

  await step('both log in through the page and connect over SockJS', async () => {
    await login(alice, bark.url, { userId: customerId, username: 'alice', role: 'USER' });
    await login(salon, bark.url, { userId: salonId, username: 'Happy Paws', role: 'SALON' });
    assert.match(await alice.locator('#me').textContent(), /alice/);
    for (const page of [alice, salon]) {
      assert.match(await page.evaluate(() => window.barkDemo.state.client.ws.transport), transport, 'SockJS transport');
    }
  });

  await step('the customer creates the room; the salon finds it in its list', async () => {
    await alice.locator('#new-room-peer').fill(String(salonId));
    await alice.locator('#new-room-submit').click();
    await live(alice);
    roomId = Number(await alice.locator('[data-testid=room-item].active').getAttribute('data-room-id'));
    assert.ok(roomId > 0, 'the new room is open and active in the list');
    await salon.locator('#refresh-rooms').click();
    await salon.locator(`[data-testid=room-item][data-room-id="${roomId}"]`).click();
    await live(salon);
    assert.match(await salon.locator('#room-title').textContent(), new RegExp(`#${roomId}.*Customer ${customerId}`));
  });

  await step('messages both ways arrive live; typing shows on the other side', async () => {
    const input = alice.locator('#message-input');
    await input.click();
    await input.pressSequentially('Hello from Al', { delay: 5 });
    await waitIn(salon, 'typing indicator on the salon side',
      () => /typing/.test(document.querySelector('#typing').textContent));
    await input.pressSequentially('ice', { delay: 5 });
    await input.press('Enter');
    await shows(salon, 'Hello from Alice', 'salon sees the customer');
    await waitIn(salon, 'typing indicator gone after the message',
      () => document.querySelector('#typing').textContent === '');

    await say(salon, 'Hi Alice, Happy Paws here. 안녕하세요 🐶');
    await shows(alice, 'Hi Alice, Happy Paws here. 안녕하세요 🐶', 'customer sees the salon');

    await say(alice, 'Can I book a trim on Friday?');
    await shows(salon, 'Can I book a trim on Friday?', 'salon sees the second message');
    await shows(alice, 'Can I book a trim on Friday?', 'customer sees its own message stored');
  });

  await step('read marks: the customer sees that the salon read its messages', async () => {
    await waitIn(alice, 'own last message marked read', () => {
      const mine = [...document.querySelectorAll('[data-testid=message].mine')];
      return mine.length > 0 && mine[mine.length - 1].dataset.state === 'read';
    });
  });

  await step('presence: each side sees the other online; the salon away past the grace shows "last seen", then online again', async () => {
    const state = (page) => page.evaluate(() => {
      const box = document.querySelector('[data-testid=room-presence]');
      return { online: box.dataset.online, text: box.textContent };
    });
    await waitIn(alice, 'the salon shown online', () => document.querySelector('[data-testid=room-presence]').dataset.online === 'true');
    await waitIn(salon, 'the customer shown online', () => document.querySelector('[data-testid=room-presence]').dataset.online === 'true');
    assert.match((await state(alice)).text, /online/);
    await salon.evaluate(() => window.barkDemo.simulateDrop(4000));
    await waitIn(alice, 'the salon shown offline with its last seen time', () => {
      const box = document.querySelector('[data-testid=room-presence]');
      return box.dataset.online === 'false' && /last seen \d/.test(box.textContent);
    });
    await waitIn(alice, 'the room list\'s dot is grey', () => {
      const dot = document.querySelector('[data-testid=room-item].active [data-testid=presence-dot]');
      return dot && dot.dataset.online === 'false';
    });
    await online(salon);
    await waitIn(alice, 'the salon online again', () => document.querySelector('[data-testid=room-presence]').dataset.online === 'true');
  });

  await step('a dropped connection catches up on reconnect, each message once', async () => {
    await alice.evaluate(() => window.barkDemo.simulateDrop(1500));
    await waitIn(alice, 'customer offline', () => document.querySelector('#conn-status').dataset.state !== 'online');
    await say(salon, 'Sent while you were away');
    await say(salon, 'And one more');
    await shows(salon, 'And one more', 'salon sees its own message');
    await online(alice);
    await shows(alice, 'Sent while you were away', 'customer catches up');
    await shows(alice, 'And one more', 'customer catches up');
    await live(alice);
    await say(alice, 'Back online');
    await shows(salon, 'Back online', 'salon sees the customer after its reconnect');
    for (const text of ['Hello from Alice', 'Sent while you were away', 'And one more']) {
      assert.equal(await countText(alice, text), 1, `"${text}" shown once: ${await describe(alice)}`);
    }
  });

  await step('after a reload the history is there', async () => {
    await salon.reload();
    await salon.locator('#chat').waitFor({ state: 'visible' });
    await online(salon);
    for (const text of ['Hello from Alice', 'Hi Alice, Happy Paws here. 안녕하세요 🐶', 'Can I book a trim on Friday?',
      'Sent while you were away', 'And one more', 'Back online']) {
      await shows(salon, text, 'history after reload');
      assert.equal(await countText(salon, text), 1, `"${text}" once after reload`);
    }
    const ids = await salon.evaluate(() => [...document.querySelectorAll('[data-testid=message][data-message-id]')]
      .map((m) => Number(m.dataset.messageId)));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'history in messageId order');
    await live(salon);
    await say(salon, 'See you on Friday!');
    await shows(alice, 'See you on Friday!', 'live again after the reload');
  });

  await step('edit and delete: the sender changes its message; both pages show the new state', async () => {
    await say(alice, 'Can I book a trim on Fridy?');
    await shows(salon, 'Can I book a trim on Fridy?', 'salon sees the typo');
    const typo = alice.locator('[data-testid=message][data-message-id].mine', { hasText: 'Fridy' });
    await typo.hover();
    await typo.locator('[data-testid=edit-message]').click();
    const editor = typo.locator('[data-testid=edit-input]');
    await editor.fill('Can I book a wash on Friday?');
    await editor.press('Enter');
    await shows(salon, 'Can I book a wash on Friday?', 'salon sees the edit');
    await shows(alice, 'Can I book a wash on Friday?', 'customer sees its edit stored');
    await waitIn(salon, 'marked edited', () => [...document.querySelectorAll('[data-testid=message]')]
      .some((m) => m.querySelector('[data-testid=message-text]').textContent === 'Can I book a wash on Friday?'
        && m.querySelector('[data-testid=message-edited]').textContent === '(edited)'));
    assert.equal(await countText(salon, 'Can I book a trim on Fridy?'), 0, 'the old text is gone');
    assert.equal(await salon.locator('[data-testid=message].theirs [data-testid=edit-message]').count(), 0,
      'no edit button on the other side\'s messages');

    await say(alice, 'oops, wrong chat');
    await shows(salon, 'oops, wrong chat', 'salon sees it');
    const oops = alice.locator('[data-testid=message][data-message-id].mine', { hasText: 'oops, wrong chat' }); // stored, not pending
    const oopsId = await oops.getAttribute('data-message-id');
    await oops.hover();
    await oops.locator('[data-testid=delete-message]').click();
    for (const page of [alice, salon]) {
      await waitIn(page, 'tombstone', (id) => {
        const m = document.querySelector(`[data-testid=message][data-message-id="${id}"]`);
        return m && m.dataset.deleted === 'true' && m.querySelector('[data-testid=message-text]').textContent === 'message deleted';
      }, oopsId);
      assert.equal(await countText(page, 'oops, wrong chat'), 0);
    }
    // A page that reloads sees the same: the store keeps the latest state.
    await salon.reload();
    await live(salon);
    await shows(salon, 'Can I book a wash on Friday?', 'the edit after a reload');
    assert.equal(await countText(salon, 'oops, wrong chat'), 0, 'the deleted text after a reload');
  });

  await step('a photo through the button, a PDF dropped: thumbnails both sides, the photo opens, the PDF is a chip', async () => {
    const photo = path.join(os.tmpdir(), `bark-browser-photo-${process.pid}-${customerId}.jpg`);
    execFileSync('vips', ['black', photo, '400', '300', '--bands', '3']);
    await alice.locator('#attach-input').setInputFiles(photo);
    await waitIn(alice, 'the photo uploaded', () => document.querySelector('[data-testid=staged-file][data-ready=true]'));
    await alice.locator('#message-input').fill('our dog');
    await alice.locator('#send-button').click();
    for (const page of [alice, salon]) {
      await waitIn(page, 'the thumbnail loaded', () => [...document.querySelectorAll('[data-testid=message][data-message-id] img[data-testid=message-image]')]
        .some((img) => img.complete && img.naturalWidth === 320 && img.naturalHeight === 240));
    }
    const [full] = await Promise.all([salon.context().waitForEvent('page'),
      salon.locator('[data-testid=message-image]').last().click()]);
    await full.waitForLoadState();
    assert.match(full.url(), /\/api\/chat\/attachments\/[0-9a-f]{32}$/);
    const shown = await full.evaluate(() => new Promise((resolve) => {
      const img = document.images[0];
      const done = () => resolve(img ? [img.naturalWidth, img.naturalHeight] : null);
      if (!img || img.complete) done(); else img.onload = done;
    }));
    assert.deepEqual(shown, [400, 300], 'the full image opens');
    await full.close();
    // A PDF dropped on the conversation, sent without text.
    await salon.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['%PDF-1.4\n%%EOF\n'], 'price list.pdf', { type: 'application/pdf' }));
      document.querySelector('#messages-box').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await waitIn(salon, 'the PDF uploaded', () => document.querySelector('[data-testid=staged-file][data-ready=true]'));
    await salon.locator('#send-button').click();
    for (const page of [alice, salon]) {
      await waitIn(page, 'the file chip', () => [...document.querySelectorAll('[data-testid=message][data-message-id] [data-testid=message-file]')]
        .some((a) => /price list\.pdf/.test(a.textContent)));
    }
    await waitIn(alice, 'the room list says File', () => /📎 File/.test(document.querySelector('[data-testid=room-item].active').textContent));
    fs.rmSync(photo, { force: true });
  });

  await step('a token about to expire is renewed in-band: same connection, chat goes on', async () => {
    const claims = { userId: customerId, username: 'alice', role: 'USER' };
    // A login that expires in 2 s: accepted (bark allows 60 s of clock skew past `exp`, and closes
    // the session then), and warned about 60 s before that end, so within 2 s.
    await alice.context().addCookies([{ name: 'Authorization', value: bark.token(claims, { ttl: 2 }), url: bark.url }]);
    await alice.reload();
    await online(alice);
    const generation = await alice.evaluate(() => window.barkDemo.state.generation);
    await waitIn(alice, 'the token renewed (RECEIPT of /pub/auth/refresh)', () => window.barkDemo.state.refreshes >= 1);
    assert.equal(await alice.evaluate(() => window.barkDemo.state.generation), generation, 'no reconnect');
    await say(alice, 'Still here after the renewal');
    await shows(salon, 'Still here after the renewal', 'salon sees the customer after the renewal');
  });

  if (paging) {
    await step('scrolling to the top loads the older pages, each message once', async () => {
      // 120 more messages from the customer, sent outside the browser with a dev-login token.
      const claims = { userId: customerId, username: 'alice', role: 'USER' };
      const { token } = (await api(bark, 'POST', '/api/dev/login', { body: claims })).json;
      const c = await chatConnect(bark, claims, { token });
      try {
        for (let i = 1; i <= 120; i++) c.chatSend(roomId, { messageText: `bulk ${i}`, clientMessageId: `bulk-${i}` }, { receipt: `b${i}` });
        await c.receipt('b120', 10000);
      } finally {
        c.close();
      }
      await shows(salon, 'bulk 120', 'salon sees the bulk live');
      const stored = (await fullHistory(bark, token, roomId)).map((m) => m.messageId);
      await salon.reload();
      await live(salon);
      const firstPage = await salon.locator('[data-testid=message][data-message-id]').count();
      assert.ok(firstPage < stored.length, `the first page (${firstPage}) is not the whole history (${stored.length})`);
      await waitIn(salon, 'all pages loaded by scrolling up', () => {
        document.querySelector('#messages-box').scrollTop = 0;
        return document.querySelector('#history-status').textContent === 'beginning of the conversation';
      });
      const shown = await salon.evaluate(() => [...document.querySelectorAll('[data-testid=message][data-message-id]')]
        .map((m) => Number(m.dataset.messageId)));
      assert.deepEqual(shown, stored, 'every stored message once, oldest first');
      await waitIn(alice, 'the salon read everything after its reload', () => {
        const mine = [...document.querySelectorAll('[data-testid=message].mine')];
        return mine[mine.length - 1].dataset.state === 'read';
      });
    });

    await step('search finds messages in any case and opens the room at an old one', async () => {
      await salon.reload();
      await live(salon);
      await salon.locator('#search-input').fill('BULK 5');
      await salon.locator('#search-input').press('Enter');
      await waitIn(salon, 'search results', () => document.querySelector('#search-status').textContent === '11 found');
      const found = await salon.evaluate(() => [...document.querySelectorAll('[data-testid=search-result] .room-last')]
        .map((e) => e.textContent));
      assert.deepEqual(found, ['bulk 59', 'bulk 58', 'bulk 57', 'bulk 56', 'bulk 55', 'bulk 54', 'bulk 53', 'bulk 52',
        'bulk 51', 'bulk 50', 'bulk 5'], 'newest first, "bulk 5" and "bulk 50".."bulk 59"');
      assert.equal(await salon.locator('[data-testid=message-text]', { hasText: /^bulk 5$/ }).count(), 0,
        '"bulk 5" is older than the first page');
      await salon.locator('[data-testid=search-result]').last().click();
      await waitIn(salon, 'the old message shown and marked', () => {
        const li = document.querySelector('[data-testid=message][data-found=true]');
        return li && li.querySelector('[data-testid=message-text]').textContent === 'bulk 5';
      });
    });
  }

  if (screenshot) {
    await alice.screenshot({ path: screenshot }).catch((e) => t.diagnostic(`screenshot: ${e.message}`));
    t.diagnostic(`screenshot: ${screenshot}`);
  }
  for (const line of new Set([...alice.console, ...salon.console])) t.diagnostic(`console error: ${line}`);
  assert.deepEqual([...alice.problems, ...salon.problems], [], 'no uncaught exceptions in the pages');
  await alice.context().close();
  await salon.context().close();
}

test('browser: the demo page, two users chatting', { timeout: 110000 }, async (t) => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/install-deps.sh (apt package chromium)`);
  const { chromium } = require('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-browser-'));
  // A known secret: one step sets a short-lived login of its own in the page's cookie.
  // A short presence grace: a page away for a few seconds is reported offline.
  const bark = await startBark(['--dev', '--jwt-secret', 'browser-test-secret-0123456789abcdef', '--presence-grace', '1000',
    '--store', `sqlite:${dir}/bark.db`]);
  let browser;
  t.after(async () => {
    if (browser) await browser.close().catch(() => {});
    await bark.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const index = await httpRequest(bark.port, { path: '/' });
  assert.equal(index.status, 200, `GET / (the demo page; is ${path.dirname(path.dirname(BARK_BIN))}/web built?)\n${bark.output()}`);
  assert.match(index.headers['content-type'], /^text\/html/);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  await t.test('over the websocket transport', (st) => conversation(st, {
    bark, browser, customerId: 101, salonId: 202, transport: /^websocket$/, paging: true, screenshot: SCREENSHOT,
  }));
  await t.test('without WebSocket in the page: XHR transports', (st) => conversation(st, {
    bark, browser, customerId: 111, salonId: 212, noWebSocket: true, transport: /^xhr-/,
  }));
});
