'use strict';
// Throw-away Redis, PostgreSQL and Kafka servers for the integration tests: real servers (Debian's
// redis-server and /usr/lib/postgresql/<version>/bin; Apache Kafka through scripts/kafka.sh), on
// 127.0.0.1 and a free port, each in a fresh temporary directory that is removed when the server
// stops. The PostgreSQL part mirrors tests/unit/pg_test_server.cpp, the Kafka part
// tests/unit/kafka_test_server.cpp. A process 'exit' handler stops whatever a test left running, so
// a failing test never leaks a server. Every wait has a timeout.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { sleep, withTimeout, waitUntil } = require('./bark');

const REDIS_BIN = process.env.REDIS_SERVER_BIN || 'redis-server';
const READY_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------------------------
// Small utilities

// A TCP port on 127.0.0.1 that nothing listens on right now (another process may take it before
// the server binds it: the starts below retry with a new port).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The last ~2000 characters of a log file ('' when it cannot be read), for error messages.
function tailOf(file) {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return ''; }
  return text.length > 2000 ? `...${text.slice(-2000)}` : text;
}

// Whether process `pid` exists and is not a zombie.
function processAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false; // EPERM: it exists, as another user
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function makeTempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function removeDir(dir) {
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
}

// Servers still running: each entry has a synchronous stopSync() for the exit handler.
const registry = new Set();
process.on('exit', () => {
  for (const s of registry) {
    try { s.stopSync(); } catch { /* best effort: the process is exiting */ }
  }
  registry.clear();
});

// ---------------------------------------------------------------------------------------------
// Redis

// Sends PING and INFO server on a raw TCP connection to `port`; resolves the pid of the redis that
// answered +PONG, or null on any failure (refused, closed, no answer within `ms`). The pid tells our
// server from another one already on the port (ours then exits on its bind error, but a PONG from
// the other one can arrive first).
function pingOnce(port, ms = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = '';
    let done = false;
    const finish = (pid) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(null), ms);
    socket.on('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      if (!buf.includes('\r\n')) return;
      if (!buf.startsWith('+PONG\r\n')) { finish(null); return; }
      const m = /process_id:(\d+)\r\n/.exec(buf);
      if (m) finish(Number(m[1]));
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}

// Starts redis-server on `port` in `dir`; resolves {proc, exited (a promise of {code, signal})}
// once it answers PING (itself, not another server on the port), rejects (with the tail of its log) when it exits first or is not ready in
// READY_TIMEOUT_MS.
async function spawnRedis(port, dir) {
  const logfile = path.join(dir, 'redis.log');
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--save', '', // no RDB snapshots
    '--appendonly', 'no',
    '--dir', dir,
    '--logfile', logfile,
    '--daemonize', 'no',
  ];
  // stderr is kept for the errors redis prints before it opens its log file (a bad option).
  const proc = spawn(REDIS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c) => { stderr = (stderr + c.toString()).slice(-4000); });
  // Unreferenced: a server a test forgot to stop does not keep the test process alive (the exit
  // handler kills it). The waits below hold timers, which keep the process alive meanwhile.
  proc.unref();
  proc.stderr.unref();
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo); });
    proc.on('error', (error) => { exitInfo = { code: null, signal: null, error }; resolve(exitInfo); });
  });
  const why = () => `redis-server ${args.map((a) => a || "''").join(' ')}\n${stderr}${tailOf(logfile)}`;

  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitInfo) {
      const e = exitInfo;
      const err = new Error(`redis-server exited before answering PING (${e.error ? e.error.message : `code ${e.code}, signal ${e.signal}`}): ${why()}`);
      err.exitedEarly = true;
      throw err;
    }
    if (await pingOnce(port) === proc.pid) return { proc, exited };
    if (Date.now() > end) {
      proc.kill('SIGKILL');
      await withTimeout(exited, 5000, 'redis-server to exit after SIGKILL').catch(() => {});
      throw new Error(`timeout after ${READY_TIMEOUT_MS} ms: redis-server to answer PING on port ${port}: ${why()}`);
    }
    await sleep(50);
  }
}

