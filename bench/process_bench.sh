#!/usr/bin/env bash
# Whole-process targets of the streaming work: the convcorr CLI as one
# process, PPM in and PPM out, 2 threads, against the OpenCV program
# bench/opencv_filter (4K frames) and `vips conv` (100 MP), plus convcorr's
# own compare/correlate time ratios, peak memory and the 250 MP compare.
# One row per target: both times (best of RUNS runs), the ratio, the peak
# RSS of each process (wait4's ru_maxrss; the largest over the runs), the
# target and "met" or "not met". docs/performance.md, "Whole process: the
# streaming targets", has the rows and a measured table.
#
#   bench/process_bench.sh                 (uses build/convcorr and
#                                           build/bench/opencv_filter)
#   RUNS=5 bench/process_bench.sh          (runs per command; default 3)
#   QUICK=1 bench/process_bench.sh         (the 4K rows only)
#   SCRATCH=/big/disk bench/process_bench.sh
#
# Frames, kernels and outputs live in SCRATCH (default /tmp/convcorr-bench):
# the frames are made once (cv::resize INTER_CUBIC of samples/photos/
# coffee.png) and reused; the 100 MP and 250 MP rows need about 3.6 GB free
# there (2.5 GB once the frames exist) and are skipped with a message
# otherwise. They run with the address space capped (ulimit -v) at 3/4 of
# the available memory (MEM_CAP_MB), the 250 MP compare once. The rows are
# also written to SCRATCH/process_bench.csv (RESULTS=FILE to change it).
#
# Ratios: "faster" rows are other time / convcorr time (above 1: convcorr is
# faster); "cost" rows are convcorr time / the other time, the target a
# ceiling. The OpenCV side runs both its paths (--method dft: cv::dft
# overlap-save; --method direct: cv::filter2D) and the faster one counts;
# a path whose first run is 1.5x slower than the other's best is not run
# again. Each 4K row checks that both tools wrote the same samples (max
# |difference|, 8-bit rounding of float sums: at most 1 expected).
#
# Needs python3 (the timer, the random kernels) and, for the 100 MP rows,
# Debian's libvips-tools.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CONVCORR:-$root/build/convcorr}
ocv=${OPENCV_FILTER:-$root/build/bench/opencv_filter}
runs=${RUNS:-3}
quick=${QUICK:-0}
scratch=${SCRATCH:-/tmp/convcorr-bench}
results=${RESULTS:-$scratch/process_bench.csv}
threads=2
export VIPS_CONCURRENCY=$threads

missing=()
command -v python3 >/dev/null || missing+=(python3)
[[ $quick == 1 ]] || command -v vips >/dev/null || missing+=(libvips-tools)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "process_bench: missing ${missing[*]}; install them with:" >&2
  echo "  apt-get install ${missing[*]}" >&2
  exit 1
fi
[[ -x "$bin" ]] || { echo "process_bench: no $bin; build it first" >&2; exit 1; }
[[ -x "$ocv" ]] || {
  echo "process_bench: no $ocv; configure with -DCONVCORR_BUILD_BENCH=ON" \
    "and build the target opencv_filter" >&2
  exit 1
}

mkdir -p "$scratch"
out=$scratch/out   # this run's outputs, one directory per side
log=$scratch/last.log
rm -rf "$out"

# The timer: runs a command RUNS times (stdout and stderr to LOG), after a
# PREP shell command each time, stops repeating once a run takes longer than
# CUTOFF s (0: never), and prints the best wall time, the largest peak RSS
# in KiB and the CPU time (user + system) of the best run, or "failed", RSS,
# CPU time and wall time of the failed run.
timer='
import os, subprocess, sys, time
runs, cutoff, prep, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
cmd, best, rss, cpu = sys.argv[5:], None, 0, 0
for _ in range(runs):
    subprocess.run(prep, shell=True, check=True)
    fa = [(os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
          (os.POSIX_SPAWN_DUP2, 1, 2)]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=fa)
    _, status, usage = os.wait4(pid, 0)
    t = time.perf_counter() - t0
    rss = max(rss, usage.ru_maxrss)
    if os.waitstatus_to_exitcode(status) != 0:
        print("failed", rss, f"{usage.ru_utime + usage.ru_stime:.2f} {t:.1f}")
        sys.exit()
    if best is None or t < best:
        best, cpu = t, usage.ru_utime + usage.ru_stime
    if cutoff > 0 and t > cutoff:
        break
