'use strict';
// JWT authentication of STOMP CONNECT (SPEC §4): the token sources and their precedence, the
// failures (token-missing / token-invalid / token-expired, ERROR then close 1008), the 60 s leeway,
// HS256, RS256 and ES256 (--jwt-public-key), key confusion, `bark token`, start-up without a key,
// that nothing but CONNECT is processed before authentication, and the in-band token refresh.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const {
  BARK_BIN, startBark, RawStomp, frame, mint, signJwt, decodeJwt, CONNECT_12, chatConnect, createRoom, sleep,
} = require('./lib/bark');

const now = () => Math.floor(Date.now() / 1000);

// Opens a WebSocket carrying exactly the given auth (`token` null → none), sends CONNECT with
// `connectHeaders` added; resolves {c, f} with the first server frame.
async function tryConnect(bark, { token = null, authVia = 'header', headers, connectHeaders = {} } = {}) {
  const c = await RawStomp.open(bark.wsUrl, { token, authVia, headers });
  c.send('CONNECT', { ...CONNECT_12, ...connectHeaders });
  const f = await c.next(5000);
  return { c, f };
}

function assertConnected({ c, f }, username) {
  assert.equal(f.command, 'CONNECTED', `expected CONNECTED; wire:\n${c.dump()}`);
  assert.equal(f.headers['user-name'], username, `user-name; wire:\n${c.dump()}`);
}

// ERROR with message `code` and a readable body, then the close (1008).
async function assertRefused({ c, f }, code) {
  assert.equal(f.command, 'ERROR', `expected ERROR ${code}; wire:\n${c.dump()}`);
  assert.equal(f.headers.message, code, `ERROR message; wire:\n${c.dump()}`);
  assert.ok(f.text.trim().length > 0, `ERROR ${code} has a readable body; wire:\n${c.dump()}`);
  const closed = await c.waitClosed(3000);
  assert.equal(closed.code, 1008, `close code after ERROR ${code}; wire:\n${c.dump()}`);
  assert.equal(c.frames.filter((x) => x.command === 'CONNECTED').length, 0);
}

