#!/usr/bin/env bash
# The seed's JMeter scenarios V1-V4 against bark with the SQLite store: users ramp up, each loop
# connects, subscribes, sends one message, waits for it to come back and disconnects.
#   bench/seed.sh [--loops L] [--only V4] [--keep-connection]
# Writes bench/results/seed-V*.json, seed.svg and the "seed" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
loops=50
only=""
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --loops) loops=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep-connection) extra+=(--keep-connection); shift ;;
    *) echo "usage: $0 [--loops L] [--only V1|V2|V3|V4] [--keep-connection]" >&2; exit 2 ;;
  esac
done
raise_fd_limit
variants=("V1 100 0" "V2 500 10" "V3 1000 30" "V4 3000 30")
work=$(mktemp -d)
table=$RESULTS/seed.md
data=$RESULTS/seed.dat
{
  echo "Command: \`bench/seed.sh --loops $loops ${extra[*]:-}\`, $(date -u +%Y-%m-%d), $(machine); bark and bark-bench on the same machine, SQLite store (\`--store sqlite:\`, WAL, group commit)."
  echo
  echo "| variant | users | ramp-up s | loops | sends | received | errors | connect p50/p99 ms | latency p50 / p99 / p99.9 / max ms | msgs/s | bark CPU % | bench CPU % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"
echo "variant p50 p99 p999" >"$data"
status=0
for v in "${variants[@]}"; do
  read -r name users ramp <<<"$v"
  [ -n "$only" ] && [ "$only" != "$name" ] && continue
  start_bark "$work/bark-$name.log" --store "sqlite:$work/$name.db" --max-send-rate 0
  out=$RESULTS/seed-$name.json
  log "seed $name: $users users, ramp-up $ramp s, $loops loops"
  if ! "$BENCH" seed --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --users "$users" \
      --ramp-up "$ramp" --loops "$loops" --server-pid "$BARK_PID" --json "$out" "${extra[@]}"; then
    status=1
  fi
  stop_pid "$BARK_PID"
  echo "| $name | $users | $ramp | $loops | $(json "$out" j.messages_sent) | $(json "$out" j.messages_received) | $(json "$out" j.errors) | $(json "$out" j.connect_ms.p50) / $(json "$out" j.connect_ms.p99) | $(json "$out" j.latency_ms.p50) / $(json "$out" j.latency_ms.p99) / $(json "$out" j.latency_ms.p999) / $(json "$out" j.latency_ms.max) | $(json "$out" j.throughput_msgs_per_s) | $(json "$out" j.server_cpu_percent) | $(json "$out" j.bench_cpu_percent) |" >>"$table"
  echo "$name $(json "$out" j.latency_ms.p50) $(json "$out" j.latency_ms.p99) $(json "$out" j.latency_ms.p999)" >>"$data"
done
echo >>"$table"
echo "Chart: [results/seed.svg](results/seed.svg)." >>"$table"
bar_chart "$RESULTS/seed.svg" "bark, seed scenarios (SQLite store)" "send to receive latency, ms" "$data"
set_section "$ROOT/bench/RESULTS.md" seed "$table"
cat "$table"
rm -rf "$work"
exit $status
