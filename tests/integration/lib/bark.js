'use strict';
// Helpers shared by the integration tests: start/stop the bark binary, a raw STOMP-over-WebSocket
// client that shows the wire, a hand-made WebSocket client over a plain TCP socket, small HTTP
// helpers and a thin wrapper around @stomp/stompjs. Every wait has a timeout.

const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const WebSocket = require('ws');

const BARK_BIN = process.env.BARK_BIN || path.resolve(__dirname, '../../../build/bin/bark');
const LISTEN_RE = /^bark listening on https?:\/\/127\.0\.0\.1:(\d+)\s*$/m;

// ---------------------------------------------------------------------------------------------
// Small utilities

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves/rejects with `promise`, or rejects after `ms` with a message naming `what`.
function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Polls `cond` every 10 ms until it is truthy; rejects after `ms`.
async function waitUntil(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond(); // a condition may be async (an HTTP probe)
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms: ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------
// JWT

// The HS256 secret of this test run (shared with worker threads through the environment).
if (!process.env.BARKTEST_JWT_SECRET) process.env.BARKTEST_JWT_SECRET = crypto.randomBytes(24).toString('hex');
const RUN_SECRET = process.env.BARKTEST_JWT_SECRET;
const secretsByPort = new Map(); // port → the HS256 secret of the bark listening there (null: unknown)

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

// Signs a JWT with `header` and `payload` (objects, or strings used verbatim after base64url).
// HS256 with `secret`; RS256/ES256 with `privateKey` (a KeyObject or PEM); alg `none` → empty
// signature. `encodedHeader`/`encodedPayload` override the encoded parts (for malformed tokens).
function signJwt(header, payload, { secret = RUN_SECRET, privateKey } = {}) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const alg = typeof header === 'string' ? JSON.parse(header).alg : header.alg;
  let sig;
  if (alg === 'HS256') sig = crypto.createHmac('sha256', secret).update(input).digest();
  else if (alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), privateKey);
  else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  else sig = Buffer.alloc(0);
  return `${input}.${sig.toString('base64url')}`;
}

// A JWT with claims {userId: 1, username: 'tester', role: 'USER', iat, exp: now + ttl} overridden
// by `claims` (a claim set to undefined is left out). HS256 with `secret` (the run's secret by
// default) unless `alg`/`privateKey` say otherwise.
function mint(claims = {}, { secret = RUN_SECRET, ttl = 3600, alg = 'HS256', privateKey, header } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { userId: 1, username: 'tester', role: 'USER', iat: now, exp: now + ttl, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return signJwt(header || { alg, typ: 'JWT' }, payload, { secret: secret ?? RUN_SECRET, privateKey });
}

// Decodes a JWT without verifying it: {header, payload, signature (Buffer), signingInput}.
function decodeJwt(token) {
  const [h, p, s] = String(token).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: Buffer.from(s || '', 'base64url'),
    signingInput: `${h}.${p}`,
  };
}

function portOf(url) {
  try { return Number(new URL(url).port) || null; } catch { return null; }
}

// The token a connection to `url` carries by default: claims {userId: 1, username: 'tester',
// role: 'USER'} signed with the secret of the bark on that port (the run's secret for a port this
// thread did not start, e.g. in a worker). null when that bark's secret is unknown.
function defaultToken(url) {
  const port = typeof url === 'number' ? url : portOf(url);
  const secret = secretsByPort.has(port) ? secretsByPort.get(port) : RUN_SECRET;
  return secret ? mint({}, { secret }) : null;
}

