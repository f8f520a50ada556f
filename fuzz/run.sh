#!/bin/sh
# Fuzz one target for a fixed time:  fuzz/run.sh TARGET [SECONDS]   (default 300)
# Seeds a corpus under ${FUZZ_WORK:-/tmp/envcheck-fuzz}/TARGET on first use.
# Bounds enforced on every input: 10 s wall time, 1 GiB resident memory.
set -eu
target=$1
seconds=${2:-300}
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/envcheck-fuzz}
corpus=$work/$target
case $target in
  layer|archive) max_len=65536 ;;
  *) max_len=32768 ;;
esac
if [ ! -d "$corpus" ]; then
  python3 "$here/seed.py" "$target" "$corpus"
fi
mkdir -p "$work/artifacts/$target"
exec python3 "$here/fuzz_envcheck.py" "$target" "$corpus" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len="$max_len" \
  -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1