// Starts a throw-away redis-server (no persistence) on 127.0.0.1 and `port` (a free one by
// default); resolves once it answers PING.
async function startRedis({ port } = {}) {
  const dir = makeTempDir('bark-redis-');
  let current = null; // {proc, exited} of the running process
  const fixedPort = port !== undefined;

  // The chosen port may be taken before redis binds it (and just after a kill, the old process
  // may still hold it): retry a few times, with a new port unless the caller named one.
  const startOn = async (p, attempts) => {
    for (let i = 1; ; i++) {
      try {
        return await spawnRedis(p, dir);
      } catch (err) {
        if (!err.exitedEarly || i >= attempts) throw err;
        await sleep(100 * i);
      }
    }
  };

  let lastErr;
  for (let attempt = 0; attempt < 3 && !current; attempt++) {
    const p = fixedPort ? port : await freePort();
    try {
      current = await startOn(p, fixedPort ? 3 : 1);
      port = p;
    } catch (err) {
      lastErr = err;
      if (fixedPort || !err.exitedEarly) break;
    }
  }
  if (!current) {
    removeDir(dir);
    throw lastErr;
  }

  const entry = {
    stopSync() {
      if (current) {
        try { current.proc.kill('SIGKILL'); } catch { /* already gone */ }
        current = null;
      }
      removeDir(dir);
    },
  };
  registry.add(entry);

  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: current.proc.pid,
    dir,
    // Sends `signal` to the server; resolves {code, signal} once it exited.
    async kill(signal = 'SIGKILL') {
      if (!current) return null;
      const { proc, exited } = current;
      proc.kill(signal);
      const r = await withTimeout(exited, 10000, `redis-server (pid ${proc.pid}) to exit after ${signal}`);
      current = null;
      return r;
    },
    // Starts the server again on the same port and directory (after kill(); a running one is
    // killed first); resolves once it answers PING.
    async restart() {
      if (!registry.has(entry)) throw new Error('restart() after stop()');
      if (current) await server.kill('SIGKILL');
      current = await startOn(port, 5);
      server.pid = current.proc.pid;
      return server;
    },
    // SIGTERM (SIGKILL after 5 s), then removes the directory.
    async stop() {
      if (current) {
        const { proc, exited } = current;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await withTimeout(exited, 10000, `redis-server (pid ${proc.pid}) to stop`).finally(() => clearTimeout(timer));
        current = null;
      }
      registry.delete(entry);
      removeDir(dir);
    },
  };
  return server;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

// Debian's newest PostgreSQL binaries: /usr/lib/postgresql/<version>/bin (null when missing).
function findPgBin() {
  let best = null;
  let bestVersion = -1;
  let entries = [];
  try { entries = fs.readdirSync('/usr/lib/postgresql'); } catch { return null; }
  for (const name of entries) {
    const bin = path.join('/usr/lib/postgresql', name, 'bin');
    if (!fs.existsSync(path.join(bin, 'initdb')) || !fs.existsSync(path.join(bin, 'pg_ctl'))) continue;
    const version = parseInt(name, 10) || 0;
    if (version > bestVersion) {
      bestVersion = version;
      best = bin;
    }
  }
  return best;
}

// PostgreSQL refuses to run as root: as root, the server programs run as `postgres` via runuser.
const RUNUSER = fs.existsSync('/usr/sbin/runuser') ? '/usr/sbin/runuser' : '/sbin/runuser';
const asPostgres = () => typeof process.getuid === 'function' && process.getuid() === 0;

function pgArgv(argv) {
  return asPostgres() ? [RUNUSER, '-u', 'postgres', '--', ...argv] : argv;
}

// An environment without the libpq variables of the caller (PGHOST, PGDATA, ...), which would
// otherwise change what the programs connect to.
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.PGCONNECT_TIMEOUT = '5';
  return env;
}

// Runs argv (as the postgres user when running as root) in `cwd`, its output appended to `log`;
// resolves its exit status (-1 when it could not start or was killed after `timeoutMs`).
function run(argv, { cwd, log, timeoutMs = 60000 }) {
  const full = pgArgv(argv);
  const out = fs.openSync(log, 'a');
  return new Promise((resolve) => {
    const proc = spawn(full[0], full.slice(1), {
      cwd, env: cleanEnv(), stdio: ['ignore', out, out], timeout: timeoutMs,
    });
    fs.closeSync(out); // the child has its own copy
    proc.on('error', () => resolve(-1));
    proc.on('exit', (code) => resolve(code === null ? -1 : code));
  });
}

