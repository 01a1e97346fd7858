'use strict';
// Helpers for the SockJS tests: HTTP/1.0 and HTTP/1.1 requests written by hand over a TCP socket,
// with reads at the level of whole bodies, single chunks (Transfer-Encoding: chunked), exact byte
// counts and end of connection; a WebSocket wrapper with a message queue; and a SockJS session
// driven by hand (xhr_streaming receiver + xhr_send) whose messages are parsed as STOMP frames.
// Every wait has a timeout; every socket opened here is remembered so closeAll() can end it.

const net = require('node:net');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { FrameParser, visible, withTimeout } = require('./bark');

const DEFAULT_MS = 3000;
const open = new Set(); // RawConnection / WsQueue objects not closed yet

// The connection ended (EOF, reset) while a read wanted more.
class ClosedError extends Error {
  constructor(message, info = {}) {
    super(message);
    Object.assign(this, info);
  }
}

const newSessionId = () => crypto.randomUUID();

// ---------------------------------------------------------------------------------------------
// HTTP over a plain socket

class RawConnection {
  constructor(port) {
    this.port = port;
    this.buf = Buffer.alloc(0);
    this.eof = false;
    this.error = null;
    this.waiters = new Set();
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.connected.catch(() => {});
    this.socket.on('data', (d) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this._notify(); });
    this.socket.on('end', () => { this.eof = true; this._notify(); });
    this.socket.on('close', () => { this.eof = true; open.delete(this); this._notify(); });
    this.socket.on('error', (e) => { this.error = e; this.eof = true; this._notify(); });
    open.add(this);
  }

  static async open(port) {
    const c = new RawConnection(port);
    await withTimeout(c.connected, DEFAULT_MS, `TCP connect to ${port}`);
    return c;
  }

  _notify() { for (const w of [...this.waiters]) w(); }

  // Resolves with cond()'s first truthy value (re-checked on every socket event); rejects after `ms`
  // (never when ms is Infinity) or with what cond() throws.
  _wait(cond, ms, what) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const done = () => { if (timer) clearTimeout(timer); this.waiters.delete(check); };
      const check = () => {
        let v;
        try { v = cond(); } catch (err) { done(); reject(err); return; }
        if (v) { done(); resolve(v); }
      };
      if (ms !== Infinity) {
        timer = setTimeout(() => {
          done();
          const pending = this.buf.length ? `; buffered: ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}` : '';
          reject(new Error(`timeout after ${ms} ms: ${what}${pending}`));
        }, ms);
      }
      this.waiters.add(check);
      check();
    });
  }

  write(data) { this.socket.write(data); }

  // Sends a request and resolves the response head: {http, status, description, headers
  // (lower-case names; repeated headers joined with ", "), headerList ([name, value] as sent)}.
  // `headers`: an object or [name, value] pairs, sent as given after Host (unless given).
  // `body` (string/Buffer): sent with its Content-Length; POST without body sends Content-Length: 0.
  async request(method, path, { headers = {}, body, http = '1.1', ms = DEFAULT_MS } = {}) {
    const pairs = Array.isArray(headers) ? headers.slice() : Object.entries(headers);
    const has = (n) => pairs.some(([k]) => k.toLowerCase() === n);
    let payload = body === undefined || body === null ? null : Buffer.from(body);
    if (payload === null && method === 'POST') payload = Buffer.alloc(0);
    if (!has('host')) pairs.unshift(['Host', `127.0.0.1:${this.port}`]);
    if (payload !== null && !has('content-length')) pairs.push(['Content-Length', String(payload.length)]);
    let head = `${method} ${path} HTTP/${http}\r\n`;
    for (const [k, v] of pairs) head += `${k}: ${v}\r\n`;
    this.write(payload && payload.length ? Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]) : head + '\r\n');
    return this.readHead(ms, `${method} ${path}`);
  }

  async readHead(ms = DEFAULT_MS, what = 'response') {
    const end = await this._wait(() => {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i >= 0) return i + 1; // +1: never 0
      if (this.eof) throw new ClosedError(`connection closed before the response head of ${what}`);
      return null;
    }, ms, `response head of ${what}`) - 1;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    this.buf = this.buf.subarray(end + 4);
    const statusLine = lines.shift();
    const m = /^HTTP\/(\S+) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`bad status line of ${what}: ${JSON.stringify(statusLine)}`);
    const headers = {};
    const headerList = [];
    for (const line of lines) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      headerList.push([k, v]);
      const lk = k.toLowerCase();
      headers[lk] = lk in headers ? `${headers[lk]}, ${v}` : v;
    }
    return { http: m[1], status: Number(m[2]), description: m[3] || '', headers, headerList, statusLine };
  }

  // Exactly `n` bytes (a Buffer); ClosedError when the connection ends first.
  async readExactly(n, ms = DEFAULT_MS) {
    await this._wait(() => {
      if (this.buf.length >= n) return true;
      if (this.eof) throw new ClosedError(`connection closed after ${this.buf.length} of ${n} bytes: ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
      return null;
    }, ms, `${n} bytes`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  // Whatever arrived (at least one byte), or an empty Buffer at the end of the connection.
  async readSome(ms = DEFAULT_MS) {
    await this._wait(() => this.buf.length > 0 || this.eof, ms, 'some bytes');
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  async readLine(ms = DEFAULT_MS) {
    const i = await this._wait(() => {
      const j = this.buf.indexOf(0x0a);
      if (j >= 0) return j + 1;
      if (this.eof) throw new ClosedError(`connection closed in the middle of a line: ${JSON.stringify(this.buf.toString('latin1'))}`);
      return null;
    }, ms, 'a line');
    const out = this.buf.subarray(0, i).toString('latin1');
    this.buf = this.buf.subarray(i);
    return out;
  }

  // The data of the next chunk of a chunked body, as a Buffer (empty for the last chunk).
  async readChunkBuffer(ms = DEFAULT_MS) {
    const line = (await this.readLine(ms)).replace(/\r?\n$/, '');
    const size = parseInt(line.split(';')[0].trim(), 16);
    if (!Number.isInteger(size) || !/^[0-9a-fA-F]+/.test(line.trim())) throw new Error(`bad chunk-size line ${JSON.stringify(line)}`);
    const data = await this.readExactly(size + 2, ms);
    if (data[size] !== 0x0d || data[size + 1] !== 0x0a) throw new Error(`chunk of ${size} bytes not followed by CRLF`);
    return data.subarray(0, size);
  }

  async readChunk(ms = DEFAULT_MS) { return (await this.readChunkBuffer(ms)).toString('utf8'); }

  // Everything up to the end of the connection.
  async readTillEof(ms = DEFAULT_MS) {
    await this._wait(() => this.eof, ms, 'end of connection');
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  // True once the server closed the connection with nothing more sent; throws if more data
  // arrives; false if it stays open for `ms`.
  async isClosed(ms = 1000) {
    try {
      await this._wait(() => {
        if (this.buf.length) throw new Error(`connection not closed: got ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
        return this.eof;
      }, ms, 'end of connection');
      return true;
    } catch (err) {
      if (/^timeout/.test(err.message)) return false;
      throw err;
    }
  }

  close() {
    open.delete(this);
    this.socket.destroy();
  }
}

