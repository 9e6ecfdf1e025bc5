#!/usr/bin/env bash
# lmaas against llama.cpp on the same GGUF files: prompt processing (pp, 512 tokens) and generation (tg, 128
# tokens) tokens/s with 2 threads, on a LLaMA-architecture model of ~110M parameters with random weights written
# by lmaas' own GGUF writer, in F16, Q8_0 and Q4_0. Medians of --repetitions runs each; the two programs run one
# after the other on the same file. Also prints lmaas' share of the machine's measured memory read bandwidth
# during generation.
#
#   bench/llm_vs_llamacpp.sh --llama-bench /path/to/llama.cpp/build/bin/llama-bench [--repetitions 5] [--keep DIR]
#
# llama-bench comes from llama.cpp built from source outside this repository (CPU build, e.g. cmake -B build
# -DGGML_NATIVE=ON && cmake --build build --target llama-bench); this script does not build it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
lmaas="$here/build/release/lmaas"
llama_bench=""
reps=5
threads=2
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --llama-bench) llama_bench="$2"; shift 2 ;;
    --repetitions) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --keep) work="$2"; shift 2 ;;
    --lmaas) lmaas="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$llama_bench" ]] || { echo "pass --llama-bench path/to/llama-bench (llama.cpp built outside the repo)" >&2; exit 2; }
if [[ -z "$work" ]]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"

# ~110M parameters: dim 768, 12 layers, 12 heads, feed-forward 2048, vocabulary 32000, tied embeddings; it carries
# LLaMA's own tokenizer (32000 pieces) when the shared data is beside the repository, so that prompts sent to it
# (bench/llm_serve_streams.py) are as many tokens as for a real LLaMA, else a synthetic one.
spm_vocab="$here/../shared/data/tokenizer-vectors/llama.cpp/ggml-vocab-llama-spm.gguf"
tokenizer=()
[[ -f "$spm_vocab" ]] && tokenizer=(--tokenizer "$spm_vocab")
[[ -f "$work/r110-f16.gguf" ]] || "$lmaas" convert --random-llama --type f16 --output "$work/r110-f16.gguf" --seed 1 \
  "${tokenizer[@]}"
for t in q8_0 q4_0; do
  [[ -f "$work/r110-$t.gguf" ]] || "$lmaas" quantize "$work/r110-f16.gguf" "$work/r110-$t.gguf" "$t"
done

printf '%-6s %12s %12s %7s   %12s %12s %7s   %s\n' type "lmaas pp" "llama.cpp pp" ratio "lmaas tg" "llama.cpp tg" ratio \
  "tg bandwidth (lmaas)"
for t in f16 q8_0 q4_0; do
  model="$work/r110-$t.gguf"
  ours=$("$lmaas" bench --llm "$model" --threads "$threads" --prompt-tokens 512 --gen-tokens 128 --repetitions "$reps")
  theirs=$("$llama_bench" -m "$model" -t "$threads" -p 512 -n 128 -r "$reps" -o jsonl 2>/dev/null)
  /usr/bin/python3 - "$t" "$ours" "$theirs" <<'EOF'
import json, sys
t, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
# llama-bench reports the mean of its runs per test; its per-run samples give the median.
def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]
pp = [r for r in theirs if r["n_prompt"] > 0 and r["n_gen"] == 0][0]
tg = [r for r in theirs if r["n_gen"] > 0 and r["n_prompt"] == 0][0]
pp_l, tg_l = median(pp.get("samples_ts", [pp["avg_ts"]])), median(tg.get("samples_ts", [tg["avg_ts"]]))
print("%-6s %12.1f %12.1f %6.2fx   %12.1f %12.1f %6.2fx   %.1f of %.1f GB/s (%.0f%%)" % (
    t, ours["pp_tokens_per_s"], pp_l, ours["pp_tokens_per_s"] / pp_l, ours["tg_tokens_per_s"], tg_l,
    ours["tg_tokens_per_s"] / tg_l, ours["tg_weight_gb_s"], ours["read_bandwidth_gb_s"],
    100 * ours["tg_bandwidth_fraction"]))
EOF
done
