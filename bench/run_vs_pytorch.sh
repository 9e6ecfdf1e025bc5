#!/usr/bin/env bash
# Side-by-side benchmark: `lmaas bench` against its PyTorch twin (bench/pytorch_twin.py).
#
#   bench/run_vs_pytorch.sh [--quick] [--reps N]
#
# --quick: few steps and 1 rep (unless --reps), a smoke run only.
# Rows: lstm, gru, transformer x {train b64, infer b1, infer b64}, 2 threads each.
# Each row runs lmaas and PyTorch N times (default 3), alternating sides, and the
# table reports the medians. Raw JSON lines go to bench/out/results.jsonl and the
# table to bench/out/table.md. Nothing is built: build/release/lmaas must exist.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
REPS=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_vs_pytorch: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$REPS" ]]; then
  REPS=3
  [[ $QUICK == 1 ]] && REPS=1
fi
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "run_vs_pytorch: --reps must be a positive integer" >&2; exit 2; }

LMAAS=build/release/lmaas
PY=/usr/bin/python3
TWIN=bench/pytorch_twin.py
THREADS=2
SEED=1
OUT=bench/out

if [[ ! -x "$LMAAS" ]]; then
  echo "run_vs_pytorch: $LMAAS does not exist yet; build it first (make build). Nothing was run." >&2
  exit 1
fi
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "run_vs_pytorch: $PY cannot import torch; run scripts/install-deps --references" >&2
  exit 1
fi

# Both sides start from a clean BLAS/OpenMP environment. PyTorch then gets one
# OpenBLAS thread (its own OpenMP pool does the threading; without this the two
# pools oversubscribe the cores) and OMP_NUM_THREADS = --threads.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS OMP_NUM_THREADS
CLEAN_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS)
TORCH_ENV=(OPENBLAS_NUM_THREADS=1 "OMP_NUM_THREADS=$THREADS")

# arch mode batch steps warmup   (steps chosen so each run takes a few seconds)
if [[ $QUICK == 1 ]]; then
  PLAN="train 64 3 1
infer 1 10 2
infer 64 3 1"
else
  PLAN="train 64 20 3
infer 1 200 20
infer 64 30 3"
fi

mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
ROWS="$OUT/rows.tsv"
ERRLOG="$OUT/stderr.log"
: > "$RESULTS"; : > "$ROWS"; : > "$ERRLOG"
FAILED=0

quote() { printf '%q ' "$@" | sed 's/ $//'; }

# run_side NAME CMD... : runs one benchmark command, appends its JSON line to $RESULTS.
run_side() {
  local name="$1"; shift
  local stdout line
  echo "== $(quote "$@")" >> "$ERRLOG"
  if stdout=$("$@" </dev/null 2>>"$ERRLOG"); then
    line=$(printf '%s\n' "$stdout" | grep '^{' | tail -n 1 || true)
    if [[ -n "$line" ]]; then
      printf '%s\n' "$line" >> "$RESULTS"
      return 0
    fi
    echo "  $name: no JSON line in the output" >&2
  else
    echo "  $name: exited with status $? (stderr in $ERRLOG)" >&2
  fi
  FAILED=1
}

read -r LOAD1 _ < /proc/loadavg
echo "lmaas vs PyTorch: threads $THREADS, $REPS rep(s) per side, load average $LOAD1, $(nproc) CPU(s)"
[[ $QUICK == 1 ]] && echo "(--quick: smoke run, figures are not meaningful)"

for arch in lstm gru transformer; do
  while read -r mode batch steps warmup; do
    args=(--arch "$arch" --mode "$mode" --batch "$batch" --threads "$THREADS"
          --steps "$steps" --warmup "$warmup" --seed "$SEED")
    lmaas_cmd=("${CLEAN_ENV[@]}" "$LMAAS" bench "${args[@]}")
    torch_cmd=("${CLEAN_ENV[@]}" "${TORCH_ENV[@]}" "$PY" "$TWIN" "${args[@]}")
    printf '%s\t%s\t%s\t%s\t%s\n' "$arch" "$mode" "$batch" \
      "$(quote "${lmaas_cmd[@]}")" "$(quote "${torch_cmd[@]}")" >> "$ROWS"
    echo "$arch $mode batch $batch ..."
    for ((rep = 1; rep <= REPS; rep++)); do
      run_side lmaas "${lmaas_cmd[@]}"
      run_side pytorch "${torch_cmd[@]}"
    done
  done <<< "$PLAN"
