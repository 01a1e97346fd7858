#!/usr/bin/env bash
# What a presence change costs when the user has many rooms: a salon with ROOMS rooms (10,000)
# connects to node A and leaves, CYCLES times, while N of its rooms have a presence subscriber on
# node B (one customer connection each); A and B are joined through a throw-away Redis and share a
# throw-away PostgreSQL. Per change: presence messages A sent and B received over the bus, presence
# events each node published to rooms, each node's CPU, and the time for the change to reach a
# watcher on B (from the salon's connect, from its close; --presence-grace 0). Then a storm: STORM
# customers (1000) connect to node A at once and leave at once while the salon watches their rooms
# from node B: when it has seen every change, each change's latency, and the CPU of both nodes.
#   ROOMS=10000 SUBSCRIBERS="1 100 1000" CYCLES=200 STORM=1000 bench/presence.sh
# Writes bench/results/presence.json and the "presence" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
ROOMS=${ROOMS:-10000}
SUBSCRIBERS=${SUBSCRIBERS:-"1 100 1000"}
CYCLES=${CYCLES:-200}
STORM=${STORM:-1000}
raise_fd_limit 2>/dev/null || ulimit -n 65536 2>/dev/null || true
work=$(mktemp -d)
start_postgres
pg_createdb presence
start_redis "$work/redis"
common=(--store "$PG_URL/presence" --cluster "redis://127.0.0.1:$REDIS_PORT" --threads 1 --presence-grace 0
  --rest-write-rate 0 --max-connections 20000)
start_bark "$work/a.log" "${common[@]}" --node-id A
A=$BARK_PORT
A_PID=$BARK_PID
start_bark "$work/b.log" "${common[@]}" --node-id B
B=$BARK_PORT
log "presence: $ROOMS rooms, subscribers $SUBSCRIBERS, $CYCLES connect/leave cycles"
out=$RESULTS/presence.json
NODE_PATH=$ROOT/node_modules node "$ROOT/bench/scripts/presence.js" --a "http://127.0.0.1:$A" \
  --b "http://127.0.0.1:$B" --secret "$SECRET" --rooms "$ROOMS" --subscribers "$SUBSCRIBERS" \
  --cycles "$CYCLES" --storm "$STORM" >"$work/runs.jsonl"
node -e 'const fs=require("fs"); const rows=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
  fs.writeFileSync(process.argv[2], JSON.stringify(rows, null, 2) + "\n")' "$work/runs.jsonl" "$out"
table=$work/section.md
{
  echo "Command: \`ROOMS=$ROOMS SUBSCRIBERS=\"$SUBSCRIBERS\" CYCLES=$CYCLES STORM=$STORM bench/presence.sh\`, $(date -u +%Y-%m-%d), $(machine), Debian $(cat /etc/debian_version). Two bark nodes (\`--threads 1\`, \`--presence-grace 0\`) over a throw-away Redis, sharing a throw-away PostgreSQL; the driver (Node.js) on the same machine. Salon 7 has $ROOMS rooms; N of them have one presence subscriber each on node B; the salon connects to node A and leaves $CYCLES times (two changes per cycle). Figures per change; CPU is each bark process's (\`bark_process_cpu_seconds_total\`); latency is from the salon's WebSocket open (online) or close (offline) to the event at the watcher on B."
  echo
  echo "| rooms watched on B | bus msgs sent by A | bus msgs received by B | room events on A / B | events delivered / expected | CPU A ms | CPU B ms | online p50 / p99 ms | offline p50 / p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|"
  node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).filter((x) => !x.storm)) console.log(
    `| ${r.watched_rooms} of ${r.rooms} | ${r.bus_sent_per_change_a} | ${r.bus_received_per_change_b} | ` +
    `${r.room_events_per_change_a} / ${r.room_events_per_change_b} | ${r.events_delivered} / ${r.events_expected}` +
    `${r.watchers_with_wrong_order ? ` (${r.watchers_with_wrong_order} out of order)` : ""} | ${r.cpu_ms_per_change_a} | ` +
    `${r.cpu_ms_per_change_b} | ${r.online_ms.p50} / ${r.online_ms.p99} | ${r.offline_ms.p50} / ${r.offline_ms.p99} |`)' "$out"
  if [ "$STORM" -gt 0 ]; then
    echo
    echo "The storm: $STORM customers (none of them a watcher) open their connections to node A at once, then close them at once; the salon watches their $STORM rooms from one connection on node B."
    echo
    echo "| customers | events delivered / expected | all opened after ms | all online seen after ms | all offline seen after ms | online p50 / p99 ms | offline p50 / p99 ms | bus msgs per change | CPU A / B s |"
    echo "|---|---|---|---|---|---|---|---|---|"
    node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).filter((x) => x.storm)) console.log(
      `| ${r.storm} | ${r.events_delivered} / ${r.events_expected} | ${r.opened_all_ms} | ${r.online_all_seen_ms} | ` +
      `${r.offline_all_seen_ms} | ${r.online_ms.p50} / ${r.online_ms.p99} | ${r.offline_ms.p50} / ${r.offline_ms.p99} | ` +
      `${r.bus_sent_per_change_a} | ${r.cpu_s_a} / ${r.cpu_s_b} |`)' "$out"
  fi
} >"$table"
set_section "$ROOT/bench/RESULTS.md" presence "$table"
cat "$table"
rm -rf "$work"
