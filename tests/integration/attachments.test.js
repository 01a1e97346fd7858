'use strict';
// Attachments (SPEC §12): uploads streamed with their limit enforced while they arrive (413 before
// the body is all sent, for Content-Length and for chunked bodies), bytes checked against the
// declared type (HTML sent as image/png: 415), image bombs refused from the header (413), truncated
// JPEGs refused with a clear error, EXIF GPS stripped from the served bytes, thumbnails, who may
// read a file (participants and ADMIN; 403 for another pair, 404 unknown), strict headers, ETag and
// 304, Range (206, 416), messages carrying files over STOMP and REST (another room's upload
// refused), history, the sweeper of orphans and a deleted message's files. On dir: storage, and
// on PostgreSQL storage across two nodes (upload on A, download on B).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const { startBark, chatConnect, api, createRoom, showHttp, waitUntil } = require('./lib/bark');
const { startPostgres, startRedis } = require('./lib/servers');

const u = (userId, role = 'USER') => ({ userId, username: `${role.toLowerCase()}-${userId}`, role });

// ---------------------------------------------------------------------------------------------
// Test files, made with the vips and exiftool command-line tools (scripts/install-deps.sh)

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-attach-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

function makeFiles() {
  const f = (name) => path.join(work, name);
  // A noisy photo (so its JPEG is not tiny), with an EXIF GPS position and a camera model.
  execFileSync('vips', ['gaussnoise', f('noise.v'), '640', '480']);
  execFileSync('vips', ['colourspace', f('noise.v'), f('photo.jpg'), 'srgb']);
  execFileSync('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=37.5665', '-GPSLatitudeRef=N',
    '-GPSLongitude=126.9780', '-GPSLongitudeRef=E', '-Model=BarkCam', f('photo.jpg')]);
  execFileSync('vips', ['black', f('small.png'), '300', '200', '--bands', '3']);
  execFileSync('vips', ['black', f('small.webp'), '300', '200', '--bands', '3']);
  // A photo taken sideways: 200 x 100 pixels whose EXIF says "turn 90° clockwise".
  execFileSync('vips', ['black', f('sideways.jpg'), '200', '100', '--bands', '3']);
  execFileSync('exiftool', ['-q', '-overwrite_original', '-n', '-Orientation=6', f('sideways.jpg')]);
  const photo = fs.readFileSync(f('photo.jpg'));
  return {
    jpeg: photo,
    png: fs.readFileSync(f('small.png')),
    truncatedJpeg: photo.subarray(0, Math.floor(photo.length / 2)),
    webp: fs.readFileSync(f('small.webp')),
    sideways: fs.readFileSync(f('sideways.jpg')),
    // The smallest GIF: one transparent pixel.
    gif: Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex'),
    pdf: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
    htmlAsPng: Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>'),
    bomb: pngBomb(40000, 40000),
  };
}

// A PNG that claims width x height pixels in a few hundred bytes: valid chunks and CRCs, an IDAT
// of a few zero rows. A decoder that trusted it would allocate width x height bytes.
function pngBomb(width, height) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const idat = zlib.deflateSync(Buffer.alloc((width + 1) * 4));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

// ---------------------------------------------------------------------------------------------
// HTTP with binary bodies

function request(port, { method = 'GET', path: p, headers = {}, body, token, timeoutMs = 20000 }) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Length'] = body.length;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${method} ${p}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const bytes = Buffer.concat(chunks);
        let json;
        try { json = JSON.parse(bytes.toString('utf8')); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, bytes, body: bytes.toString('utf8'), json });
      });
    });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const upload = (bark, roomId, token, contentType, body, query = '') => request(bark.port, {
  method: 'POST', path: `/api/chat/rooms/${roomId}/attachments${query}`, token, body, headers: { 'Content-Type': contentType },
});

function expectError(r, status, what) {
  assert.equal(r.status, status, `${what}: ${showHttp('', '', r)}`);
  assert.ok(r.json && typeof r.json.error === 'string' && typeof r.json.message === 'string', `${what}: ${r.body}`);
}

