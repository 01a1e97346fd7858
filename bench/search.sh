#!/usr/bin/env bash
# Full-text search on a million messages: bark-search-bench fills a SQLite file and a PostgreSQL
# database (a throw-away server, start_postgres) through the stores' own appends (the index kept
# as bark keeps it), then times searches: 2-character Korean, phrases, Latin words in any case,
# absent words, in one room, over a customer's or a salon's rooms, and over every room (ADMIN).
#   bench/search.sh [--messages N] [--rooms R] [--repeat K] [--stores "sqlite postgres"]
# Writes bench/results/search-STORE.json and the "search" section of bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
messages=1000000
rooms=20000
repeat=200
stores="sqlite postgres"
while [ $# -gt 0 ]; do
  case $1 in
    --messages) messages=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --stores) stores=$2; shift 2 ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done
SEARCH_BENCH=${SEARCH_BENCH:-$ROOT/build/bin/bark-search-bench}
work=$(mktemp -d)
table=$work/section.md
{
  echo "Command: \`bench/search.sh --messages $messages --rooms $rooms --repeat $repeat --stores \"$stores\"\`, $(date -u +%Y-%m-%d), $(machine). Each store filled through its own appends (index included); then each kind of query run $repeat times (ADMIN kinds a tenth of that) with random callers and rooms, limit 20, one at a time; latency is the store call (plan, index lookup, substring check, rows read)."
  echo
  echo "| store | query | p50 ms | p99 ms | max ms | found (avg) |"
  echo "|---|---|---|---|---|---|"
} >"$table"
for store in $stores; do
  case $store in
    sqlite) url=sqlite:$work/search.db ;;
    postgres)
      start_postgres
      pg_createdb search
      url=$PG_URL/search ;;
    *) echo "search.sh: unknown store $store" >&2; exit 2 ;;
  esac
  out=$RESULTS/search-$store.json
  log "search: $store, $messages messages over $rooms rooms"
  "$SEARCH_BENCH" --store "$url" --messages "$messages" --rooms "$rooms" --repeat "$repeat" --json "$out" \
    2> >(tee "$work/$store.log" >&2)
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const q of j.queries) {
      console.log(`| ${process.argv[2]} | ${q.name} | ${q.p50_ms.toFixed(2)} | ${q.p99_ms.toFixed(2)} | ${q.max_ms.toFixed(2)} | ${q.found_avg.toFixed(1)} |`);
    }' "$out" "$store" >>"$table"
  if [ "$store" = sqlite ]; then
    echo "sqlite file: $(du -m "$work/search.db" | cut -f1) MiB" >>"$work/sizes"
  fi
done
set_section "$ROOT/bench/RESULTS.md" search "$table"
cat "$table"
rm -rf "$work"
