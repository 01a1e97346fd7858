#!/usr/bin/env bash
# Durable chat sends with receipts: customer/salon rooms (2 members), every SEND asks for a
# RECEIPT (bark sends it after the commit), open-loop at each offered rate, SQLite store.
#   bench/durable.sh [--rooms R] [--rates "5000 10000 20000"] [--duration S]
# Writes bench/results/durable-RATE.json, durable.svg and the "durable" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
rooms=200
rates="2500 5000 10000 20000 30000"
duration=10
while [ $# -gt 0 ]; do
  case $1 in
    --rooms) rooms=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
raise_fd_limit
work=$(mktemp -d)
table=$work/section.md
data=$RESULTS/durable.dat
{
  echo "Command: \`bench/durable.sh --rooms $rooms --rates \"$rates\" --duration $duration\`, $(date -u +%Y-%m-%d), $(machine); bark (SQLite store, WAL, synchronous=NORMAL) and bark-bench on the same machine. Latency runs from each send's scheduled time to the broadcast's arrival at the room's members; receipt latency to the sender's RECEIPT."
  echo
  echo "| offered sends/s | sends/s receipted | all delivered | broadcast p50 / p99 / max ms | receipt p50 / p99 ms | bark CPU % | bench CPU % |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
echo "rate p50 p99" >"$data"
for r in $rates; do
  start_bark "$work/bark-$r.log" --store "sqlite:$work/$r.db" --max-send-rate 0
  out=$RESULTS/durable-$r.json
  log "durable: $r sends/s over $rooms rooms"
  "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms "$rooms" --members 2 \
    --rate "$r" --duration "$duration" --receipts --server-pid "$BARK_PID" --no-progress --json "$out" >/dev/null || true
  stop_pid "$BARK_PID"
  ok=$(json "$out" 'j.errors === 0 && j.messages_received >= j.messages_expected ? "yes" : `no (${j.errors} errors)`')
  echo "| $r | $(json "$out" "j.receipts_received / j.duration_s") | $ok | $(json "$out" j.latency_ms.p50) / $(json "$out" j.latency_ms.p99) / $(json "$out" j.latency_ms.max) | $(json "$out" j.receipt_ms.p50) / $(json "$out" j.receipt_ms.p99) | $(json "$out" j.server_cpu_percent) | $(json "$out" j.bench_cpu_percent) |" >>"$table"
  echo "$r $(json "$out" j.latency_ms.p50) $(json "$out" j.latency_ms.p99)" >>"$data"
done
echo >>"$table"
echo "Chart: [results/durable.svg](results/durable.svg)." >>"$table"
bar_chart "$RESULTS/durable.svg" "bark: durable sends, send to broadcast latency by offered rate" "ms" "$data"
set_section "$ROOT/bench/RESULTS.md" durable "$table"
cat "$table"
rm -rf "$work"
