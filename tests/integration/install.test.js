'use strict';
// `make install` (cmake --install) into a temporary prefix: the installed bark runs from another
// working directory with the installed example configuration, serves the installed demo page, and
// the systemd unit points at the installed binary and configuration.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { BARK_BIN, httpRequest, withTimeout } = require('./lib/bark');

test('install into a prefix', async (t) => {
  const buildDir = path.resolve(path.dirname(BARK_BIN), '..');
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-install-'));
  t.after(() => fs.rmSync(prefix, { recursive: true, force: true }));
  const r = spawnSync('cmake', ['--install', buildDir, '--prefix', prefix], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);

  await t.test('binaries, demo page, example configuration, unit file and docs are in place', () => {
    for (const f of ['bin/bark', 'bin/bark-bench', 'share/bark/web/index.html', 'share/bark/web/vendor/sockjs.min.js',
      'share/bark/web/vendor/stomp.min.js', 'etc/bark/bark.toml', 'lib/systemd/system/bark.service',
      'share/doc/bark/README.md', 'share/doc/bark/docs/config.md']) {
      assert.ok(fs.existsSync(path.join(prefix, f)), f);
    }
    const unit = fs.readFileSync(path.join(prefix, 'lib/systemd/system/bark.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/bark --config ${prefix}/etc/bark/bark.toml$`, 'm'));
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^\[Install\]\nWantedBy=multi-user.target$/m);
  });

  await t.test('the installed bark runs from any working directory with the installed config', async () => {
    const proc = spawn(path.join(prefix, 'bin/bark'), ['--config', path.join(prefix, 'etc/bark/bark.toml'),
      '--listen', '127.0.0.1:0', '--store', 'memory:', '--jwt-secret', 'install-test'],
    { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => proc.kill('SIGKILL'));
    const port = await withTimeout(new Promise((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d) => {
        out += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.on('exit', (code) => reject(new Error(`bark exited ${code}`)));
    }), 10000, 'the installed bark to listen');
    const page = await httpRequest(port, { path: '/' });
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    const lib = await httpRequest(port, { path: '/vendor/stomp.min.js' });
    assert.equal(lib.status, 200);
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await withTimeout(exited, 10000, 'exit'), 0);
  });
});
