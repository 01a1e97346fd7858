'use strict';
// A webhook receiver for the --events tests: a Node HTTP server on 127.0.0.1 that checks each
// POST's X-Bark-Signature (HMAC-SHA256 of the raw body with the secret), answers 500 to the first
// `failFirst` attempts, and can go down (its port refuses connections) and come back on the same
// port. It records every accepted event in arrival order, and every attempt.

const http = require('node:http');
const crypto = require('node:crypto');
const { waitUntil } = require('./bark');

// Resolves a receiver: {url, port, events (accepted, in order: {eventId, type, roomId, at, data,
// body}), attempts, badSignatures, failFirst (settable), down(), up(), close(), waitFor(pred, ms)}.
async function startWebhookReceiver({ secret, failFirst = 0, path = '/hook' } = {}) {
  const r = {
    events: [],
    attempts: 0,
    badSignatures: 0,
    failFirst,
    headers: [],
  };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      r.attempts++;
      const body = Buffer.concat(chunks);
      const expected = `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
      const given = String(req.headers['x-bark-signature'] || '');
      const valid = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
      if (req.method !== 'POST' || req.url !== path || !valid ||
        req.headers['content-type'] !== 'application/json') {
        r.badSignatures += valid ? 0 : 1;
        res.writeHead(400).end();
        return;
      }
      if (r.failFirst > 0) {
        r.failFirst--;
        res.writeHead(500).end('try again');
        return;
      }
      const event = JSON.parse(body.toString('utf8'));
      r.events.push({ ...event, body: body.toString('utf8') });
      r.headers.push(req.headers);
      res.writeHead(204).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.port = server.address().port;
  r.url = `http://127.0.0.1:${r.port}${path}`;
  let listening = true;
  // Stops listening and cuts every open connection: bark's POSTs are refused until up().
  r.down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  r.up = async () => {
    if (listening) return;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(r.port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    listening = true;
  };
  r.close = () => r.down();
  // Distinct event ids received so far.
  r.ids = () => new Set(r.events.map((e) => e.eventId));
  r.waitFor = (pred, ms, what) => waitUntil(() => pred(r), ms, what);
  return r;
}

module.exports = { startWebhookReceiver };