// Upgrade request headers carrying a token. `authVia`: 'header' (Authorization: Bearer, the
// default), 'cookie' (Cookie: Authorization=<jwt>, like the seed) or 'none'. `token`: the token,
// by default defaultToken(url); null → no header. Headers already in `headers` (an Authorization or
// Cookie of the caller's) are kept as given.
function authHeaders(url, { token, authVia = 'header', headers = {} } = {}) {
  const out = { ...headers };
  const has = (n) => Object.keys(out).some((k) => k.toLowerCase() === n);
  const tok = token === undefined ? defaultToken(url) : token;
  if (!tok || authVia === 'none') return out;
  if (authVia === 'cookie' && !has('cookie')) out.Cookie = `Authorization=${tok}`;
  if (authVia === 'header' && !has('authorization')) out.Authorization = `Bearer ${tok}`;
  return out;
}

// A `ws` WebSocket that adds authHeaders(url) to its upgrade request (for libraries that construct
// the socket themselves, like stompjs 2.3.3's Stomp.client).
class AuthWebSocket extends WebSocket {
  constructor(url, protocols, options = {}) {
    super(url, protocols, { ...options, headers: authHeaders(url, { headers: options.headers || {} }) });
  }
}

// ---------------------------------------------------------------------------------------------
// The server process

const running = new Set();
process.on('exit', () => {
  for (const p of running) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Whether the binary knows the authentication options (`bark --help` lists --jwt-secret); cached.
let helpText;
function barkHelp() {
  if (helpText === undefined) {
    try {
      const r = spawnSync(BARK_BIN, ['--help'], { encoding: 'utf8', timeout: 5000 });
      helpText = `${r.stdout}${r.stderr}`;
    } catch {
      helpText = '';
    }
  }
  return helpText;
}
const barkSupportsAuth = () => /--jwt-secret/.test(barkHelp());

const hasFlag = (flags, ...names) => flags.some((f) => names.some((n) => f === n || String(f).startsWith(`${n}=`)));
const flagValue = (flags, name) => {
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === name) return flags[i + 1];
    if (String(flags[i]).startsWith(`${name}=`)) return String(flags[i]).slice(name.length + 1);
  }
  return undefined;
};

// Starts bark with `flags` (plus `--listen 127.0.0.1:0`), waits for its "listening" line.
// When the binary supports authentication, `--jwt-secret <the run's secret>` is added unless the
// flags bring their own --jwt-secret, --jwt-public-key or --dev, and `--store memory:` unless they
// bring a --store, and `--max-send-rate 0` unless they bring a --max-send-rate (the generic
// pub/sub tests publish far more than the default 50 SENDs/s per connection; tests of the limit or
// of the chat layer's default pass the flag themselves). The result's `secret` is the HS256 secret the server checks (null when unknown:
// a public key, or --dev without a secret); connections to its port get a token signed with it by
// default (see authHeaders()).
async function startBark(flags = [], { timeoutMs = 10000, env } = {}) {
  const extra = [];
  let secret = null;
  if (barkSupportsAuth()) {
    if (!hasFlag(flags, '--jwt-secret', '--jwt-public-key', '--dev')) extra.push('--jwt-secret', RUN_SECRET);
    if (!hasFlag(flags, '--store')) extra.push('--store', 'memory:');
    if (/--max-send-rate/.test(barkHelp()) && !hasFlag(flags, '--max-send-rate')) extra.push('--max-send-rate', '0');
    secret = flagValue([...flags, ...extra], '--jwt-secret') ?? null;
  } else {
    secret = RUN_SECRET; // unused by an old binary; tokens are harmless extra headers
  }
  const args = ['--listen', '127.0.0.1:0', ...extra, ...flags];
  const proc = spawn(BARK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
  running.add(proc);
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 200000) output = output.slice(-100000);
  };
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(proc);
      resolve(exited);
    });
    proc.on('error', (err) => {
      exited = { code: null, signal: null, error: err };
      running.delete(proc);
      resolve(exited);
    });
  });
  proc.stderr.on('data', keep);

  const port = await withTimeout(new Promise((resolve, reject) => {
    let stdoutBuf = '';
    proc.stdout.on('data', (chunk) => {
      keep(chunk);
      stdoutBuf += chunk.toString();
      const m = LISTEN_RE.exec(stdoutBuf);
      if (m) resolve(Number(m[1]));
    });
    exitPromise.then((e) => reject(new Error(
      `bark exited before listening (${e.error ? e.error.message : `code ${e.code}, signal ${e.signal}`}); ` +
      `bin=${BARK_BIN} args=${args.join(' ')}\n${output}`)));
  }), timeoutMs, `bark ${args.join(' ')} to print its listening line`).catch((err) => {
    if (!exited) proc.kill('SIGKILL');
    throw err;
  });

  const url = `http://127.0.0.1:${port}`;
  secretsByPort.set(port, secret);
  return {
    port,
    url,
    secret,
    // A token this server accepts (HS256 with its secret); claims as for mint().
    token: (claims, opts = {}) => mint(claims, { secret, ...opts }),
    wsUrl: `ws://127.0.0.1:${port}/ws/chat`,
    proc,
    args,
    output: () => output,
    // Resident memory in bytes, from /proc.
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) * 1024,
    // Built with a sanitizer (its allocator's quarantine makes RSS say little).
    sanitized: () => /lib(asan|tsan)/.test(fs.readFileSync(`/proc/${proc.pid}/maps`, 'utf8')),
    exited: () => exited,
    // SIGTERM, then SIGKILL after `killAfterMs` (past the 10 s a stop may take); resolves with
    // {code, signal}. A stop that does
    // not end in exit 0 (a hang, a crash, a sanitizer's report at exit) throws, unless `check` is
    // false. A process that had already exited (a test killed it) is not checked.
    async stop({ killAfterMs = 12000, check = true } = {}) {
      if (exited) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) proc.kill('SIGKILL'); }, killAfterMs);
      const r = await exitPromise;
      clearTimeout(timer);
      if (check && (r.code !== 0 || r.signal !== null)) {
        await new Promise((resolve) => { proc.once('close', resolve); setTimeout(resolve, 1000); });
        throw new Error(`bark ${args.join(' ')} did not stop cleanly on SIGTERM ` +
          `(code ${r.code}, signal ${r.signal}):\n${output.slice(-6000)}`);
      }
      return r;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// STOMP frames

