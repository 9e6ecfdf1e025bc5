#!/usr/bin/env bash
# End to end through the real binary: lmaas train → eval → predict on a generated, learnable data set;
# byte-identical models from the same seed (also with ids spilled to disk); --resume equals an
# uninterrupted run; the published model is the best epoch's; Ctrl-C checkpoints;
# an nbsvm + bow ensemble with --refit; bad data fails with the file, line and reason.
#   tests/e2e/train_eval_predict.sh path/to/lmaas
set -euo pipefail
LMAAS="${1:?usage: $0 path/to/lmaas}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Sentences whose label is decided by which of two word sets they draw from, plus shared noise words.
gen() {  # gen N SEED FILE
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed); split("good great fine superb lovely", pos, " "); split("bad awful poor dull boring", neg, " ");
    split("the film a plot was it and this really quite", noise, " ");
    print "label\ttext";
    for (i = 0; i < n; i++) {
      y = int(rand() * 2); len = 4 + int(rand() * 8); s = "";
      for (j = 0; j < len; j++) {
        if (rand() < 0.35) w = (y ? pos[1 + int(rand() * 5)] : neg[1 + int(rand() * 5)]);
        else w = noise[1 + int(rand() * 10)];
        s = s (j ? " " : "") w;
      }
      if (s !~ /good|great|fine|superb|lovely|bad|awful|poor|dull|boring/) s = s " " (y ? "good" : "bad");
      print y "\t" s;
    }
  }' > "$3"
}
gen 800 1 "$WORK/train.tsv"
gen 200 2 "$WORK/dev.tsv"

train() { "$LMAAS" train --train "$WORK/train.tsv" --valid "$WORK/dev.tsv" --arch bow --embedding-dim 16 \
            --epochs 4 --patience 0 --lr 0.01 --threads 2 --seed 7 --log-format json "$@"; }

