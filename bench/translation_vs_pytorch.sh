#!/usr/bin/env bash
# Side-by-side translation benchmark: lmaas against the same transformer trained in PyTorch
# (bench/translation_torch.py, Debian's python3-torch) for the same wall-clock time on the same data and the
# same SentencePiece models (lmaas trains them; PyTorch loads them from the lmaas model).
#
#   bench/translation_vs_pytorch.sh [--minutes M] [--recipe FILE] [--decode-reps N]
#
# Defaults: 20 minutes each side, recipes/cmn-eng-zh-en.yaml (its data, columns and model shape), 3
# decoding repetitions. The sides run one after the other, never together (2 cores).
# Reports, on the recipe's dev set:
#   - dev BLEU/chrF of each side after M minutes (greedy decoding for both, scored by `lmaas eval
#     --hypotheses`, so one scorer judges both);
#   - decoding throughput, sentences/s, beam 4, batch 32, over the dev sources (median of N runs), both
#     sides decoding the lmaas-trained model (PyTorch loads its weights: --init-from-lmaas) with the same
#     search rule (score / length^1, fairseq style).
# Table: bench/out/translation_table.md; raw lines: bench/out/translation.jsonl. Nothing is built:
# build/release/lmaas must exist.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

MINUTES=20
RECIPE=recipes/cmn-eng-zh-en.yaml
REPS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="${2:?--minutes needs a number}"; shift ;;
    --recipe) RECIPE="${2:?--recipe needs a file}"; shift ;;
    --decode-reps) REPS="${2:?--decode-reps needs a number}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "translation_vs_pytorch: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

