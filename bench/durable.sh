#!/usr/bin/env bash
# Durable chat sends with receipts: customer/salon rooms (2 members), every SEND asks for a
# RECEIPT (bark sends it after the commit), open-loop at each offered rate, SQLite store.
#   bench/durable.sh [--rooms R] [--rates "5000 10000 20000"] [--duration S] [--events webhook|kafka|kafka://HOST:PORT]
# Writes bench/results/durable-RATE.json, durable.svg and the "durable" section of bench/RESULTS.md.
# With --events, each rate runs twice, without and with --events (to a local receiver that answers
# 204 at once; to a throw-away Kafka broker, scripts/kafka.sh, with `kafka`; or to the given Kafka),
# a topic per rate, sampling bark_events_pending every 0.5 s: the "durable-events" section compares
# receipted sends/s and shows whether the outbox's worker keeps up.
source "$(dirname "$0")/scripts/lib.sh"
rooms=200
rates="2500 5000 10000 20000 30000"
duration=10
events=""
while [ $# -gt 0 ]; do
  case $1 in
    --rooms) rooms=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
case $events in
  "" | webhook | kafka | kafka://*) ;;
  *) echo "durable.sh: --events takes webhook, kafka or kafka://HOST:PORT" >&2; exit 2 ;;
esac
raise_fd_limit
work=$(mktemp -d)
kafka_url=${events%/}
if [ "$events" = kafka ]; then
  start_kafka "$work/kafka"
  kafka_url=kafka://127.0.0.1:$KAFKA_PORT
fi

# metric NAME: bark's /metrics value of NAME (0 when absent).
metric() { curl -s "http://127.0.0.1:$BARK_PORT/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }

# With --events: the run of rate $1 with the outbox on; prints "receipted/s pending-max pending-end
# drain-s delivered".
events_run() {
  local r=$1 out=$RESULTS/durable-events-$r.json url hook_pid="" samples=$work/pending-$r
  if [ "$events" = webhook ]; then
    local hook_port
    hook_port=$(free_port)
    node "$ROOT/bench/scripts/webhook_receiver.js" "$hook_port" >"$work/hook-$r.log" 2>&1 &
    hook_pid=$!
    PIDS+=("$hook_pid")
    wait_port "$hook_port" 10
    url=http://127.0.0.1:$hook_port/hook
  else
    url=$kafka_url/bench-events-$r  # a topic per run
  fi
  start_bark "$work/bark-events-$r.log" --store "sqlite:$work/events-$r.db" --max-send-rate 0 \
    --events "$url" --webhook-secret bench-webhook-secret
  : >"$samples"
  (while kill -0 "$BARK_PID" 2>/dev/null; do metric bark_events_pending >>"$samples"; sleep 0.5; done) &
  local sampler=$!
  log "durable: $r sends/s over $rooms rooms, --events $url"
  "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms "$rooms" --members 2 \
    --rate "$r" --duration "$duration" --receipts --server-pid "$BARK_PID" --no-progress --json "$out" >/dev/null || true
  local end_pending drained=0
  end_pending=$(metric bark_events_pending)
  # How long the worker needs for what was pending at the end of the load (at most 60 s).
  for _ in $(seq 600); do [ "$(metric bark_events_pending)" = 0 ] && break; sleep 0.1; drained=$((drained + 1)); done
  local delivered
  delivered=$(metric bark_events_delivered_total)
  kill "$sampler" 2>/dev/null || true
  stop_pid "$BARK_PID"
  [ -n "$hook_pid" ] && stop_pid "$hook_pid"
  echo "$(json "$out" "j.receipts_received / j.duration_s") $(sort -n "$samples" | tail -n 1) $end_pending $(awk -v d="$drained" 'BEGIN{printf "%.1f", d / 10}') $delivered"
}
table=$work/section.md
data=$RESULTS/durable.dat
{
  echo "Command: \`bench/durable.sh --rooms $rooms --rates \"$rates\" --duration $duration\`, $(date -u +%Y-%m-%d), $(machine); bark (SQLite store, WAL, synchronous=NORMAL) and bark-bench on the same machine. Latency runs from each send's scheduled time to the broadcast's arrival at the room's members; receipt latency to the sender's RECEIPT."
  echo
  echo "| offered sends/s | sends/s receipted | all delivered | broadcast p50 / p99 / max ms | receipt p50 / p99 ms | bark CPU % | bench CPU % |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
echo "rate p50 p99" >"$data"
etable=$work/events-section.md
if [ -n "$events" ]; then
  {
    echo "Command: \`bench/durable.sh --rooms $rooms --rates \"$rates\" --duration $duration --events $events\`, $(date -u +%Y-%m-%d), $(machine); bark (SQLite store, WAL, synchronous=NORMAL) and bark-bench on the same machine$(case $events in webhook) echo ", the webhook receiver (Node, 204 at once) too" ;; kafka) echo ", a Kafka broker (scripts/kafka.sh: one KRaft node) too" ;; esac). Each rate runs without and with \`--events\`; \`bark_events_pending\` sampled every 0.5 s during the load, then read until it is 0 again."
    echo
    echo "| offered sends/s | receipted/s without | receipted/s with --events | change | pending max / at the end | drained in s | events delivered |"
    echo "|---|---|---|---|---|---|---|"
  } >"$etable"
fi
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
  if [ -n "$events" ]; then
    read -r with pmax pend drain delivered <<<"$(events_run "$r")"
    without=$(json "$out" "j.receipts_received / j.duration_s")
    change=$(awk -v a="$without" -v b="$with" 'BEGIN{ if (a > 0) printf "%+.1f %%", (b - a) * 100 / a; else print "-" }')
    echo "| $r | $without | $with | $change | $pmax / $pend | $drain | $delivered |" >>"$etable"
  fi
done
echo >>"$table"
echo "Chart: [results/durable.svg](results/durable.svg)." >>"$table"
bar_chart "$RESULTS/durable.svg" "bark: durable sends, send to broadcast latency by offered rate" "ms" "$data"
set_section "$ROOT/bench/RESULTS.md" durable "$table"
cat "$table"
if [ -n "$events" ]; then
  set_section "$ROOT/bench/RESULTS.md" durable-events "$etable"
  cat "$etable"
fi
rm -rf "$work"