const NUL = '\0';

function escapeHeader(s) {
  return String(s).replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/:/g, '\\c');
}

// Builds a client frame. `headers`: an object or an array of [name, value] pairs (values are sent
// as given, no escaping). `body`: string or Buffer. Returns a string, or a Buffer if body is one.
function frame(command, headers = {}, body = '') {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  let head = command + '\n';
  for (const [k, v] of pairs) head += `${k}:${v}\n`;
  head += '\n';
  if (Buffer.isBuffer(body)) return Buffer.concat([Buffer.from(head), body, Buffer.from(NUL)]);
  return head + body + NUL;
}

function unescapeHeader(s) {
  return s.replace(/\\(.)/g, (m, c) => ({ n: '\n', r: '\r', c: ':', '\\': '\\' }[c] ?? m));
}

// Incremental parser for server frames (bytes). Heart-beat EOLs between frames are reported apart.
class FrameParser {
  constructor({ onFrame, onHeartbeat }) {
    this.buf = Buffer.alloc(0);
    this.onFrame = onFrame;
    this.onHeartbeat = onHeartbeat;
    this.version = null; // set by the client once CONNECTED is seen; 1.0 does not unescape
  }

  feed(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    for (;;) {
      // EOLs between frames are heart-beats.
      while (this.buf.length && (this.buf[0] === 0x0a || (this.buf[0] === 0x0d && this.buf[1] === 0x0a))) {
        this.buf = this.buf.subarray(this.buf[0] === 0x0d ? 2 : 1);
        this.onHeartbeat();
      }
      if (this.buf.length === 0 || (this.buf.length === 1 && this.buf[0] === 0x0d)) return;
      const f = this.tryParse();
      if (!f) return;
      this.onFrame(f);
    }
  }

