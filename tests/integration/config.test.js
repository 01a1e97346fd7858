'use strict';
// Configuration (SPEC §2): every option as a flag, a BARK_* variable and a key of the --config TOML
// file, with flag > variable > file > default; bad values and unknown keys refused at start with one
// line naming the option; --help lists every option with its default; --version.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { spawnSync } = require('node:child_process');
const { startBark, RawStomp, BARK_BIN } = require('./lib/bark');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-config-'));
const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
const envWithout = (extra = {}) => {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BARK_') || k === 'BARK_BIN') env[k] = v;
  return { ...env, ...extra };
};
// The heart-beat the server offers in CONNECTED: where the value of --heartbeat shows.
async function offeredHeartbeat(flags, env) {
  const bark = await startBark(flags, { env: envWithout(env) });
  try {
    const c = await RawStomp.open(bark.wsUrl);
    const f = await c.connect({ 'accept-version': '1.2', host: '127.0.0.1', 'heart-beat': '1,1' });
    c.close();
    return f.headers['heart-beat'];
  } finally {
    await bark.stop();
  }
}
const run = (args, env) => spawnSync(BARK_BIN, args, { encoding: 'utf8', timeout: 10000, env: envWithout(env) });

test('configuration', async (t) => {
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const toml = file('bark.toml', 'heartbeat = "1000,1000"\nmax_send_rate = 0\nallowed-origins = ["https://a.example"]\n');

  await t.test('precedence: default < file < BARK_* < flag', async () => {
    assert.equal(await offeredHeartbeat([], {}), '10000,10000', 'default');
    assert.equal(await offeredHeartbeat(['--config', toml], {}), '1000,1000', 'file');
    assert.equal(await offeredHeartbeat(['--config', toml], { BARK_HEARTBEAT: '2000,2000' }), '2000,2000', 'env over file');
    assert.equal(await offeredHeartbeat(['--config', toml, '--heartbeat', '3000,3000'], { BARK_HEARTBEAT: '2000,2000' }),
      '3000,3000', 'flag over env');
    assert.equal(await offeredHeartbeat([], { BARK_CONFIG: toml }), '1000,1000', 'the file named by BARK_CONFIG');
  });

  await t.test('each bad value is refused at start with one line naming the option', () => {
    const cases = [
      [['--max-frame-bytes', '5'], {}, /^bark: --max-frame-bytes: /],
      [['--config', file('bad1.toml', 'max-frame-bytes = 5\n')], {}, /^bark: --max-frame-bytes: /],
      [[], { BARK_MAX_SEND_RATE: 'fast' }, /^bark: --max-send-rate: /],
      [['--config', file('bad2.toml', 'no-such-option = 1\n')], {}, /^bark: --config: unknown key 'no-such-option'/],
      [['--config', file('bad3.toml', 'threads = \n')], {}, /^bark: --config: line 1, column \d+: /],
      [['--config', file('bad4.toml', '[section]\nthreads = 2\n')], {}, /^bark: --config: unknown key 'section'/],
      [['--config', path.join(dir, 'missing.toml')], {}, /missing\.toml/],
      [[], { BARK_CONFIG: path.join(dir, 'missing2.toml') }, /missing2\.toml/],
      [['--log-level', 'loud'], {}, /^bark: --log-level: /],
      [['--listen', 'nowhere'], {}, /^bark: --listen: /],
      [['--heartbeat', 'x'], {}, /^bark: --heartbeat: /],
      [['--no-such-flag'], {}, /no-such-flag/],
      [['--tls-cert', toml], {}, /--tls-cert and --tls-key go together/],
    ];
    for (const [args, env, re] of cases) {
      const r = run([...args, '--jwt-secret', 's', '--store', 'memory:'], env);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(r.stdout, '', 'nothing on stdout');
    }
  });

  await t.test('a start that fails (port in use, store unreachable or unknown, unreadable key) prints one line', async () => {
    const taken = net.createServer();
    await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = taken.address().port;
    try {
      const cases = [
        [['--listen', `127.0.0.1:${port}`, '--store', 'memory:'], 1, new RegExp(`^bark: cannot listen on 127\\.0\\.0\\.1:${port}: `)],
        [['--store', 'postgres://postgres:pw@127.0.0.1:1/bark'], 1, /^bark: --store: .*127\.0\.0\.1/],
        [['--store', 'mysql://db/bark'], 1, /^bark: --store: /],
        [['--store', `sqlite:${path.join(toml, 'x.db')}`], 1, /^bark: --store: /], // below a file
        [['--dev', '--store', 'mysql://db/bark'], 1, /^bark: --store: /],
        [['--jwt-public-key', path.join(dir, 'missing.pem'), '--store', 'memory:'], 2, /^bark: --jwt-public-key: /],
      ];
      for (const [args, status, re] of cases) {
        const r = run(args[0] === '--jwt-public-key' ? args : [...args, '--jwt-secret', 's']);
        assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, re, args.join(' '));
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /:pw@/, 'no password');
      }
    } finally {
      taken.close();
    }
  });

  await t.test('--help lists every option with its default; --version', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    for (const opt of ['--listen', '--threads', '--store', '--cluster', '--node-id', '--jwt-secret', '--jwt-public-key',
      '--allowed-origins', '--tls-cert', '--tls-key', '--dev', '--max-frame-bytes', '--send-buffer-bytes',
      '--send-time-limit', '--heartbeat', '--allow-client-publish', '--max-connections', '--max-send-rate',
      '--log-level', '--config']) {
      assert.ok(help.stdout.includes(opt), `--help mentions ${opt}`);
    }
    assert.match(help.stdout, /--max-frame-bytes UINT.*=65536 /);
    assert.match(help.stdout, /--listen TEXT=127\.0\.0\.1:8080 /);
    assert.match(help.stdout, /BARK_MAX_FRAME_BYTES/);
    const version = run(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^bark \d+\.\d+\.\d+/);
  });

  await t.test('the example bark.toml in the repository starts a server', async () => {
    const example = path.resolve(__dirname, '../../packaging/bark.toml');
    const text = fs.readFileSync(example, 'utf8');
    // The example's listen address and store are for a real install: run it on a free port, in memory.
    const bark = await startBark(['--config', example, '--store', 'memory:'], { env: envWithout() });
    await bark.stop();
    assert.match(text, /^# /m, 'the example explains itself');
  });
});