// A raw upload of `total` declared bytes (or chunked), sent in 64 KiB pieces while no answer has
// come; resolves the status line and how many body bytes were sent before it arrived.
function uploadUntilAnswered(port, roomId, token, { total, chunked = false }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(v); } };
    const timer = setTimeout(() => { done = true; sock.destroy(); reject(new Error(`no answer after ${sent} bytes`)); }, 20000);
    sock.on('error', (e) => { if (answer.startsWith('HTTP/1.1 ')) finish({ status: Number(answer.slice(9, 12)), sent, answer }); else if (!done) { done = true; clearTimeout(timer); reject(e); } });
    sock.on('data', (d) => {
      answer += d.toString('latin1');
      if (/\r\n\r\n/.test(answer)) finish({ status: Number(answer.slice(9, 12)), sent, answer });
    });
    sock.on('connect', () => {
      sock.write(`POST /api/chat/rooms/${roomId}/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/pdf\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`}\r\n\r\n`);
      const piece = Buffer.alloc(65536, 0x41);
      piece.write('%PDF-1.4\n');
      // One piece per turn of the event loop, so that an answer is seen as soon as it comes.
      const pump = () => {
        if (done || sent >= total) return;
        const data = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        sent += piece.length;
        if (sock.write(data)) setImmediate(pump);
        else sock.once('drain', pump);
      };
      pump();
    });
  });
}

const hasExif = (bytes) => bytes.includes(Buffer.from('Exif\0\0', 'latin1'));
const hasGps = (file) => /GPS/.test(execFileSync('exiftool', ['-a', '-G1', file], { encoding: 'utf8' }));

// ---------------------------------------------------------------------------------------------

async function storageScenarios(t, nodeA, nodeB, files, label) {
  const C = u(7101);
  const S = u(8101, 'SALON');
  const OTHER = u(7102);
  const SALON_AS_USER = u(8101, 'USER'); // same id, another person
  const ADMIN = u(9101, 'ADMIN');
  const tok = (claims) => nodeA.token(claims);
  const room = await createRoom(nodeA, tok(C), C.userId, S.userId);
  const otherRoom = await createRoom(nodeA, tok(OTHER), OTHER.userId, S.userId);
  const R = room.roomId;

  let photo;
  await t.test(`${label}: a JPEG is stored without its EXIF GPS, with a thumbnail of at most 320 px`, async () => {
    assert.ok(hasGps(path.join(work, 'photo.jpg')), 'the test photo carries GPS tags');
    const r = await upload(nodeA, R, tok(C), 'image/jpeg', files.jpeg, '?name=%EC%82%AC%EC%A7%84.jpg');
    assert.equal(r.status, 201, r.body);
    photo = r.json;
    assert.match(photo.attachmentId, /^[0-9a-f]{32}$/);
    assert.equal(photo.contentType, 'image/jpeg');
    assert.equal(photo.width, 640);
    assert.equal(photo.height, 480);
    assert.equal(photo.url, `/api/chat/attachments/${photo.attachmentId}`);
    assert.equal(photo.thumbnailUrl, `/api/chat/attachments/${photo.attachmentId}/thumbnail`);
    assert.equal(photo.name, '사진.jpg');
    const served = await request(nodeB.port, { path: photo.url, token: tok(S) });
    assert.equal(served.status, 200, served.body);
    assert.equal(served.headers['content-type'], 'image/jpeg');
    assert.equal(served.bytes.length, photo.size);
    assert.ok(served.bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])));
    assert.ok(!hasExif(served.bytes), 'no EXIF segment in the served bytes');
    const servedFile = path.join(work, `served-${label}.jpg`);
    fs.writeFileSync(servedFile, served.bytes);
    assert.ok(!hasGps(servedFile), 'no GPS tag in the served bytes');
    assert.ok(!/BarkCam/.test(served.body), 'no camera model');
    const thumb = await request(nodeB.port, { path: photo.thumbnailUrl, token: tok(C) });
    assert.equal(thumb.status, 200, thumb.body);
    assert.equal(thumb.headers['content-type'], 'image/jpeg');
    const thumbFile = path.join(work, `thumb-${label}.jpg`);
    fs.writeFileSync(thumbFile, thumb.bytes);
    assert.equal(Number(execFileSync('vipsheader', ['-f', 'width', thumbFile], { encoding: 'utf8' }).trim()), 320);
    assert.equal(Number(execFileSync('vipsheader', ['-f', 'height', thumbFile], { encoding: 'utf8' }).trim()), 240);
  });

  await t.test(`${label}: headers: nosniff, CSP sandbox, private cache, disposition; ETag and 304; Range 206 and 416`, async () => {
    const r = await request(nodeB.port, { path: photo.url, token: tok(C) });
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['content-security-policy'], "default-src 'none'; sandbox");
    assert.match(r.headers['cache-control'], /^private/);
    assert.match(r.headers['content-disposition'], /^inline; filename="__\.jpg"; filename\*=UTF-8''%EC%82%AC%EC%A7%84\.jpg$/);
    const etag = r.headers.etag;
    assert.ok(etag, 'ETag');
    const again = await request(nodeB.port, { path: photo.url, token: tok(C), headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    const part = await request(nodeB.port, { path: photo.url, token: tok(C), headers: { Range: 'bytes=100-1099' } });
    assert.equal(part.status, 206, part.body);
    assert.equal(part.headers['content-range'], `bytes 100-1099/${photo.size}`);
    assert.ok(part.bytes.equals(r.bytes.subarray(100, 1100)));
    const tail = await request(nodeB.port, { path: photo.url, token: tok(C), headers: { Range: 'bytes=-10' } });
    assert.equal(tail.status, 206);
    assert.ok(tail.bytes.equals(r.bytes.subarray(r.bytes.length - 10)));
    const past = await request(nodeB.port, { path: photo.url, token: tok(C), headers: { Range: `bytes=${photo.size}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], `bytes */${photo.size}`);
    // HEAD: the headers of the GET, its length included, and no body.
    const head = await request(nodeB.port, { method: 'HEAD', path: photo.url, token: tok(C) });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(r.bytes.length));
    assert.equal(head.headers.etag, etag);
    assert.equal(head.bytes.length, 0);
    const headPart = await request(nodeB.port, { method: 'HEAD', path: photo.url, token: tok(C), headers: { Range: 'bytes=100-1099' } });
    assert.equal(headPart.status, 206);
    assert.equal(headPart.headers['content-length'], '1000');
  });

  await t.test(`${label}: a PDF is a file: no thumbnail, downloaded as an attachment`, async () => {
    const r = await upload(nodeA, R, tok(S), 'application/pdf', files.pdf, '?name=menu.pdf');
    assert.equal(r.status, 201, r.body);
    assert.equal(r.json.contentType, 'application/pdf');
    assert.equal(r.json.size, files.pdf.length);
    assert.equal(r.json.thumbnailUrl, undefined);
    assert.equal(r.json.width, undefined);
    const got = await request(nodeB.port, { path: r.json.url, token: tok(C) });
    assert.equal(got.status, 200);
    assert.ok(got.bytes.equals(files.pdf));
    assert.equal(got.headers['content-type'], 'application/pdf');
    assert.match(got.headers['content-disposition'], /^attachment; filename="menu.pdf"/);
    assert.equal((await request(nodeB.port, { path: `${r.json.url}/thumbnail`, token: tok(C) })).status, 404);
  });

  await t.test(`${label}: only the room's participants and ADMIN read a file (403), unknown ids are 404, no token 401`, async () => {
    assert.equal((await request(nodeB.port, { path: photo.url, token: tok(ADMIN) })).status, 200);
    expectError(await request(nodeB.port, { path: photo.url, token: tok(OTHER) }), 403, 'another pair');
    expectError(await request(nodeB.port, { path: photo.thumbnailUrl, token: tok(OTHER) }), 403, 'another pair, thumbnail');
    expectError(await request(nodeB.port, { path: photo.url, token: tok(SALON_AS_USER) }), 403, 'the salon id as a USER');
    expectError(await request(nodeB.port, { path: photo.url }), 401, 'no token');
    const cookie = await request(nodeB.port, { path: photo.url, headers: { Cookie: `Authorization=${tok(C)}` } });
    assert.equal(cookie.status, 200, 'the cookie works, for <img src>');
    expectError(await request(nodeB.port, { path: '/api/chat/attachments/0123456789abcdef0123456789abcdef', token: tok(C) }), 404, 'unknown');
    expectError(await request(nodeB.port, { path: '/api/chat/attachments/..%2f..%2fetc%2fpasswd', token: tok(C) }), 404, 'not an id');
    expectError(await upload(nodeA, otherRoom.roomId, tok(C), 'image/png', files.png), 403, 'upload to a room not theirs');
    expectError(await upload(nodeA, 999999, tok(C), 'image/png', files.png), 404, 'upload to no room');
  });

  await t.test(`${label}: the bytes must be of the declared type; bombs and truncated images are refused`, async () => {
    expectError(await upload(nodeA, R, tok(C), 'image/png', files.htmlAsPng), 415, 'HTML as image/png');
    expectError(await upload(nodeA, R, tok(C), 'text/html', files.htmlAsPng), 415, 'text/html');
    expectError(await upload(nodeA, R, tok(C), 'image/jpeg', files.png), 415, 'a PNG as image/jpeg');
    const bomb = await upload(nodeA, R, tok(C), 'image/png', files.bomb);
    expectError(bomb, 413, '40,000 x 40,000 PNG');
    assert.match(bomb.json.message, /40000 x 40000/);
    const cut = await upload(nodeA, R, tok(C), 'image/jpeg', files.truncatedJpeg);
    assert.ok([400, 415].includes(cut.status), showHttp('POST', 'truncated', cut));
    assert.equal(cut.json.error, 'bad-image');
    assert.match(cut.json.message, /not a readable image\/jpeg image/);
    expectError(await upload(nodeA, R, tok(C), 'application/pdf', Buffer.alloc(0)), 400, 'empty');
  });

  await t.test(`${label}: messages carry files (STOMP and REST), history too; another room's or user's upload is refused`, async () => {
    const c = await chatConnect(nodeA, C);
    const s = await chatConnect(nodeB, S);
    t.after(() => { c.close(); s.close(); });
    await c.subscribe('m', `/sub/chat/${R}`);
    await s.subscribe('m', `/sub/chat/${R}`);
    await c.subscribe('e', '/user/queue/errors');
    await s.subscribe('n', '/user/queue/notifications');
    c.chatSend(R, { messageText: '', attachments: [photo.attachmentId] }, { receipt: 'photo-sent' });
    await c.receipt('photo-sent', 5000);
    const [got] = await s.waitJson('m', 1, 5000);
    assert.equal(got.messageText, '');
    assert.equal(got.attachments.length, 1);
    assert.deepEqual(got.attachments[0], {
      attachmentId: photo.attachmentId, contentType: 'image/jpeg', size: photo.size, width: 640, height: 480,
      url: photo.url, thumbnailUrl: photo.thumbnailUrl, name: '사진.jpg',
    });
    const [note] = await s.waitJson('n', 1, 5000);
    assert.equal(note.preview, '📷 Photo');
    // Attached once only.
    c.chatSend(R, { messageText: 'again', attachments: [photo.attachmentId] });
    let [err] = await c.waitJson('e', 1, 5000);
    assert.equal(err.error, 'attachment-unavailable');
    // Another room's upload, sent to this room.
    const elsewhere = await upload(nodeA, otherRoom.roomId, tok(OTHER), 'application/pdf', files.pdf);
    assert.equal(elsewhere.status, 201);
    c.chatSend(R, { messageText: 'not mine', attachments: [elsewhere.json.attachmentId] });
    err = (await c.waitJson('e', 2, 5000))[1];
    assert.equal(err.error, 'attachment-unavailable');
    assert.match(err.message, /not an upload of yours to this room/);
    // The other side's upload to this room, sent by this side.
    const theirs = await upload(nodeA, R, tok(S), 'image/png', files.png);
    assert.equal(theirs.status, 201);
    c.chatSend(R, { messageText: 'theirs', attachments: [theirs.json.attachmentId] });
    err = (await c.waitJson('e', 3, 5000))[2];
    assert.equal(err.error, 'attachment-unavailable');
    c.chatSend(R, { messageText: 'many', attachments: Array.from({ length: 11 }, (_, i) => `${i}`.padStart(32, '0')) });
    err = (await c.waitJson('e', 4, 5000))[3];
    assert.equal(err.error, 'too-many-attachments');
    // REST: the salon posts its PNG with text.
    const posted = await api(nodeB, 'POST', `/api/chat/rooms/${R}/messages`,
      { token: tok(S), body: { messageText: 'look', attachments: [theirs.json.attachmentId] } });
    assert.equal(posted.status, 201, posted.body);
    assert.equal(posted.json.attachments[0].attachmentId, theirs.json.attachmentId);
    const refused = await api(nodeB, 'POST', `/api/chat/rooms/${R}/messages`,
      { token: tok(C), body: { messageText: 'x', attachments: [elsewhere.json.attachmentId] } });
    assert.equal(refused.status, 403, refused.body);
    assert.equal(refused.json.error, 'attachment-unavailable');
    const history = await api(nodeB, 'GET', `/api/chat/rooms/${R}/messages`, { token: tok(C) });
    const withFiles = history.json.messages.filter((m) => m.attachments);
    assert.equal(withFiles.length, 2, history.body);
    assert.deepEqual(withFiles.map((m) => m.attachments[0].attachmentId).sort(),
      [photo.attachmentId, theirs.json.attachmentId].sort());
    const rooms = await api(nodeB, 'GET', '/api/chat/rooms', { token: tok(C) });
    const mine = rooms.json.find((x) => x.roomId === R);
    assert.equal(mine.lastMessage.attachments[0].attachmentId, theirs.json.attachmentId);
    // A deleted message takes its files with it.
    const del = await api(nodeA, 'DELETE', `/api/chat/rooms/${R}/messages/${got.messageId}`, { token: tok(C) });
    assert.equal(del.status, 200, del.body);
    assert.equal(del.json.attachments, undefined);
    await waitUntil(async () => (await request(nodeB.port, { path: photo.url, token: tok(C) })).status === 404, 5000, 'the deleted message\'s photo to go');
    assert.equal((await request(nodeB.port, { path: photo.thumbnailUrl, token: tok(C) })).status, 404);
  });
}

