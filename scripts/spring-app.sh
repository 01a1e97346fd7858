#!/usr/bin/env bash
# The seed's Spring chat (tests/spring: Spring Boot 3.3, the seed's StompConfig, ChatController and
# interceptors) for bark's tests and benchmarks: built once with Maven into a cache folder keyed by
# the hash of its POM and sources, started on 127.0.0.1 with a small heap.
#
#   scripts/spring-app.sh build                    builds into the cache (quick when it is there);
#                                                  prints the cache folder
#   scripts/spring-app.sh start DIR PORT [ARG...]  starts the app on PORT (0: a free one), its pid,
#                                                  port and log in DIR; waits until it answers
#                                                  HTTP; prints its port. ARGs are Spring
#                                                  properties, e.g. --chat.broker=relay
#                                                  --chat.relay.port=61613 --chat.jwt-secret=S
#   scripts/spring-app.sh stop DIR [SECONDS]       SIGTERM, SIGKILL after SECONDS (15)
#   scripts/spring-app.sh kill DIR                 SIGKILL at once
#
# DIR/pid, DIR/port and DIR/spring.log hold the running app's pid, port and log. /ready on its port
# answers 200 once its broker is available (for the relay: its system session is CONNECTED) and
# 503 before. Settings: BARK_SPRING_CACHE (the cache folder's parent), BARK_SPRING_HEAP (-Xmx, 256m),
# BARK_SPRING_JVM_OPTS (replaces the quick-start JVM options: the benchmarks run the full JIT),
# BARK_SPRING_START_TIMEOUT (seconds, 120), BARK_SPRING_OWNER_PID (a pid: the app is stopped
# once that process is gone, so that a test killed by a timeout leaves no JVM behind).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=$root/tests/spring
heap=${BARK_SPRING_HEAP:-256m}
start_timeout=${BARK_SPRING_START_TIMEOUT:-120}
main_class=seed.chat.SeedChatApplication

# Short-lived JVMs on a small machine: the C1 compiler only, the serial collector, no perf data.
if [ -n "${BARK_SPRING_JVM_OPTS:-}" ]; then
  read -r -a jvm_opts <<<"$BARK_SPRING_JVM_OPTS"
else
  jvm_opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
fi
jvm_opts=(-Xmx"$heap" "${jvm_opts[@]}" -XX:-UsePerfData -Xshare:auto -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true)

say() { echo "spring-app.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# The hash of everything the jar is made from: the POM and every file under src/, by path.
source_hash() {
  (
    cd "$app"
    { echo pom.xml; find src -type f | LC_ALL=C sort; } | while read -r f; do
      printf '%s\n' "$f"
      sha256sum <"$f"
    done
  ) | sha256sum | cut -c1-16
}

cache=${BARK_SPRING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bark}/spring-app-$(source_hash)

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found: install it with scripts/install-deps.sh (Java 17)"
  command -v javac >/dev/null 2>&1 || die "javac not found: install it with scripts/install-deps.sh (the JDK, openjdk-17-jdk-headless)"
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install it with scripts/install-deps.sh (Debian package maven)"
}

# The java binary and its JVM: when they change, the class data sharing archive is made again.
jdk_id() {
  local j
  j=$(readlink -f "$(command -v java)") || return 0
  stat -c '%n %Y %s' "$j" "${j%/bin/java}"/lib/server/libjvm.so 2>/dev/null || true
}