print(f"{best:.3f} {rss} {cpu:.2f}")
'

# measure DIR CUTOFF CMD...: time CMD, which writes into DIR (emptied before
# every run); sets t (s or "failed"), m (peak RSS, MB), c (CPU s) and err
# ("failed after S s:" and the last line the command printed, if it failed).
measure() {
  local dir=$1 cutoff=$2 r w
  shift 2
  r=$(python3 -c "$timer" "$runs" "$cutoff" "rm -rf '$dir' && mkdir -p '$dir'" \
    "$log" "$@")
  read -r t m c w <<< "$r"
  m=$((m / 1024)) err=-
  if [[ $t == failed ]]; then
    err="failed after $w s: $(tail -n 1 "$log" | tr , ' ')"
    echo "process_bench: failed: $*" >&2
    tail -n 3 "$log" >&2
  fi
}

# opencv CMD K FRAME: opencv_filter by DFT, then direct; sets ot, om and
# opath (the faster: "dft" or "direct"; its output is in $out/cv-$opath).
opencv() {
  local cmd=$1 k=$2 frame=$3 dst=o.ppm t_dft m_dft cut=0
  [[ $cmd == compare ]] && dst=
  measure "$out/cv-dft" 0 "$ocv" "$cmd" --method dft --threads "$threads" \
    "$k" "$frame" "$out/cv-dft/$dst"
  t_dft=$t m_dft=$m
  [[ $t_dft == failed ]] || cut=$(awk -v t="$t_dft" 'BEGIN { print 1.5 * t }')
  measure "$out/cv-direct" "$cut" "$ocv" "$cmd" --method direct \
    --threads "$threads" "$k" "$frame" "$out/cv-direct/$dst"
  if [[ $t == failed ]] || { [[ $t_dft != failed ]] &&
    awk -v a="$t_dft" -v b="$t" 'BEGIN { exit !(a < b) }'; }; then
    ot=$t_dft om=$m_dft opath=dft
  else
    ot=$t om=$m opath=direct
  fi
}

