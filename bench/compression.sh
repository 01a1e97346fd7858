#!/usr/bin/env bash
# What permessage-deflate (--ws-compression) costs and saves: the same fan-out run (rooms of
# --members subscribers, chat JSON of --message-bytes) against bark with compression off, on,
# no-context-takeover, and on with a 2^10 window; bark-bench offers deflate as a browser does.
# Per mode: deliveries, p99, bark's CPU per delivery, bytes on loopback per delivery, and bark's
# memory per connection after the traffic (RSS after minus RSS before the clients connected).
# Then --idle connections that negotiated deflate and sent nothing: bark's memory per connection.
#   bench/compression.sh [--rooms N] [--members N] [--rate MSGS_PER_S] [--duration S] [--message-bytes N] [--idle N]
# Writes bench/results/compression-MODE.json and the "compression" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
rooms=100
members=20
rate=1000
duration=15
bytes=300
idle=5000
while [ $# -gt 0 ]; do
  case $1 in
    --rooms) rooms=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --message-bytes) bytes=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    *) echo "usage: $0 [--rooms N] [--members N] [--rate R] [--duration S] [--message-bytes N] [--idle N]" >&2; exit 2 ;;
  esac
done
raise_fd_limit
work=$(mktemp -d)
table=$work/section.md
# mode_flags MODE: sets `flags` to bark's flags for MODE (off, on, no-context-takeover, on:BITS).
mode_flags() {
  flags=(--store memory: --ws-compression "${1%%:*}")
  [ "$1" != "${1%%:*}" ] && flags+=(--ws-compression-window-bits "${1##*:}")
  return 0
}
lo_bytes() { awk '$1 == "lo:" {print $2}' /proc/net/dev; }
{
  echo "Command: \`bench/compression.sh --rooms $rooms --members $members --rate $rate --duration $duration --message-bytes $bytes\`, $(date -u +%Y-%m-%d), $(machine); bark (memory store, 1 thread per core) and bark-bench (offering permessage-deflate as a browser does: both windows 15, context takeover) on the same machine. Bytes on loopback are both directions, frames and TCP/IP headers included."
  echo
  echo "| --ws-compression | deliveries | missing | p50 / p99 ms | bark CPU µs per delivery | loopback bytes per delivery | bark RSS before → after MiB | bytes per connection after traffic |"
  echo "|---|---|---|---|---|---|---|---|"
} >"$table"
status=0
conns=$((rooms * members))
for mode in off on no-context-takeover on:10; do
  mode_flags "$mode"
  start_bark "$work/bark-$mode.log" "${flags[@]}"
  sleep 0.5
  before=$(rss_kib "$BARK_PID")
  out=$RESULTS/compression-${mode/:/-}.json
  lo0=$(lo_bytes)
  log "compression: $mode"
  "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --ws-compression \
    --rooms "$rooms" --members "$members" --rate "$rate" --duration "$duration" --message-bytes "$bytes" \
    --server-pid "$BARK_PID" --no-progress --json "$out" >"$work/bench-$mode.txt" || status=1
  lo1=$(lo_bytes)
  after=$(rss_kib "$BARK_PID")
  stop_pid "$BARK_PID"
  d=$(json "$out" j.deliveries_total)
  echo "| ${mode/:/, window bits } | $d | $(json "$out" j.missing) | $(json "$out" j.latency_ms.p50) / $(json "$out" j.latency_ms.p99) | $(json "$out" "(j.server_cpu_s*1e6/Math.max(1,j.deliveries_total)).toFixed(1)") | $(( (lo1 - lo0) / (d > 0 ? d : 1) )) | $((before / 1024)) → $((after / 1024)) | $(( (after - before) * 1024 / conns )) |" >>"$table"
done
{
  echo
  echo "Idle: \`bark-bench connections --count $idle --hold 5 --ws-compression\` (heart-beats on, nothing sent), bark's RSS at the peak minus before."
  echo
  echo "| --ws-compression | connections held | bark RSS before → peak MiB | bytes per connection |"
  echo "|---|---|---|---|"
} >>"$table"
for mode in off on no-context-takeover on:10; do
  mode_flags "$mode"
  start_bark "$work/idle-$mode.log" "${flags[@]}"
  sleep 0.5
  before=$(rss_kib "$BARK_PID")
  out=$work/idle-${mode/:/-}.json
  log "compression, idle: $mode"
  "$BENCH" connections --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --ws-compression \
    --count "$idle" --hold 5 --no-progress --json "$out" >/dev/null &
  bench_pid=$!
  peak=$(peak_rss_while "$BARK_PID" "$bench_pid")
  wait "$bench_pid" || status=1
  stop_pid "$BARK_PID"
  held=$(json "$out" j.connections_ok)
  echo "| ${mode/:/, window bits } | $held | $((before / 1024)) → $((peak / 1024)) | $(( (peak - before) * 1024 / (held > 0 ? held : 1) )) |" >>"$table"
done
echo >>"$table"
set_section "$ROOT/bench/RESULTS.md" compression "$table"
cat "$table"
rm -rf "$work"
exit $status
