#!/usr/bin/env bash
# The layering of src/bark, stated once for people and checked on every `make test`: each folder
# may include headers of the folders listed for it (everything it lies above) and nothing else;
# only the folders that do network I/O may include Boost (Asio/Beast). The build enforces the same
# through per-folder include roots (src/CMakeLists.txt); this check names each upward edge.
#
#   scripts/check-layers.sh            exit 1 and list the edges that break the order
#   scripts/check-layers.sh --graph    print every edge between folders, with its include count
set -euo pipefail
cd "$(dirname "$0")/../src/bark"

declare -A allowed=(
  [core]=""
  [domain]="core"
  [stomp]="core"
  [sockjs]="core"
  [http]="core"
  [auth]="core domain"
  [broker]="core domain stomp auth"
  [session]="core domain stomp auth broker"
  [store]="core domain"
  [cluster]="core domain stomp auth broker kafka"
  [chat]="core domain stomp auth http broker session store"
  [media]="core"
  [attach]="core domain auth http broker session store chat media"
  [commands]="core domain stomp auth http broker session store chat kafka"
  [admin]="core domain stomp auth http broker session store chat"
  [net]="core domain stomp sockjs http auth broker session"
  [events]="core domain store kafka"
  [app]="core domain stomp sockjs http auth broker session store cluster chat commands admin net asio kafka events attach media"
  [loadgen]="core domain stomp sockjs auth"
  [asio]=""
  [kafka]="core"
)
boost_ok=" asio net cluster app loadgen "

edges=$(grep -rHoE '^#include [<"](bark/[a-z_]+/|boost/)' --include='*.hpp' --include='*.cpp' . |
  sed -E 's#^\./([a-z_]+)/[^:]*:\#include [<"](bark/([a-z_]+)/|(boost)/)#\1 \3\4#' | sort | uniq -c)

if [ "${1:-}" = "--graph" ]; then
  echo "$edges" | awk '$2 != $3 { printf "%-8s -> %-8s %4d\n", $2, $3, $1 }'
  exit 0
fi

bad=0
while read -r count from to; do
  [ -z "$from" ] || [ "$from" = "$to" ] && continue
  if [ -z "${allowed[$from]+set}" ]; then
    echo "check-layers: src/bark/$from is not in the layer table (scripts/check-layers.sh)"
    bad=1
    continue
  fi
  if [ "$to" = boost ]; then
    [[ "$boost_ok" == *" $from "* ]] && continue
    echo "check-layers: $from includes Boost ($count includes); only${boost_ok}may"
    bad=1
    continue
  fi
  if [[ " ${allowed[$from]} " != *" $to "* ]]; then
    echo "check-layers: $from -> $to ($count includes) points up or sideways"
    grep -rnE "^#include \"bark/$to/" --include='*.hpp' --include='*.cpp' "$from" | sed 's/^/  /'
    bad=1
  fi
done <<<"$edges"
[ "$bad" = 0 ] && echo "check-layers: every include points down"
exit "$bad"