test('auth: HS256 (--jwt-secret)', async (t) => {
  const bark = await startBark([]);
  assert.ok(bark.secret, 'startBark added a --jwt-secret');
  t.after(() => bark.stop());
  const open = [];
  t.afterEach(() => { while (open.length) open.pop().close(); });
  const attempt = async (opts) => { const r = await tryConnect(bark, opts); open.push(r.c); return r; };
  const good = (claims = {}) => bark.token({ userId: 1001, username: 'kim', role: 'USER', ...claims });
  const wrongSecret = (claims = {}) => mint({ userId: 1001, username: 'kim', role: 'USER', ...claims }, { secret: 'not-the-secret' });

  await t.test('CONNECT header Authorization: Bearer <jwt>', async () => {
    assertConnected(await attempt({ connectHeaders: { Authorization: `Bearer ${good()}` } }), 'kim');
  });

  await t.test('CONNECT header passcode: <jwt>', async () => {
    assertConnected(await attempt({ connectHeaders: { login: 'kim', passcode: good({ username: 'pass-user' }) } }), 'pass-user');
  });

  await t.test('upgrade request Authorization: Bearer <jwt>', async () => {
    assertConnected(await attempt({ token: good({ username: 'upgrade-user' }) }), 'upgrade-user');
  });

  await t.test('upgrade request cookie Authorization=<jwt> (the seed), among other cookies, UTF-8 username', async () => {
    const tok = good({ username: '김미용', role: 'SALON', userId: 2001 });
    assertConnected(await attempt({ headers: { Cookie: `theme=dark; Authorization=${tok}; lang=ko` } }), '김미용');
  });

  await t.test('precedence: a bad CONNECT header token beats a good cookie → token-invalid', async () => {
    await assertRefused(await attempt({
      token: good(), authVia: 'cookie', connectHeaders: { Authorization: `Bearer ${wrongSecret()}` },
    }), 'token-invalid');
  });

  await t.test('precedence: a good CONNECT header token beats a bad upgrade header', async () => {
    assertConnected(await attempt({
      token: wrongSecret(), connectHeaders: { Authorization: `Bearer ${good({ username: 'from-connect' })}` },
    }), 'from-connect');
  });

  await t.test('precedence: a bad upgrade Authorization header beats a good cookie → token-invalid', async () => {
    await assertRefused(await attempt({
      token: wrongSecret(), headers: { Cookie: `Authorization=${good()}` },
    }), 'token-invalid');
  });

  await t.test('precedence: upgrade Authorization header (user A) over cookie (user B) → A', async () => {
    assertConnected(await attempt({
      token: good({ username: 'header-a' }), headers: { Cookie: `Authorization=${good({ username: 'cookie-b' })}` },
    }), 'header-a');
  });

  await t.test('no token anywhere → token-missing', async () => {
    await assertRefused(await attempt({}), 'token-missing');
  });

  await t.test('cookies without Authorization → token-missing', async () => {
    await assertRefused(await attempt({ headers: { Cookie: 'theme=dark; lang=ko' } }), 'token-missing');
  });

  await t.test('expired beyond the 60 s leeway (exp = now − 120 s) → token-expired', async () => {
    await assertRefused(await attempt({ token: good({ exp: now() - 120 }) }), 'token-expired');
  });

  await t.test('expired within the leeway (exp = now − 30 s) → CONNECTED', async () => {
    assertConnected(await attempt({ token: good({ exp: now() - 30, username: 'late' }) }), 'late');
  });

  await t.test('a session accepted within the leeway lives as long as the leeway (one rule for CONNECT and the session)', async () => {
    const r = await attempt({ token: good({ exp: now() - 30, username: 'skewed' }) });
    assertConnected(r, 'skewed');
    await sleep(1500);
    r.c.send('SUBSCRIBE', { id: 's1', destination: '/sub/news', receipt: 'still-here' });
    const got = await r.c.waitFor('RECEIPT', 3000, 'RECEIPT 1.5 s after CONNECT: the session must still be open');
    assert.equal(got.headers['receipt-id'], 'still-here', r.c.dump());
    r.c.close();
  });

  const valid = good();
  const parts = valid.split('.');
  const flipFirst = (s) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const payload = { userId: 1001, username: 'kim', role: 'USER', exp: now() + 3600 };
  const invalid = [
    ['forged signature (first signature character changed)', `${parts[0]}.${parts[1]}.${flipFirst(parts[2])}`],
    ['payload changed, signature kept', `${parts[0]}.${Buffer.from(JSON.stringify({ ...payload, role: 'ADMIN' })).toString('base64url')}.${parts[2]}`],
    ['alg none, empty signature', signJwt({ alg: 'none', typ: 'JWT' }, payload)],
    ['alg None, empty signature', signJwt({ alg: 'None', typ: 'JWT' }, payload)],
    ['alg none with the HS256 signature kept', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${parts[1]}.${parts[2]}`],
    ['HS256 with an empty signature', `${parts[0]}.${parts[1]}.`],
    ['wrong secret', wrongSecret()],
    ['RS256 token on an HS256 server (algorithm mismatch)', mint(payload, { alg: 'RS256', privateKey: rsa.privateKey })],
    ['missing userId', good({ userId: undefined })],
    ['missing username', good({ username: undefined })],
    ['missing role', good({ role: undefined })],
    ['missing exp', good({ exp: undefined })],
    ['userId as a string', good({ userId: '1001' })],
    ['userId not an integer (1.5)', good({ userId: 1.5 })],
    ['empty username', good({ username: '' })],
    ['unknown role', good({ role: 'GOD' })],
    ['exp as a string', good({ exp: String(now() + 3600) })],
    ['not a JWT', 'hello'],
    ['two parts only', `${parts[0]}.${parts[1]}`],
    ['payload not JSON', `${parts[0]}.${Buffer.from('not json').toString('base64url')}.${parts[2]}`],
  ];
  for (const [name, tok] of invalid) {
    await t.test(`token-invalid: ${name} (in the upgrade Authorization header)`, async () => {
      await assertRefused(await attempt({ token: tok }), 'token-invalid');
    });
  }

  await t.test('token-invalid also from the CONNECT header and the cookie', async () => {
    await assertRefused(await attempt({ connectHeaders: { Authorization: `Bearer ${good({ userId: '7' })}` } }), 'token-invalid');
    await assertRefused(await attempt({ connectHeaders: { passcode: wrongSecret() } }), 'token-invalid');
    await assertRefused(await attempt({ token: good({ role: undefined }), authVia: 'cookie' }), 'token-invalid');
  });

  for (const [command, headers] of [
    ['SUBSCRIBE', { id: '0', destination: '/sub/auth/x', receipt: 'r-sub' }],
    ['SEND', { destination: '/pub/chat/send/1', receipt: 'r-send' }],
  ]) {
    await t.test(`${command} before CONNECT (valid token in the upgrade) → ERROR, no RECEIPT, close`, async () => {
      const c = await RawStomp.open(bark.wsUrl, { token: good() });
      open.push(c);
      c.send(command, headers, command === 'SEND' ? '{"messageText":"early"}' : '');
      const f = await c.waitFor('ERROR', 3000);
      assert.ok(f.headers.message, c.dump());
      await c.waitClosed(3000);
      assert.deepEqual(c.frames.map((x) => x.command), ['ERROR'], c.dump());
    });
  }

  await t.test('frames batched after a refused CONNECT are not processed (no RECEIPT, no chat message)', async () => {
    const customer = { userId: 1, username: 'tester', role: 'USER' };
    const salon = await chatConnect(bark, { userId: 2, username: 'salon-two', role: 'SALON' });
    open.push(salon);
    const room = await createRoom(bark, bark.token(customer), 1, 2);
    await salon.subscribe('room', `/sub/chat/${room.roomId}`);
    const c = await RawStomp.open(bark.wsUrl, { token: null });
    open.push(c);
    const expired = bark.token({ ...customer, exp: now() - 600 });
    c.sendRaw(
      frame('CONNECT', { ...CONNECT_12, Authorization: `Bearer ${expired}` }) +
      frame('SUBSCRIBE', { id: 's', destination: '/sub/auth/batched', receipt: 'r1' }) +
      frame('SEND', { destination: `/pub/chat/send/${room.roomId}`, receipt: 'r2', 'content-type': 'application/json' },
        JSON.stringify({ roomId: room.roomId, messageText: 'must not be stored', sendAt: new Date().toISOString() })));
    const f = await c.next(3000);
    await assertRefused({ c, f }, 'token-expired');
    await sleep(300);
    assert.deepEqual(c.frames.map((x) => x.command), ['ERROR'], c.dump());
    assert.equal(salon.messages('room').length, 0, `the room got a message from an unauthenticated session:\n${salon.dump()}`);
  });

  await t.test('a session is closed when its token expires (token accepted within the leeway, exp = now − 57 s)', async () => {
    // With the 60 s leeway the token stops being acceptable ~3 s from now; the server must then send
    // ERROR token-expired and close (a server that closes at exp itself closes at once: also fine).
    const r = await attempt({ token: good({ exp: now() - 57, username: 'short-lived' }) });
    assertConnected(r, 'short-lived');
    const f = await r.c.waitFor('ERROR', 9000, 'ERROR token-expired when the session token expires');
    assert.equal(f.headers.message, 'token-expired', r.c.dump());
    const closed = await r.c.waitClosed(3000);
    assert.equal(closed.code, 1008, r.c.dump());
  });
});

// In-band token refresh (SPEC §11): SEND /pub/auth/refresh with the new token in Authorization.
test('auth: token refresh and the token-expiring notice', async (t) => {
  const bark = await startBark([]);
  t.after(() => bark.stop());
  const USER = { userId: 4711, username: 'refresher', role: 'USER' };
  // Accepted within the leeway, ~3 s to live: the notice is due at once.
  const shortLived = () => bark.token({ ...USER, exp: now() - 57 });

  await t.test('the notice arrives on /user/queue/errors; a new token of the same user keeps the session past the old expiry', async () => {
    const c = await chatConnect(bark, USER, { token: shortLived() });
    await c.subscribe('errors', '/user/queue/errors');
    const [notice] = await c.waitJson('errors', 1, 5000);
    assert.equal(notice.error, 'token-expiring', JSON.stringify(notice));
    assert.ok(Math.abs(Date.parse(notice.expiresAt) - (Date.now() + 3000)) < 2500, `expiresAt ${notice.expiresAt}`);
    c.send('SEND', { destination: '/pub/auth/refresh', Authorization: `Bearer ${bark.token(USER)}`, receipt: 'refresh-1' });
    await c.receipt('refresh-1');
    await sleep(4500); // past the old token's end
    await c.subscribe('after', '/sub/lobby');
    assert.equal(c.closed, null, c.dump());
    assert.equal(c.frames.filter((f) => f.command === 'ERROR').length, 0, c.dump());
    c.close();
  });

  await t.test('another user\'s token (the same id with another role too) → ERROR token-invalid and close', async () => {
    for (const other of [{ ...USER, userId: USER.userId + 1 }, { ...USER, role: 'SALON' }]) {
      const c = await chatConnect(bark, USER);
      c.send('SEND', { destination: '/pub/auth/refresh', Authorization: `Bearer ${bark.token(other)}`, receipt: 'r' });
      const f = await c.waitFor('ERROR');
      assert.equal(f.headers.message, 'token-invalid', c.dump());
      assert.equal((await c.waitClosed()).code, 1008);
    }
  });

  await t.test('a bad or missing token in a refresh ends the session; without a refresh it ends at expiry', async () => {
    const bad = await chatConnect(bark, USER);
    bad.send('SEND', { destination: '/pub/auth/refresh', Authorization: 'Bearer not.a.jwt' });
    assert.equal((await bad.waitFor('ERROR')).headers.message, 'token-invalid');
    const none = await chatConnect(bark, USER);
    none.send('SEND', { destination: '/pub/auth/refresh' });
    assert.equal((await none.waitFor('ERROR')).headers.message, 'token-missing');
    const lapsing = await chatConnect(bark, USER, { token: shortLived() });
    const f = await lapsing.waitFor('ERROR', 9000);
    assert.equal(f.headers.message, 'token-expired');
  });
});

test('auth: RS256 and ES256 (--jwt-public-key)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-auth-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const claims = { userId: 3001, username: 'pk-user', role: 'SALON' };

  for (const [alg, type, opts] of [
    ['RS256', 'rsa', { modulusLength: 2048 }],
    ['ES256', 'ec', { namedCurve: 'prime256v1' }],
  ]) {
    await t.test(alg, async (tt) => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync(type, opts);
      const other = crypto.generateKeyPairSync(type, opts);
      const pem = publicKey.export({ type: 'spki', format: 'pem' });
      const file = path.join(dir, `${alg}.pem`);
      fs.writeFileSync(file, pem);
      const bark = await startBark(['--jwt-public-key', file]);
      tt.after(() => bark.stop());
      const open = [];
      tt.afterEach(() => { while (open.length) open.pop().close(); });
      const attempt = async (o) => { const r = await tryConnect(bark, o); open.push(r.c); return r; };

      await tt.test(`${alg} token works (upgrade header, CONNECT header, cookie)`, async () => {
        const tok = mint(claims, { alg, privateKey });
        assertConnected(await attempt({ token: tok }), 'pk-user');
        assertConnected(await attempt({ connectHeaders: { Authorization: `Bearer ${tok}` } }), 'pk-user');
        assertConnected(await attempt({ token: tok, authVia: 'cookie' }), 'pk-user');
      });

      await tt.test('key confusion: HS256 signed with the PEM text as the secret → token-invalid', async () => {
        await assertRefused(await attempt({ token: mint(claims, { alg: 'HS256', secret: pem }) }), 'token-invalid');
        const der = publicKey.export({ type: 'spki', format: 'der' });
        await assertRefused(await attempt({ token: mint(claims, { alg: 'HS256', secret: der }) }), 'token-invalid');
      });

      await tt.test(`${alg} signed by another key → token-invalid`, async () => {
        await assertRefused(await attempt({ token: mint(claims, { alg, privateKey: other.privateKey }) }), 'token-invalid');
      });

      await tt.test('alg none → token-invalid', async () => {
        await assertRefused(await attempt({ token: signJwt({ alg: 'none' }, { ...claims, exp: now() + 60 }) }), 'token-invalid');
      });

      await tt.test(`${alg} expired beyond the leeway → token-expired`, async () => {
        await assertRefused(await attempt({ token: mint({ ...claims, exp: now() - 300 }, { alg, privateKey }) }), 'token-expired');
      });
    });
  }
});

test('auth: `bark token`, start-up without a key, --dev', async (t) => {
  const secret = `cli-secret-${crypto.randomBytes(8).toString('hex')}`;
  const bark = await startBark(['--jwt-secret', secret]);
  t.after(() => bark.stop());

  await t.test('`bark token` prints an HS256 JWT with the claims that CONNECTs', async () => {
    const r = spawnSync(BARK_BIN, ['token', '--user-id', '77', '--username', 'cli-user', '--role', 'SALON',
      '--ttl', '600', '--jwt-secret', secret], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, `bark token exit ${r.status}: ${r.stderr}`);
    const tok = r.stdout.trim();
    assert.match(tok, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, `stdout: ${JSON.stringify(r.stdout)}`);
    const d = decodeJwt(tok);
    assert.equal(d.header.alg, 'HS256');
    const expect = crypto.createHmac('sha256', secret).update(d.signingInput).digest();
    assert.ok(crypto.timingSafeEqual(d.signature, expect), 'HS256 signature verifies with the secret');
    assert.equal(d.payload.userId, 77);
    assert.equal(d.payload.username, 'cli-user');
    assert.equal(d.payload.role, 'SALON');
    assert.equal(typeof d.payload.exp, 'number');
    assert.ok(Math.abs(d.payload.exp - (now() + 600)) <= 10, `exp ${d.payload.exp} ≈ now + 600`);
    const c = await tryConnect(bark, { token: tok });
    try { assertConnected(c, 'cli-user'); } finally { c.c.close(); }
  });

  await t.test('bark without --dev and without a key exits non-zero with one line on stderr', async () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^BARK_(JWT|DEV|CONFIG)/.test(k)) delete env[k];
    const r = spawnSync(BARK_BIN, ['--listen', '127.0.0.1:0', '--store', 'memory:'], { encoding: 'utf8', timeout: 10000, env });
    assert.equal(r.signal, null, `bark did not exit by itself (killed by ${r.signal}); stdout: ${r.stdout}`);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /listening/);
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    assert.equal(lines.length, 1, `one line on stderr, got: ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], /jwt|secret|key|--dev/i);
  });

  await t.test('--dev without a secret starts with a random secret: a token of another secret is refused', async () => {
    const dev = await startBark(['--dev']);
    try {
      assert.equal(dev.secret, null);
      const r = await tryConnect(dev, { token: mint({ userId: 5, username: 'x', role: 'USER' }, { secret: secret }) });
      await assertRefused(r, 'token-invalid');
    } finally {
      await dev.stop();
    }
  });
});
