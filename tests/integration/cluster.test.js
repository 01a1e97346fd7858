'use strict';
// Three bark nodes joined through a real redis-server, sharing a real PostgreSQL (both started here
// on 127.0.0.1 in temporary directories): the scenarios of lib/cluster_scenarios.js, which every
// cluster bus passes.

const test = require('node:test');
const { startRedis } = require('./lib/servers');
const { clusterScenarios } = require('./lib/cluster_scenarios');

test('cluster of three nodes over Redis and PostgreSQL', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  await clusterScenarios(t, {
    name: 'Redis', url: redis.url, kill: () => redis.kill('SIGKILL'), restart: () => redis.restart(), countsChannels: true,
  });
});