// The same, synchronously (for the exit handler).
function runSync(argv, { cwd, log, timeoutMs = 15000 }) {
  const full = pgArgv(argv);
  const out = fs.openSync(log, 'a');
  try {
    const r = spawnSync(full[0], full.slice(1), { cwd, env: cleanEnv(), stdio: ['ignore', out, out], timeout: timeoutMs });
    return r.status === null ? -1 : r.status;
  } finally {
    fs.closeSync(out);
  }
}

// Starts a throw-away PostgreSQL server (trust authentication, superuser `postgres`, no fsync) on
// 127.0.0.1 and a free port, its unix socket in its temporary directory.
async function startPostgres() {
  const bin = findPgBin();
  if (!bin) {
    throw new Error('PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): ' +
      'install them with scripts/install-deps.sh (Debian package postgresql)');
  }
  const dir = makeTempDir('bark-pg-');
  const data = path.join(dir, 'data');
  const serverLog = path.join(dir, 'server.log');
  const ctlLog = path.join(dir, 'pg_ctl.log');
  if (asPostgres()) {
    let ids;
    try {
      ids = {
        uid: Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()),
        gid: Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()),
      };
    } catch { ids = null; }
    if (!ids || !Number.isInteger(ids.uid) || !ids.uid) {
      removeDir(dir);
      throw new Error('running as root, and there is no postgres user to run PostgreSQL as');
    }
    fs.chownSync(dir, ids.uid, ids.gid);
  }

  const initdbLog = path.join(dir, 'initdb.log');
  const rc = await run([path.join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres',
    '--no-sync', '--encoding=UTF8', '--locale=C'], { cwd: dir, log: initdbLog });
  if (rc !== 0) {
    const text = tailOf(initdbLog);
    removeDir(dir);
    throw new Error(`initdb failed (${rc}): ${text}`);
  }

  // The port is free when chosen; another process may take it before the server binds: retry.
  let port = 0;
  let running = false;
  const pgStart = () => {
    const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir}` +
      ' -c fsync=off -c full_page_writes=off -c max_connections=200';
    return run([path.join(bin, 'pg_ctl'), '-D', data, '-l', serverLog, '-w', '-t', '30',
      '-o', options, 'start'], { cwd: dir, log: ctlLog });
  };
  for (let attempt = 0; attempt < 3 && !running; attempt++) {
    port = await freePort();
    running = await pgStart() === 0;
  }
  if (!running) {
    const text = tailOf(serverLog) || tailOf(ctlLog);
    // pg_ctl may have given up waiting on a server that still starts.
    runSync([path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { cwd: dir, log: ctlLog });
    removeDir(dir);
    throw new Error(`pg_ctl start failed: ${text}`);
  }

  let pid;
  try { pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined; } catch { /* unknown */ }

  const stopArgv = [path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'];
  const entry = {
    stopSync() {
      if (running) {
        runSync(stopArgv, { cwd: dir, log: ctlLog });
        running = false;
      }
      removeDir(dir);
    },
  };
  registry.add(entry);

  // Runs `sql` as the superuser in database `db` with psql over TCP; rejects with psql's output.
  const psql = (db, sql) => new Promise((resolve, reject) => {
    const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port),
      '-U', 'postgres', '-d', db, '-c', sql];
    const proc = spawn(path.join(bin, 'psql'), args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
    let out = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { out += c; });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`psql ${sql}: exit ${code ?? signal}: ${out}`));
    });
  });

  return {
    port,
    get pid() { return pid; }, // the postmaster's, after a resume() too
    dir,
    bin,
    // Creates database `name` ([a-z0-9_]+); resolves its URL.
    async createDatabase(name) {
      if (typeof name !== 'string' || !/^[a-z0-9_]{1,63}$/.test(name)) {
        throw new Error(`invalid database name ${JSON.stringify(name)}: [a-z0-9_]{1,63} expected`);
      }
      if (!running) throw new Error('createDatabase() after stop()');
      await psql('postgres', `CREATE DATABASE "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    // Runs `sql` in database `db` with psql (unaligned, tuples only); resolves its output.
    sql: (db, sql) => psql(db, sql),
    // Stops the server at once (pg_ctl -m immediate) and keeps its data, for resume().
    async halt() {
      if (!running) throw new Error('halt() while not running');
      const r = await run(stopArgv, { cwd: dir, log: ctlLog, timeoutMs: 40000 });
      if (r !== 0) throw new Error(`pg_ctl stop failed (${r}): ${tailOf(ctlLog)}`);
      running = false;
      if (pid) await waitUntil(() => !processAlive(pid), 10000, `postgres (pid ${pid}) to exit`);
    },
    // Starts a halted server again on the same port and data.
    async resume() {
      if (running) throw new Error('resume() while running');
      if (!registry.has(entry)) throw new Error('resume() after stop()');
      const r = await pgStart();
      if (r !== 0) throw new Error(`pg_ctl start failed (${r}): ${tailOf(serverLog) || tailOf(ctlLog)}`);
      running = true;
      try { pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined; } catch { pid = undefined; }
    },
    // Stops the server at once (pg_ctl -m immediate), then removes the directory.
    async stop() {
      if (running) {
        const r = await run(stopArgv, { cwd: dir, log: ctlLog, timeoutMs: 40000 });
        // On failure the server is left in the registry: the exit handler tries again.
        if (r !== 0) throw new Error(`pg_ctl stop failed (${r}): ${tailOf(ctlLog)}`);
        running = false;
        // pg_ctl returns once postmaster.pid is gone, a moment before the postmaster exits.
        if (pid) await waitUntil(() => !processAlive(pid), 10000, `postgres (pid ${pid}) to exit`);
      }
      registry.delete(entry);
      removeDir(dir);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Kafka

const KAFKA_SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'kafka.sh');
// A start resolves the jars first when the cache is empty (a minute from Maven Central, once per
// machine; scripts/install-deps.sh does it beforehand); a broker alone starts in 2 to 4 seconds.
const KAFKA_START_TIMEOUT_MS = 180000;
const KAFKA_STOP_TIMEOUT_MS = 40000;

