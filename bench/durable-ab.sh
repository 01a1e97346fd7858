#!/usr/bin/env bash
# Durable sends with receipts through two bark binaries, alternated in one run, on one kind of
# store: a throw-away PostgreSQL (start_postgres; a fresh database per run) or a SQLite file per run.
# Customer/salon rooms (2 members), open loop at each offered rate, as bench/durable.sh.
#   BARK_A=path BARK_B=path bench/durable-ab.sh [--store postgres|sqlite] [--rooms R] [--rates "5000 10000"] [--duration S] [--events] [--history N]
# With --history N (PostgreSQL only), every run's database starts as a copy of one that already
# holds N messages in 20,000 other rooms (filled by SQL once, indexes built after the fill), as a
# production store does.
# With --events, bark keeps its outbox (--events) and delivers it to a local webhook receiver that
# answers 204 at once.
# Prints one markdown row per run: receipted sends/s, broadcast p50/p99, bark's CPU, the store
# server's CPU seconds (PostgreSQL's backends; 0 for SQLite), and writes per committed batch.
source "$(dirname "$0")/scripts/lib.sh"
store=postgres
rooms=200
rates="5000 10000 20000"
duration=8
events=""
history=0
while [ $# -gt 0 ]; do
  case $1 in
    --store) store=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --events) events=yes; shift ;;
    --history) history=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
: "${BARK_A:?set BARK_A and BARK_B to the two bark binaries}" "${BARK_B:?}"
raise_fd_limit
work=$(mktemp -d)
[ "$store" = postgres ] && start_postgres
psql() { (cd "$PG_DIR" && "${PG_AS[@]}" "$PG_BINDIR/psql" -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"); }
if [ "$history" -gt 0 ]; then
  [ "$store" = postgres ] || { echo "durable-ab.sh: --history needs --store postgres" >&2; exit 2; }
  pg_createdb filled
  BARK=$BARK_B start_bark "$work/bark-migrate.log" --store "$PG_URL/filled"  # creates the schema
  stop_pid "$BARK_PID"
  log "durable-ab: filling $history messages"
  started=$(date +%s)
  psql -d filled <<SQL
SET maintenance_work_mem = '1GB';
DROP INDEX messages_by_client_id, messages_by_room, messages_search;
INSERT INTO rooms(customer_id, salon_id, created_at_ms, last_activity_ms)
  SELECT 10000000 + g, 20000000 + g % 1000, 0, 0 FROM generate_series(1, 20000) g;
INSERT INTO read_marks(room_id, participant)
  SELECT room_id, p FROM rooms, (VALUES ('customer'), ('salon')) v(p) WHERE customer_id > 10000000;
INSERT INTO messages(room_id, sender_id, sender_role, sender_name, text, send_at_ms, client_message_id, search_terms)
  SELECT r.room_id, r.customer_id, 'USER', 'filler', 'history message ' || g, g, 'h' || g,
         ARRAY['p' || g % 5003, 'p' || g % 7919, 'p' || g % 104729, 'r' || r.room_id, 'c' || r.customer_id, 's' || r.salon_id]
  FROM generate_series(1, $history) g JOIN rooms r ON r.customer_id = 10000001 + g % 20000;
CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, sender_id, sender_role, client_message_id)
  WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_by_room ON messages(room_id, message_id);
CREATE INDEX messages_search ON messages USING gin(search_terms);
VACUUM ANALYZE;
CHECKPOINT;
SQL
  log "durable-ab: filled in $(( $(date +%s) - started )) s, $(psql -d filled -Atc "SELECT pg_size_pretty(pg_database_size('filled'))")"
fi
event_args=()
if [ -n "$events" ]; then
  hook_port=$(free_port)
  node "$ROOT/bench/scripts/webhook_receiver.js" "$hook_port" >"$work/hook.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$hook_port" 10
  event_args=(--events "http://127.0.0.1:$hook_port/hook" --webhook-secret bench-webhook-secret)
fi
# metric NAME: bark's /metrics value of NAME (0 when absent).
metric() { curl -s "http://127.0.0.1:$BARK_PORT/metrics" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'; }
# The CPU seconds of PostgreSQL's server processes so far.
pg_cpu() { [ "$store" = postgres ] && ps -o cputimes= --ppid "$PG_PID" | awk '{ s += $1 } END { print s + 0 }' || echo 0; }
echo "| binary | offered/s | receipted/s | p50 / p99 ms | bark CPU % | store server CPU s | writes per batch |"
echo "|---|---|---|---|---|---|---|"
n=0
for r in $rates; do
  for which in A B; do
    n=$((n + 1))
    BARK=$([ $which = A ] && echo "$BARK_A" || echo "$BARK_B")
    if [ "$store" = postgres ] && [ "$history" -gt 0 ]; then
      psql -d postgres -c "CREATE DATABASE d$n TEMPLATE filled STRATEGY FILE_COPY"
      url=$PG_URL/d$n
    elif [ "$store" = postgres ]; then
      pg_createdb "d$n"
      url=$PG_URL/d$n
    else
      url=sqlite:$work/d$n.db
    fi
    start_bark "$work/bark-$n.log" --store "$url" --max-send-rate 0 "${event_args[@]}"
    before=$(pg_cpu)
    out=$work/run-$n.json
    "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms "$rooms" --members 2 \
      --rate "$r" --duration "$duration" --receipts --server-pid "$BARK_PID" --no-progress --json "$out" >/dev/null || true
    used=$(( $(pg_cpu) - before ))
    per_batch=$(awk -v s="$(metric bark_store_batch_writes_sum)" -v c="$(metric bark_store_batch_writes_count)" 'BEGIN { if (c > 0) printf "%.0f", s / c; else print "-" }')
    stop_pid "$BARK_PID"
    echo "| $which | $r | $(json "$out" "j.receipts_received / j.duration_s") | $(json "$out" j.latency_ms.p50) / $(json "$out" j.latency_ms.p99) | $(json "$out" j.server_cpu_percent) | $used | $per_batch |"
  done
done
echo
echo "Command: \`BARK_A=$BARK_A BARK_B=$BARK_B bench/durable-ab.sh --store $store --rooms $rooms --rates \"$rates\" --duration $duration${events:+ --events}$([ "$history" -gt 0 ] && echo " --history $history")\`, $(date -u +%Y-%m-%d), $(machine)."