  tryParse() {
    const b = this.buf;
    let pos = 0;
    const lines = [];
    for (;;) {
      const nl = b.indexOf(0x0a, pos);
      if (nl < 0) return null;
      let line = b.subarray(pos, nl).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      pos = nl + 1;
      if (line === '') break;
      lines.push(line);
    }
    const command = lines.shift();
    const headerList = [];
    const headers = {};
    const unescape = this.version && this.version !== '1.0' && command !== 'CONNECTED';
    for (const line of lines) {
      const i = line.indexOf(':');
      let k = i < 0 ? line : line.slice(0, i);
      let v = i < 0 ? '' : line.slice(i + 1);
      if (unescape) { k = unescapeHeader(k); v = unescapeHeader(v); }
      headerList.push([k, v]);
      if (!(k in headers)) headers[k] = v; // the first occurrence wins
    }
    let body;
    let end;
    if (headers['content-length'] !== undefined && /^\d+$/.test(headers['content-length'])) {
      const len = Number(headers['content-length']);
      if (b.length < pos + len + 1) return null;
      body = b.subarray(pos, pos + len);
      if (b[pos + len] !== 0) throw new Error(`server frame ${command}: no NUL after content-length body`);
      end = pos + len + 1;
    } else {
      const z = b.indexOf(0, pos);
      if (z < 0) return null;
      body = b.subarray(pos, z);
      end = z + 1;
    }
    const raw = b.subarray(0, end).toString('utf8');
    this.buf = b.subarray(end);
    return { command, headers, headerList, body: Buffer.from(body), text: body.toString('utf8'), raw };
  }
}

// Shows a frame or wire text with control characters visible (for assertion messages).
function visible(s) {
  return String(s).replace(/\0/g, '^@').replace(/\r/g, '\\r').replace(/\n/g, '\\n\n');
}

// ---------------------------------------------------------------------------------------------
// Raw STOMP over a `ws` WebSocket