// Runs scripts/kafka.sh with `args`; resolves its standard output, rejects with its error output
// when it fails or outlives `timeoutMs`.
function kafkaScript(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    // BARK_KAFKA_OWNER_PID: the script's watcher stops the broker once this process is gone, even
    // when it is killed and its exit handler never runs.
    const env = { ...process.env, BARK_KAFKA_OWNER_PID: String(process.pid) };
    const proc = spawn('bash', [KAFKA_SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { err = (err + c).slice(-6000); });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else if (signal) reject(new Error(`timeout after ${timeoutMs} ms: scripts/kafka.sh ${args.join(' ')}\n${err}`));
      else reject(new Error(`scripts/kafka.sh ${args.join(' ')} failed (exit ${code}):\n${err}`));
    });
  });
}

// Starts a throw-away Apache Kafka broker (one KRaft node, broker and controller, scripts/kafka.sh)
// on 127.0.0.1 and `port` (a free one by default), its data in a fresh temporary directory;
// resolves once it answers a metadata request. Topics are created on first use with 4 partitions;
// the internal topics have one replica. A missing Java is an error, not a skip.
//
//   kafka.port, kafka.bootstrap ('127.0.0.1:PORT'), kafka.dir, kafka.pid (null while halted)
//   await kafka.halt()          SIGTERM (SIGKILL after 20 s): the broker stops, its data stays
//   await kafka.halt('SIGKILL') a crash: SIGKILL at once, its data stays
//   await kafka.restart()       (halting first when running) starts it again on the same port and
//                               data; resolves once it serves
//   await kafka.stop()          stops it and removes the directory
async function startKafka({ port } = {}) {
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new Error(`startKafka: bad port ${port}`);
  }
  const dir = makeTempDir('bark-kafka-');
  const startArgs = () => ['start', dir, ...(port !== undefined ? [String(port)] : [])];
  try {
    port = Number(await kafkaScript(startArgs(), KAFKA_START_TIMEOUT_MS));
  } catch (err) {
    spawnSync('bash', [KAFKA_SCRIPT, 'kill', dir], { stdio: 'ignore', timeout: 15000 });
    removeDir(dir);
    throw err;
  }
  let running = true;

  const entry = {
    stopSync() {
      // The data is thrown away: no need for a clean shutdown.
      if (running) spawnSync('bash', [KAFKA_SCRIPT, 'kill', dir], { stdio: 'ignore', timeout: 15000 });
      running = false;
      removeDir(dir);
    },
  };
  registry.add(entry);

  const kafka = {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dir,
    get pid() {
      if (!running) return null;
      try { return Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8')) || null; } catch { return null; }
    },
    get log() { return tailOf(path.join(dir, 'kafka.log')); },
    // Stops the broker and keeps its data: SIGTERM (a clean shutdown, SIGKILL after 20 s), or
    // SIGKILL at once.
    async halt(signal = 'SIGTERM') {
      if (signal !== 'SIGTERM' && signal !== 'SIGKILL') throw new Error(`halt: SIGTERM or SIGKILL, not ${signal}`);
      if (!running) return;
      await kafkaScript(signal === 'SIGKILL' ? ['kill', dir] : ['stop', dir, '20'], KAFKA_STOP_TIMEOUT_MS);
      running = false;
    },
    // Starts the broker again on the same port and data (halting it first when it runs).
    async restart() {
      if (!registry.has(entry)) throw new Error('restart() after stop()');
      if (running) await kafka.halt();
      await kafkaScript(['start', dir, String(port)], KAFKA_START_TIMEOUT_MS);
      running = true;
      return kafka;
    },
    // Stops the broker (SIGTERM, SIGKILL after 20 s), then removes the directory.
    async stop() {
      if (!registry.has(entry)) return;
      if (running) {
        // On failure the broker stays in the registry: the exit handler kills it.
        await kafkaScript(['stop', dir, '20'], KAFKA_STOP_TIMEOUT_MS);
        running = false;
      }
      registry.delete(entry);
      removeDir(dir);
    },
  };
  return kafka;
}

