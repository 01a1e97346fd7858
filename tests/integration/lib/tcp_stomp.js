'use strict';
// STOMP over plain TCP (or TLS) for the tests: a socket dressed as the `ws` WebSocket that
// lib/bark.js's RawStomp drives, so every helper of RawStomp (connect, subscribe, waitFor,
// receipt, messages, dump) works on a --stomp-listen connection too. A server's close of the
// socket shows as a close with code 1000.

const net = require('node:net');
const tls = require('node:tls');
const { EventEmitter } = require('node:events');
const { RawStomp, withTimeout } = require('./bark');

class TcpAsWs extends EventEmitter {
  constructor(socket) {
    super();
    this.socket = socket;
    this.readyState = 0; // CONNECTING
    socket.on('data', (d) => this.emit('message', d, true));
    socket.on('close', () => {
      this.readyState = 3;
      this.emit('close', 1000, Buffer.from(''));
    });
    socket.on('error', (err) => this.emit('error', err));
  }

  send(data) { this.socket.write(data); }
  terminate() { this.socket.destroy(); }
  close() { this.socket.end(); }
}

// Opens a TCP (tls: {ca}) connection to 127.0.0.1:port; resolves with a RawStomp on it.
function openTcpStomp(port, { tls: tlsOptions, timeoutMs = 5000 } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = tlsOptions
      ? tls.connect({ host: '127.0.0.1', port, ca: tlsOptions.ca, servername: '127.0.0.1' })
      : net.connect({ host: '127.0.0.1', port });
    const shim = new TcpAsWs(socket);
    const client = new RawStomp(shim);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      shim.readyState = 1; // OPEN
      resolve(client);
    });
    socket.once('error', reject);
  }), timeoutMs, `TCP STOMP connection to ${port}`);
}

// The --stomp-listen port a bark printed ("bark stomp listening on HOST:PORT").
function stompPortOf(bark) {
  const m = /^bark stomp listening on [^\s:]+:(\d+)$/m.exec(bark.output());
  if (!m) throw new Error(`no STOMP port in bark's output:\n${bark.output()}`);
  return Number(m[1]);
}

module.exports = { openTcpStomp, stompPortOf };