# The cache: seed-chat.jar, lib/ (its runtime jars), classpath, app.jsa (a class data sharing
# archive of a start, which cuts the JVM's start by a third), .complete (the source hash), jdk.
build() {
  if [ -f "$cache/.complete" ] && [ "$(cat "$cache/jdk" 2>/dev/null)" = "$(jdk_id)" ]; then
    echo "$cache"
    return 0
  fi
  need_java
  mkdir -p "$(dirname "$cache")"
  # Two test processes may build at once: one does, the other waits and then finds it done.
  exec 8>"$cache.lock"
  flock 8
  if [ ! -f "$cache/.complete" ]; then
    say "building tests/spring into $cache"
    local tmp="$cache.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -q -B -Dstyle.color=never -f "$app/pom.xml" -Dseedchat.build="$tmp/build" -DskipTests package \
      >"$tmp/mvn.log" 2>&1; then
      cat "$tmp/mvn.log" >&2
      rm -rf "$tmp"
      die "mvn could not build tests/spring"
    fi
    mv "$tmp/build/seed-chat.jar" "$tmp/build/lib" "$tmp/"
    rm -rf "$tmp/build" "$tmp/mvn.log"
    { echo "$cache/seed-chat.jar"; ls "$tmp"/lib/*.jar | LC_ALL=C sort | sed "s:^$tmp/:$cache/:"; } | paste -sd: >"$tmp/classpath"
    rm -rf "$cache"
    mv "$tmp" "$cache"
    touch "$cache/.complete"
  fi
  if [ "$(cat "$cache/jdk" 2>/dev/null)" != "$(jdk_id)" ]; then
    build_archive
    jdk_id >"$cache/jdk"
  fi
  flock -u 8
  exec 8>&-
  echo "$cache"
}

# One start that stops once the context is up (Spring Boot's spring.context.exit=onRefresh), with
# the relay configured so that its classes are loaded too; the classes go into app.jsa. Without
# the archive the app starts all the same, only slower.
build_archive() {
  rm -f "$cache/app.jsa"
  say "making the class data sharing archive (once per JDK)"
  local log="$cache/archive.log"
  if ! java "${jvm_opts[@]}" -XX:ArchiveClassesAtExit="$cache/app.jsa.tmp" -Dspring.context.exit=onRefresh \
    -cp "$(cat "$cache/classpath")" "$main_class" --server.port=0 --chat.jwt-secret=archive-run-secret-0123456789abcdef \
    --chat.broker=relay --chat.relay.port=9 --chat.relay.user-broadcast=true </dev/null >"$log" 2>&1; then
    say "no class data sharing archive (the app starts without it): $(tail -n 5 "$log")"
  fi
  if [ -s "$cache/app.jsa.tmp" ]; then mv "$cache/app.jsa.tmp" "$cache/app.jsa"; else rm -f "$cache/app.jsa.tmp"; fi
}

# A TCP port on 127.0.0.1 that nothing uses right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pid in $1/pid when that process is alive and is the app started for $1 (not a reused pid).
app_pid() {
  local dir=$1 pid
  pid=$(cat "$dir/pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q "^State:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null && return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dbark.spring.dir=$dir" || return 1
  echo "$pid"
}

# Whether 127.0.0.1:$1 answers HTTP (any status: /ready says 503 while the relay is not connected).
answers() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/ready" 2>/dev/null | grep -q '^[1-5]'; }

tail_log() { tail -n 30 "$1/spring.log" 2>/dev/null | cut -c1-400 >&2 || true; }

# One attempt on PORT: 0 when it answers; 2 when the JVM exited on a port already taken; 1 otherwise.
start_once() {
  local dir=$1 port=$2
  shift 2
  local cmd=(java "${jvm_opts[@]}" -Dbark.spring.dir="$dir")
  [ -s "$cache/app.jsa" ] && cmd+=(-XX:SharedArchiveFile="$cache/app.jsa")
  cmd+=(-cp "$(cat "$cache/classpath")" "$main_class" --server.port="$port" "$@")
  local offset
  offset=$(stat -c %s "$dir/spring.log" 2>/dev/null || echo 0)
  "${cmd[@]}" </dev/null >>"$dir/spring.log" 2>&1 8>&- &
  local pid=$!
  echo "$pid" >"$dir/pid"
  local deadline=$((SECONDS + start_timeout))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null || grep -q "^State:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/pid"
      if tail -c +"$((offset + 1))" "$dir/spring.log" | grep -q -E "already in use|Address already in use"; then
        return 2
      fi
      tail_log "$dir"
      say "the app exited during its start (log: $dir/spring.log)"
      return 1
    fi
    if tail -c +"$((offset + 1))" "$dir/spring.log" | grep -q "Started SeedChatApplication" && answers "$port"; then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail_log "$dir"
      say "the app did not answer on 127.0.0.1:$port within ${start_timeout}s (log: $dir/spring.log)"
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/pid"
      return 1
    fi
    sleep 0.05
  done
}

start_app() {
  local dir=$1 port=$2 fixed=1 pid
  shift 2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if pid=$(app_pid "$dir"); then die "the app already runs in $dir (pid $pid)"; fi
  if [ "$port" = 0 ]; then
    fixed=0
    port=$(free_port)
  fi
  local attempt rc
  for attempt in 1 2 3; do
    rc=0
    start_once "$dir" "$port" "$@" || rc=$?
    case $rc in
      0)
        echo "$port" >"$dir/port"
        watch_owner "$dir"
        echo "$port"
        return 0
        ;;
      2)
        [ "$fixed" = 1 ] && die "127.0.0.1:$port is in use"
        port=$(free_port)
        sleep "0.$attempt"
        ;;
      *) return 1 ;;
    esac
  done
  die "the app could not bind a port"
}

# With BARK_SPRING_OWNER_PID, a detached watcher stops the app once that process is gone.
watch_owner() {
  local dir=$1 owner=${BARK_SPRING_OWNER_PID:-} pid
  [ -n "$owner" ] || return 0
  pid=$(cat "$dir/pid")
  (
    trap '' HUP INT
    while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.2
      done
      kill -KILL "$pid" 2>/dev/null
    fi
  ) </dev/null >/dev/null 2>&1 &
  disown
}

stop_app() {
  local dir=$1 wait_s=${2:-15} pid
  dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
  if ! pid=$(app_pid "$dir"); then
    rm -f "$dir/pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + wait_s))
  while kill -0 "$pid" 2>/dev/null && ! grep -q "^State:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the app (pid $pid) did not stop within ${wait_s}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  rm -f "$dir/pid"
}

kill_app() {
  local dir=$1 pid
  dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
  if pid=$(app_pid "$dir"); then
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ! grep -q "^State:[[:space:]]*Z" "/proc/$pid/status" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$dir/pid"
}

usage() {
  sed -n '2,/^$/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}

case ${1:-} in
  build)
    [ $# -eq 1 ] || usage
    build
    ;;
  start)
    [ $# -ge 3 ] || usage
    [[ $3 =~ ^[0-9]+$ ]] || die "bad port: $3"
    build >/dev/null
    dir=$2 port=$3
    shift 3
    start_app "$dir" "$port" "$@"
    ;;
  stop)
    [ $# -ge 2 ] && [ $# -le 3 ] || usage
    stop_app "$2" "${3:-15}"
    ;;
  kill)
    [ $# -eq 2 ] || usage
    kill_app "$2"
    ;;
  *) usage ;;
esac
