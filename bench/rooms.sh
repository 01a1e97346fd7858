#!/usr/bin/env bash
# What rooms stored cost a node that has not used them: a SQLite file holding N rooms (made here
# with SQLite's own shell, as a marketplace's customer-salon pairs would accumulate), then each
# bark binary started on it: time until /readyz answers 200, RSS once idle, and the first and a
# repeated REST read of one room's history (the first one reads the room from the store).
#   bench/rooms.sh [--rooms "2000000 20000000"] [--old OLD_BARK]
# With --old, the previous binary is measured beside this one on the same files.
# Writes the "rooms" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
counts="2000000 20000000"
old=""
while [ $# -gt 0 ]; do
  case $1 in
    --rooms) counts=$2; shift 2 ;;
    --old) old=$(realpath "$2"); shift 2 ;;
    *) echo "usage: $0 [--rooms \"N ...\"] [--old OLD_BARK]" >&2; exit 2 ;;
  esac
done
need_apt sqlite3
work=$(mktemp -d -p "${BENCH_TMP:-/var/tmp}")
trap 'cleanup; rm -rf "$work"' EXIT
table=$work/section.md
{
  echo "Command: \`bench/rooms.sh --rooms \"$counts\"${old:+ --old OLD}\`, $(date -u +%Y-%m-%d), $(machine). Rooms made with sqlite3 (each with its two read marks, no messages); bark started on the file with the memory page cache warm (the file was just written)."
  echo
  echo "| rooms stored | file MiB | binary | ready after ms | RSS idle MiB | first read of a room ms | same room again ms |"
  echo "|---|---|---|---|---|---|---|"
} >"$table"
ms_now() { date +%s%3N; }
for n in $counts; do
  db=$work/rooms-$n.db
  log "rooms: making $n rooms"
  "$BARK" --listen 127.0.0.1:0 --jwt-secret "$SECRET" --store "sqlite:$db" --log-level warn >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$db" ] && sqlite3 "$db" 'PRAGMA user_version' 2>/dev/null | grep -qv '^0$' && break; sleep 0.1; done
  stop_pid "$pid"
  sqlite3 "$db" <<SQL
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $n)
INSERT INTO rooms(room_id, customer_id, salon_id, created_at_ms, last_activity_ms)
  SELECT n, n, 1 + n % 5000, 1700000000000 + n, 1700000000000 + n FROM i;
INSERT INTO read_marks(room_id, participant) SELECT room_id, 'customer' FROM rooms;
INSERT INTO read_marks(room_id, participant) SELECT room_id, 'salon' FROM rooms;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  size=$(( $(stat -c %s "$db") / 1048576 ))
  room=$((n / 2))
  token=$("$BARK" token --user-id "$room" --username bench --role USER --jwt-secret "$SECRET")
  for which in ${old:+old} new; do
    bin=$BARK
    [ "$which" = old ] && bin=$old
    port=$(free_port)
    t0=$(ms_now)
    "$bin" --listen "127.0.0.1:$port" --jwt-secret "$SECRET" --store "sqlite:$db" --log-level warn >"$work/bark-$which.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
      kill -0 "$pid" 2>/dev/null || { tail "$work/bark-$which.log" >&2; exit 1; }
      sleep 0.01
    done
    ready=$(( $(ms_now) - t0 ))
    sleep 1
    rss=$(( $(rss_kib "$pid") / 1024 ))
    url="http://127.0.0.1:$port/api/chat/rooms/$room/messages"
    first=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$url")
    again=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$url")
    stop_pid "$pid"
    echo "| $n | $size | $which | $ready | $rss | $(awk "BEGIN{printf \"%.1f\", $first*1000}") | $(awk "BEGIN{printf \"%.1f\", $again*1000}") |" >>"$table"
    log "rooms $n $which: ready $ready ms, RSS $rss MiB"
  done
  rm -f "$db" "$db-wal" "$db-shm"
done
echo >>"$table"
set_section "$ROOT/bench/RESULTS.md" rooms "$table"
cat "$table"