class RawStomp {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];      // every parsed server frame, in order
    this.cursor = 0;       // frames before this index were consumed by next()/waitFor()
    this.consumed = new Set();
    this.messageFrames = []; // the MESSAGE frames among them
    this.heartbeats = [];  // arrival times (ms) of heart-beat EOLs
    this.trace = [];       // [time, dir, text] for diagnostics
    this.closed = null;    // {code, reason, at} once closed
    this.error = null;
    this.t0 = Date.now();
    this.parser = new FrameParser({
      onFrame: (f) => {
        f.at = Date.now();
        if (f.command === 'CONNECTED' && f.headers.version) this.parser.version = f.headers.version;
        this.frames.push(f);
        if (f.command === 'MESSAGE') this.messageFrames.push(f);
        this._notify();
      },
      onHeartbeat: () => { this.heartbeats.push(Date.now()); this._notify(); },
    });
    this.waiters = new Set();
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.trace.push([Date.now() - this.t0, '<<', buf.toString('utf8')]);
      try {
        this.parser.feed(buf);
      } catch (err) {
        this.error = err;
        this._notify();
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString(), at: Date.now() };
      this._notify();
    });
    ws.on('error', (err) => { this.error = this.error || err; this._notify(); });
  }

  // Opens a WebSocket to `url` (options: protocols, headers, origin; `ca` for wss). Rejects on a non-101 answer.
  // Auth: `token` (default: defaultToken(url); null: none) sent as `authVia` 'header' (upgrade
  // Authorization: Bearer, the default), 'cookie' or 'none' (see authHeaders()).
  // `perMessageDeflate`: offer permessage-deflate (ws's option: true or its settings object).
  static open(url, { protocols, headers, origin, timeoutMs = 5000, token, authVia, ca, perMessageDeflate = false } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, {
        headers: authHeaders(url, { token, authVia, headers }), origin, perMessageDeflate, ca,
      });
      const client = new RawStomp(ws);
      ws.once('upgrade', (res) => { client.upgradeHeaders = res.headers; });
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => {
        reject(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`));
        req.destroy();
      });
      ws.once('error', reject);
    }), timeoutMs, `WebSocket open ${url}`);
  }

  // Opens a connection and sends CONNECT; resolves with the CONNECTED frame (rejects on ERROR).
  static async connect(url, connectHeaders = { 'accept-version': '1.2', host: '127.0.0.1' }, opts = {}) {
    const c = await RawStomp.open(url, opts);
    const f = await c.connect(connectHeaders);
    if (f.command !== 'CONNECTED') {
      c.close();
      throw new Error(`expected CONNECTED, got:\n${visible(f.raw)}`);
    }
    return c;
  }

  _notify() { for (const w of [...this.waiters]) w(); }

  // Resolves when `cond()` is truthy (re-checked on every event), rejects after `ms`.
  _wait(cond, ms, what) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        let v;
        try { v = cond(); } catch (err) { done(); reject(err); return; }
        if (v) { done(); resolve(v); }
      };
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      timer = setTimeout(() => {
        done();
        reject(new Error(`timeout after ${ms} ms: ${what}\n--- wire trace ---\n${this.dump()}`));
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  sendRaw(data, { binary = false } = {}) {
    this.trace.push([Date.now() - this.t0, '>>', Buffer.isBuffer(data) ? data.toString('utf8') : data]);
    this.ws.send(data, { binary });
  }

  // Sends one frame; a Buffer body goes in a binary WebSocket message (it may not be UTF-8).
  send(command, headers = {}, body = '') {
    const f = frame(command, headers, body);
    this.sendRaw(f, { binary: Buffer.isBuffer(f) });
  }

  async connect(headers = { 'accept-version': '1.2', host: '127.0.0.1' }, command = 'CONNECT') {
    this.send(command, headers);
    return this.next(5000);
  }

  _advance() {
    while (this.cursor < this.frames.length && this.consumed.has(this.cursor)) this.cursor++;
  }

  // The next unconsumed frame, in arrival order.
  next(ms = 3000) {
    return this._wait(() => {
      this._advance();
      if (this.cursor < this.frames.length) {
        this.consumed.add(this.cursor);
        return this.frames[this.cursor++];
      }
      if (this.error) throw this.error;
      if (this.closed) throw new Error(`connection closed (${this.closed.code}) while waiting for a frame\n${this.dump()}`);
      return null;
    }, ms, 'next frame');
  }

  // The first unconsumed frame matching `pred` (a command name or a function); frames before it
  // stay unconsumed.
  waitFor(pred, ms = 3000, what) {
    const match = typeof pred === 'string' ? (f) => f.command === pred : pred;
    const label = what || (typeof pred === 'string' ? `frame ${pred}` : 'frame matching predicate');
    return this._wait(() => {
      for (let i = this.cursor; i < this.frames.length; i++) {
        if (!this.consumed.has(i) && match(this.frames[i])) {
          this.consumed.add(i);
          this._advance();
          return this.frames[i];
        }
      }
      if (this.error) throw this.error;
      if (this.closed) throw new Error(`connection closed (${this.closed.code}) while waiting for ${label}\n${this.dump()}`);
      return null;
    }, ms, label);
  }

  // Waits for a RECEIPT with receipt-id `id`.
  receipt(id, ms = 3000) {
    return this.waitFor((f) => f.command === 'RECEIPT' && f.headers['receipt-id'] === id, ms, `RECEIPT ${id}`);
  }

  // All received MESSAGE frames (optionally of one subscription id).
  messages(subscription) {
    if (subscription === undefined) return this.messageFrames.slice();
    return this.messageFrames.filter((f) => f.headers.subscription === subscription);
  }

  // Waits until `n` MESSAGE frames (optionally of one subscription) arrived.
  waitMessages(n, ms = 3000, subscription) {
    return this._wait(() => {
      if (subscription === undefined && this.messageFrames.length < n) return null;
      const m = this.messages(subscription);
      return m.length >= n ? m : null;
    }, ms, `${n} MESSAGE frames${subscription ? ` on ${subscription}` : ''}`);
  }

  // Resolves {code, reason, at} once the server closed the connection.
  waitClosed(ms = 3000) { return this._wait(() => this.closed, ms, 'connection close'); }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      try { this.ws.terminate(); } catch { /* ignore */ }
    }
  }

  // The wire trace, as text.
  dump() {
    return this.trace.map(([t, d, s]) => `${String(t).padStart(6)}ms ${d} ${visible(s)}`).join('\n') +
      (this.closed ? `\n  [closed ${this.closed.code} ${this.closed.reason}]` : '');
  }
}


// Asserts that `c` gets a protocol ERROR with message `code`, a non-empty body (and `receipt-id` when
// given), then that the server closes the connection (with `closeCode` unless it is null).
async function expectProtocolError(c, code, { receiptId, closeCode = 1002, ms = 3000 } = {}) {
  const f = await c.waitFor('ERROR', ms, `ERROR ${code}`);
  assert.equal(f.headers.message, code, `ERROR message header; wire:\n${c.dump()}`);
  assert.ok(f.text.trim().length > 0, `ERROR ${code} has a readable body; wire:\n${c.dump()}`);
  if (receiptId !== undefined) {
    assert.equal(f.headers['receipt-id'], receiptId, `ERROR receipt-id; wire:\n${c.dump()}`);
  }
  const closed = await c.waitClosed(ms);
  if (closeCode !== null) assert.equal(closed.code, closeCode, `close code after ERROR ${code}`);
  return f;
}

// ---------------------------------------------------------------------------------------------
// WebSocket by hand over a plain TCP socket (handshake details and slow readers)

// Connects, sends an upgrade request, resolves {socket, status, headers, statusLine, rest} once the
// answer's header block arrived. `headers`: extra request headers (object).
// Carries the default token like RawStomp.open (options `token`, `authVia`).
function rawWsHandshake(port, { path: p = '/ws/chat', headers: extraHeaders = {}, timeoutMs = 5000, token, authVia } = {}) {
  const headers = authHeaders(port, { token, authVia, headers: extraHeaders });
  return withTimeout(new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    socket.once('error', reject);
    socket.on('connect', () => {
      let req = `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
      for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
      socket.write(req + '\r\n');
    });
    let buf = Buffer.alloc(0);
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      socket.pause();
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const statusLine = head.shift();
      const h = {};
      for (const line of head) {
        const i = line.indexOf(':');
        h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const expectAccept = crypto.createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      resolve({
        socket,
        statusLine,
        status: Number(statusLine.split(' ')[1]),
        headers: h,
        acceptOk: h['sec-websocket-accept'] === expectAccept,
        rest: buf.subarray(end + 4),
      });
    };
    socket.on('data', onData);
  }), timeoutMs, `raw WebSocket handshake on port ${port}`);
}

