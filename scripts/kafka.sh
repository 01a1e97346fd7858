#!/usr/bin/env bash
# A throw-away Apache Kafka broker for bark's tests: one KRaft node that is broker and controller at
# once, on 127.0.0.1, its data in a directory the caller names. The jars come from Maven Central
# through tests/kafka/pom.xml and are kept in a cache folder shared by every checkout.
#
#   scripts/kafka.sh fetch              the jars (once; quick when the cache is complete)
#   scripts/kafka.sh start DIR [PORT]   formats DIR on first use, starts the broker, waits until it
#                                       answers a metadata request, prints its port
#   scripts/kafka.sh stop DIR [SECONDS] SIGTERM, SIGKILL after SECONDS (20); keeps DIR's data
#   scripts/kafka.sh kill DIR           SIGKILL at once (a crash); keeps DIR's data
#
# start on a DIR that held a broker before starts it again on the same data and, unless PORT is
# given, the same port. DIR/pid and DIR/port hold the running broker's pid and port, DIR/kafka.log
# its log. Settings: BARK_KAFKA_CACHE (the cache folder), BARK_KAFKA_HEAP (-Xmx, 256m),
# BARK_KAFKA_START_TIMEOUT (seconds, 60), BARK_KAFKA_OWNER_PID (a pid: the broker is stopped when
# that process is gone, so that a test killed by a timeout leaves no broker behind).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pom=$root/tests/kafka/pom.xml
log4j_config=$root/tests/kafka/log4j2.properties
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache=${BARK_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bark/kafka-$version}
heap=${BARK_KAFKA_HEAP:-256m}
start_timeout=${BARK_KAFKA_START_TIMEOUT:-60}

# Short-lived JVMs on small machines: the C1 compiler only, the serial collector, no perf data file.
jvm_opts=(-Xmx"$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Xshare:auto
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Dlog4j2.configurationFile="$log4j_config")

say() { echo "kafka.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found: install it with scripts/install-deps.sh (Kafka needs Java 17 or later)"
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  [ "${major:-0}" -ge 17 ] || die "Kafka $version needs Java 17 or later; java is version ${major:-unknown}"
}