// Reads a whole body the way its head says (chunked, Content-Length, or up to the end of the
// connection when it says Connection: close); 101/204/304 without those have none.
async function readBody(conn, r, ms) {
  const te = (r.headers['transfer-encoding'] || '').toLowerCase();
  const connection = (r.headers.connection || '').toLowerCase().split(',').map((s) => s.trim());
  if (te === 'chunked') {
    const parts = [];
    for (;;) {
      const c = await conn.readChunkBuffer(ms);
      if (c.length === 0) break;
      parts.push(c);
    }
    return Buffer.concat(parts);
  }
  if (r.headers['content-length'] !== undefined && r.headers['content-length'] !== '') {
    return conn.readExactly(Number(r.headers['content-length']), ms);
  }
  if (connection.includes('close')) return conn.readTillEof(ms);
  if ([101, 204, 304].includes(r.status)) return Buffer.alloc(0);
  throw new Error(`${r.statusLine} ${JSON.stringify(r.headers)}: no Transfer-Encoding: chunked, Content-Length nor Connection: close`);
}

// One request on a new connection, body read in full, connection closed. Resolves the head plus
// `body` (UTF-8 text) and `bodyBuffer`; `get(name)` reads a header case-insensitively.
async function request(port, method, path, opts = {}) {
  const conn = await RawConnection.open(port);
  try {
    const r = await conn.request(method, path, opts);
    r.bodyBuffer = await readBody(conn, r, opts.ms || DEFAULT_MS);
    r.body = r.bodyBuffer.toString('utf8');
    return r;
  } finally {
    conn.close();
  }
}

// A request whose body is read piece by piece: resolves the head plus read(ms) (the next chunk
// of a chunked body, '' for the last one; the Content-Length body; or whatever arrived when the
// connection ends the body), conn and close().
async function requestAsync(port, method, path, opts = {}) {
  const conn = await RawConnection.open(port);
  const r = await conn.request(method, path, opts);
  const te = (r.headers['transfer-encoding'] || '').toLowerCase();
  const connection = (r.headers.connection || '').toLowerCase().split(',').map((s) => s.trim());
  if (te === 'chunked') {
    r.read = (ms = DEFAULT_MS) => conn.readChunk(ms);
  } else if (r.headers['content-length']) {
    const cl = Number(r.headers['content-length']);
    r.read = async (ms = DEFAULT_MS) => (await conn.readExactly(cl, ms)).toString('utf8');
  } else if (connection.includes('close') || r.status === 101) {
    r.read = async (ms = DEFAULT_MS) => (await conn.readSome(ms)).toString('utf8');
  } else {
    conn.close();
    throw new Error(`${r.statusLine} ${JSON.stringify(r.headers)}: no Transfer-Encoding: chunked, Content-Length nor Connection: close`);
  }
  r.conn = conn;
  r.close = () => conn.close();
  return r;
}

