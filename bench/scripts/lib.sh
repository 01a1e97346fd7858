# Shared by the bench/*.sh scripts: paths, the machine line, starting and stopping servers on
# loopback, reading JSON, charts and RESULTS.md sections. Every server runs on 127.0.0.1 and is
# stopped by pid.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BARK=${BARK:-$ROOT/build/bin/bark}
BENCH=${BENCH:-$ROOT/build/bin/bark-bench}
RESULTS=${RESULTS:-$ROOT/bench/results}
SECRET=${SECRET:-bench-secret-0123456789abcdef0123456789abcdef}
mkdir -p "$RESULTS"
PIDS=()
PG_AS=()
PG_DIRS=()  # throw-away PostgreSQL clusters (start_postgres): stopped and removed at exit
cleanup() {
  # Newest first: clients (bark) stop before what they use (Redis, PostgreSQL).
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do [ -n "${PIDS[i]}" ] && stop_pid "${PIDS[i]}"; done
  for d in "${PG_DIRS[@]:-}"; do [ -n "$d" ] && stop_postgres "$d"; done
  return 0
}
trap cleanup EXIT

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

machine() {
  local cpu
  cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
  echo "$(nproc) vCPU ($cpu), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
}

need_apt() {  # need_apt PACKAGE...: installs what is missing (Debian 12, as root)
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

stop_pid() {  # SIGTERM, then SIGKILL after 10 s
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

wait_port() {  # wait_port PORT SECONDS
  for _ in $(seq $(($2 * 10))); do ss -Htln "sport = :$1" | grep -q . && return 0; sleep 0.1; done
  log "nothing listens on 127.0.0.1:$1 after $2 s"; return 1
}

# start_bark LOGFILE ARGS...: sets BARK_PORT and BARK_PID. ARGS are extra bark flags (--store,
# --threads, --cluster, ...), after --listen/--jwt-secret/--log-level (BARK_BENCH_LOG_LEVEL, warn).
start_bark() {
  local logf=$1; shift
  BARK_PORT=$(free_port)
  "$BARK" --listen "127.0.0.1:$BARK_PORT" --jwt-secret "$SECRET" --log-level "${BARK_BENCH_LOG_LEVEL:-warn}" "$@" >"$logf" 2>&1 &
  BARK_PID=$!
  PIDS+=("$BARK_PID")
  wait_port "$BARK_PORT" 10 || { tail -n 20 "$logf" >&2; return 1; }
}

# start_rabbitmq DIR: RabbitMQ on loopback with its Web-STOMP plugin (STOMP over WebSocket, for
# clients) and its STOMP plugin (plain TCP, for Spring's broker relay); sets RMQ_PORT (Web-STOMP),
# RMQ_STOMP_PORT (TCP STOMP), RMQ_PID and RMQ_EPMD_PID. Erlang's port mapper is started here, on
# its own port, so that it can be stopped by its pid with the broker.
start_rabbitmq() {
  need_apt rabbitmq-server
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir"
  RMQ_PORT=$(free_port)
  RMQ_STOMP_PORT=$(free_port)
  local amqp dist epmd_port
  amqp=$(free_port); dist=$(free_port); epmd_port=$(free_port)
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp
web_stomp.tcp.port = $RMQ_PORT
web_stomp.tcp.ip = 127.0.0.1
stomp.listeners.tcp.1 = 127.0.0.1:$RMQ_STOMP_PORT
loopback_users.guest = true
log.console.level = warning
CONF
  echo '[rabbitmq_web_stomp,rabbitmq_stomp].' >"$dir/enabled_plugins"
  epmd -port "$epmd_port" -address 127.0.0.1 >"$dir/epmd.log" 2>&1 &
  RMQ_EPMD_PID=$!
  PIDS+=("$RMQ_EPMD_PID")
  wait_port "$epmd_port" 10
  (
    export HOME=$dir RABBITMQ_CONFIG_FILE=$dir/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
      RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_NODENAME=barkbench@localhost \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=$dist RABBITMQ_PID_FILE=$dir/pid \
      ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$epmd_port
    exec /usr/lib/rabbitmq/bin/rabbitmq-server >"$dir/out.log" 2>&1
  ) &
  wait_port "$RMQ_PORT" 60
  wait_port "$RMQ_STOMP_PORT" 30
  RMQ_PID=$(cat "$dir/pid")
  PIDS+=("$RMQ_PID")
}

stop_rabbitmq() {
  stop_pid "$RMQ_PID"
  stop_pid "$RMQ_EPMD_PID"
}

# start_redis DIR: a throw-away redis-server on 127.0.0.1 (no persistence, files in DIR); sets
# REDIS_PORT and REDIS_PID (stopped at exit like the other servers).
start_redis() {
  command -v redis-server >/dev/null || need_apt redis-server
  local dir=$1
  mkdir -p "$dir"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_port "$REDIS_PORT" 10
}

# start_kafka DIR: a throw-away Apache Kafka broker (scripts/kafka.sh: one KRaft node on 127.0.0.1,
# its data in DIR, a 512 MiB heap); sets KAFKA_PORT and KAFKA_PID (stopped at exit like the others).
start_kafka() {
  local dir=$1
  mkdir -p "$dir"
  KAFKA_PORT=$(BARK_KAFKA_HEAP=${BARK_KAFKA_HEAP:-512m} bash "$ROOT/scripts/kafka.sh" start "$dir")
  KAFKA_PID=$(cat "$dir/pid")
  PIDS+=("$KAFKA_PID")
}

# start_postgres: a throw-away PostgreSQL (Debian's newest /usr/lib/postgresql/*/bin) in its own
# temporary directory, listening on 127.0.0.1 only, trust authentication, superuser `postgres`.
# PostgreSQL refuses to run as root: as root, initdb and the server run as the `postgres` user
# (made by Debian's package) in a directory it owns (as tests/unit/pg_test_server.cpp does).
# Server settings are PostgreSQL's defaults (fsync and synchronous_commit on) plus $PG_OPTS.
# Sets PG_PORT, PG_DIR, PG_PID (the postmaster) and PG_URL (postgres://postgres@127.0.0.1:PORT);
# create databases with pg_createdb NAME. Stopped (pg_ctl stop -m fast) and removed at exit.
start_postgres() {
  PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ ! -x "$PG_BINDIR/initdb" ]; then
    need_apt postgresql
    PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  PG_DIR=$(mktemp -d -t bark-bench-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  PG_AS=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  PG_DIRS+=("$PG_DIR")
  (cd "$PG_DIR" && "${PG_AS[@]}" "$PG_BINDIR/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync >"$PG_DIR/initdb.log" 2>&1) || { log "initdb failed: $PG_DIR/initdb.log"; return 1; }
  PG_PORT=$(free_port)
  (cd "$PG_DIR" && "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR ${PG_OPTS:-}" start \
    >"$PG_DIR/pg_ctl.log" 2>&1) || { log "pg_ctl start failed: $PG_DIR/server.log"; return 1; }
  PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
  PG_URL=postgres://postgres@127.0.0.1:$PG_PORT
}

# pg_createdb NAME: a database in the start_postgres server.
pg_createdb() {
  (cd "$PG_DIR" && "${PG_AS[@]}" "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1")
}

# stop_postgres DIR: a fast shutdown of the start_postgres server in DIR, then DIR is removed.
stop_postgres() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    (cd "$dir" && "${PG_AS[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1) || true
  fi
  rm -rf "$dir"
}

# start_spring DIR [ARG...]: the seed's Spring chat (tests/spring, built and started by
# scripts/spring-app.sh) on a free port, its pid, port and log in DIR, with the full JIT and a
# ${SPRING_HEAP:-1g} heap (not the tests' quick-start JVM) and the bench's JWT secret. ARGs are
# Spring properties (--chat.broker=relay --chat.relay.port=... ; the simple broker by default).
# Sets SPRING_PORT and SPRING_PID. /ready on SPRING_PORT says when its broker is available.
start_spring() {
  local dir=$1
  shift
  mkdir -p "$dir"
  SPRING_PORT=$(BARK_SPRING_HEAP=${SPRING_HEAP:-1g} BARK_SPRING_JVM_OPTS=${SPRING_JVM_OPTS:--XX:+UseG1GC} \
    bash "$ROOT/scripts/spring-app.sh" start "$dir" 0 --chat.jwt-secret="$SECRET" "$@")
  SPRING_PID=$(cat "$dir/pid")
  PIDS+=("$SPRING_PID")
}

# spring_ready PORT SECONDS: waits until the app on PORT has its broker (/ready answers 200).
spring_ready() {
  local i
  for i in $(seq $(($2 * 10))); do
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/ready")" = 200 ] && return 0
    sleep 0.1
  done
  log "the Spring app on $1 has no broker after $2 s"
  return 1
}

# json FILE EXPR: evaluates a JavaScript expression over the parsed file (`j`).
json() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=eval(process.argv[2]); console.log(typeof v==="number"?+v.toFixed(3):v)' "$1" "$2"; }

rss_kib() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

# peak_rss_while PID WATCHED_PID: the highest RSS (KiB) of PID, sampled every 0.5 s while
# WATCHED_PID (a load generator in the background) runs; starts from PID's RSS now.
peak_rss_while() {
  local pid=$1 watched=$2 peak r
  peak=$(rss_kib "$pid" 2>/dev/null || echo 0)
  while kill -0 "$watched" 2>/dev/null; do
    r=$(rss_kib "$pid" 2>/dev/null || echo 0)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.5
  done
  echo "$peak"
}

# cpu_s PID...: user + system CPU seconds so far of these processes, summed (/proc/PID/stat fields
# 14 and 15; a process that is gone counts 0).
cpu_s() {
  local ticks=0 t p
  for p in "$@"; do
    t=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0)
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t / hz}'
}

