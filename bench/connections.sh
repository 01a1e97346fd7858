#!/usr/bin/env bash
# How many idle authenticated connections (heart-beats on) bark holds, and at what memory each:
# server RSS minus RSS before, divided by the connections held, once all are held (steady state:
# sampled a second after bark counts them all) and at the peak (which also holds what the connect
# and close storms allocated for a moment).
#   bench/connections.sh [--counts "10000 50000 100000"] [--hold S]
# Writes bench/results/connections-N.json, connections.svg and the "connections" section of
# bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
counts="10000 50000 100000"
hold=20
while [ $# -gt 0 ]; do
  case $1 in
    --counts) counts=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    *) echo "usage: $0 [--counts \"N ...\"] [--hold S]" >&2; exit 2 ;;
  esac
done
raise_fd_limit
work=$(mktemp -d)
table=$work/section.md
data=$RESULTS/connections.dat
{
  echo "Command: \`bench/connections.sh --counts \"$counts\" --hold $hold\`, $(date -u +%Y-%m-%d), $(machine); bark (memory store, heart-beats 10000,10000) and bark-bench on the same machine, client source addresses spread over 127.0.0.0/8."
  echo
  echo "| connections | held | connect errors | connect p50 / p99 / max ms | bark RSS before → held → peak MiB | bytes per connection held | at the peak | bark CPU % while holding |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$table"
echo "connections KiB_per_connection" >"$data"
status=0
# bark's count of WebSocket connections now.
ws_connections() {
  curl -s "http://127.0.0.1:$BARK_PORT/metrics" | awk '$1 == "bark_connections{transport=\"websocket\"}" { v = $2 } END { print v + 0 }'
}
for n in $counts; do
  start_bark "$work/bark-$n.log" --store memory:
  sleep 0.5
  before=$(rss_kib "$BARK_PID")
  out=$RESULTS/connections-$n.json
  log "connections: $n held for $hold s"
  "$BENCH" connections --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --count "$n" \
    --hold "$hold" --server-pid "$BARK_PID" --json "$out" &
  bench_pid=$!
  # Steady state: a second after bark holds all n (or when the load generator is done).
  while kill -0 "$bench_pid" 2>/dev/null && [ "$(ws_connections)" -lt "$n" ]; do sleep 0.2; done
  sleep 1
  steady=$(rss_kib "$BARK_PID")
  peak=$(peak_rss_while "$BARK_PID" "$bench_pid")
  [ "$steady" -gt "$peak" ] && peak=$steady
  wait "$bench_pid" || status=1
  stop_pid "$BARK_PID"
  held=$(json "$out" j.connections_ok)
  per=$(( (steady - before) * 1024 / (held > 0 ? held : 1) ))
  per_peak=$(( (peak - before) * 1024 / (held > 0 ? held : 1) ))
  echo "| $n | $held | $(json "$out" j.connect_errors) | $(json "$out" j.connect_ms.p50) / $(json "$out" j.connect_ms.p99) / $(json "$out" j.connect_ms.max) | $((before / 1024)) → $((steady / 1024)) → $((peak / 1024)) | $per | $per_peak | $(json "$out" j.server_cpu_percent) |" >>"$table"
  echo "$n $(awk "BEGIN{printf \"%.2f\", $per/1024}")" >>"$data"
done
echo >>"$table"
echo "Chart: [results/connections.svg](results/connections.svg)." >>"$table"
bar_chart "$RESULTS/connections.svg" "bark: server memory per idle connection" "KiB per connection" "$data"
set_section "$ROOT/bench/RESULTS.md" connections "$table"
cat "$table"
rm -rf "$work"
exit $status