// A request sent on a new connection whose answer is never read (a receiver the test aborts).
async function requestNoRead(port, method, path, opts = {}) {
  const conn = await RawConnection.open(port);
  conn.request(method, path, opts).catch(() => {});
  return conn;
}

const GET = (port, path, opts) => request(port, 'GET', path, opts);
const POST = (port, path, opts) => request(port, 'POST', path, opts);
const OPTIONS = (port, path, opts) => request(port, 'OPTIONS', path, opts);
const GET_async = (port, path, opts) => requestAsync(port, 'GET', path, opts);
const POST_async = (port, path, opts) => requestAsync(port, 'POST', path, opts);

// ---------------------------------------------------------------------------------------------
// WebSocket with a message queue

class WsQueue {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];
    this.closed = null;
    this.waiters = new Set();
    ws.on('message', (data, isBinary) => { this.queue.push(isBinary ? Buffer.from(data) : data.toString('utf8')); this._notify(); });
    ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; open.delete(this); this._notify(); });
    ws.on('error', (err) => { this.error = err; this._notify(); });
    open.add(this);
  }

  // Opens `url`; resolves once open, rejects with the HTTP status of a refused upgrade.
  static open(url, { headers = {}, origin, protocols, ms = DEFAULT_MS } = {}) {
    const ws = new WebSocket(url, protocols, { headers, origin, perMessageDeflate: false });
    const q = new WsQueue(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { q.close(); reject(new Error(`timeout after ${ms} ms: WebSocket open ${url}`)); }, ms);
      ws.once('open', () => { clearTimeout(timer); resolve(q); });
      ws.once('unexpected-response', (req, res) => {
        clearTimeout(timer);
        const err = new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`);
        err.status = res.statusCode;
        req.destroy();
        q.close();
        reject(err);
      });
      ws.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
  }

  _notify() { for (const w of [...this.waiters]) w(); }

  // The next message (text as a string); ClosedError {code, reason} when the connection closed
  // with nothing left in the queue.
  recv(ms = DEFAULT_MS) {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      const check = () => {
        if (this.queue.length) { done(); resolve(this.queue.shift()); return; }
        if (this.closed) { done(); reject(new ClosedError(`WebSocket closed (${this.closed.code} ${this.closed.reason})`, this.closed)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timeout after ${ms} ms: WebSocket message`)); }, ms);
      this.waiters.add(check);
      check();
    });
  }

  // Resolves {code, reason} once closed; rejects if a message arrives first or after `ms`.
  async expectClosed(ms = DEFAULT_MS) {
    try {
      const m = await this.recv(ms);
      throw new Error(`expected the connection to close, got the message ${JSON.stringify(m)}`);
    } catch (err) {
      if (err instanceof ClosedError) return this.closed;
      throw err;
    }
  }

  send(data) { this.ws.send(data); }

  close() {
    open.delete(this);
    try { this.ws.terminate(); } catch { /* already closed */ }
  }
}

// ---------------------------------------------------------------------------------------------
// SockJS framing

// Splits text from a receiver (xhr, xhr_streaming) into SockJS frames:
// {type: 'o'|'h'|'a'|'c', messages (for a), code, reason (for c), raw}.
function parseSockJsFrame(line) {
  const type = line[0];
  if (type === 'o' || type === 'h') {
    if (line.length !== 1) throw new Error(`bad SockJS frame ${JSON.stringify(line)}`);
    return { type, raw: line };
  }
  if (type === 'a') {
    const messages = JSON.parse(line.slice(1));
    if (!Array.isArray(messages) || messages.some((m) => typeof m !== 'string')) throw new Error(`bad SockJS a frame ${JSON.stringify(line)}`);
    return { type, messages, raw: line };
  }
  if (type === 'c') {
    const [code, reason] = JSON.parse(line.slice(1));
    return { type, code, reason, raw: line };
  }
  throw new Error(`unknown SockJS frame ${JSON.stringify(line)}`);
}

