#!/usr/bin/env bash
# Fan-out on ONE bark node versus THREE bark nodes joined through each cluster bus (Redis, Kafka),
# all on PostgreSQL, side by side in one run.
#   RATES="500 1500" DURATION=10 BUSES="redis kafka" bench/cluster.sh
# Environment: RATES (offered messages/s over all rooms, default "500 1500"; each is MEMBERS
# deliveries), DURATION (seconds of sending, 10), ROOMS (10), MEMBERS (100), NODE_THREADS (event-loop threads of each of the three
# nodes, 1), SINGLE_THREADS (threads of the single node, default 3 × NODE_THREADS: the same total),
# BENCH_THREADS (bark-bench threads, 1), TIMEOUT (bark-bench --timeout, 10), BUSES (the buses of
# the three-node runs, "redis kafka").
# Writes bench/results/cluster-1-RATE.json, cluster-3-BUS-RATE.json, cluster.json (every run, annotated with nodes and
# rate), cluster-throughput.svg, cluster-p99.svg and the "cluster" section of bench/RESULTS.md.
#
# Set-up: a throw-away redis-server and PostgreSQL on 127.0.0.1 (lib.sh start_redis /
# start_postgres); database bench1 for the single node, bench3 shared by the three nodes. Every
# run starts its bark process(es) afresh and stops them after. bark keeps its room directory in
# memory (loaded at start, then added to as rooms are created on that node), so the rooms are
# created once per database before the measured runs (a short bark-bench run against one node);
# every later node loads them at start. bark-bench's own room set-up (POST /api/chat/rooms, to the
# first --url) then finds the same rooms. With three --url values, member j of room r is
# connection r × MEMBERS + j and goes to node (r × MEMBERS + j) mod 3: every room has members on
# all three nodes, and with MEMBERS = 100 room r's sender is on node r mod 3.
#
# Fairness: everything (the bark node(s), Redis, PostgreSQL and bark-bench) shares this machine's
# cores. The single node gets as many event-loop threads as the three nodes together
# (SINGLE_THREADS = 3 × NODE_THREADS), so the comparison is between the same number of loop threads,
# not the same number of cores; each node also runs the store's writer and reader threads.
# The three-node half needs bark's --cluster and --node-id; with a bark without them it is skipped
# (and said so in the section).
source "$(dirname "$0")/scripts/lib.sh"
rates=${RATES:-500 1500}
duration=${DURATION:-10}
rooms=${ROOMS:-10}
members=${MEMBERS:-100}
node_threads=${NODE_THREADS:-1}
single_threads=${SINGLE_THREADS:-$((3 * node_threads))}
bench_threads=${BENCH_THREADS:-1}
timeout_s=${TIMEOUT:-10}
buses=${BUSES:-redis kafka}
[ $# -eq 0 ] || { echo "usage: see the head of $0 (settings are environment variables)" >&2; exit 2; }
raise_fd_limit
work=$(mktemp -d)

# The whole help is read first: `grep -q` would stop reading early, and under pipefail the
# SIGPIPE that then ends bark would look like a missing option.
help=$("$BARK" --help 2>/dev/null || true)
if [[ $help == *--cluster* ]]; then
  with_cluster=1
else
  with_cluster=0
  log "this bark ($BARK) has no --cluster: only the single-node runs"
fi

start_postgres
pg_createdb bench1
pg_createdb bench3
log "PostgreSQL $PG_URL (pid $PG_PID)"
if [ $with_cluster = 1 ] && [[ " $buses " == *" redis "* ]]; then
  start_redis "$work/redis"
  log "Redis 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
fi
if [ $with_cluster = 1 ] && [[ " $buses " == *" kafka "* ]]; then
  if [[ $help == *kafka://* ]]; then
    start_kafka "$work/kafka"
    log "Kafka 127.0.0.1:$KAFKA_PORT (pid $KAFKA_PID)"
  else
    log "this bark has no kafka:// bus: no Kafka runs"
    buses=${buses//kafka/}
  fi
fi

# CPU seconds of the postmaster and its backends (bark's connections live as long as bark does).
pg_cpu_s() {
  local pids
  mapfile -t pids < <(ps -o pid= --ppid "$PG_PID" 2>/dev/null | tr -d ' ')
  cpu_s "$PG_PID" "${pids[@]}"
}
# CPU seconds of the bus process of BUS (redis, kafka; 0 for none).
bus_cpu_s() {
  case $1 in
    redis) cpu_s "$REDIS_PID" ;;
    kafka) cpu_s "$KAFKA_PID" ;;
    *) echo 0 ;;
  esac
}
bus_url() {
  case $1 in
    redis) echo "redis://127.0.0.1:$REDIS_PORT" ;;
    kafka) echo "kafka://127.0.0.1:$KAFKA_PORT/bench$2" ;;  # a topic per run: no run reads another's
  esac
}

