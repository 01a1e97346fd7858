#!/usr/bin/env bash
# The seed's V1–V4 (bark-bench seed) against the seed's own Spring chat (tests/spring) in four
# configurations, one after another in one run: Spring's simple broker (the seed as it was); the
# STOMP broker relay to RabbitMQ (Debian's rabbitmq-server with rabbitmq_stomp; the app renames
# /sub/chat/{id} to /topic/chat.{id} for it); the relay to bark (--stomp-listen, relay sessions);
# and two Spring instances on that one bark, each user of a room on the other instance.
#   bench/spring.sh [--loops L] [--only V4] [--configs "simple rabbitmq bark bark2"] [--setup-only] [--keep]
# --setup-only starts every configuration's servers, checks that each Spring has its broker, and
# stops them: no load. --keep leaves the work folder (the brokers' and Spring's logs) in place and
# prints its path. Writes bench/results/spring-CONFIG-V*.json and the "spring" section of
# bench/RESULTS.md. CPU is measured per process over each variant: Spring (both instances summed
# for bark2) and the broker (beam.smp for RabbitMQ, bark), separately from bark-bench's.
source "$(dirname "$0")/scripts/lib.sh"
loops=50
only=""
configs="simple rabbitmq bark bark2"
setup_only=0
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --loops) loops=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    --setup-only) setup_only=1; shift ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--loops L] [--only V1|V2|V3|V4] [--configs \"simple rabbitmq bark bark2\"] [--setup-only] [--keep]" >&2; exit 2 ;;
  esac
done
raise_fd_limit
variants=("V1 100 0" "V2 500 10" "V3 1000 30" "V4 3000 30")
work=$(mktemp -d)
relay_login=spring-relay
relay_passcode=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
# Relay mode needs bark's plain TCP STOMP port and relay sessions (SPEC §9).
bark_relays=0
"$BARK" --help 2>&1 | grep -q -- '--stomp-listen' && "$BARK" --help 2>&1 | grep -q -- '--relay-login' && bark_relays=1

# start_config NAME: starts the broker (when the configuration has one) and the Spring instance(s);
# sets URLS (bark-bench --url values), SPRING_PIDS, BROKER_PIDS, and waits until every Spring has
# its broker.
start_config() {
  local name=$1 stomp_port
  SPRING_PIDS=() BROKER_PIDS=() URLS=()
  case $name in
    simple)
      start_spring "$work/spring-simple"
      SPRING_PIDS=("$SPRING_PID")
      URLS=("ws://127.0.0.1:$SPRING_PORT/ws/chat/websocket")
      ;;
    rabbitmq)
      start_rabbitmq "$work/rabbitmq"
      BROKER_PIDS=("$RMQ_PID")
      start_spring "$work/spring-rabbitmq" --chat.broker=relay --chat.relay.port="$RMQ_STOMP_PORT" \
        --chat.relay.destinations=rabbitmq
      SPRING_PIDS=("$SPRING_PID")
      URLS=("ws://127.0.0.1:$SPRING_PORT/ws/chat/websocket")
      ;;
    bark | bark2)
      stomp_port=$(free_port)
      # bark's defaults otherwise (relay sessions have no per-connection rate limit).
      start_bark "$work/bark-$name.log" --store memory: --stomp-listen "127.0.0.1:$stomp_port" \
        --relay-login "$relay_login" --relay-passcode "$relay_passcode"
      wait_port "$stomp_port" 10
      BROKER_PIDS=("$BARK_PID")
      local n=1 i relay_args
      [ "$name" = bark2 ] && n=2
      relay_args=(--chat.broker=relay --chat.relay.port="$stomp_port"
        --chat.relay.system-login="$relay_login" --chat.relay.system-passcode="$relay_passcode"
        --chat.relay.client-login="$relay_login" --chat.relay.client-passcode="$relay_passcode")
      [ "$n" = 2 ] && relay_args+=(--chat.relay.user-broadcast=true)
      for i in $(seq "$n"); do
        start_spring "$work/spring-$name-$i" "${relay_args[@]}"
        SPRING_PIDS+=("$SPRING_PID")
        URLS+=("ws://127.0.0.1:$SPRING_PORT/ws/chat/websocket")
      done
      ;;
  esac
  local u port
  for u in "${URLS[@]}"; do
    port=${u#ws://127.0.0.1:}
    spring_ready "${port%%/*}" 60
  done
}

