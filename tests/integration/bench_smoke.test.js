'use strict';
// bark-bench against a real bark: every scenario for a couple of seconds with small counts, over
// WebSocket and SockJS, with chat JSON and with bare bodies on generic pub/sub. Only correctness
// is asserted (exit code, every expected message received, no errors), never timing.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startBark, withTimeout } = require('./lib/bark');

const BENCH_BIN = process.env.BARK_BENCH_BIN || path.resolve(__dirname, '../../build/bin/bark-bench');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-bench-smoke-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let runs = 0;
// Runs bark-bench with args (+ --json FILE); resolves {code, stdout, stderr, json}.
function bench(args, { timeoutMs = 60000 } = {}) {
  const jsonFile = path.join(tmp, `run-${++runs}.json`);
  const all = [...args, '--json', jsonFile, '--no-progress'];
  return withTimeout(new Promise((resolve, reject) => {
    const p = spawn(BENCH_BIN, all, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      let json = null;
      try { json = JSON.parse(fs.readFileSync(jsonFile, 'utf8')); } catch { /* no report */ }
      resolve({ code, stdout, stderr, json, args: all });
    });
  }), timeoutMs, `bark-bench ${all.join(' ')}`);
}

const show = (r) => `bark-bench ${r.args.join(' ')} → exit ${r.code}\n${r.stdout}\n${r.stderr}`;

const FIXED_KEYS = ['scenario', 'users', 'connections_ok', 'connect_errors', 'messages_sent', 'messages_received',
  'messages_expected', 'errors', 'duration_s', 'throughput_msgs_per_s', 'connect_ms', 'latency_ms'];

function assertClean(r, { scenario, users, connections }) {
  assert.equal(r.code, 0, show(r));
  const j = r.json;
  assert.ok(j, `no JSON report\n${show(r)}`);
  assert.deepEqual(Object.keys(j).slice(0, FIXED_KEYS.length), FIXED_KEYS);
  assert.deepEqual(Object.keys(j.connect_ms), ['mean', 'p50', 'p90', 'p99', 'max']);
  assert.deepEqual(Object.keys(j.latency_ms), ['mean', 'p50', 'p90', 'p99', 'p999', 'max']);
  assert.equal(j.scenario, scenario);
  assert.equal(j.users, users);
  assert.equal(j.errors, 0, show(r));
  assert.equal(j.connect_errors, 0, show(r));
  assert.equal(j.connections_ok, connections ?? users, show(r));
  assert.equal(j.messages_received, j.messages_expected, show(r));
}

