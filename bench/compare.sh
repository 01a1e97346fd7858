#!/usr/bin/env bash
# bark side by side with RabbitMQ Web-STOMP and the seed's own Spring server, in one run, with the
# same load generator: the seed scenario, then fan-out at several offered rates.
#   bench/compare.sh [--no-spring] [--no-rabbitmq] [--users N] [--loops L]
#                    [--rooms R] [--members M] [--rates "500 1000 2000"] [--duration S]
# Writes bench/results/compare-*.json, compare.json, compare-*.svg and the "compare" section of
# bench/RESULTS.md. Ratios compare the highest offered rate each server sustained (every message
# delivered, no error).
source "$(dirname "$0")/scripts/lib.sh"
limit_src=$(cd "$ROOT/.." && pwd)/shared/tools/fanout_limit.cpp
use_spring=1
use_rabbit=1
users=1000 ramp=10 loops=10
rooms=20 members=100 duration=10
rates="500 1000 2000 3000"
while [ $# -gt 0 ]; do
  case $1 in
    --fanout-limit-src) limit_src=$2; shift 2 ;;
    --no-spring) use_spring=0; shift ;;
    --no-rabbitmq) use_rabbit=0; shift ;;
    --users) users=$2; shift 2 ;;
    --loops) loops=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
raise_fd_limit
work=$(mktemp -d)

# run_target NAME: the seed scenario and the fan-out rates against one server (already started,
# URL and flags in TARGET_URL / TARGET_ARGS / TARGET_PID).
run_target() {
  local name=$1
  log "$name: seed $users users, $loops loops"
  "$BENCH" seed --url "$TARGET_URL" "${TARGET_ARGS[@]}" --users "$users" --ramp-up "$ramp" --loops "$loops" \
    --server-pid "$TARGET_PID" --json "$RESULTS/compare-$name-seed.json" >/dev/null || log "$name: seed run had errors"
  for r in $rates; do
    log "$name: fanout $rooms rooms x $members members at $r msgs/s"
    "$BENCH" fanout --url "$TARGET_URL" "${TARGET_ARGS[@]}" --rooms "$rooms" --members "$members" --rate "$r" \
      --duration "$duration" --server-pid "$TARGET_PID" --json "$RESULTS/compare-$name-fanout-$r.json" >/dev/null ||
      log "$name: fanout at $r msgs/s had errors or losses"
  done
}

# The machine's raw loopback fan-out ceiling (no WebSocket, no STOMP), measured in the same run.
if [ -f "$limit_src" ]; then
  g++ -O2 -std=c++20 -pthread "$limit_src" -o "$work/fanout_limit"
  members_total=$((rooms * members))
  "$work/fanout_limit" "$members_total" 200 1 5 >"$RESULTS/fanout-limit.txt"
  "$work/fanout_limit" "$members_total" 200 4 5 >>"$RESULTS/fanout-limit.txt"
  cat "$RESULTS/fanout-limit.txt" >&2
fi

targets=(bark)
start_bark "$work/bark.log" --store "sqlite:$work/bark.db" --max-send-rate 0
TARGET_URL="ws://127.0.0.1:$BARK_PORT/ws/chat" TARGET_PID=$BARK_PID TARGET_ARGS=(--jwt-secret "$SECRET")
run_target bark
stop_pid "$BARK_PID"

if [ $use_rabbit = 1 ]; then
  targets+=(rabbitmq)
  start_rabbitmq "$work/rabbitmq"
  TARGET_URL="ws://127.0.0.1:$RMQ_PORT/ws" TARGET_PID=$RMQ_PID
  TARGET_ARGS=(--login guest --passcode guest --subscribe-destination '/topic/room.{room}'
    --send-destination '/topic/room.{room}' --raw-body)
  run_target rabbitmq
  stop_rabbitmq
fi

if [ $use_spring = 1 ]; then
  targets+=(spring)
  start_spring "$work/spring-seed"
  # Plain WebSocket under the seed's SockJS endpoint.
  TARGET_URL="ws://127.0.0.1:$SPRING_PORT/ws/chat/websocket" TARGET_PID=$SPRING_PID
  # Spring's simple broker sends no RECEIPT for SUBSCRIBE: a subscription counts as live 500 ms after.
  TARGET_ARGS=(--jwt-secret "$SECRET" --no-subscribe-receipt)
  run_target spring
  stop_pid "$SPRING_PID"
fi