// A masked client WebSocket frame (opcode 1 = text, 2 = binary, 8 = close).
function encodeWsFrame(payload, opcode = 1) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const mask = crypto.randomBytes(4);
  let head;
  if (data.length < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode; head[1] = 0x80 | 126; head.writeUInt16BE(data.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, out]);
}

// Decodes unmasked server frames from `buf`; returns {frames: [{opcode, payload}], rest}.
function decodeWsFrames(buf) {
  const frames = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const opcode = buf[pos] & 0x0f;
    let len = buf[pos + 1] & 0x7f;
    let off = pos + 2;
    if (len === 126) { if (buf.length - pos < 4) break; len = buf.readUInt16BE(pos + 2); off = pos + 4; }
    else if (len === 127) { if (buf.length - pos < 10) break; len = Number(buf.readBigUInt64BE(pos + 2)); off = pos + 10; }
    if (buf.length < off + len) break;
    frames.push({ opcode, payload: buf.subarray(off, off + len) });
    pos = off + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

// ---------------------------------------------------------------------------------------------
// HTTP

// One request on a fresh connection; resolves {status, headers, body}.
// `body`: a string/Buffer sent as is, or any other value sent as JSON (content-type
// application/json unless `headers` name one). `token`: adds `Authorization: Bearer <token>`. The result's `json` is the
// parsed body (undefined when it is not JSON).
function httpRequest(port, {
  method = 'GET', path: p = '/', headers = {}, agent = false, timeoutMs = 5000, body, token,
} = {}) {
  const h = { ...headers };
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    h['Content-Length'] = Buffer.byteLength(payload);
  }
  if (token) h.Authorization = `Bearer ${token}`;
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({
          status: res.statusCode, headers: res.headers, body: text, json,
          reusedSocket: req.reusedSocket, localPort: req.socket && req.socket.localPort,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  }), timeoutMs, `${method} ${p}`);
}

