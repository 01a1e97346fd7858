'use strict';
// Helpers shared by the integration tests: start/stop the bark binary, a raw STOMP-over-WebSocket
// client that shows the wire, a hand-made WebSocket client over a plain TCP socket, small HTTP
// helpers and a thin wrapper around @stomp/stompjs. Every wait has a timeout.

const { spawn } = require('node:child_process');
const net = require('node:net');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const WebSocket = require('ws');

const BARK_BIN = process.env.BARK_BIN || path.resolve(__dirname, '../../../build/bin/bark');
const LISTEN_RE = /^bark listening on http:\/\/127\.0\.0\.1:(\d+)\s*$/m;

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
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms: ${what}`);
    await sleep(10);
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

// Starts bark with `flags` (plus `--listen 127.0.0.1:0`), waits for its "listening" line.
async function startBark(flags = [], { timeoutMs = 10000 } = {}) {
  const args = ['--listen', '127.0.0.1:0', ...flags];
  const proc = spawn(BARK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
  return {
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws/chat`,
    proc,
    args,
    output: () => output,
    exited: () => exited,
    // SIGTERM, then SIGKILL after 5 s; resolves with {code, signal}.
    async stop() {
      if (exited) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) proc.kill('SIGKILL'); }, 5000);
      const r = await exitPromise;
      clearTimeout(timer);
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

  // Opens a WebSocket to `url` (options: protocols, headers, origin). Rejects on a non-101 answer.
  static open(url, { protocols, headers, origin, timeoutMs = 5000 } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers, origin, perMessageDeflate: false });
      const client = new RawStomp(ws);
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
function rawWsHandshake(port, { path: p = '/ws/chat', headers = {}, timeoutMs = 5000 } = {}) {
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
function httpRequest(port, { method = 'GET', path: p = '/', headers = {}, agent = false, timeoutMs = 5000 } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
        reusedSocket: req.reusedSocket, localPort: req.socket && req.socket.localPort,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), timeoutMs, `${method} ${p}`);
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
} = {}) {
  const { Client } = require('@stomp/stompjs');
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

module.exports = {
  BARK_BIN,
  startBark,
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