# bark_flags DB: sets FLAGS to the bark flags common to every node of a run (DB: bench1, bench3).
bark_flags() { FLAGS=(--store "$PG_URL/$1" --max-send-rate 0); }

# Creates the run's rooms in database DB through one short-lived node (see the head).
create_rooms_in() {
  local db=$1
  bark_flags "$db"
  start_bark "$work/rooms-$db.log" "${FLAGS[@]}" --threads 1
  "$BENCH" fanout --url "ws://127.0.0.1:$BARK_PORT/ws/chat" --jwt-secret "$SECRET" --rooms "$rooms" --members 2 \
    --rate "$rooms" --duration 0.5 --no-progress --timeout "$timeout_s" >"$work/rooms-$db.out" ||
    { log "creating the rooms in $db failed:"; cat "$work/rooms-$db.out" "$work/rooms-$db.log" >&2; exit 1; }
  stop_pid "$BARK_PID"
}

# run NODES RATE [BUS]: starts the node(s), runs the fan-out, stops them; writes
# cluster-1-RATE.json or cluster-3-BUS-RATE.json (bark-bench's report plus nodes, bus, rate, the CPU
# of bark, the bus and PostgreSQL over the run, and the command lines).
run() {
  local nodes=$1 rate=$2 bus=${3:-none} out
  if [ "$nodes" = 1 ]; then out=$RESULTS/cluster-1-$rate.json; else out=$RESULTS/cluster-3-$bus-$rate.json; fi
  local urls=() pids=() cmds=() i url
  if [ "$nodes" = 1 ]; then
    bark_flags bench1
    start_bark "$work/bark1-$rate.log" "${FLAGS[@]}" --threads "$single_threads"
    urls+=(--url "ws://127.0.0.1:$BARK_PORT/ws/chat") pids+=("$BARK_PID")
    cmds+=("bark --listen 127.0.0.1:$BARK_PORT --jwt-secret S --log-level warn ${FLAGS[*]} --threads $single_threads")
  else
    bark_flags bench3
    url=$(bus_url "$bus" "$rate")
    for i in 1 2 3; do
      start_bark "$work/bark3-$bus-$rate-node$i.log" "${FLAGS[@]}" --threads "$node_threads" \
        --cluster "$url" --node-id "node$i"
      urls+=(--url "ws://127.0.0.1:$BARK_PORT/ws/chat") pids+=("$BARK_PID")
      cmds+=("bark --listen 127.0.0.1:$BARK_PORT --jwt-secret S --log-level warn ${FLAGS[*]} --threads $node_threads --cluster $url --node-id node$i")
    done
    # Each node joins the bus after it listens (Kafka: the topic is made and every partition's end read).
    for i in 1 2 3; do
      local port=${urls[$((2 * i - 1))]#ws://127.0.0.1:}
      port=${port%%/*}
      for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.1
      done
    done
  fi
  local args=(fanout "${urls[@]}" --jwt-secret "$SECRET" --rooms "$rooms" --members "$members" --rate "$rate"
    --duration "$duration" --threads "$bench_threads" --timeout "$timeout_s")
  cmds+=("bark-bench ${args[*]/$SECRET/S}")
  log "cluster: $nodes node(s) (bus: $bus), fanout $rooms rooms x $members members at $rate msgs/s for $duration s"
  local t0 b0 r0 p0 t1 b1 r1 p1
  t0=$(date +%s.%N) b0=$(cpu_s "${pids[@]}") r0=$(bus_cpu_s "$bus") p0=$(pg_cpu_s)
  "$BENCH" "${args[@]}" --json "$work/run.json" >"$work/run-$nodes-$rate.out" ||
    log "$nodes node(s) at $rate msgs/s: errors or losses"
  t1=$(date +%s.%N) b1=$(cpu_s "${pids[@]}") r1=$(bus_cpu_s "$bus") p1=$(pg_cpu_s)
  for i in "${pids[@]}"; do stop_pid "$i"; done
  [ "$nodes" = 1 ] || sleep 0.5  # let the bus forget the nodes before the next run
  # The report, annotated (a run that wrote no report still gets a row).
  node - "$work/run.json" "$out" "$nodes" "$bus" "$rate" "$t0" "$t1" "$b0" "$b1" "$r0" "$r1" "$p0" "$p1" "${cmds[@]}" <<'JS'
const fs = require('fs');
const [src, out, nodes, bus, rate, t0, t1, b0, b1, r0, r1, p0, p1, ...commands] = process.argv.slice(2);
let j;
try { j = JSON.parse(fs.readFileSync(src, 'utf8')); } catch { j = { scenario: 'fanout', no_report: true }; }
const wall = Number(t1) - Number(t0);
const pct = (a, b) => +(100 * (Number(b) - Number(a)) / wall).toFixed(1);
Object.assign(j, { nodes: Number(nodes), bus, offered_rate: Number(rate), run_wall_s: +wall.toFixed(3),
  bark_cpu_percent: pct(b0, b1), bus_cpu_percent: Number(nodes) > 1 ? pct(r0, r1) : null,
  postgres_cpu_percent: pct(p0, p1), commands });
fs.writeFileSync(out, JSON.stringify(j) + '\n');
JS
  rm -f "$work/run.json"
}

create_rooms_in bench1
[ $with_cluster = 0 ] || create_rooms_in bench3
for r in $rates; do
  run 1 "$r"
  if [ $with_cluster = 1 ]; then
    for b in $buses; do run 3 "$r" "$b"; done
  fi
done

# cluster.json, the table, chart data.
node - "$RESULTS" "$rates" "$with_cluster" "$buses" >"$work/table.md" <<'JS'
const fs = require('fs');
const [dir, ratesArg, withCluster, busesArg] = process.argv.slice(2);
const rates = ratesArg.split(/\s+/).filter(Boolean).map(Number);
const buses = withCluster === '1' ? busesArg.split(/\s+/).filter(Boolean) : [];
const setups = [{ key: '1', label: '1-node', file: (r) => `cluster-1-${r}.json` },
  ...buses.map((b) => ({ key: `3-${b}`, label: `3-nodes-${b}`, file: (r) => `cluster-3-${b}-${r}.json` }))];
const read = (f) => { try { return JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')); } catch { return null; } };
const runs = [];
for (const r of rates) for (const s of setups) { const j = read(s.file(r)); if (j) { j.setup = s.key; runs.push(j); } }
fs.writeFileSync(`${dir}/cluster.json`, JSON.stringify(runs, null, 1) + '\n');
const f = (x, d = 2) => (x === undefined || x === null ? '-' : Number(x).toFixed(d));
const ok = (j) => j.errors === 0 && j.messages_received >= j.messages_expected;
const out = ['| nodes | bus | offered msgs/s | deliveries/s | p50 ms | p99 ms | max ms | errors | all delivered | bark CPU % | bus CPU % | PostgreSQL CPU % | bench CPU % |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
for (const j of runs) {
  const bus = j.nodes > 1 ? (j.bus || 'redis') : '-';
  if (j.no_report) { out.push(`| ${j.nodes} | ${bus} | ${j.offered_rate} | no report | | | | | | | | | |`); continue; }
  out.push(`| ${j.nodes} | ${bus} | ${j.offered_rate} | ${f(j.throughput_msgs_per_s, 0)} | ${f(j.latency_ms.p50)} | ${f(j.latency_ms.p99)} | ${f(j.latency_ms.max)} | ${j.errors} | ${ok(j) ? 'yes' : `no (${j.messages_received}/${j.messages_expected})`} | ${f(j.bark_cpu_percent, 0)} | ${f(j.bus_cpu_percent, 0)} | ${f(j.postgres_cpu_percent, 0)} | ${f(j.bench_cpu_percent, 0)} |`);
}
console.log(out.join('\n'));
const cols = ['rate', ...setups.map((s) => s.label)];
const cell = (key, r, pick) => { const j = runs.find((x) => x.setup === key && x.offered_rate === r && !x.no_report); return j ? pick(j) : 0; };
fs.writeFileSync(`${dir}/cluster-throughput.dat`, [cols.join(' '), ...rates.map((r) => [r, ...setups.map((s) => f(cell(s.key, r, (j) => j.throughput_msgs_per_s), 0))].join(' '))].join('\n') + '\n');
fs.writeFileSync(`${dir}/cluster-p99.dat`, [cols.join(' '), ...rates.map((r) => [r, ...setups.map((s) => f(cell(s.key, r, (j) => j.latency_ms.p99)))].join(' '))].join('\n') + '\n');
JS
bar_chart "$RESULTS/cluster-throughput.svg" "fan-out, 1 node vs 3 nodes over each bus: deliveries/s ($rooms rooms x $members members)" "deliveries/s" "$RESULTS/cluster-throughput.dat"
bar_chart "$RESULTS/cluster-p99.svg" "fan-out, 1 node vs 3 nodes over each bus: p99 latency" "p99 ms" "$RESULTS/cluster-p99.dat"

read -r first _ <<<"$rates"
{
  echo "Command: \`RATES=\"$rates\" DURATION=$duration ROOMS=$rooms MEMBERS=$members NODE_THREADS=$node_threads SINGLE_THREADS=$single_threads BUSES=\"$buses\" bench/cluster.sh\`, $(date -u +%Y-%m-%d), $(machine); bark, Redis $(redis-server --version 2>/dev/null | sed -n 's/.*v=\([^ ]*\).*/\1/p'), Kafka $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/tests/kafka/pom.xml") (one KRaft node, 512 MiB heap), PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') (default settings: fsync and synchronous_commit on) and bark-bench all on the same machine, sharing its $(nproc) cores. Single node: $single_threads event-loop threads; three nodes: $node_threads each, joined through each bus in turn (\`--cluster redis://\` or \`kafka://\`, a fresh topic per run), one shared database; so both sides run $single_threads loop threads. Latency runs from each message's scheduled send time to its arrival at each member; bark CPU is the sum over the node(s)."
  [ $with_cluster = 1 ] || echo "Three-node runs skipped: this bark has no \`--cluster\` option."
  echo
  echo "Commands at $first msgs/s (ports chosen per run; S = the JWT secret; other rates: the same with \`--rate\`):"
  echo
  echo '```sh'
  json "$RESULTS/cluster-1-$first.json" 'j.commands.join("\n")'
  for b in $buses; do json "$RESULTS/cluster-3-$b-$first.json" 'j.commands.join("\n")'; done
  echo '```'
  echo
  cat "$work/table.md"
  echo
  if [ $with_cluster = 1 ]; then
    echo "Every room has members on all three nodes (member j of room r is connection r × $members + j → node (r × $members + j) mod 3), so every message crosses the bus to the two other nodes."
    echo
  fi
  echo "Charts: [deliveries/s](results/cluster-throughput.svg), [p99](results/cluster-p99.svg). All runs: [results/cluster.json](results/cluster.json)."
} >"$work/section.md"
set_section "$ROOT/bench/RESULTS.md" cluster "$work/section.md"
cat "$work/section.md"
rm -rf "$work"