# Summary: every run in one JSON, a table, charts and ratios.
node - "$RESULTS" "$rates" "${targets[@]}" >"$RESULTS/compare.md" <<'JS'
const fs = require('fs');
const [dir, ratesArg, ...targets] = process.argv.slice(2);
const rates = ratesArg.split(/\s+/).filter(Boolean).map(Number);
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')); } catch { return null; } };
const ok = (j) => j && j.errors === 0 && j.messages_received >= j.messages_expected;
const all = {};
let limit = {};
try {
  for (const line of fs.readFileSync(`${dir}/fanout-limit.txt`, 'utf8').split('\n')) {
    const m = /batch=(\d+): (\d+) deliveries/.exec(line);
    if (m) limit[m[1]] = Number(m[2]);
  }
} catch { limit = {}; }
for (const t of targets) {
  all[t] = { seed: read(`compare-${t}-seed.json`), fanout: {} };
  for (const r of rates) all[t].fanout[r] = read(`compare-${t}-fanout-${r}.json`);
}
fs.writeFileSync(`${dir}/compare.json`, JSON.stringify(all, null, 1));
const f = (x, d = 2) => (x === undefined || x === null ? '-' : Number(x).toFixed(d));
const out = [];
out.push('| server | seed msgs/s | seed p50 / p99 / max ms | seed errors | server CPU % |', '|---|---|---|---|---|');
for (const t of targets) {
  const s = all[t].seed;
  out.push(s ? `| ${t} | ${f(s.throughput_msgs_per_s, 0)} | ${f(s.latency_ms.p50)} / ${f(s.latency_ms.p99)} / ${f(s.latency_ms.max)} | ${s.errors} | ${f(s.server_cpu_percent, 0)} |` : `| ${t} | no result | | | |`);
}
out.push('', '| server | offered msgs/s | deliveries/s | p50 / p99 / max ms | all delivered | server CPU % | bench CPU % |', '|---|---|---|---|---|---|---|');
const best = {};
for (const t of targets) {
  for (const r of rates) {
    const j = all[t].fanout[r];
    if (!j) { out.push(`| ${t} | ${r} | no result | | | | |`); continue; }
    out.push(`| ${t} | ${r} | ${f(j.throughput_msgs_per_s, 0)} | ${f(j.latency_ms.p50)} / ${f(j.latency_ms.p99)} / ${f(j.latency_ms.max)} | ${ok(j) ? 'yes' : `no (${j.messages_received}/${j.messages_expected}, ${j.errors} errors)`} | ${f(j.server_cpu_percent, 0)} | ${f(j.bench_cpu_percent, 0)} |`);
    if (ok(j) && (!best[t] || j.throughput_msgs_per_s > best[t].throughput_msgs_per_s)) best[t] = { ...j, rate: r };
  }
}
out.push('');
for (const t of targets.filter((x) => x !== 'bark')) {
  const b = best.bark, p = best[t];
  if (b && p) out.push(`- bark / ${t}: ${f(b.throughput_msgs_per_s / p.throughput_msgs_per_s)}× the deliveries/s at their highest fully delivered rates (bark ${f(b.throughput_msgs_per_s, 0)}/s at p99 ${f(b.latency_ms.p99)} ms; ${t} ${f(p.throughput_msgs_per_s, 0)}/s at p99 ${f(p.latency_ms.p99)} ms).`);
  else out.push(`- bark / ${t}: no fully delivered rate for ${b ? t : 'bark'}.`);
}
if (best.bark && limit['1']) {
  out.push(`- bark's best fully delivered fan-out is ${f(best.bark.throughput_msgs_per_s / limit['1'])}× this machine's raw loopback ceiling at one 200-byte frame per write (${limit['1']}/s) and ${f(best.bark.throughput_msgs_per_s / limit['4'])}× the ceiling at 4 frames per write (${limit['4']}/s), measured in the same run (\`fanout_limit N 200 1|4 5, N = rooms × members\`).`);
}
all.fanout_limit = limit;
fs.writeFileSync(`${dir}/compare.json`, JSON.stringify(all, null, 1));
console.log(out.join('\n'));
// Chart data: deliveries/s and p99 per offered rate.
const cols = ['rate', ...targets];
fs.writeFileSync(`${dir}/compare-throughput.dat`, [cols.join(' '), ...rates.map((r) => [r, ...targets.map((t) => f(all[t].fanout[r]?.throughput_msgs_per_s ?? 0, 0))].join(' '))].join('\n') + '\n');
fs.writeFileSync(`${dir}/compare-p99.dat`, [cols.join(' '), ...rates.map((r) => [r, ...targets.map((t) => f(all[t].fanout[r]?.latency_ms.p99 ?? 0))].join(' '))].join('\n') + '\n');
JS
bar_chart "$RESULTS/compare-throughput.svg" "fan-out: deliveries/s by offered rate ($rooms rooms x $members members)" "deliveries/s" "$RESULTS/compare-throughput.dat"
bar_chart "$RESULTS/compare-p99.svg" "fan-out: p99 latency by offered rate" "p99 ms" "$RESULTS/compare-p99.dat"
{
  echo "Command: \`bench/compare.sh --users $users --loops $loops --rooms $rooms --members $members --rates \"$rates\" --duration $duration\`, $(date -u +%Y-%m-%d), $(machine); servers one after another on 127.0.0.1, bark-bench on the same machine. bark: SQLite store; RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?') Web-STOMP (topic destinations, bare bodies); Spring: the seed's chat (tests/spring: Spring Boot 3.3.5, spring-messaging 6.1.14, simple broker, Tomcat 10.1)."
  echo
  cat "$RESULTS/compare.md"
  echo
  echo "Charts: [deliveries/s](results/compare-throughput.svg), [p99](results/compare-p99.svg)."
} >"$work/section.md"
set_section "$ROOT/bench/RESULTS.md" compare "$work/section.md"
cat "$work/section.md"
rm -rf "$work"