// Shows an HTTP exchange for assertion messages.
function showHttp(method, p, r) {
  return `${method} ${p} → ${r.status} ${JSON.stringify(r.headers)}\n${r.body}`;
}

// ---------------------------------------------------------------------------------------------
// @stomp/stompjs

// Connects an @stomp/stompjs Client through `ws`; resolves {client, connected (the CONNECTED frame),
// ws (the socket), closed (a promise of the close event)}. `reconnectDelay` is 0.
function stompJsConnect(wsUrl, {
  protocols = ['v12.stomp', 'v11.stomp', 'v10.stomp'],
  connectHeaders = {},
  heartbeatIncoming = 0,
  heartbeatOutgoing = 0,
  timeoutMs = 5000,
  debug = () => {},
  wsOptions = {},
  token,
  authVia,
} = {}) {
  const { Client } = require('@stomp/stompjs');
  wsOptions = { ...wsOptions, headers: authHeaders(wsUrl, { token, authVia, headers: wsOptions.headers || {} }) };
  let socket;
  let resolveClosed;
  const closed = new Promise((r) => { resolveClosed = r; });
  const client = new Client({
    webSocketFactory: () => { socket = new WebSocket(wsUrl, protocols, wsOptions); return socket; },
    connectHeaders,
    heartbeatIncoming,
    heartbeatOutgoing,
    reconnectDelay: 0,
    debug,
  });
  const errors = [];
  client.onWebSocketClose = (evt) => resolveClosed(evt);
  return withTimeout(new Promise((resolve, reject) => {
    client.onConnect = (connected) => resolve({ client, connected, ws: socket, closed, errors });
    client.onStompError = (f) => { errors.push(f); reject(new Error(`STOMP ERROR ${f.headers.message}: ${f.body}`)); };
    client.onWebSocketError = (e) => reject(new Error(`WebSocket error: ${e && e.message}`));
    closed.then((evt) => reject(new Error(`closed before CONNECTED (${evt && evt.code})`)));
    client.activate();
  }), timeoutMs, `@stomp/stompjs connect ${wsUrl}`).catch(async (err) => {
    await client.deactivate().catch(() => {});
    throw err;
  });
}

// Resolves when `client` (an @stomp/stompjs Client) gets the RECEIPT `id`, after `send()` runs.
function stompJsReceipt(client, id, send, ms = 3000) {
  const p = new Promise((resolve) => client.watchForReceipt(id, resolve));
  send();
  return withTimeout(p, ms, `@stomp/stompjs RECEIPT ${id}`);
}

// ---------------------------------------------------------------------------------------------
// Chat (rooms, /pub/chat/*, /sub/chat/*, user queues)

// Server time of a chat message: ISO-8601 UTC with milliseconds.
const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const CONNECT_12 = { 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '0,0' };

// A RawStomp connected (STOMP 1.2) to `bark` as the user of `claims` (token in the upgrade
// request's Authorization header unless opts say otherwise). The token is kept as `c.token`.
async function chatConnect(bark, claims, opts = {}) {
  const token = opts.token || bark.token(claims);
  const c = await RawStomp.connect(bark.wsUrl, CONNECT_12, { ...opts, token });
  c.token = token;
  c.claims = claims;
  return c;
}

