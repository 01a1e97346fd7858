'use strict';
// The seed's Spring chat (tests/spring) for the integration tests: startSpring() builds it once
// through scripts/spring-app.sh (cached by the hash of its sources) and starts one instance on
// 127.0.0.1 and a free port, with Spring's simple broker or with the STOMP broker relay pointed at
// a broker (bark's --stomp-listen). A process 'exit' handler kills whatever a test left running,
// and the script's watcher stops an instance once this process is gone, even when it is killed.
// Every wait has a timeout.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { sleep, withTimeout } = require('./bark');

const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'spring-app.sh');
// The first build resolves Spring Boot from Maven Central (a few minutes on a new machine;
// scripts/install-deps.sh does it beforehand); a cached one returns at once.
const BUILD_TIMEOUT_MS = 600000;
// A start measured here: 1.5 to 3.5 s to ready (about 1.9 CPU-s with the class data sharing
// archive, 2.8 without); far more while other work loads both cores.
const START_TIMEOUT_MS = 150000;
const STOP_TIMEOUT_MS = 30000;

function tailOf(file) {
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return ''; }
  return text.length > 3000 ? `...${text.slice(-3000)}` : text;
}

// Runs scripts/spring-app.sh with `args`; resolves its standard output, rejects with its error
// output when it fails or outlives `timeoutMs`.
function script(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, BARK_SPRING_OWNER_PID: String(process.pid) };
    const proc = spawn('bash', [SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { err = (err + c).slice(-6000); });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else if (signal) reject(new Error(`timeout after ${timeoutMs} ms: scripts/spring-app.sh ${args.join(' ')}\n${err}`));
      else reject(new Error(`scripts/spring-app.sh ${args.join(' ')} failed (exit ${code}):\n${err}`));
    });
  });
}

// One build per test process, shared by every start.
let built = null;
function buildSpring() {
  if (!built) built = script(['build'], BUILD_TIMEOUT_MS);
  return built;
}

// GET `p` on 127.0.0.1:port: {status, body (parsed JSON, or the text)}; null on no answer.
function get(port, p, ms = 3000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: ms }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let body = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

const running = new Set();
process.on('exit', () => {
  for (const dir of running) {
    try { spawnSync('bash', [SCRIPT, 'kill', dir], { stdio: 'ignore', timeout: 10000 }); } catch { /* exiting */ }
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

// Starts one instance of the seed's Spring chat. `secret`: the HS256 secret of the JWTs it accepts
// (the cookie, or a STOMP Authorization header). `relay`: null for Spring's simple broker, or
// {host, port, login, passcode} for the STOMP broker relay (login/passcode are the relay's system
// and client credentials alike, unless clientLogin/clientPasscode say otherwise). `userBroadcast`:
// the relay's /topic/unresolved-user and /topic/simp-user-registry, for several instances.
// `rabbitNames`: room destinations renamed for RabbitMQ. `args`: more Spring properties.
//
//   spring.port, spring.url, spring.wsUrl (plain WebSocket under the SockJS endpoint),
//   spring.sockjsUrl, spring.pid, spring.dir, spring.log()
//   await spring.status()               /ready: {status, body} (200 once the broker is available)
//   await spring.waitBroker(up, ms)     until /ready says the broker is (un)available
//   await spring.stop()                 SIGTERM (SIGKILL after 15 s), removes the directory
//   spring.startMs                      how long the start took, JVM and context
async function startSpring({ relay = null, secret, userBroadcast = false, rabbitNames = false, args = [] } = {}) {
  if (!secret) throw new Error('startSpring: a JWT secret is needed');
  await buildSpring();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bark-spring-'));
  const props = [`--chat.jwt-secret=${secret}`];
  if (relay) {
    props.push('--chat.broker=relay', `--chat.relay.host=${relay.host || '127.0.0.1'}`, `--chat.relay.port=${relay.port}`);
    if (relay.login !== undefined) props.push(`--chat.relay.system-login=${relay.login}`, `--chat.relay.client-login=${relay.clientLogin ?? relay.login}`);
    if (relay.passcode !== undefined) props.push(`--chat.relay.system-passcode=${relay.passcode}`, `--chat.relay.client-passcode=${relay.clientPasscode ?? relay.passcode}`);
    if (userBroadcast) props.push('--chat.relay.user-broadcast=true');
    if (rabbitNames) props.push('--chat.relay.destinations=rabbitmq');
  }
  props.push(...args);
  const t0 = Date.now();
  let port;
  try {
    port = Number(await script(['start', dir, '0', ...props], START_TIMEOUT_MS));
  } catch (err) {
    spawnSync('bash', [SCRIPT, 'kill', dir], { stdio: 'ignore', timeout: 10000 });
    err.message += `\n${tailOf(path.join(dir, 'spring.log'))}`;
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  running.add(dir);
  const startMs = Date.now() - t0;
  const pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'));

  const spring = {
    port,
    pid,
    dir,
    startMs,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws/chat/websocket`,
    sockjsUrl: `http://127.0.0.1:${port}/ws/chat`,
    log: () => tailOf(path.join(dir, 'spring.log')),
    status: () => get(port, '/ready'),
    history: async (roomId) => (await get(port, `/api/rooms/${roomId}/messages`)).body,
    async waitBroker(up = true, ms = 30000) {
      const end = Date.now() + ms;
      for (;;) {
        const r = await get(port, '/ready');
        if (r && (r.status === 200) === up) return r.body;
        if (Date.now() > end) {
          throw new Error(`timeout after ${ms} ms: Spring on ${port} to see its broker ${up ? 'available' : 'gone'} ` +
            `(last /ready: ${r ? `${r.status} ${JSON.stringify(r.body)}` : 'no answer'})\n${spring.log()}`);
        }
        await sleep(50);
      }
    },
    async stop() {
      if (!running.has(dir)) return;
      await withTimeout(script(['stop', dir, '15'], STOP_TIMEOUT_MS), STOP_TIMEOUT_MS + 1000, `Spring (pid ${pid}) to stop`);
      running.delete(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return spring;
}

module.exports = { startSpring, buildSpring };