test('attachments on dir: storage', async (t) => {
  const files = makeFiles();
  const dir = fs.mkdtempSync(path.join(work, 'files-'));
  const bark = await startBark(['--attachments', `dir:${dir}`, '--max-attachment-bytes', String(2 << 20)]);
  t.after(() => bark.stop());
  await storageScenarios(t, bark, bark, files, 'dir');

  await t.test('413 while the client is still sending: Content-Length over the limit, and a chunked body', async () => {
    const C = u(7201);
    const room = await createRoom(bark, bark.token(C), C.userId, 8201);
    const declared = await uploadUntilAnswered(bark.port, room.roomId, bark.token(C), { total: 64 << 20 });
    assert.equal(declared.status, 413, declared.answer);
    assert.ok(declared.sent < 32 << 20, `answered after ${declared.sent} of ${64 << 20} bytes`);
    const chunked = await uploadUntilAnswered(bark.port, room.roomId, bark.token(C), { total: 64 << 20, chunked: true });
    assert.equal(chunked.status, 413, chunked.answer);
    assert.ok(chunked.sent < 32 << 20, `answered after ${chunked.sent} of ${64 << 20} bytes`);
    // Nothing of them stays in the spool.
    await waitUntil(() => fs.readdirSync(path.join(dir, 'spool')).length === 0, 5000, 'the spool to empty');
  });

  await t.test('WebP and GIF are taken; a sideways photo is stored upright, without the EXIF that said so', async () => {
    const C = u(7401);
    const room = await createRoom(bark, bark.token(C), C.userId, 8401);
    const webp = await upload(bark, room.roomId, bark.token(C), 'image/webp', files.webp);
    assert.equal(webp.status, 201, webp.body);
    assert.deepEqual([webp.json.contentType, webp.json.width, webp.json.height], ['image/webp', 300, 200]);
    const gif = await upload(bark, room.roomId, bark.token(C), 'image/gif', files.gif);
    assert.equal(gif.status, 201, gif.body);
    assert.deepEqual([gif.json.contentType, gif.json.width, gif.json.height], ['image/gif', 1, 1]);
    assert.equal((await request(bark.port, { path: gif.json.thumbnailUrl, token: bark.token(C) })).headers['content-type'], 'image/png');
    const turned = await upload(bark, room.roomId, bark.token(C), 'image/jpeg', files.sideways);
    assert.equal(turned.status, 201, turned.body);
    assert.deepEqual([turned.json.width, turned.json.height], [100, 200]);
    const served = await request(bark.port, { path: turned.json.url, token: bark.token(C) });
    assert.ok(!hasExif(served.bytes), 'no EXIF left to turn it again');
    for (const stored of [webp, gif, turned]) {
      await api(bark, 'POST', `/api/chat/rooms/${room.roomId}/messages`, { token: bark.token(C), body: { attachments: [stored.json.attachmentId] } });
    }
  });

  await t.test('/metrics counts uploads stored and refused', async () => {
    const m = (await request(bark.port, { path: '/metrics' })).body;
    const stored = Number(/^bark_attachment_uploads_total\{outcome="stored"\} (\d+)/m.exec(m)?.[1]);
    const refused = Number(/^bark_attachment_uploads_total\{outcome="refused"\} (\d+)/m.exec(m)?.[1]);
    assert.equal(stored, 7, m);
    assert.ok(refused >= 8, m);
  });

  await t.test('uploads no message took are swept after --attachment-orphan-age', async () => {
    // A bark of its own, whose uploads age in 3 s.
    const dir = fs.mkdtempSync(path.join(work, 'sweep-'));
    const bark = await startBark(['--attachments', `dir:${dir}`, '--attachment-orphan-age', '3']);
    t.after(() => bark.stop());
    const C = u(7301);
    const room = await createRoom(bark, bark.token(C), C.userId, 8301);
    const kept = await upload(bark, room.roomId, bark.token(C), 'application/pdf', files.pdf);
    const sent = await api(bark, 'POST', `/api/chat/rooms/${room.roomId}/messages`,
      { token: bark.token(C), body: { attachments: [kept.json.attachmentId] } });
    assert.equal(sent.status, 201, sent.body);
    assert.equal(sent.json.messageText, '');
    const orphan = await upload(bark, room.roomId, bark.token(C), 'image/png', files.png);
    assert.equal(orphan.status, 201);
    assert.ok(fs.existsSync(path.join(dir, 'files', orphan.json.attachmentId.slice(0, 2), orphan.json.attachmentId)));
    await waitUntil(async () => (await request(bark.port, { path: orphan.json.url, token: bark.token(C) })).status === 404,
      15000, 'the orphan to be swept');
    await waitUntil(() => !fs.existsSync(path.join(dir, 'files', orphan.json.attachmentId.slice(0, 2), orphan.json.attachmentId)),
      5000, 'the orphan\'s file to go');
    assert.equal((await request(bark.port, { path: kept.json.url, token: bark.token(C) })).status, 200, 'an attached file stays');
  });

  await t.test('downloads held for a slow client count against --max-download-memory: past it 503, released when the client goes', async () => {
    // A bark of its own: 40 MiB uploads, 48 MiB of downloads held at most.
    const dir = fs.mkdtempSync(path.join(work, 'held-'));
    const bark = await startBark(['--attachments', `dir:${dir}`, '--max-attachment-bytes', String(40 << 20),
      '--max-download-memory', String(48 << 20)]);
    t.after(() => bark.stop());
    const C = u(7501);
    const token = bark.token(C);
    const room = await createRoom(bark, token, C.userId, 8501);
    const pdf = (bytes) => { const b = Buffer.alloc(bytes, 0x41); b.write('%PDF-1.4\n'); return b; };
    const big = await upload(bark, room.roomId, token, 'application/pdf', pdf(40 << 20));
    assert.equal(big.status, 201, big.body);
    const small = await upload(bark, room.roomId, token, 'application/pdf', pdf(10 << 20));
    assert.equal(small.status, 201, small.body);
    const metric = async (name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await request(bark.port, { path: '/metrics' })).body)?.[1]);

    // A client that asks for the 40 MiB file and reads nothing: more than loopback's buffers take,
    // so the rest stays with bark.
    const slow = net.connect(bark.port, '127.0.0.1');
    slow.on('error', () => {});
    slow.pause();
    slow.write(`GET ${big.json.url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await waitUntil(async () => (await metric('bark_attachment_download_bytes_held')) === 40 << 20, 10000, 'the big download to be held');
    const refused = await request(bark.port, { path: small.json.url, token });
    expectError(refused, 503, 'past --max-download-memory');
    assert.equal(refused.json.error, 'overloaded');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(await metric('bark_attachment_downloads_refused_total'), 1);
    // A thumbnail-sized or small part still fits.
    const part = await request(bark.port, { path: small.json.url, token, headers: { Range: 'bytes=0-1023' } });
    assert.equal(part.status, 206, part.body);

    slow.destroy();
    await waitUntil(async () => (await metric('bark_attachment_download_bytes_held')) === 0, 10000, 'the held bytes to be released');
    const served = await request(bark.port, { path: small.json.url, token });
    assert.equal(served.status, 200);
    assert.equal(served.bytes.length, 10 << 20);
    assert.equal(await metric('bark_attachment_download_bytes_held'), 0);
  });
});

test('attachments on PostgreSQL storage, across two nodes', async (t) => {
  const files = makeFiles();
  const pg = await startPostgres();
  t.after(() => pg.stop());
  const redis = await startRedis();
  t.after(() => redis.stop());
  const url = await pg.createDatabase('attachments');
  const flags = ['--store', url, '--attachments', 'postgres', '--cluster', redis.url];
  const a = await startBark([...flags, '--node-id', 'a']);
  t.after(() => a.stop());
  const b = await startBark([...flags, '--node-id', 'b']);
  t.after(() => b.stop());
  await storageScenarios(t, a, b, files, 'postgres');
  await t.test('the bytes are in the database, in chunks', async () => {
    const rows = await pg.sql('attachments', 'SELECT count(*) FROM attachment_chunks');
    assert.ok(Number(rows.trim()) > 0, rows);
  });
});