// SUBSCRIBE `destination` as `id` and wait for its RECEIPT.
RawStomp.prototype.subscribe = function subscribe(id, destination, headers = {}, ms = 3000) {
  const receipt = `sub-${id}-${Math.random().toString(36).slice(2, 8)}`;
  this.send('SUBSCRIBE', { id, destination, ...headers, receipt });
  return this.receipt(receipt, ms);
};

// The JSON bodies of the MESSAGE frames of subscription `id`.
RawStomp.prototype.json = function json(id) {
  return this.messages(id).map((m) => {
    try { return JSON.parse(m.text); } catch { return { unparseable: m.text }; }
  });
};

// Waits for `n` MESSAGE frames on subscription `id`; resolves their JSON bodies.
RawStomp.prototype.waitJson = async function waitJson(id, n, ms = 3000) {
  await this.waitMessages(n, ms, id);
  return this.json(id);
};

// SEND to `destination` with a JSON body (an object is stringified; a string is sent as is).
RawStomp.prototype.sendJson = function sendJson(destination, body, headers = {}) {
  this.send('SEND', { destination, 'content-type': 'application/json', ...headers },
    typeof body === 'string' ? body : JSON.stringify(body));
};

// SEND a chat message to room `roomId` (body: an object merged over {roomId, messageText, sendAt},
// or a raw string).
RawStomp.prototype.chatSend = function chatSend(roomId, body, headers = {}) {
  const b = typeof body === 'string' ? body : { roomId, sendAt: new Date().toISOString(), ...body };
  this.sendJson(`/pub/chat/send/${roomId}`, b, headers);
};

// REST call on `bark`: resolves httpRequest's result (with `json`).
function api(bark, method, p, { token, body, headers, timeoutMs } = {}) {
  return httpRequest(bark.port, { method, path: p, token, body, headers, timeoutMs });
}

// POST /api/chat/rooms as `token`; asserts 200/201 and resolves the room.
async function createRoom(bark, token, customerId, salonId) {
  const r = await api(bark, 'POST', '/api/chat/rooms', { token, body: { customerId, salonId } });
  assert.ok([200, 201].includes(r.status), showHttp('POST', '/api/chat/rooms', r));
  assert.equal(typeof r.json.roomId, 'number', showHttp('POST', '/api/chat/rooms', r));
  return r.json;
}

// All messages of a room through GET .../messages?after=…&limit=200, oldest first.
async function fullHistory(bark, token, roomId, { max = 100 } = {}) {
  const all = [];
  let after = 0;
  for (let i = 0; i < max; i++) {
    const p = `/api/chat/rooms/${roomId}/messages?after=${after}&limit=200`;
    const r = await api(bark, 'GET', p, { token });
    assert.equal(r.status, 200, showHttp('GET', p, r));
    all.push(...r.json.messages);
    if (!r.json.hasMore || r.json.messages.length === 0) return all;
    after = r.json.messages[r.json.messages.length - 1].messageId;
  }
  throw new Error(`history of room ${roomId}: more than ${max} pages`);
}

module.exports = {
  ISO_MS_RE,
  CONNECT_12,
  chatConnect,
  api,
  createRoom,
  fullHistory,
  BARK_BIN,
  RUN_SECRET,
  barkSupportsAuth,
  startBark,
  signJwt,
  mint,
  decodeJwt,
  defaultToken,
  authHeaders,
  AuthWebSocket,
  showHttp,
  sleep,
  withTimeout,
  waitUntil,
  frame,
  escapeHeader,
  FrameParser,
  RawStomp,
  expectProtocolError,
  rawWsHandshake,
  encodeWsFrame,
  decodeWsFrames,
  httpRequest,
  stompJsConnect,
  stompJsReceipt,
  visible,
};
