'use strict';
// Attachment uploads against a running bark: CLIENTS clients at once, each uploading FILES files
// of BYTES bytes (a PDF body streamed in 64 KiB writes, or a prepared JPEG), while bark's resident
// memory (VmRSS of --pid) is sampled every 20 ms. Prints one JSON line: uploads, failures,
// seconds, MiB/s, uploads/s, upload latency p50/p99/max, and bark's RSS before and at its peak.
//   node attachments.js --url http://127.0.0.1:PORT --secret S --pid PID --clients 50 --files 2 \
//        --bytes 10485760 [--jpeg FILE] --label NAME

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const url = new URL(arg('url'));
const secret = arg('secret');
const pid = Number(arg('pid'));
const clients = Number(arg('clients', '50'));
const files = Number(arg('files', '1'));
const bytes = Number(arg('bytes', String(10 << 20)));
const jpeg = arg('jpeg') ? fs.readFileSync(arg('jpeg')) : null;
const label = arg('label', jpeg ? 'jpeg' : 'pdf');

function token(userId, role) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64({ userId, username: `bench-${userId}`, role, exp: Math.floor(Date.now() / 1000) + 3600 });
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function call(method, path, tok, { body, contentType, length, stream } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${tok}` };
    if (contentType) headers['Content-Type'] = contentType;
    if (length !== undefined) headers['Content-Length'] = length;
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (stream) stream(req);
    else { if (body) req.write(body); req.end(); }
  });
}

const rssKiB = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch { return 0; }
};

// A PDF body of `bytes`, written 64 KiB at a time as the socket takes it.
function streamPdf(req) {
  const piece = Buffer.alloc(65536, 0x20);
  piece.write('%PDF-1.4\n');
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      const n = Math.min(piece.length, bytes - sent);
      sent += n;
      if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) { req.once('drain', pump); return; }
    }
    req.end();
  };
  pump();
}

async function main() {
  const rooms = [];
  for (let i = 0; i < clients; i++) {
    const customer = 500000 + i;
    const tok = token(customer, 'USER');
    const r = await call('POST', '/api/chat/rooms', tok, { body: JSON.stringify({ customerId: customer, salonId: 900000 }), contentType: 'application/json' });
    if (r.status !== 200 && r.status !== 201) throw new Error(`room: ${r.status} ${r.body}`);
    rooms.push({ tok, roomId: JSON.parse(r.body).roomId });
  }
  const rssBefore = rssKiB();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssKiB()); }, 20);
  const latencies = [];
  let failures = 0;
  let firstFailure = null;
  const started = process.hrtime.bigint();
  await Promise.all(rooms.map(async ({ tok, roomId }) => {
    for (let f = 0; f < files; f++) {
      const t0 = process.hrtime.bigint();
      const r = jpeg
        ? await call('POST', `/api/chat/rooms/${roomId}/attachments`, tok, { body: jpeg, contentType: 'image/jpeg', length: jpeg.length })
        : await call('POST', `/api/chat/rooms/${roomId}/attachments`, tok, { contentType: 'application/pdf', length: bytes, stream: streamPdf });
      if (r.status === 201) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else { failures++; firstFailure = firstFailure || `${r.status} ${r.body}`; }
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssKiB());
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
  const size = jpeg ? jpeg.length : bytes;
  console.log(JSON.stringify({
    label, clients, files_per_client: files, bytes_per_file: size, uploads: latencies.length, failures, first_failure: firstFailure,
    seconds: +seconds.toFixed(2), mib_per_s: +((latencies.length * size) / (1 << 20) / seconds).toFixed(1),
    uploads_per_s: +(latencies.length / seconds).toFixed(1),
    latency_ms: { p50: +q(0.5).toFixed(0), p99: +q(0.99).toFixed(0), max: +(latencies[latencies.length - 1] || 0).toFixed(0) },
    rss_mib: { before: +(rssBefore / 1024).toFixed(1), peak: +(rssPeak / 1024).toFixed(1) },
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
