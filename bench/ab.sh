#!/usr/bin/env bash
# Two bark binaries side by side in one run, with one load generator: the seed scenario and a
# fan-out, alternating A and B for several rounds so that drift of the machine hits both alike.
# With --durable RATE, also durable sends with receipts (bench/durable.sh's load: 200 rooms of 2,
# every SEND receipted after the commit, SQLite) at RATE sends/s, on a fresh database each time.
#   bench/ab.sh OLD_BARK NEW_BARK [--rounds N] [--users U] [--loops L] [--rooms R] [--members M]
#                                [--rate MSGS_PER_S] [--duration S] [--durable RATE]
# Prints one line per run and a median per binary; writes bench/results/ab-*.json.
source "$(dirname "$0")/scripts/lib.sh"
[ $# -ge 2 ] || { echo "usage: see the head of $0" >&2; exit 2; }
bark_a=$(realpath "$1") bark_b=$(realpath "$2"); shift 2
rounds=3 users=1000 loops=10 rooms=20 members=100 rate=2000 duration=10 durable=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --loops) loops=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --durable) durable=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
raise_fd_limit
work=$(mktemp -d)
echo "Command: bench/ab.sh A B --rounds $rounds --users $users --loops $loops --rooms $rooms --members $members --rate $rate --duration $duration${durable:+ --durable $durable}; $(date -u +%Y-%m-%d); $(machine)"
echo "A = $bark_a"
echo "B = $bark_b"
printf '%-3s %-5s %-7s %10s %10s %10s %10s %8s\n' run which scenario msgs/s p50_ms p99_ms p999_ms cpu%
for r in $(seq "$rounds"); do
  for which in A B; do
    [ "$which" = A ] && BARK=$bark_a || BARK=$bark_b
    start_bark "$work/bark.log" --store "sqlite:$work/$which-$r.db" --max-send-rate 0
    out=$RESULTS/ab-$which-seed-$r.json
    "$BENCH" seed --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --users "$users" --ramp-up 2 \
      --loops "$loops" --server-pid "$BARK_PID" --json "$out" >/dev/null 2>&1 || true
    printf '%-3s %-5s %-7s %10s %10s %10s %10s %8s\n' "$r" "$which" seed "$(json "$out" j.throughput_msgs_per_s)" \
      "$(json "$out" j.latency_ms.p50)" "$(json "$out" j.latency_ms.p99)" "$(json "$out" j.latency_ms.p999)" \
      "$(json "$out" j.server_cpu_percent)"
    out=$RESULTS/ab-$which-fanout-$r.json
    "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms "$rooms" \
      --members "$members" --rate "$rate" --duration "$duration" --server-pid "$BARK_PID" --json "$out" >/dev/null 2>&1 || true
    printf '%-3s %-5s %-7s %10s %10s %10s %10s %8s\n' "$r" "$which" fanout "$(json "$out" j.throughput_msgs_per_s)" \
      "$(json "$out" j.latency_ms.p50)" "$(json "$out" j.latency_ms.p99)" "$(json "$out" j.latency_ms.p999)" \
      "$(json "$out" j.server_cpu_percent)"
    stop_pid "$BARK_PID"
    if [ -n "$durable" ]; then
      start_bark "$work/bark.log" --store "sqlite:$work/$which-$r-durable.db" --max-send-rate 0
      out=$RESULTS/ab-$which-durable-$r.json
      "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms 200 --members 2 \
        --rate "$durable" --duration "$duration" --receipts --server-pid "$BARK_PID" --no-progress --json "$out" >/dev/null 2>&1 || true
      printf '%-3s %-5s %-7s %10s %10s %10s %10s %8s\n' "$r" "$which" durable "$(json "$out" 'Math.round(j.receipts_received / j.duration_s)')" \
        "$(json "$out" j.latency_ms.p50)" "$(json "$out" j.latency_ms.p99)" "$(json "$out" j.latency_ms.p999)" \
        "$(json "$out" j.server_cpu_percent)"
      stop_pid "$BARK_PID"
    fi
  done
done
rm -rf "$work"