// A SockJS session driven by hand: one xhr_streaming receiver (reopened when the server ends it
// at the stream limit), messages sent with xhr_send, STOMP frames parsed from the messages.
class SockJsSession {
  constructor(port, base, { server = '000', session = newSessionId(), headers = {} } = {}) {
    this.port = port;
    this.base = base;
    this.url = `${base}/${server}/${session}`;
    this.session = session;
    this.headers = headers;
    this.frames = [];   // SockJS frames in arrival order
    this.messages = []; // the messages of the a frames
    this.stomp = [];    // STOMP frames parsed from the messages
    this.stompHeartbeats = [];
    this.closeFrame = null;
    this.ended = false; // the server ended the receiving response after a c frame
    this.error = null;
    this.waiters = new Set();
    this.parser = new FrameParser({
      onFrame: (f) => { f.at = Date.now(); this.stomp.push(f); },
      onHeartbeat: () => this.stompHeartbeats.push(Date.now()),
    });
  }

  _notify() { for (const w of [...this.waiters]) w(); }

  // Opens the receiver; resolves once the o frame arrived (rejects with what came instead).
  async open() {
    await this._receive();
    await this.waitFrame((f) => f.type === 'o' || f.type === 'c', DEFAULT_MS, 'o frame');
    if (!this.frames.some((f) => f.type === 'o')) throw new Error(`expected o, got ${this.frames.map((f) => f.raw).join(' ')}`);
    return this;
  }

  async _receive() {
    const r = await POST_async(this.port, `${this.url}/xhr_streaming`, { headers: this.headers });
    if (r.status !== 200) { r.close(); throw new Error(`xhr_streaming → ${r.status}`); }
    this.receiver = r;
    const prelude = await r.read();
    if (prelude !== `${'h'.repeat(2048)}\n`) throw new Error(`xhr_streaming prelude: ${JSON.stringify(prelude.slice(0, 50))}`);
    this._pump(r);
  }

  async _pump(r) {
    let pending = '';
    try {
      for (;;) {
        const chunk = await r.read(Infinity);
        if (chunk === '') break;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const f = parseSockJsFrame(line);
          f.at = Date.now();
          this.frames.push(f);
          if (f.type === 'a') {
            for (const m of f.messages) {
              this.messages.push(m);
              this.parser.feed(Buffer.from(m, 'utf8'));
            }
          }
          if (f.type === 'c') this.closeFrame = f;
          this._notify();
        }
      }
      r.close();
      if (this.closeFrame || this.closing) { this.ended = true; this._notify(); return; }
      // The stream limit ended the response: a browser client opens the next receiver.
      await this._receive();
    } catch (err) {
      if (!this.closing) { this.error = err; this._notify(); }
    }
  }

  _wait(cond, ms, what) {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      const check = () => {
        let v;
        try { v = cond(); } catch (err) { done(); reject(err); return; }
        if (v) { done(); resolve(v); return; }
        if (this.error) { done(); reject(this.error); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timeout after ${ms} ms: ${what}\n${this.dump()}`)); }, ms);
      this.waiters.add(check);
      check();
    });
  }

  waitFrame(pred, ms = DEFAULT_MS, what = 'SockJS frame') {
    return this._wait(() => this.frames.find(pred), ms, what);
  }

  // The first STOMP frame after index `from` matching `pred` (a command or a function).
  waitStomp(pred, ms = DEFAULT_MS, what, from = 0) {
    const match = typeof pred === 'string' ? (f) => f.command === pred : pred;
    return this._wait(() => this.stomp.slice(from).find(match), ms, what || (typeof pred === 'string' ? `STOMP ${pred}` : 'STOMP frame'));
  }

  waitClose(ms = DEFAULT_MS) { return this._wait(() => this.closeFrame, ms, 'SockJS c frame'); }

  // xhr_send of `messages` (strings); resolves the response (204 expected by the caller).
  send(...messages) {
    // As a browser's XHR: the cookies of the opening request go along.
    const cookie = this.headers.Cookie ? { Cookie: this.headers.Cookie } : {};
    return POST(this.port, `${this.url}/xhr_send`, { body: JSON.stringify(messages), headers: { 'Content-Type': 'text/plain', ...cookie } });
  }

  // xhr_send that must answer 204.
  async sendOk(...messages) {
    const r = await this.send(...messages);
    if (r.status !== 204) throw new Error(`xhr_send → ${r.status} ${r.body}`);
  }

  dump() {
    return this.frames.map((f) => visible(f.raw.length > 300 ? `${f.raw.slice(0, 300)}…` : f.raw)).join('\n');
  }

  // Aborts the receiving request (what a browser does when the page goes away).
  abort() {
    this.closing = true;
    if (this.receiver) this.receiver.close();
  }
}

function closeAll() {
  for (const c of [...open]) c.close();
}

module.exports = {
  ClosedError,
  RawConnection,
  request,
  requestAsync,
  requestNoRead,
  readBody,
  GET,
  POST,
  OPTIONS,
  GET_async,
  POST_async,
  WsQueue,
  parseSockJsFrame,
  SockJsSession,
  newSessionId,
  closeAll,
};
