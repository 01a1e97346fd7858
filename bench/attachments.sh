#!/usr/bin/env bash
# Attachment uploads: CLIENTS (50) clients each streaming FILES (2) PDFs of 10 MiB at once, on dir:
# storage and on PostgreSQL storage: throughput, upload latency and bark's peak resident memory
# (the bodies go to a spool file as they arrive, never whole into memory). Then photos: PHOTO_CLIENTS
# (8) clients uploading a PHOTO_MP-megapixel JPEG (12) PHOTOS (10) times each: photos per second
# through the decoder (libvips on --attachment-workers threads, default 2) and the peak memory.
#   CLIENTS=50 FILES=2 PHOTO_CLIENTS=8 PHOTOS=10 PHOTO_MP=12 bench/attachments.sh
# Writes bench/results/attachments.json and prints the table for bench/RESULTS.md.
source "$(dirname "$0")/scripts/lib.sh"
CLIENTS=${CLIENTS:-50}
FILES=${FILES:-2}
PHOTO_CLIENTS=${PHOTO_CLIENTS:-8}
PHOTOS=${PHOTOS:-10}
PHOTO_MP=${PHOTO_MP:-12}
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
run() {  # run LABEL DRIVER-ARGS...: one driver run against the bark started last
  node "$ROOT/bench/scripts/attachments.js" --url "http://127.0.0.1:$BARK_PORT" --secret "$SECRET" --pid "$BARK_PID" \
    --label "$@" >>"$work/runs.jsonl"
  tail -n 1 "$work/runs.jsonl" >&2
}
# A noisy photo of PHOTO_MP megapixels (4:3): its JPEG is a few MB, as a phone's is.
w=$(awk -v mp="$PHOTO_MP" 'BEGIN{printf "%d", sqrt(mp*1e6*4/3)}')
h=$((w * 3 / 4))
vips gaussnoise "$work/noise.v" "$w" "$h"
vips colourspace "$work/noise.v" "$work/photo.jpg[Q=90]" srgb
rm -f "$work/noise.v"

log "dir: storage: $CLIENTS clients x $FILES x 10 MiB"
start_bark "$work/dir.log" --store memory: --attachments "dir:$work/files" --rest-write-rate 0
run "pdf-dir" --clients "$CLIENTS" --files "$FILES" --bytes 10485760
log "dir: storage: photos ${w}x${h}, $PHOTO_CLIENTS clients x $PHOTOS"
run "jpeg-dir" --clients "$PHOTO_CLIENTS" --files "$PHOTOS" --jpeg "$work/photo.jpg"
stop_pid "$BARK_PID"
rm -rf "$work/files"

start_postgres
pg_createdb attachments
log "postgres storage: $CLIENTS clients x $FILES x 10 MiB"
start_bark "$work/pg.log" --store "$PG_URL/attachments" --attachments postgres --rest-write-rate 0
run "pdf-postgres" --clients "$CLIENTS" --files "$FILES" --bytes 10485760
stop_pid "$BARK_PID"

node -e 'const fs=require("fs"); const rows=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);
  fs.writeFileSync(process.argv[2], JSON.stringify(rows, null, 2) + "\n");
  console.log("| run | clients x files | file | uploads ok / failed | s | MiB/s | uploads/s | latency p50 / p99 ms | bark RSS before / peak MiB |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.label} | ${r.clients} x ${r.files_per_client} | ${(r.bytes_per_file/1048576).toFixed(1)} MiB | ${r.uploads} / ${r.failures} | ${r.seconds} | ${r.mib_per_s} | ${r.uploads_per_s} | ${r.latency_ms.p50} / ${r.latency_ms.p99} | ${r.rss_mib.before} / ${r.rss_mib.peak} |`);' \
  "$work/runs.jsonl" "$RESULTS/attachments.json"
echo "Command: \`CLIENTS=$CLIENTS FILES=$FILES PHOTO_CLIENTS=$PHOTO_CLIENTS PHOTOS=$PHOTOS PHOTO_MP=$PHOTO_MP bench/attachments.sh\`, $(date -u +%Y-%m-%d), $(machine), Debian $(cat /etc/debian_version); photo ${w}x${h}, $(stat -c %s "$work/photo.jpg") bytes."