// ---------------------------------------------------------------------------------------------
// nginx

const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';

// Starts Debian's nginx in the foreground with `httpConf` (the body of its `http { }` block, e.g.
// packaging/nginx/bark.conf with its ports replaced) on `port` (a free one by default: the text's
// `listen 80;` is rewritten), in a fresh directory for its pid, logs and temporary files; resolves
// {port, url, stop()} once the port accepts connections.
async function startNginx(httpConf, { port } = {}) {
  const dir = makeTempDir('bark-nginx-');
  port = port || await freePort();
  const conf = [
    // As root, its workers would run as `nobody`, who cannot use the temporary directory.
    process.getuid && process.getuid() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    'events { worker_connections 1024; }',
    'http {',
    `  access_log ${dir}/access.log;`,
    `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    httpConf.replace(/listen 80;/, `listen 127.0.0.1:${port};`),
    '}',
  ].join('\n');
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf);
  const proc = spawn(NGINX_BIN, ['-p', dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c) => { stderr = (stderr + c.toString()).slice(-4000); });
  proc.unref();
  proc.stderr.unref();
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo); });
    proc.on('error', (error) => { exitInfo = { code: null, signal: null, error }; resolve(exitInfo); });
  });
  const why = () => `nginx -c ${file}: ${stderr}${tailOf(path.join(dir, 'error.log'))}`;
  const entry = {
    stopSync: () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } removeDir(dir); },
  };
  registry.add(entry);
  const accepts = () => new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
  const end = Date.now() + READY_TIMEOUT_MS;
  while (!(await accepts())) {
    if (exitInfo || Date.now() > end) {
      entry.stopSync();
      registry.delete(entry);
      throw new Error(`nginx did not start (${exitInfo ? `exit ${exitInfo.code}` : 'timeout'}): ${why()}`);
    }
    await sleep(50);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    errorLog: () => tailOf(path.join(dir, 'error.log')),
    accessLog: () => { try { return fs.readFileSync(path.join(dir, 'access.log'), 'utf8'); } catch { return ''; } },
    async stop() {
      if (!exitInfo) {
        proc.kill('SIGQUIT');
        await withTimeout(exited, 10000, 'nginx to stop').catch(() => proc.kill('SIGKILL'));
      }
      registry.delete(entry);
      removeDir(dir);
    },
  };
}

module.exports = {
  startNginx,
  startRedis,
  startPostgres,
  startKafka,
  freePort,
  findPgBin,
};
