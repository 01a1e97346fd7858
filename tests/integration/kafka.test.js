'use strict';
// The tests' Kafka broker (startKafka of lib/servers.js, scripts/kafka.sh): it serves, a topic
// gets 4 partitions on first use, its data survives a clean stop and a crash, each followed by a
// start on the same port and directory, and stop() removes the directory. kcat (Debian's package,
// on librdkafka like bark) is the client.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const { startKafka } = require('./lib/servers');

// Runs kcat with `args` (and `input` on its standard input); resolves its standard output.
function kcat(args, input = '') {
  return new Promise((resolve, reject) => {
    const proc = execFile('kcat', args, { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    proc.stdin.end(input);
  });
}

// Every message of `topic` as sorted 'key=value' lines.
async function readAll(kafka, topic) {
  const out = await kcat(['-C', '-b', kafka.bootstrap, '-t', topic, '-e', '-q', '-f', '%k=%s\n']);
  return out.split('\n').filter(Boolean).sort();
}

test('a Kafka broker for the tests: serves, keeps its data across a stop and a crash', async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.stop());
  assert.equal(kafka.bootstrap, `127.0.0.1:${kafka.port}`);
  assert.ok(kafka.pid > 0);

  await kcat(['-P', '-b', kafka.bootstrap, '-t', 'kt', '-K:', '-X', 'enable.idempotence=true'], 'a:1\nb:2\nc:3\n');
  const meta = await kcat(['-L', '-b', kafka.bootstrap, '-t', 'kt']);
  assert.match(meta, /topic "kt" with 4 partitions/);
  assert.deepEqual(await readAll(kafka, 'kt'), ['a=1', 'b=2', 'c=3']);

  const firstPid = kafka.pid;
  await kafka.halt();
  assert.equal(kafka.pid, null);
  await assert.rejects(kcat(['-L', '-b', kafka.bootstrap, '-m', '1']));
  await kafka.restart();
  assert.notEqual(kafka.pid, firstPid);
  assert.deepEqual(await readAll(kafka, 'kt'), ['a=1', 'b=2', 'c=3']);

  await kafka.halt('SIGKILL');
  await kafka.restart();
  await kcat(['-P', '-b', kafka.bootstrap, '-t', 'kt', '-K:'], 'd:4\n');
  assert.deepEqual(await readAll(kafka, 'kt'), ['a=1', 'b=2', 'c=3', 'd=4']);

  const { dir } = kafka;
  await kafka.stop();
  assert.equal(fs.existsSync(dir), false);
  await assert.rejects(kafka.restart(), /after stop/);
});