test('bark-bench scenarios against bark', async (t) => {
  const bark = await startBark(['--store', `sqlite:${path.join(tmp, 'bark.db')}`, '--max-send-rate', '0',
    '--allow-client-publish']);
  t.after(() => bark.stop());
  const common = ['--url', bark.wsUrl, '--jwt-secret', bark.secret, '--timeout', '10'];

  await t.test('seed: every user gets each of its messages back', async () => {
    const r = await bench(['seed', ...common, '--users', '20', '--ramp-up', '1', '--loops', '3']);
    // Without --keep-connection every loop opens a connection.
    assertClean(r, { scenario: 'seed', users: 20, connections: 60 });
    assert.equal(r.json.messages_sent, 60);
    assert.equal(r.json.messages_expected, 60);
    assert.match(r.stdout, /received \/ expected\s+60 \/ 60/);
  });

  await t.test('seed --keep-connection connects once per user', async () => {
    const r = await bench(['seed', ...common, '--users', '10', '--ramp-up', '0.5', '--loops', '5', '--keep-connection']);
    assertClean(r, { scenario: 'seed', users: 10 });
    assert.equal(r.json.messages_expected, 50);
  });

  await t.test('fanout: every member receives every message', async () => {
    const r = await bench(['fanout', ...common, '--rooms', '3', '--members', '5', '--rate', '60', '--duration', '2']);
    assertClean(r, { scenario: 'fanout', users: 15 });
    assert.equal(r.json.messages_sent, 120);
    assert.equal(r.json.messages_expected, r.json.messages_sent * 5);
    assert.equal(r.json.rooms, 3);
    assert.equal(r.json.members, 5);
  });

  await t.test('fanout over SockJS', async () => {
    const r = await bench(['fanout', ...common, '--sockjs', '--rooms', '2', '--members', '4', '--rate', '40',
      '--duration', '2']);
    assertClean(r, { scenario: 'fanout', users: 8 });
    assert.equal(r.json.messages_expected, r.json.messages_sent * 4);
  });

  await t.test('seed over SockJS', async () => {
    const r = await bench(['seed', ...common, '--sockjs', '--users', '6', '--ramp-up', '0.5', '--loops', '2']);
    assertClean(r, { scenario: 'seed', users: 6, connections: 12 });
  });

  await t.test('fanout with bare bodies on generic pub/sub destinations', async () => {
    const r = await bench(['fanout', ...common, '--raw-body', '--subscribe-destination', '/sub/bench/{room}',
      '--send-destination', '/sub/bench/{room}', '--rooms', '2', '--members', '3', '--rate', '40', '--duration', '1']);
    assertClean(r, { scenario: 'fanout', users: 6 });
  });

  await t.test('connections: all held with heart-beats, then closed', async () => {
    const r = await bench(['connections', ...common, '--count', '50', '--hold', '2']);
    assertClean(r, { scenario: 'connections', users: 50 });
    assert.equal(r.json.messages_expected, 0);
  });

  await t.test('a wrong --jwt-secret fails the run', async () => {
    const r = await bench(['seed', '--url', bark.wsUrl, '--jwt-secret', 'not-the-secret', '--users', '2',
      '--ramp-up', '0', '--loops', '1', '--timeout', '5']);
    // The rooms cannot be created (401), so the run does not start.
    assert.notEqual(r.code, 0, show(r));
    const c = await bench(['connections', '--url', bark.wsUrl, '--jwt-secret', 'not-the-secret', '--count', '5',
      '--hold', '0', '--timeout', '5']);
    assert.equal(c.code, 1, show(c));
    assert.equal(c.json.connect_errors, 5, show(c));
    assert.equal(c.json.connections_ok, 0, show(c));
    assert.ok(c.json.errors >= 5, show(c));
  });

  await t.test('only loopback targets', async () => {
    const r = await bench(['seed', '--url', 'ws://192.0.2.1:8080/ws/chat', '--users', '1']);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /loopback/);
  });
});

test('bark-bench spreads connections over several --url targets', async (t) => {
  // Two independent bark nodes (no cluster bus, so no shared messages): the connections scenario
  // only needs each connection to reach its own server. Connection i goes to URL i % 2.
  const a = await startBark(['--store', 'memory:', '--log-level', 'debug']);
  t.after(() => a.stop());
  const b = await startBark(['--store', 'memory:', '--log-level', 'debug']);
  t.after(() => b.stop());
  assert.equal(a.secret, b.secret);
  const opened = (bark) => (bark.output().match(/ws open session=/g) || []).length;

  const r = await bench(['connections', '--url', a.wsUrl, '--url', b.wsUrl, '--jwt-secret', a.secret,
    '--count', '20', '--hold', '1', '--timeout', '10']);
  assertClean(r, { scenario: 'connections', users: 20 });
  assert.equal(r.json.urls, 2, show(r));
  assert.ok(r.stdout.includes(a.wsUrl) && r.stdout.includes(b.wsUrl), show(r));
  assert.equal(opened(a), 10, `first server: ${opened(a)} connections\n${show(r)}`);
  assert.equal(opened(b), 10, `second server: ${opened(b)} connections\n${show(r)}`);

  // The same two as one comma-separated value; a non-loopback one among them stops the run.
  const c = await bench(['connections', '--url', `${a.wsUrl},${b.wsUrl}`, '--jwt-secret', a.secret,
    '--count', '4', '--hold', '0', '--timeout', '10']);
  assertClean(c, { scenario: 'connections', users: 4 });
  assert.equal(c.json.urls, 2, show(c));
  assert.equal(opened(a), 12);
  assert.equal(opened(b), 12);
  const bad = await bench(['connections', '--url', a.wsUrl, '--url', 'ws://192.0.2.1:8080/ws/chat', '--count', '1']);
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /loopback/);
});