done

# Medians, ratios and the table (stdout and $OUT/table.md).
"$PY" - "$RESULTS" "$ROWS" "$OUT/table.md" "$LOAD1" "$QUICK" <<'EOF'
import json, statistics, sys

results_path, rows_path, table_path, load, quick = sys.argv[1:6]
runs = {}
for text in open(results_path):
    try:
        r = json.loads(text)
        key = (r["impl"], r["arch"], r["mode"], int(r["batch"]))
    except (ValueError, KeyError, TypeError):
        continue
    runs.setdefault(key, []).append(r)

def values(impl, arch, mode, batch, field):
    return [float(r[field]) for r in runs.get((impl, arch, mode, batch), [])
            if r.get(field) is not None]

def med(xs):
    return statistics.median(xs) if xs else None

def cell(xs, digits):
    if not xs:
        return "n/a"
    text = f"{med(xs):.{digits}f}"
    return text + (f" ({min(xs):.{digits}f}–{max(xs):.{digits}f})" if len(xs) > 1 else "")

lines = ["| arch | mode | batch | metric | lmaas | pytorch | ratio | target | met | FLOP frac lmaas / pytorch |",
         "|---|---|---:|---|---:|---:|---:|---:|:---:|---:|"]
commands, notes = [], []
for row in open(rows_path):
    arch, mode, batch, lmaas_cmd, torch_cmd = row.rstrip("\n").split("\t")
    batch = int(batch)
    latency = mode == "infer" and batch == 1
    field, metric, digits = ("latency_ms", "latency ms", 3) if latency else ("samples_per_s", "samples/s", 1)
    lm, pt = values("lmaas", arch, mode, batch, field), values("pytorch", arch, mode, batch, field)
    target = 3.0 if (mode == "train" and arch == "transformer") else 2.0
    ratio = None
    if lm and pt and med(lm) > 0 and med(pt) > 0:
        ratio = med(pt) / med(lm) if latency else med(lm) / med(pt)
    frac = [med(values(i, arch, mode, batch, "flop_limit_fraction")) for i in ("lmaas", "pytorch")]
    frac_text = " / ".join("n/a" if f is None else f"{f:.3f}" for f in frac)
    lines.append(f"| {arch} | {mode} | {batch} | {metric} | {cell(lm, digits)} | {cell(pt, digits)} | "
                 f"{'n/a' if ratio is None else f'{ratio:.2f}×'} | "
                 f"≥{target:g}×{' (latency ≤ ½)' if latency else ''} | "
                 f"{'?' if ratio is None else ('yes' if ratio >= target else 'NO')} | {frac_text} |")
    fl = {i: set(values(i, arch, mode, batch, "flops_per_step")) for i in ("lmaas", "pytorch")}
    if fl["lmaas"] and fl["pytorch"] and fl["lmaas"] != fl["pytorch"]:
        notes.append(f"- flops_per_step differs for {arch} {mode} b{batch}: "
                     f"lmaas {sorted(fl['lmaas'])} vs pytorch {sorted(fl['pytorch'])}")
    commands += [f"- {arch} {mode} b{batch}", f"  - lmaas:   `{lmaas_cmd}`", f"  - pytorch: `{torch_cmd}`"]

gemm = {i: med([float(r["gemm_gflops"]) for k, rs in runs.items() if k[0] == i for r in rs
                if r.get("gemm_gflops") is not None]) for i in ("lmaas", "pytorch")}
header = [f"# lmaas vs PyTorch ({'QUICK smoke run, not meaningful' if quick == '1' else 'median of runs, (min–max)'})",
          "",
          "Ratio: samples/s lmaas ÷ pytorch; for infer batch 1, latency pytorch ÷ lmaas (speed-up).",
          f"Load average at start: {load}. Median SGEMM GFLOP/s measured by each side: "
          + ", ".join(f"{i} {'n/a' if g is None else f'{g:.1f}'}" for i, g in gemm.items()) + ".",
          ""]
text = "\n".join(header + lines + ([""] + notes if notes else []) + ["", "Commands:", ""] + commands) + "\n"
open(table_path, "w").write(text)
print()
print(text, end="")
EOF

echo
echo "raw JSON lines: $RESULTS   table: $OUT/table.md"
if [[ $FAILED != 0 ]]; then
  echo "run_vs_pytorch: some runs failed (see above and $ERRLOG)" >&2
  exit 1
fi
