'use strict';
// A fast webhook receiver for bench/durable.sh --events webhook: answers every POST with 204 at
// once (no signature check: the cost measured is bark's) on 127.0.0.1:PORT, and prints how many it
// took when it gets SIGTERM.
//   node bench/scripts/webhook_receiver.js PORT
const http = require('node:http');

let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => {
  console.log(`received ${received}`);
  process.exit(0);
});