# maxdiff A B...: the largest |A - B| over the pairs, "-" if any is missing.
maxdiff() {
  local worst=0 d
  while [[ $# -ge 2 ]]; do
    [[ -s $1 && -s $2 ]] || { echo -; return; }
    d=$("$ocv" maxdiff "$1" "$2") || { echo -; return; }
    worst=$(awk -v a="$worst" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
    shift 2
  done
  echo "$worst"
}

fmt='%-25s %-13s %7s %6s %7s %6s %6s %6s  %-24s %-7s %s\n'
echo "row,other,convcorr_s,convcorr_cpu_s,other_s,ratio,convcorr_rss_mb,\
other_rss_mb,target,result,check" > "$results"

# row LABEL OTHER CC_T CC_CPU CC_M OT_T OT_M KIND TARGET [RSS_MAX_MB] [CHECK]:
# one table row and CSV line. KIND: faster (OT/CC >= TARGET), cost (CC/OT <=
# TARGET) or completes (CC did not fail).
row() {
  local label=$1 other=$2 ct=$3 cc=$4 cm=$5 ot=$6 om=$7 kind=$8 target=$9
  local rss_max=${10:-} check=${11:--} line
  line=$(awk -v ct="$ct" -v ot="$ot" -v kind="$kind" -v target="$target" \
    -v cm="$cm" -v rss="$rss_max" 'BEGIN {
      ok = ct != "failed" && ot != "failed" && ot != "-"
      ratio = "-"
      if (kind == "completes") { tgt = "completes"; met = ct != "failed" }
      else if (kind == "faster") { tgt = sprintf(">= %.2fx", target)
        if (ok) { r = ot / ct; met = r >= target } }
      else { tgt = sprintf("<= %.2fx", target)
        if (ok) { r = ct / ot; met = r <= target } }
      if (kind != "completes" && ok) ratio = sprintf("%.2fx", r)
      if (rss != "") { tgt = tgt "; RSS <= " rss " MB"
        if (ct == "failed" || cm + 0 > rss + 0) met = 0 }
      print ratio "|" tgt "|" (met ? "met" : "not met")
    }')
  IFS='|' read -r ratio tgt result <<< "$line"
  # shellcheck disable=SC2059
  printf "$fmt" "$label" "$other" "$ct" "$cc" "$ot" "$ratio" "$cm" "$om" \
    "$tgt" "$result" "$check"
  echo "$label,$other,$ct,$cc,$ot,$ratio,$cm,$om,$tgt,$result,$check" \
    >> "$results"
}

# make_frame W H FILE: the sample photo resized to W x H, once.
make_frame() {
  [[ -s $3 ]] && return
  echo "making $3 (${1}x$2)" >&2
  "$ocv" resize "$root/samples/photos/coffee.png" "$1" "$2" "$3.part.ppm"
  mv "$3.part.ppm" "$3"
}

# The kernels: fixed-seed random weights in [-1, 1] rounded to four
# decimals (Python's random.Random(n) for n x n, as tools_compare.sh), one
# CSV row per line; motion:31,30 and sobel-x as convcorr writes them.
python3 - "$scratch" <<'PY'
import random, sys
for n in (3, 5, 15, 63, 101):
    rng = random.Random(n)
    rows = [[round(rng.uniform(-1, 1), 4) for _ in range(n)] for _ in range(n)]
    with open(f"{sys.argv[1]}/K{n}.csv", "w") as f:
        f.write("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
PY
"$bin" kernel motion:31,30 --to csv > "$scratch/M31.csv"
"$bin" kernel sobel-x --to vips > "$scratch/sobel.mat"

frame=$scratch/frame4k.ppm
make_frame 3840 2160 "$frame"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "convcorr: $("$bin" --version 2>&1 | head -1); $runs runs per command;" \
  "$threads threads; results in $results"
echo "ratio: other/convcorr for '>=' rows, convcorr/other for '<=' rows;" \
  "check: max |convcorr - OpenCV| over the 8-bit outputs"
# shellcheck disable=SC2059
printf "\n$fmt" row other "cc s" "cc cpu" "other s" ratio "cc MB" "oth MB" \
  target result check

ccopt=(--threads "$threads" -q)
declare -A cc_corr_t

# correlate_row NAME TARGET: 4K correlate, convcorr against OpenCV.
correlate_row() {
  local k=$scratch/$1.csv
  measure "$out/cc" 0 "$bin" correlate "${ccopt[@]}" -k "@$k" "$frame" \
    -o "$out/cc/o.ppm"
  local ct=$t cc=$c cm=$m
  cc_corr_t[$1]=$t
  opencv correlate "$k" "$frame"
  row "4K correlate $1" "opencv $opath" "$ct" "$cc" "$cm" "$ot" "$om" faster \
    "$2" "" \
    "$(maxdiff "$out/cc/o.ppm" "$out/cv-$opath/o.ppm")"
}

# compare_row NAME TARGET [COST_TARGET]: 4K compare against OpenCV, then
# (with COST_TARGET) compare time / correlate time.
compare_row() {
  local k=$scratch/$1.csv
  if [[ -n ${3:-} && -z ${cc_corr_t[$1]:-} ]]; then
    measure "$out/cc" 0 "$bin" correlate "${ccopt[@]}" -k "@$k" "$frame" \
      -o "$out/cc/o.ppm"
    cc_corr_t[$1]=$t
  fi
  measure "$out/cc" 0 "$bin" compare "${ccopt[@]}" -k "@$k" "$frame" \
    -o "$out/cc" --format ppm
  local ct=$t cc=$c cm=$m
  opencv compare "$k" "$frame"
  row "4K compare $1" "opencv $opath" "$ct" "$cc" "$cm" "$ot" "$om" faster \
    "$2" "" \
    "$(maxdiff "$out/cc/frame4k.convolve.ppm" "$out/cv-$opath/convolve.ppm" \
      "$out/cc/frame4k.correlate.ppm" "$out/cv-$opath/correlate.ppm")"
  [[ -z ${3:-} ]] ||
    row "4K compare/correlate $1" "cc correlate" "$ct" "$cc" "$cm" \
      "${cc_corr_t[$1]}" - cost "$3"
}

compare_row K3 2 1.5
compare_row K5 2 1.5
correlate_row K15 1.5
compare_row K15 2 1.5
correlate_row M31 1.5
correlate_row K63 2.5
correlate_row K101 2.5
compare_row K63 3

if [[ $quick == 1 ]]; then
  echo "QUICK=1: the 4K rows only"
  exit 0
fi
rm -rf "$out"

# The big frames: 100 MP (10000x10000, 300 MB) and 250 MP (20000x12500,
# 750 MB). Outputs need up to about 2.5 GB at a time (the 250 MP compare:
# two 750 MB PPM files and the difference map).
big100=$scratch/frame100mp.ppm big250=$scratch/frame250mp.ppm
need_kb=2500000
[[ -s $big100 ]] || need_kb=$((need_kb + 300000))
[[ -s $big250 ]] || need_kb=$((need_kb + 750000))
free_kb=$(df -Pk "$scratch" | awk 'NR == 2 { print $4 }')
if ((free_kb < need_kb)); then
  echo "process_bench: $((free_kb / 1024)) MB free in $scratch, the 100 MP and" \
    "250 MP rows need $((need_kb / 1024)) MB: skipped (SCRATCH=DIR elsewhere)"
  exit 0
fi
make_frame 10000 10000 "$big100"
make_frame 20000 12500 "$big250"
# Whole-image buffers of a 250 MP compare may outgrow the memory: every
# big row runs with its address space capped at 3/4 of what is available
# (MEM_CAP_MB to change it), so such a run fails on its own instead of
# calling in the OOM killer on a shared machine.
cap_mb=${MEM_CAP_MB:-$(awk '/^MemAvailable:/ { print int($2 * 3 / 4 / 1024) }' \
  /proc/meminfo)}
echo "100 MP and 250 MP rows: address space capped at $cap_mb MB"
ulimit -v $((cap_mb * 1024))

big=("${ccopt[@]}" --max-pixels 3e8)
measure "$out/cc" 0 "$bin" correlate "${big[@]}" -k sobel-x "$big100" \
  -o "$out/cc/o.ppm"
corr_t=$t corr_c=$c corr_m=$m
measure "$out/vips" 0 vips conv "$big100" "$out/vips/o.ppm" \
  "$scratch/sobel.mat" --precision integer
row "100MP correlate sobel-x" "vips conv" "$corr_t" "$corr_c" "$corr_m" \
  "$t" "$m" faster 0.8 300
measure "$out/cc" 0 "$bin" compare "${big[@]}" -k sobel-x "$big100" \
  -o "$out/cc" --format ppm
row "100MP compare sobel-x" "cc correlate" "$t" "$c" "$m" "$corr_t" \
  "$corr_m" cost 2 1536
rm -rf "$out"
runs=1 measure "$out/cc" 0 "$bin" compare "${big[@]}" -k sobel-x "$big250" \
  -o "$out/cc" --format ppm
row "250MP compare sobel-x" - "$t" "$c" "$m" - - completes "" "" "$err"
rm -rf "$out"
