# Measuring processes from bench scripts. Source it (Linux /proc).
#
#   now                  wall clock, seconds with nanoseconds
#   secs A B             B - A, one decimal
#   cpu_secs PID         user + system CPU seconds of PID so far, one decimal
#   cpu_secs_exact PID   the same to the clock tick (two decimals)
#   peak_rss_mib PID     peak resident memory of PID (VmHWM), MiB
#   bench_commit         the checkout's short commit, with "+" when it has
#                        uncommitted changes ("?" outside git), for the
#                        rows a bench prints for bench/history.md

now() { date +%s.%N; }

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cpu_secs() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"
}

cpu_secs_exact() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

peak_rss_mib() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

bench_commit() {
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null) || { echo "?"; return; }
  git diff --quiet HEAD -- 2>/dev/null || commit+="+"
  echo "$commit"
}