LMAAS=build/release/lmaas
PY=/usr/bin/python3
OUT=bench/out/translation
[[ -x "$LMAAS" ]] || { echo "translation_vs_pytorch: build $LMAAS first (make build)" >&2; exit 1; }
"$PY" -c 'import torch, sentencepiece' 2>/dev/null ||
  { echo "translation_vs_pytorch: $PY needs torch and sentencepiece: scripts/install-deps --references" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

# The recipe's values (flat YAML "key: value" lines) that both sides need.
recipe() { sed -n "s/^$1: *//p" "$RECIPE" | sed 's/ *#.*//' | head -1; }
TRAIN=$(recipe train) VALID=$(recipe valid) SRC_COL=$(recipe source_column) TGT_COL=$(recipe target_column)
TRAIN_TGT=$(recipe train_target) VALID_TGT=$(recipe valid_target)
D_MODEL=$(recipe d_model) HEADS=$(recipe n_heads) FF=$(recipe dim_feedforward)
ENC=$(recipe encoder_layers) DEC=$(recipe decoder_layers) DROPOUT=$(recipe dropout)
LR=$(recipe lr) WARMUP=$(recipe warmup_steps) TOKENS=$(recipe batch_tokens) SMOOTH=$(recipe label_smoothing)

unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS
echo "== lmaas: $RECIPE for $MINUTES minutes"
"$LMAAS" train --config "$RECIPE" --max-minutes "$MINUTES" --average-last 0 --log-format json \
  --out "$OUT/lmaas-model" > "$OUT/lmaas-train.json" 2> "$OUT/lmaas-train.log"

# Dev data as the PyTorch script reads it, and the references.
if [[ -n "$TRAIN_TGT" ]]; then
  DATA_ARGS=(--train-src "$TRAIN" --train-tgt "$TRAIN_TGT" --dev-src "$VALID" --dev-tgt "$VALID_TGT")
  EVAL_ARGS=(--data "$VALID" --data-target "$VALID_TGT")
else
  DATA_ARGS=(--train "$TRAIN" --dev "$VALID" --src-col "${SRC_COL:-0}" --tgt-col "${TGT_COL:-1}")
  EVAL_ARGS=(--data "$VALID" --source-column "${SRC_COL:-0}" --target-column "${TGT_COL:-1}")
fi
MODEL_ARGS=(--d-model "$D_MODEL" --heads "$HEADS" --ff "$FF" --enc-layers "$ENC" --dec-layers "$DEC" --dropout "$DROPOUT"
            --lr "$LR" --warmup "$WARMUP" --batch-tokens "$TOKENS" --label-smoothing "$SMOOTH" --threads 2
            --src-spm "$OUT/lmaas-model/source.model" --tgt-spm "$OUT/lmaas-model/target.model")

echo "== PyTorch: the same configuration for $MINUTES minutes"
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 "$PY" bench/translation_torch.py "${DATA_ARGS[@]}" "${MODEL_ARGS[@]}" \
  --minutes "$MINUTES" --out "$OUT/torch" > "$OUT/torch-train.json" 2> "$OUT/torch-train.log"

echo "== dev BLEU, greedy, one scorer"
"$LMAAS" eval --model "$OUT/lmaas-model" "${EVAL_ARGS[@]}" --beam-size 1 --output-hypotheses "$OUT/lmaas.dev.hyp" \
  --json > "$OUT/lmaas-eval.json"
"$LMAAS" eval --hypotheses "$OUT/lmaas.dev.hyp" --references "$OUT/torch/dev.ref" --json > "$OUT/lmaas-score.json"
"$LMAAS" eval --hypotheses "$OUT/torch/dev.hyp" --references "$OUT/torch/dev.ref" --json > "$OUT/torch-score.json"

echo "== decoding: beam 4, batch 32, $REPS runs each"
for rep in $(seq "$REPS"); do
  "$LMAAS" eval --model "$OUT/lmaas-model" "${EVAL_ARGS[@]}" --beam-size 4 --decode-batch-size 32 --threads 2 --json \
    > "$OUT/lmaas-decode-$rep.json"
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 "$PY" bench/translation_torch.py "${DATA_ARGS[@]}" --threads 2 \
    --init-from-lmaas "$OUT/lmaas-model" --decode-bench --beam 4 --decode-batch 32 --length-penalty-style fairseq \
    --length-penalty 1.0 --out "$OUT/torch-same-model" | tail -1 > "$OUT/torch-decode-$rep.json"
done

"$PY" - "$OUT" "$MINUTES" <<'EOF'
import glob, json, os, statistics, sys
out, minutes = sys.argv[1], sys.argv[2]
load = lambda p: json.load(open(os.path.join(out, p)))
lm, pt = load("lmaas-score.json"), load("torch-score.json")
lm_train = json.load(open(os.path.join(out, "lmaas-train.json")))
pt_train = [json.loads(l) for l in open(os.path.join(out, "torch-train.json")) if l.startswith("{")][-1]
n = lm["sentences"]
lm_dec = statistics.median(n / json.load(open(p))["seconds"] for p in glob.glob(os.path.join(out, "lmaas-decode-*.json")))
pt_dec = statistics.median(json.load(open(p))["decode_sentences_per_s"] for p in glob.glob(os.path.join(out, "torch-decode-*.json")))
rows = [("dev BLEU (greedy) after %s min" % minutes, lm["bleu"], pt["bleu"]),
        ("dev chrF", lm["chrf"], pt["chrf"]),
        ("training steps", lm_train["steps"], pt_train["steps"]),
        ("decode sentences/s (beam 4, batch 32, same model)", lm_dec, pt_dec)]
lines = ["| | lmaas | PyTorch | lmaas / PyTorch |", "|---|---:|---:|---:|"]
for name, a, b in rows:
    lines.append("| %s | %.2f | %.2f | %.2f× |" % (name, a, b, a / b if b else float("inf")))
table = "\n".join(lines)
open(os.path.join(out, "..", "translation_table.md"), "w").write(table + "\n")
with open(os.path.join(out, "..", "translation.jsonl"), "w") as f:
    for name, a, b in rows:
        f.write(json.dumps({"row": name, "lmaas": a, "pytorch": b}) + "\n")
print(table)
EOF
