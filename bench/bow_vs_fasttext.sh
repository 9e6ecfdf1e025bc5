#!/usr/bin/env bash
# Side-by-side benchmark: lmaas' `bow` model (recipes/bow/<set>.yaml) against the fasttext binary
# (Debian package, 0.9.2; 25 epochs, word unigrams and bigrams, 2 threads) on the same data:
# training wall time and dev accuracy (TREC: its shared test set).
#
#   bench/bow_vs_fasttext.sh [--reps N] [SET ...]      SET: sst2 mr chnsenticorp waimai trec
#
# Each side trains N times (default 3), alternating; the table reports median seconds and the
# median accuracy (fastText's hogwild threads make its runs differ; lmaas' are byte-identical).
# lmaas' time includes its per-epoch validation and model/checkpoint writes; fastText's includes
# loading its data. Output: bench/out/fasttext_table.md and the raw lines in
# bench/out/fasttext_results.jsonl. Nothing is built: build/release/lmaas must exist.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=3
SETS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    sst2|mr|chnsenticorp|waimai|trec) SETS+=("$1") ;;
    *) echo "bow_vs_fasttext: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ ${#SETS[@]} -gt 0 ]] || SETS=(sst2 mr chnsenticorp waimai trec)
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "bow_vs_fasttext: --reps must be a positive integer" >&2; exit 2; }

LMAAS=build/release/lmaas
PY=/usr/bin/python3
OUT=bench/out
WORK=$OUT/fasttext
DATA=../shared/data
[[ -x "$LMAAS" ]] || { echo "bow_vs_fasttext: $LMAAS is missing: run make build" >&2; exit 1; }
command -v fasttext >/dev/null || { echo "bow_vs_fasttext: no fasttext binary: run scripts/install-deps --references" >&2; exit 1; }
mkdir -p "$WORK"
RESULTS=$OUT/fasttext_results.jsonl
: > "$RESULTS"

# Per set: the held-out file, lmaas eval's data flags for it, and to_fasttext.py's flags.
set_info() {
  case "$1" in
    sst2) TRAIN=$DATA/sentiment/en/sst/stsa.binary.train DEV=$DATA/sentiment/en/sst/stsa.binary.dev
          EVAL_FLAGS=(--no-header --delimiter space) FT_FLAGS=(--format space) ;;
    mr) TRAIN=$DATA/sentiment/en/mr/train.tsv DEV=$DATA/sentiment/en/mr/dev.tsv
        EVAL_FLAGS=() FT_FLAGS=(--format tsv) ;;
    chnsenticorp) TRAIN=$DATA/sentiment/zh/chnsenticorp/train.tsv DEV=$DATA/sentiment/zh/chnsenticorp/dev.tsv
                  EVAL_FLAGS=(--text-column text_a) FT_FLAGS=(--format tsv --text-column text_a --split-cjk) ;;
    waimai) TRAIN=$DATA/sentiment/zh/waimai_10k/train.tsv DEV=$DATA/sentiment/zh/waimai_10k/dev.tsv
            EVAL_FLAGS=() FT_FLAGS=(--format tsv --split-cjk) ;;
    trec) TRAIN=$DATA/classification/en/trec/TREC.train DEV=$DATA/classification/en/trec/TREC.test
          EVAL_FLAGS=(--no-header --delimiter space --label-pattern '^([^:]+)' --encoding latin-1)
          FT_FLAGS=(--format space --label-prefix-colon --encoding latin-1) ;;
  esac
}

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

run_lmaas() {  # set rep
  local model=$WORK/lmaas-$1 t0 t1 acc
  rm -rf "$model" "$model.ckpt"
  t0=$(now)
  "$LMAAS" train --config "recipes/bow/$1.yaml" --out "$model" --log-format json > "$WORK/lmaas-$1.log" 2>&1
  t1=$(now)
  acc=$("$LMAAS" eval --model "$model" --data "$DEV" "${EVAL_FLAGS[@]}" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
  echo "{\"set\":\"$1\",\"side\":\"lmaas-bow\",\"rep\":$2,\"seconds\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'),\"accuracy\":$acc}" >> "$RESULTS"
}

run_fasttext() {  # set rep ngrams
  local model=$WORK/ft-$1-$3 t0 t1 acc
  t0=$(now)
  fasttext supervised -input "$WORK/$1.train.ft" -output "$model" -epoch 25 -wordNgrams "$3" -thread 2 \
    -seed "$2" -verbose 0 > /dev/null
  t1=$(now)
  acc=$(fasttext test "$model.bin" "$WORK/$1.dev.ft" | awk '$1=="P@1"{print $2}')
  echo "{\"set\":\"$1\",\"side\":\"fasttext-ngrams$3\",\"rep\":$2,\"seconds\":$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'),\"accuracy\":$acc}" >> "$RESULTS"
}

for s in "${SETS[@]}"; do
  set_info "$s"
  $PY bench/to_fasttext.py "${FT_FLAGS[@]}" "$TRAIN" "$WORK/$s.train.ft"
  $PY bench/to_fasttext.py "${FT_FLAGS[@]}" "$DEV" "$WORK/$s.dev.ft"
  for ((r = 1; r <= REPS; r++)); do
    run_lmaas "$s" "$r"
    run_fasttext "$s" "$r" 1
    run_fasttext "$s" "$r" 2
  done
done

{
  echo "| set | lmaas bow acc | lmaas bow s | fastText uni acc | fastText uni s | fastText bi acc | fastText bi s | time ratio (best fastText / lmaas) |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${SETS[@]}"; do
    row() { $PY -c "import json,sys
rows=[json.loads(l) for l in open('$RESULTS') if json.loads(l)['set']=='$s' and json.loads(l)['side']=='$1']
print('\n'.join(str(r['$2']) for r in rows))" | median; }
    la=$(row lmaas-bow accuracy) ls=$(row lmaas-bow seconds)
    ua=$(row fasttext-ngrams1 accuracy) us=$(row fasttext-ngrams1 seconds)
    ba=$(row fasttext-ngrams2 accuracy) bs=$(row fasttext-ngrams2 seconds)
    best_s=$(awk -v ua="$ua" -v ba="$ba" -v us="$us" -v bs="$bs" 'BEGIN{print (ba > ua ? bs : us)}')
    awk -v s="$s" -v la="$la" -v ls="$ls" -v ua="$ua" -v us="$us" -v ba="$ba" -v bs="$bs" -v best="$best_s" \
      'BEGIN{printf "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f× |\n", s, la*100, ls, ua*100, us, ba*100, bs, best/ls}'
  done
} | tee "$OUT/fasttext_table.md"