# 1. train, eval, predict
summary=$(train --out "$WORK/m1" 2>"$WORK/log1")
acc=$(echo "$summary" | sed -n 's/.*"dev":{"accuracy":\([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "dev accuracy $acc < 0.95: $summary"
grep -q '"event":"epoch"' "$WORK/log1" || fail "no JSON epoch lines in the log"
for f in config.json model.safetensors tokenizer.json; do [[ -s "$WORK/m1/$f" ]] || fail "m1/$f missing"; done
grep -q '"sha256"' "$WORK/m1/config.json" || fail "config.json lacks the data hash"
eval_json=$("$LMAAS" eval --model "$WORK/m1" --data "$WORK/dev.tsv" --json)
for key in accuracy macro_f1 per_class confusion roc_auc; do
  echo "$eval_json" | grep -q "\"$key\"" || fail "eval --json lacks $key"
done
[[ "$eval_json" == *"\"accuracy\":$acc"* ]] || fail "eval accuracy differs from the training summary ($acc): $eval_json"
out=$(printf 'superb lovely film\nawful boring plot\n' | "$LMAAS" predict --model "$WORK/m1")
[[ $(echo "$out" | wc -l) == 2 ]] || fail "predict: expected 2 lines, got: $out"
[[ $(echo "$out" | sed -n 1p) == *'"label":"1"'* ]] || fail "predict line 1: $out"
[[ $(echo "$out" | sed -n 2p) == *'"label":"0"'* ]] || fail "predict line 2: $out"
top=$(echo "great" | "$LMAAS" predict --model "$WORK/m1" --top-k 1)
[[ "$top" == *'"top_k":[{"label":"1"'* ]] || fail "predict --top-k: $top"

# 2. same seed and threads → byte-identical weights, also when the options come from a YAML file
cat > "$WORK/recipe.yaml" <<YAML
train: $WORK/train.tsv
valid: $WORK/dev.tsv
arch: bow
embedding_dim: 16
epochs: 4
patience: 0
lr: 0.01
threads: 2
seed: 7
log_format: json
YAML
"$LMAAS" train --config "$WORK/recipe.yaml" --out "$WORK/m2" >/dev/null 2>&1
cmp -s "$WORK/m1/model.safetensors" "$WORK/m2/model.safetensors" || fail "same seed (YAML config) gave different weights"
# encoded ids spilled to a memory-mapped temporary file (as a file larger than memory would) train the same model
train --out "$WORK/m6" --ids-memory-mb 0 >/dev/null 2>"$WORK/log6"
grep -q "kept in a temporary file" "$WORK/log6" || fail "--ids-memory-mb 0 did not spill: $(tail -2 "$WORK/log6")"
cmp -s "$WORK/m1/model.safetensors" "$WORK/m6/model.safetensors" || fail "spilled ids gave different weights"
ls -A "$WORK" | grep -q lmaas-ids && fail "a spill file was left behind"
msg=$("$LMAAS" train --config "$WORK/recipe.yaml" --epochs many --out "$WORK/x" 2>&1) && fail "a bad flag value was accepted"
[[ "$msg" == *"option 'epochs': 'many' is not an integer"* ]] || fail "bad flag message: $msg"
printf 'epocs: 3\n' | cat "$WORK/recipe.yaml" - > "$WORK/typo.yaml"
msg=$("$LMAAS" train --config "$WORK/typo.yaml" --out "$WORK/x" 2>&1) && fail "a misspelt config key was accepted"
[[ "$msg" == *"typo.yaml: unknown option 'epocs'"* ]] || fail "misspelt key message: $msg"

# 3. two epochs, then --resume to four == four straight (checkpoints hold the last epoch's weights), with
#    dropout: the masks of a step do not depend on where the run started
"$LMAAS" train --train "$WORK/train.tsv" --valid "$WORK/dev.tsv" --arch bow --embedding-dim 16 --epochs 2 \
  --patience 0 --lr 0.01 --threads 2 --seed 7 --dropout 0.3 --log-format json --out "$WORK/m3" >/dev/null 2>&1
train --out "$WORK/m3" --dropout 0.3 --resume >/dev/null 2>"$WORK/log3"
grep -q "resuming from" "$WORK/log3" || fail "--resume did not resume"
train --out "$WORK/m7" --dropout 0.3 >/dev/null 2>&1
cmp -s "$WORK/m7.ckpt/model.safetensors" "$WORK/m3.ckpt/model.safetensors" || fail "resumed run differs from a straight run"
# the published model is the best epoch's (held in memory, written with the last checkpoint), not the last's
best=$(echo "$summary" | sed -n 's/.*"best_epoch":\([0-9]*\).*/\1/p')
"$LMAAS" train --train "$WORK/train.tsv" --valid "$WORK/dev.tsv" --arch bow --embedding-dim 16 --epochs "$best" \
  --patience 0 --lr 0.01 --threads 2 --seed 7 --checkpoint-interval 0 --out "$WORK/m5" >/dev/null 2>&1
cmp -s "$WORK/m1/model.safetensors" "$WORK/m5.ckpt/model.safetensors" || fail "m1 does not hold its best epoch ($best)"

# 4. Ctrl-C: checkpoint, status 130, then --resume finishes
gen 20000 3 "$WORK/big.tsv"
set +e
"$LMAAS" train --train "$WORK/big.tsv" --valid "$WORK/dev.tsv" --arch lstm --epochs 50 --threads 2 \
  --log-format json --out "$WORK/m4" >"$WORK/out4" 2>"$WORK/log4" &
pid=$!
for _ in $(seq 1 100); do grep -q '"event":"step"' "$WORK/log4" 2>/dev/null && break; sleep 0.2; done
kill -INT "$pid"
wait "$pid"
status=$?
set -e
[[ $status == 130 ]] || fail "Ctrl-C: exit status $status, expected 130 ($(tail -3 "$WORK/log4"))"
grep -q '"interrupted":true' "$WORK/out4" || fail "Ctrl-C: summary does not say interrupted"
[[ -s "$WORK/m4.ckpt/trainer.json" ]] || fail "Ctrl-C: no checkpoint"

# 4b. pretrained vectors start the embedding rows of the words the file lists (zebra is not in the data)
{ echo "4 16"; for w in good superb the zebra; do printf '%s' "$w"; for _ in $(seq 16); do printf ' 0.25'; done; echo; done; } \
  > "$WORK/vectors.vec"
train --out "$WORK/m8" --pretrained-vectors "$WORK/vectors.vec" >/dev/null 2>"$WORK/log8"
grep -q "pretrained vectors: 3 of [0-9]* tokens found" "$WORK/log8" || fail "pretrained vectors: $(grep -i pretrained "$WORK/log8")"
grep -q '"pretrained_vectors": ".*vectors.vec"' "$WORK/m8/config.json" || fail "config.json does not record the vectors"
msg=$("$LMAAS" train --train "$WORK/train.tsv" --valid "$WORK/dev.tsv" --arch cnn --embedding-dim 8 \
  --pretrained-vectors "$WORK/vectors.vec" --out "$WORK/x" 2>&1) && fail "a dimension mismatch was accepted"
[[ "$msg" == *"vectors of dimension 16, the model's embeddings have 8"* ]] || fail "dimension mismatch message: $msg"

# 5. an ensemble of nbsvm (character n-grams) and bow, refit on train + dev: trains, loads, predicts
cat > "$WORK/ensemble.yaml" <<YAML
train: $WORK/train.tsv
valid: $WORK/dev.tsv
arch: ensemble
members:
  - {arch: nbsvm}
  - {arch: bow, embedding_dim: 8}
ngrams: 2
char_ngram_min: 2
char_ngram_max: 4
buckets: 5000
epochs: 3
patience: 0
lr: 0.01
threads: 2
refit: true
log_format: json
YAML
summary=$("$LMAAS" train --config "$WORK/ensemble.yaml" --out "$WORK/m5" 2>"$WORK/log5")
grep -q '"refit: [0-9]* epochs on 1000 training + validation examples"' "$WORK/log5" || fail "no refit on 1000 examples"
grep -q '"refit_on_train_and_valid": true' "$WORK/m5/config.json" || fail "config.json does not record the refit"
grep -q '"nbsvm"' "$WORK/m5/config.json" || fail "config.json lacks the nbsvm member"
eval5=$("$LMAAS" eval --model "$WORK/m5" --data "$WORK/dev.tsv" --json)
acc5=$(echo "$eval5" | sed -n 's/^{"accuracy":\([0-9.]*\).*/\1/p')
awk -v a="$acc5" 'BEGIN { exit !(a >= 0.95) }' || fail "ensemble accuracy $acc5 < 0.95: $eval5"
out=$(printf 'superb lovely film\nawful boring plot\n' | "$LMAAS" predict --model "$WORK/m5")
[[ $(echo "$out" | sed -n 2p) == *'"label":"0"'* ]] || fail "ensemble predict: $out"
msg=$("$LMAAS" train --config "$WORK/ensemble.yaml" --tokenizer char --out "$WORK/x" 2>&1) && fail "char n-grams on char tokens accepted"
[[ "$msg" == *"character n-grams need the word tokenizer"* ]] || fail "char n-gram spec message: $msg"

# 6. bad data fails with file, line and reason
printf 'label\ttext\n1\ta\n1\tb\n' > "$WORK/one.tsv"
msg=$("$LMAAS" train --train "$WORK/one.tsv" --out "$WORK/x" 2>&1) && fail "one-class data was accepted"
[[ "$msg" == *"needs at least two classes"* ]] || fail "one-class message: $msg"
printf 'label\ttext\n1\tok\n0\tbad \xff byte\n' > "$WORK/utf.tsv"
msg=$("$LMAAS" train --train "$WORK/utf.tsv" --out "$WORK/x" 2>&1) && fail "invalid UTF-8 was accepted"
[[ "$msg" == *"utf.tsv:3: invalid UTF-8 at byte 7"* ]] || fail "invalid UTF-8 message: $msg"
msg=$("$LMAAS" eval --model "$WORK/nope" --data "$WORK/dev.tsv" 2>&1) && fail "missing model accepted"
[[ "$msg" == *"does not exist"* ]] || fail "missing model message: $msg"
echo '{"format_version": 99}' > "$WORK/m2/config.json"
msg=$("$LMAAS" eval --model "$WORK/m2" --data "$WORK/dev.tsv" 2>&1) && fail "newer format accepted"
[[ "$msg" == *"format_version 99 is newer"* ]] || fail "newer format message: $msg"
echo "e2e train/eval/predict: ok (dev accuracy $acc)"
