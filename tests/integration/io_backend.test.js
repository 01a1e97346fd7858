'use strict';
// The event loops' kernel interface. bark says at start which one it runs on (epoll, or io_uring
// in a build with -DBARK_IO_URING=ON). Under a seccomp filter that refuses io_uring, as a
// container's default profile does, an epoll build serves as usual, and an io_uring build exits
// at once with the reason instead of starting without loops.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startBark, chatConnect, createRoom, BARK_BIN } = require('./lib/bark');

const DENY = path.join(__dirname, 'lib', 'deny-io-uring.py');
const CUST = { userId: 1601, username: 'io-customer', role: 'USER' };
const SALON = { userId: 2601, username: 'io-salon', role: 'SALON' };

// Runs bark under the filter until it prints its address or exits: {listening, code, output}.
function runDenied(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', [DENY, BARK_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let listening = false;
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no answer in 10 s:\n${output}`)); }, 10000);
    const take = (c) => {
      output += c.toString();
      if (!listening && /bark listening on /.test(output)) {
        listening = true;
        proc.kill('SIGTERM');
      }
    };
    proc.stdout.on('data', take);
    proc.stderr.on('data', take);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ listening, code, output }); });
  });
}

test('bark names its I/O backend, chats on it, and meets a kernel that refuses io_uring as its build must', async (t) => {
  const bark = await startBark([]);
  t.after(() => bark.stop());
  const m = / on \d+ loops \((epoll|io_uring)\)/.exec(bark.output());
  assert.ok(m, `the start-up line names the backend:\n${bark.output()}`);
  const backend = m[1];

  // A message both ways on this backend.
  const room = (await createRoom(bark, bark.token(CUST), CUST.userId, SALON.userId)).roomId;
  const cust = await chatConnect(bark, CUST);
  const salon = await chatConnect(bark, SALON);
  t.after(() => { cust.close(); salon.close(); });
  await cust.subscribe('c', `/sub/chat/${room}`);
  await salon.subscribe('s', `/sub/chat/${room}`);
  cust.chatSend(room, { messageText: `hello on ${backend}` });
  const got = await salon.waitJson('s', 1);
  assert.equal(got[0].messageText, `hello on ${backend}`);
  salon.chatSend(room, { messageText: `reply on ${backend}` });
  assert.equal((await cust.waitJson('c', 2))[1].messageText, `reply on ${backend}`);

  const r = await runDenied(['--listen', '127.0.0.1:0', '--jwt-secret', 'io-backend-secret-0123456789abcdef', '--store', 'memory:']);
  if (backend === 'epoll') {
    assert.ok(r.listening, `an epoll build serves where io_uring is refused:\n${r.output}`);
  } else {
    assert.equal(r.listening, false, 'an io_uring build does not start where io_uring is refused');
    assert.equal(r.code, 1);
    assert.match(r.output, /no event loop on io_uring: .*Operation not permitted/);
    assert.match(r.output, /run a build without BARK_IO_URING/);
  }
});