# set_section FILE NAME CONTENT_FILE: replaces what is between <!-- NAME:begin --> and
# <!-- NAME:end --> in FILE (appends the block when it is not there).
set_section() {
  node -e '
    const fs = require("fs");
    const [file, name, contentFile] = process.argv.slice(1);
    const body = fs.readFileSync(contentFile, "utf8").trimEnd();
    let text = fs.readFileSync(file, "utf8");
    const begin = `<!-- ${name}:begin -->`, end = `<!-- ${name}:end -->`;
    const block = `${begin}\n${body}\n${end}`;
    const i = text.indexOf(begin), k = text.indexOf(end);
    text = i >= 0 && k > i ? text.slice(0, i) + block + text.slice(k + end.length) : text.trimEnd() + "\n\n" + block + "\n";
    fs.writeFileSync(file, text);' "$1" "$2" "$3"
}

# bar_chart OUT.svg TITLE YLABEL DATAFILE: DATAFILE has a header line of series names and rows
# "label value value ..."; one group of bars per row.
bar_chart() {
  need_apt gnuplot-nox
  gnuplot <<GP
set terminal svg size 900,480 dynamic font "sans,12" background rgb "white"
set output "$1"
set title "$2"
set ylabel "$3"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set yrange [0:*]
set xtics noenhanced
plot for [c=2:*] "$4" using c:xtic(1) title columnheader
GP
}

# As many open files as the hard limit allows (a container may cap it: connections.sh reports it).
raise_fd_limit() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}