stop_config() {
  local p
  for p in "${SPRING_PIDS[@]}"; do stop_pid "$p"; done
  if [ "${#BROKER_PIDS[@]}" -gt 0 ]; then
    if [ -n "${RMQ_PID:-}" ] && [ "${BROKER_PIDS[0]}" = "$RMQ_PID" ]; then stop_rabbitmq; else stop_pid "${BROKER_PIDS[0]}"; fi
  fi
  RMQ_PID=""
}

describe() {
  case $1 in
    simple) echo "Spring's simple broker (the seed)" ;;
    rabbitmq) echo "relay → RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?') (rabbitmq_stomp; /topic/chat.{id})" ;;
    bark) echo "relay → bark" ;;
    bark2) echo "2 Spring instances, relay → one bark" ;;
  esac
}

remove_work() {
  if [ "$keep" = 1 ]; then log "logs kept in $work"; else rm -rf "$work"; fi
}

table=$work/section.md
{
  echo "Command: \`bench/spring.sh --loops $loops${only:+ --only $only} --configs \"$configs\"\`, $(date -u +%Y-%m-%d), $(machine). Everything on 127.0.0.1 on the same machine: bark-bench, the seed's Spring chat (tests/spring: Spring Boot 3.3.5, spring-messaging 6.1.14, Tomcat, ${SPRING_HEAP:-1g} heap, ${SPRING_JVM_OPTS:--XX:+UseG1GC}), and the broker. Clients: plain WebSocket on /ws/chat/websocket, the JWT in the CONNECT's Authorization header, a subscription taken as live 500 ms after SUBSCRIBE in every configuration (the simple broker sends no RECEIPT for it). Latency: SEND to its MESSAGE back at the sender. Errors: bark-bench's (connect errors included); an ERROR frame after the client's own DISCONNECT (Spring's relay sends one when its broker closes the connection after the RECEIPT) is counted apart. CPU: seconds over the variant, per process."
  echo
  echo "| configuration | variant | users | sends | received | errors | ERROR after own DISCONNECT | latency p50 / p99 / max ms | msgs/s | Spring CPU s | broker CPU s | broker CPU µs/msg |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table"
status=0
for c in $configs; do
  if [[ $c == bark* ]] && [ "$bark_relays" = 0 ]; then
    log "$c: skipped ($BARK has no --stomp-listen/--relay-login)"
    echo "| $(describe "$c") | - | | | | | | skipped: bark without --stomp-listen | | | | |" >>"$table"
    continue
  fi
  log "$c: starting $(describe "$c")"
  start_config "$c"
  log "$c: ready (Spring ${SPRING_PIDS[*]}, broker ${BROKER_PIDS[*]:-none}, ${URLS[*]})"
  if [ "$setup_only" = 1 ]; then
    stop_config
    continue
  fi
  url_args=()
  for u in "${URLS[@]}"; do url_args+=(--url "$u"); done
  for v in "${variants[@]}"; do
    read -r name users ramp <<<"$v"
    [ -n "$only" ] && [ "$only" != "$name" ] && continue
    out=$RESULTS/spring-$c-$name.json
    log "$c $name: $users users, ramp-up $ramp s, $loops loops"
    rm -f "$out"
    s0=$(cpu_s "${SPRING_PIDS[@]}")
    b0=$(cpu_s "${BROKER_PIDS[@]:-0}")
    if ! "$BENCH" seed "${url_args[@]}" --jwt-secret "$SECRET" --no-subscribe-receipt --users "$users" \
        --ramp-up "$ramp" --loops "$loops" --timeout 30 --json "$out" --no-progress; then
      status=1
    fi
    s1=$(cpu_s "${SPRING_PIDS[@]}")
    b1=$(cpu_s "${BROKER_PIDS[@]:-0}")
    if [ ! -s "$out" ]; then
      log "$c $name: bark-bench wrote no result"
      echo "| $(describe "$c") | $name | $users | no result | | | | | | | | |" >>"$table"
      status=1
      continue
    fi
    # The CPU seconds go into the run's JSON beside bark-bench's figures (broker: null when the
    # broker is Spring's own, inside the Spring process).
    node -e '
      const fs = require("fs");
      const [file, s0, s1, b0, b1, hasBroker] = process.argv.slice(1);
      const j = JSON.parse(fs.readFileSync(file, "utf8"));
      j.spring_cpu_s = +(s1 - s0).toFixed(2);
      j.broker_cpu_s = hasBroker === "1" ? +(b1 - b0).toFixed(2) : null;
      j.broker_cpu_us_per_msg = j.broker_cpu_s !== null && j.messages_received > 0
        ? Math.round(j.broker_cpu_s * 1e6 / j.messages_received) : null;
      fs.writeFileSync(file, JSON.stringify(j, null, 1));' "$out" "$s0" "$s1" "$b0" "$b1" "$([ "${#BROKER_PIDS[@]}" -gt 0 ] && echo 1 || echo 0)"
    echo "| $(describe "$c") | $name | $users | $(json "$out" j.messages_sent) | $(json "$out" j.messages_received) | $(json "$out" j.errors) | $(json "$out" 'j.errors_after_disconnect ?? "-"') | $(json "$out" j.latency_ms.p50) / $(json "$out" j.latency_ms.p99) / $(json "$out" j.latency_ms.max) | $(json "$out" j.throughput_msgs_per_s) | $(json "$out" j.spring_cpu_s) | $(json "$out" 'j.broker_cpu_s ?? "(in Spring)"') | $(json "$out" 'j.broker_cpu_us_per_msg ?? "-"') |" >>"$table"
  done
  stop_config
done
if [ "$setup_only" = 1 ]; then
  log "setup only: every configuration started and stopped; nothing measured"
  remove_work
  exit 0
fi
# Per variant: who lost nothing, the lowest p99, the lowest broker CPU per message among the relays.
node - "$RESULTS" "$configs" >>"$table" <<'JS'
const fs = require('fs');
const [dir, configsArg] = process.argv.slice(2);
const configs = configsArg.split(/\s+/).filter(Boolean);
const out = [''];
for (const v of ['V1', 'V2', 'V3', 'V4']) {
  const runs = configs.map((c) => {
    try { return { c, j: JSON.parse(fs.readFileSync(`${dir}/spring-${c}-${v}.json`, 'utf8')) }; } catch { return null; }
  }).filter(Boolean);
  if (runs.length === 0) continue;
  const whole = runs.filter(({ j }) => j.errors === 0 && j.messages_received >= j.messages_expected);
  const by = (f) => [...whole].sort((a, b) => f(a.j) - f(b.j))[0];
  const p99 = by((j) => j.latency_ms.p99);
  const relays = whole.filter(({ j }) => j.broker_cpu_us_per_msg !== null);
  const cpu = relays.length ? [...relays].sort((a, b) => a.j.broker_cpu_us_per_msg - b.j.broker_cpu_us_per_msg)[0] : null;
  out.push(`- ${v}: nothing lost in ${whole.map((r) => r.c).join(', ') || 'no configuration'}` +
    (p99 ? `; lowest p99 ${p99.j.latency_ms.p99.toFixed(2)} ms (${p99.c})` : '') +
    (cpu ? `; lowest broker CPU per message ${cpu.j.broker_cpu_us_per_msg} µs (${cpu.c})` : '') + '.');
}
console.log(out.join('\n'));
JS
set_section "$ROOT/bench/RESULTS.md" spring "$table"
cat "$table"
remove_work
exit $status