# A TCP port on 127.0.0.1 that nothing uses right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid in $1/pid when that process is alive and is the broker of $1 (not a reused pid).
broker_pid() {
  local dir=$1 pid
  pid=$(cat "$dir/pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q "^state:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null && return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/server.properties" || return 1
  echo "$pid"
}

tail_log() { tail -n 30 "$1/kafka.log" 2>/dev/null | cut -c1-400 >&2 || true; }

# The cache: lib/ (the jars), classpath (their paths, in a fixed order), kafka.jsa (a class data
# sharing archive of a broker run, which halves the JVM's start), .complete (the hash of the POM
# and log4j2.properties the cache was made from) and jdk (the JDK that kafka.jsa was checked with).
cache_stamp() { cat "$pom" "$log4j_config" | sha256sum | cut -d' ' -f1; }

# The java binary, its JVM and its default archive: when they change, kafka.jsa is checked again.
jdk_id() {
  local j
  j=$(readlink -f "$(command -v java)") || return 0
  stat -c '%n %Y %s' "$j" "${j%/bin/java}"/lib/server/libjvm.so "${j%/bin/java}"/lib/server/classes.jsa 2>/dev/null || true
}

fetch() {
  local stamp
  stamp=$(cache_stamp)
  # The quick path of every start: a complete cache made with this POM and checked with this JDK.
  if [ "$(cat "$cache/.complete" 2>/dev/null)" = "$stamp" ] && [ "$(cat "$cache/jdk" 2>/dev/null)" = "$(jdk_id)" ]; then
    return 0
  fi
  need_java
  mkdir -p "$(dirname "$cache")"
  # Two test processes may fetch at once: one does, the other waits and then finds it done.
  exec 8>"$cache.lock"
  flock 8
  if [ "$(cat "$cache/.complete" 2>/dev/null)" != "$stamp" ]; then
    command -v mvn >/dev/null 2>&1 || die "mvn not found: install it with scripts/install-deps.sh (Debian package maven)"
    say "resolving Kafka $version into $cache"
    local tmp="$cache.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
      cat "$tmp/mvn.log" >&2
      rm -rf "$tmp"
      die "mvn could not resolve the Kafka broker's jars ($pom)"
    fi
    ls "$tmp"/lib/*.jar | LC_ALL=C sort | sed "s:^$tmp/:$cache/:" | paste -sd: >"$tmp/classpath"
    rm -f "$tmp/mvn.log"
    rm -rf "$cache"
    mv "$tmp" "$cache"
    echo "$stamp" >"$cache/.complete"
  fi
  if archive_wanted; then build_archive; fi
  jdk_id >"$cache/jdk"
  flock -u 8
  exec 8>&-
}

# Whether kafka.jsa is missing or stale (a JDK update makes it so; the check maps it without
# starting Kafka) and no attempt to make one failed with this JDK.
archive_wanted() {
  if [ -s "$cache/kafka.jsa" ]; then
    ! java -XX:SharedArchiveFile="$cache/kafka.jsa" -Xshare:on -cp "$(cat "$cache/classpath")" -version >/dev/null 2>&1
  else
    [ "$(cat "$cache/kafka.jsa.failed" 2>/dev/null)" != "$(java -version 2>&1)" ]
  fi
}

# Runs a broker once in a scratch directory with -XX:ArchiveClassesAtExit, makes it create a topic
# and serve a producer and a consumer group (when kcat is there), stops it: the classes it loaded
# go into kafka.jsa, which halves the JVM's start. Without the archive the broker starts all the
# same, a second slower.
build_archive() {
  local scratch
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/bark-kafka-cds-XXXXXX")
  rm -f "$cache/kafka.jsa" "$cache/kafka.jsa.failed"
  say "making the class data sharing archive (once per JDK)"
  if (BARK_KAFKA_OWNER_PID='' KAFKA_ARCHIVE_OUT="$cache/kafka.jsa.tmp" start_broker "$scratch" "" >/dev/null); then
    if command -v kcat >/dev/null 2>&1; then
      local b=127.0.0.1:$(cat "$scratch/port")
      printf 'k1:v1\nk2:v2\n' | timeout 30 kcat -P -b "$b" -t cds -K: -X enable.idempotence=true >/dev/null 2>&1 || true
      timeout 30 kcat -C -b "$b" -G cds-group -X auto.offset.reset=earliest cds -c 2 -q >/dev/null 2>&1 || true
    fi
    stop_broker "$scratch" 30
  fi
  if [ -s "$cache/kafka.jsa.tmp" ]; then
    mv "$cache/kafka.jsa.tmp" "$cache/kafka.jsa"
  else
    rm -f "$cache/kafka.jsa.tmp"
    java -version >"$cache/kafka.jsa.failed" 2>&1
    say "no class data sharing archive (the broker starts without it): $(tail -n 5 "$scratch/kafka.log" 2>/dev/null)"
  fi
  rm -rf "$scratch"
}

write_config() {
  local dir=$1 port=$2 cport=$3
  cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh at every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a crash (kill) the controller keeps the old registration until its session times out
# (9 s by default); heartbeats every half second make that 3 s.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
EOF
}

# The JVM options with the cache's classpath and, when it can be used, its archive.
java_cmd() {
  local cp
  cp=$(cat "$cache/classpath")
  local cmd=(java "${jvm_opts[@]}" -cp "$cp")
  if [ -n "${KAFKA_ARCHIVE_OUT:-}" ]; then
    cmd+=(-XX:ArchiveClassesAtExit="$KAFKA_ARCHIVE_OUT")
  elif [ -s "$cache/kafka.jsa" ]; then
    cmd+=(-XX:SharedArchiveFile="$cache/kafka.jsa")
  fi
  printf '%s\0' "${cmd[@]}"
}

# One attempt: formats DIR when new, starts the JVM on PORT/CPORT, waits. 0 when it serves;
# 2 when the JVM exited on a port already taken; 1 otherwise.
start_once() {
  local dir=$1 port=$2 cport=$3
  local -a cmd
  mapfile -d '' cmd < <(java_cmd)
  write_config "$dir" "$port" "$cport"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local id
    # A cluster id: 16 random bytes in base64url; Kafka refuses ids that start with '-'.
    id=-
    while [[ $id == -* ]]; do
      id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    if ! "${cmd[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >>"$dir/kafka.log" 2>&1; then
      tail_log "$dir"
      say "formatting $dir/data failed"
      return 1
    fi
  fi
  local offset
  offset=$(stat -c %s "$dir/kafka.log" 2>/dev/null || echo 0)
  "${cmd[@]}" kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/kafka.log" 2>&1 8>&- &
  local pid=$!
  echo "$pid" >"$dir/pid"

  local deadline=$((SECONDS + start_timeout)) started=0
  while :; do
    if ! kill -0 "$pid" 2>/dev/null || grep -q "^state:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/pid"
      if tail -c +"$((offset + 1))" "$dir/kafka.log" | grep -q -E "Address already in use|failed to bind"; then
        return 2
      fi
      tail_log "$dir"
      say "the broker exited during its start (log: $dir/kafka.log)"
      return 1
    fi
    if [ "$started" = 0 ] && tail -c +"$((offset + 1))" "$dir/kafka.log" | grep -q "Kafka Server started"; then
      started=1
    fi
    # The broker logs that line once it serves; with kcat, a metadata request proves it.
    if [ "$started" = 1 ] && port_open "$port"; then
      if ! command -v kcat >/dev/null 2>&1 ||
        timeout 10 kcat -L -b "127.0.0.1:$port" -m 5 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$port"; then
        return 0
      fi
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail_log "$dir"
      say "the broker did not serve on 127.0.0.1:$port within ${start_timeout}s (log: $dir/kafka.log)"
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/pid"
      return 1
    fi
    sleep 0.05
  done
}

# start_broker DIR PORT: PORT empty means the port of DIR's previous run, or a free one.
start_broker() {
  local dir=$1 port=$2 cport fixed=1 pid
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if pid=$(broker_pid "$dir"); then
    die "a broker already runs in $dir (pid $pid)"
  fi
  [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || true)
  [ -n "$port" ] || {
    port=$(free_port)
    fixed=0
  }
  cport=$(cat "$dir/controller.port" 2>/dev/null || true)
  if [ -z "$cport" ] || port_open "$cport"; then cport=$(free_port); fi
  local attempt rc
  for attempt in 1 2 3; do
    # A port someone listens on will not do; a fixed one may be the previous broker's, still closing.
    if [ "$fixed" = 1 ] && port_open "$port"; then
      sleep 1
      port_open "$port" && die "127.0.0.1:$port is in use"
    fi
    rc=0
    start_once "$dir" "$port" "$cport" || rc=$?
    case $rc in
      0)
        echo "$port" >"$dir/port"
        echo "$cport" >"$dir/controller.port"
        watch_owner "$dir"
        echo "$port"
        return 0
        ;;
      2)
        # A port was taken between choosing and binding (or the previous broker's sockets linger).
        [ "$fixed" = 1 ] || port=$(free_port)
        cport=$(free_port)
        sleep "0.$attempt"
        ;;
      *) return 1 ;;
    esac
  done
  tail_log "$dir"
  die "the broker could not bind 127.0.0.1:$port"
}

# With BARK_KAFKA_OWNER_PID, a detached watcher stops the broker once that process is gone.
watch_owner() {
  local dir=$1 owner=${BARK_KAFKA_OWNER_PID:-} pid
  [ -n "$owner" ] || return 0
  pid=$(cat "$dir/pid")
  (
    trap '' HUP INT
    while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.2
      done
      kill -KILL "$pid" 2>/dev/null
    fi
  ) </dev/null >/dev/null 2>&1 &
  disown
}

stop_broker() {
  local dir=$1 wait_s=${2:-20} pid
  dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
  if ! pid=$(broker_pid "$dir"); then
    rm -f "$dir/pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + wait_s))
  while kill -0 "$pid" 2>/dev/null && ! grep -q "^state:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the broker (pid $pid) did not stop within ${wait_s}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ! grep -q "^state:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/pid"
}

kill_broker() {
  local dir=$1 pid
  dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
  if pid=$(broker_pid "$dir"); then
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ! grep -q "^state:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$dir/pid"
}

usage() {
  sed -n '2,/^$/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}

case ${1:-} in
  fetch)
    [ $# -eq 1 ] || usage
    fetch
    ;;
  start)
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    [ -z "${3:-}" ] || [[ $3 =~ ^[0-9]+$ ]] || die "bad port: $3"
    fetch
    start_broker "$2" "${3:-}"
    ;;
  stop)
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    stop_broker "$2" "${3:-20}"
    ;;
  kill)
    [ $# -eq 2 ] || usage
    kill_broker "$2"
    ;;
  *) usage ;;
esac
