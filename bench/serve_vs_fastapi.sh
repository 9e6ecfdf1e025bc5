#!/usr/bin/env bash
# Side-by-side serving benchmark: `lmaas serve` against a FastAPI + uvicorn + PyTorch twin
# (bench/fastapi_twin.py) on POST /v1/classify with the sentiment-en model, loaded by wrk.
#
#   bench/serve_vs_fastapi.sh [--duration S] [--reps N] [--levels "1 16 64 256"] [--idle N]
#                             [--idle-send request|nothing] [--no-auth] [--only fastapi|lmaas] [--quick]
#                             [--lmaas-args "--io-threads 2 ..."] [--models DIR] [--quiet-wait S]
#
# Each server runs alone (never both at once): start, poll /v2/health/ready, check its answers
# against `lmaas predict` on 50 sentences, warm up, then wrk at each concurrency (threads min(c, 2))
# for S seconds (default 10), N times (default 3); then c = 64 without and with --idle (1000) idle
# keep-alive connections (bench/idle_connections.py), alternating, N times. Auth: a key from
# `lmaas keys create` (both servers check a bearer key); --no-auth, or a binary without `keys`,
# runs both without one. --lmaas-args: extra `lmaas serve` flags (default: none, its defaults).
# --models: the repository lmaas serves (default models/: every model in it is loaded; the twin
# loads DIR/sentiment-en/1 only). Before each timed run the script waits up to --quiet-wait
# seconds (120; 0: never) for other processes to leave the CPUs alone (< 5 % over 1 s).
# --quick: 3 s, 1 rep (a smoke run). Output: the tables on stdout and in bench/out/serve_table.md,
# raw lines in bench/out/serve_results.jsonl, logs in bench/out/serve-*.log.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

DURATION=10
REPS=
LEVELS="1 16 64 256"
IDLE_N=1000
IDLE_SEND=request
NO_AUTH=0
ONLY=
LMAAS_ARGS=
MODELS=models
QUIET_WAIT=120
QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="${2:?--duration needs seconds}"; shift ;;
    --reps) REPS="${2:?--reps needs a number}"; shift ;;
    --levels) LEVELS="${2:?--levels needs a list}"; shift ;;
    --idle) IDLE_N="${2:?--idle needs a number}"; shift ;;
    --idle-send) IDLE_SEND="${2:?--idle-send needs request or nothing}"; shift ;;
    --no-auth) NO_AUTH=1 ;;
    --only) ONLY="${2:?--only needs fastapi or lmaas}"; shift ;;
    --lmaas-args) LMAAS_ARGS="${2?--lmaas-args needs a string}"; shift ;;
    --models) MODELS="${2:?--models needs a directory}"; shift ;;
    --quiet-wait) QUIET_WAIT="${2:?--quiet-wait needs seconds}"; shift ;;
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "serve_vs_fastapi: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then DURATION=3; REPS=${REPS:-1}; fi
REPS=${REPS:-3}
die() { echo "serve_vs_fastapi: $*" >&2; exit 2; }
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "--duration must be a positive integer (seconds)"
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer"
[[ "$QUIET_WAIT" =~ ^[0-9]+$ ]] || die "--quiet-wait must be a number of seconds"
[[ "$IDLE_N" =~ ^[0-9]+$ ]] || die "--idle must be a number (0: no idle-connection test)"
[[ "$IDLE_SEND" == request || "$IDLE_SEND" == nothing ]] || die "--idle-send must be request or nothing"
[[ -z "$ONLY" || "$ONLY" == fastapi || "$ONLY" == lmaas ]] || die "--only must be fastapi or lmaas"
for c in $LEVELS; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "--levels: '$c' is not a positive integer"; done

LMAAS=build/release/lmaas
PY=/usr/bin/python3
MODEL_NAME=sentiment-en
MODEL_DIR=$MODELS/$MODEL_NAME/1
DATA=../shared/data/sentiment/en
OUT=bench/out
IDLE_LEVEL=64
TOL=1e-4

command -v wrk >/dev/null || { echo "serve_vs_fastapi: no wrk: run scripts/install-deps --references" >&2; exit 1; }
"$PY" -c 'import fastapi, uvicorn, torch' 2>/dev/null ||
  { echo "serve_vs_fastapi: $PY cannot import fastapi, uvicorn and torch: run scripts/install-deps --references" >&2; exit 1; }
[[ -f "$MODEL_DIR/config.json" ]] || { echo "serve_vs_fastapi: no $MODEL_DIR: run make models" >&2; exit 1; }
[[ -d "$DATA" ]] || { echo "serve_vs_fastapi: no $DATA (the shared data sets beside the repository)" >&2; exit 1; }

# 1000 idle connections + wrk + the servers' own sockets: more descriptors than the usual 1024.
want_fds=$((IDLE_N + 4096))
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $want_fds ]]; then
  hard=$(ulimit -Hn)
  if [[ $hard == unlimited || $hard -ge $want_fds ]]; then ulimit -n "$want_fds"; else ulimit -n "$hard"; fi
fi

mkdir -p "$OUT"
# One run at a time: two would share the two cores (and the output files) and spoil each other.
exec 9> "$OUT/.serve_vs_fastapi.lock"
if ! flock -n 9; then
  echo "serve_vs_fastapi: another run of this script is in progress; waiting for it to finish ..." >&2
  flock 9
fi
RESULTS=$OUT/serve_results.jsonl
TABLE=$OUT/serve_table.md
: > "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lmaas-serve-bench.XXXXXX")
SERVER_PID=
IDLE_PID=
FAILED=0
NOTES=()

# Stops what this script started: the server (its own process group: uvicorn's workers too) and
# the idle-connection holder.
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local pids
  if [[ $(ps -o pgid= -p "$SERVER_PID" 2>/dev/null | tr -d ' ') == "$SERVER_PID" ]]; then
    pids=("-$SERVER_PID")  # setsid made it a group leader: the group is exactly what it started
  else
    mapfile -t pids < <(tree_pids "$SERVER_PID")
  fi
  kill -TERM -- "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "${pids[@]}" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
cleanup() {
  [[ -n "$IDLE_PID" ]] && { kill -TERM "$IDLE_PID" 2>/dev/null || true; wait "$IDLE_PID" 2>/dev/null || true; }
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The server's process tree (the uvicorn supervisor, its workers).
tree_pids() {
  local p=$1 c
  [[ -d /proc/$p ]] || return 0
  echo "$p"
  # shellcheck disable=SC2013  # the file is space-separated pids
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
tree_rss_kib() {  # sum of VmRSS over the tree (pages shared between processes count once per process)
  local s=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' /proc/"$p"/status 2>/dev/null || true)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
tree_cpu_ticks() {  # user + system clock ticks used so far by the tree
  local s=0 p v
  for p in $(tree_pids "$1"); do
    v=$(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13}' || true)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $9}' /proc/stat; }  # user nice system steal
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# ---------------------------------------------------------------------------- inputs
SENTENCES=$WORK/sentences.txt   # 50 texts for the agreement check
BODIES=$WORK/bodies.jsonl       # the request bodies wrk rotates through
"$PY" - "$DATA" "$SENTENCES" "$BODIES" "$MODEL_NAME" <<'EOF'
import json, sys
data, sentences_path, bodies_path, model = sys.argv[1:5]
def texts(path, space_separated):
    lines = open(f"{data}/{path}", encoding="utf-8").read().split("\n")
    if space_separated:  # "<label> <text>"
        return [l.split(" ", 1)[1].strip() for l in lines if " " in l]
    return [l.split("\t")[1].strip() for l in lines[1:] if "\t" in l]  # header, then label<TAB>text
picked = []
for path, space, n in [("sst/stsa.binary.dev", True, 13), ("mr/dev.tsv", False, 13), ("cr/dev.tsv", False, 12),
                       ("uci-labelled-sentences/dev.tsv", False, 12)]:
    t = [x for x in texts(path, space) if x]
    unusual = [x for x in t if not x.isascii()][:4]  # accents etc. exercise NFKC and lowercasing
    picked += unusual + [x for x in t if x not in unusual][:n - len(unusual)]
open(sentences_path, "w", encoding="utf-8").write("\n".join(picked) + "\n")
bodies = [picked[i] for i in (0, 5, 13, 20, 27, 33, 40, 45)]  # 8 texts, 7 to 41 words
open(bodies_path, "w", encoding="utf-8").write(
    "".join(json.dumps({"model": model, "input": t}) + "\n" for t in bodies))
EOF

HAVE_LMAAS=0; [[ -x "$LMAAS" ]] && HAVE_LMAAS=1
HAVE_SERVE=0
if [[ $HAVE_LMAAS == 1 ]] && "$LMAAS" serve --help 2>&1 | grep -q -- '--models'; then HAVE_SERVE=1; fi
REFERENCE=
if [[ $HAVE_LMAAS == 1 ]]; then
  REFERENCE=$WORK/reference.jsonl
  "$LMAAS" predict --model "$MODEL_DIR" --input "$SENTENCES" > "$REFERENCE"
else
  NOTES+=("- $LMAAS is missing (make build): no lmaas side and no agreement check against \`lmaas predict\`.")
fi

# Auth: one key for both servers, from `lmaas keys create` when the binary has it.
AUTH=key
KEY=
VAR_DIR=$WORK/var
if [[ $NO_AUTH == 1 ]]; then
  AUTH=none
elif [[ $HAVE_SERVE == 1 && "$ONLY" != fastapi ]]; then
  if "$LMAAS" keys create --help 2>&1 | grep -q -- '--scope'; then
    # No rate limit in the way: the twin has none (the limiter's bookkeeping still runs per request).
    limits=()
    "$LMAAS" keys create --help 2>&1 | grep -q -- '--requests-per-minute' && limits+=(--requests-per-minute 1000000000000)
    "$LMAAS" keys create --help 2>&1 | grep -q -- '--chars-per-minute' && limits+=(--chars-per-minute 1000000000000000)
    if key_json=$("$LMAAS" keys create --name bench --scope infer "${limits[@]}" --data-dir "$VAR_DIR" --json \
                  2>"$WORK/keys.err"); then
      KEY=$(printf '%s' "$key_json" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
    else
      echo "serve_vs_fastapi: lmaas keys create failed ($(head -c 300 "$WORK/keys.err")); both servers run without auth" >&2
      AUTH=none
    fi
  else
    echo "serve_vs_fastapi: this lmaas has no 'keys create' yet; both servers run without auth (--no-auth)" >&2
    AUTH=none
  fi
fi
if [[ $AUTH == key && -z "$KEY" ]]; then
  KEY=$("$PY" -c 'import secrets; print("bench-" + secrets.token_hex(16))')
fi

read -r LOAD1 _ < /proc/loadavg
echo "lmaas serve vs FastAPI: $MODEL_NAME, levels $LEVELS, ${DURATION} s x $REPS rep(s), auth $AUTH," \
     "load average $LOAD1, $NCPU CPU(s)"
[[ $QUICK == 1 ]] && echo "(--quick: smoke run, figures are not meaningful)"

# ---------------------------------------------------------------------------- one server
record() { printf '%s\n' "$1" >> "$RESULTS"; }

# Waits (at most $QUIET_WAIT s) until processes other than the server use < 5 % of the CPUs over 1 s:
# the machine is shared, and a build running beside a run makes its figures meaningless.
wait_quiet() {
  local t0=$SECONDS b0 s0 b1 s1 e0 e1 other said=0
  while ((SECONDS - t0 < QUIET_WAIT)); do
    b0=$(busy_ticks); s0=$(tree_cpu_ticks "$SERVER_PID"); e0=${EPOCHREALTIME/./}
    sleep 1
    b1=$(busy_ticks); s1=$(tree_cpu_ticks "$SERVER_PID"); e1=${EPOCHREALTIME/./}
    other=$(( ((b1 - b0) - (s1 - s0)) * 100000000 / (HZ * NCPU * (e1 - e0)) ))
    ((other < 5)) && return 0
    if ((said == 0)); then echo "  waiting up to ${QUIET_WAIT} s for a quiet machine (other processes: ${other} % CPU) ..."; said=1; fi
  done
  echo "  the machine stayed busy; running anyway (see the other CPU % column)"
}

# measure SERVER TEST CONCURRENCY REP: one wrk run; sets RUN_JSON (its line for $RESULTS) and
# RUN_OTHER (the % of all CPUs that neither the server nor wrk used during it: noise from other
# work). Returns 1 when wrk gave no result.
measure() {
  local server=$1 test=$2 c=$3 rep=$4 threads=$(($3 < 2 ? $3 : 2))
  local b0 s0 b1 s1 e0 e1 wrk_cpu line
  b0=$(busy_ticks); s0=$(tree_cpu_ticks "$SERVER_PID"); e0=${EPOCHREALTIME/./}
  local TIMEFORMAT='%U %S'
  { time BENCH_BODIES=$BODIES BENCH_API_KEY=$KEY wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency \
      -s bench/classify.lua "$URL/v1/classify" > "$WORK/wrk.out" 2>> "$WORK/wrk.err" ; } 2> "$WORK/wrk.time" || true
  b1=$(busy_ticks); s1=$(tree_cpu_ticks "$SERVER_PID"); e1=${EPOCHREALTIME/./}
  cat "$WORK/wrk.out" >> "$LOG"
  line=$(grep '^{"requests"' "$WORK/wrk.out" | tail -n 1 || true)
  if [[ -z "$line" ]]; then
    echo "  $server c=$c: wrk gave no result ($(tail -n 3 "$WORK/wrk.err" | tr '\n' ' '))" >&2
    FAILED=1
    return 1
  fi
  wrk_cpu=$(awk -v hz="$HZ" '{print ($1 + $2) * hz}' "$WORK/wrk.time" | tail -n 1)
  RUN_OTHER=$(awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v w="${wrk_cpu:-0}" -v d="$(((e1 - e0) / 1000))e-3" -v hz="$HZ" -v n="$NCPU" \
              'BEGIN {o = (b - s - w) / (d * hz * n) * 100; if (o < 0) o = 0; printf "%.1f", o}')
  RUN_JSON="{\"server\":\"$server\",\"test\":\"$test\",\"concurrency\":$c,\"rep\":$rep,\"wrk\":$line,\"rss_kib\":$(tree_rss_kib "$SERVER_PID"),\"server_cpu_s\":$(awk -v t="$((s1 - s0))" -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}'),\"other_cpu_pct\":$RUN_OTHER}"
  awk -v s="$server" -v t="$test" -v c="$c" -v r="$rep" -v l="$line" -v o="$RUN_OTHER" 'BEGIN {
    match(l, /"requests_per_s":[0-9.]+/); rps = substr(l, RSTART + 17, RLENGTH - 17)
    match(l, /"p99":[0-9.]+/); p99 = substr(l, RSTART + 6, RLENGTH - 6)
    match(l, /"errors":[0-9]+/); e = substr(l, RSTART + 9, RLENGTH - 9)
    printf "  %-7s %-9s c=%-4s rep %s: %9.1f req/s  p99 %8.2f ms  errors %s  other CPU %s %%\n", s, t, c, r, rps, p99, e, o }'
}

# A run during which other processes used >= NOISY_PCT % of the CPUs is recorded as discarded and
# repeated (after waiting for quiet), at most MAX_TRIES times in all; the last try is always kept.
NOISY_PCT=10
MAX_TRIES=3
is_noisy() { awk -v o="$1" -v n="$NOISY_PCT" 'BEGIN {exit !(o >= n)}'; }
discarded() { printf '%s' "${1%\}},\"discarded\":true}"; }

run_level() {  # SERVER CONCURRENCY REP
  local try
  for ((try = 1; try <= MAX_TRIES; try++)); do
    ((QUIET_WAIT > 0)) && wait_quiet
    measure "$1" level "$2" "$3" || return 0
    if ((QUIET_WAIT == 0 || try == MAX_TRIES)) || ! is_noisy "$RUN_OTHER"; then
      record "$RUN_JSON"
      return 0
    fi
    record "$(discarded "$RUN_JSON")"
    echo "    (discarded: other processes used $RUN_OTHER % of the CPUs; repeating)"
  done
}

# run_idle_pair SERVER REP: c = IDLE_LEVEL without, then with IDLE_N idle connections held by
# bench/idle_connections.py (no quiet wait in between: the server's idle timeout keeps ticking).
run_idle_pair() {
  local try off_json off_other on_json idle
  for ((try = 1; try <= MAX_TRIES; try++)); do
    ((QUIET_WAIT > 0)) && wait_quiet
    measure "$1" idle_off "$IDLE_LEVEL" "$2" || return 0
    off_json=$RUN_JSON off_other=$RUN_OTHER
    rm -f "$WORK/idle.ready" "$WORK/idle.json"
    LMAAS_BENCH_KEY=$KEY "$PY" bench/idle_connections.py --port "$PORT" --n "$IDLE_N" --send "$IDLE_SEND" \
      --body-file "$BODIES" --ready-file "$WORK/idle.ready" > "$WORK/idle.json" 2>> "$LOG" &
    IDLE_PID=$!
    while [[ ! -f "$WORK/idle.ready" ]] && kill -0 "$IDLE_PID" 2>/dev/null; do sleep 0.2; done
    measure "$1" idle_on "$IDLE_LEVEL" "$2" || RUN_JSON=
    kill -TERM "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" 2>/dev/null || true
    IDLE_PID=
    [[ -n "$RUN_JSON" ]] || { record "$off_json"; return 0; }
    idle=$(grep '^{' "$WORK/idle.json" | tail -n 1 || true)  # how many connections the server kept
    on_json="${RUN_JSON%\}},\"idle\":${idle:-null}}"
    if ((QUIET_WAIT == 0 || try == MAX_TRIES)) || ! { is_noisy "$off_other" || is_noisy "$RUN_OTHER"; }; then
      record "$off_json"; record "$on_json"
      return 0
    fi
    record "$(discarded "$off_json")"; record "$(discarded "$on_json")"
    echo "    (discarded: other processes used $off_other / $RUN_OTHER % of the CPUs; repeating)"
  done
}

wait_ready() {  # seconds to readiness, or nothing when the server died or 120 s passed
  local t0=$SECONDS
  while ((SECONDS - t0 < 120)); do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/v2/health/ready" || true) == 200 ]]; then
      echo $((SECONDS - t0))
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# run_side SERVER: start it, check it, measure it, stop it.
run_side() {
  local server=$1 ready rep c
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT
  LOG=$OUT/serve-$server.log
  : > "$LOG"; : > "$WORK/wrk.err"
  echo "$server: starting on $URL ..."
  if [[ $server == fastapi ]]; then
    # Two workers, one torch thread each; idle keep-alive connections kept 300 s (uvicorn's default
    # of 5 s would close the idle test's connections before wrk starts).
    LMAAS_BENCH_KEY=$KEY PYTHONDONTWRITEBYTECODE=1 setsid "$PY" bench/fastapi_twin.py --model-dir "$MODEL_DIR" --model-name "$MODEL_NAME" \
      --host 127.0.0.1 --port "$PORT" --workers 2 --timeout-keep-alive 300 >> "$LOG" 2>&1 9>&- &
  else
    local args=(serve --models "$MODELS" --port "$PORT" --data-dir "$VAR_DIR")
    "$LMAAS" serve --help 2>&1 | grep -q -- '--host' && args+=(--host 127.0.0.1)
    [[ $AUTH == none ]] && args+=(--no-auth)
    # shellcheck disable=SC2206  # word splitting wanted: extra flags as written
    [[ -n "$LMAAS_ARGS" ]] && args+=($LMAAS_ARGS)
    echo "  $LMAAS ${args[*]}"
    setsid "$LMAAS" "${args[@]}" >> "$LOG" 2>&1 9>&- &
  fi
  SERVER_PID=$!
  if ! ready=$(wait_ready); then
    echo "  $server did not become ready (GET /v2/health/ready); the end of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    NOTES+=("- $server: did not become ready; nothing measured (see $LOG).")
    FAILED=1
    stop_server
    return 0
  fi
  record "{\"server\":\"$server\",\"test\":\"start\",\"ready_s\":$ready,\"rss_kib\":$(tree_rss_kib "$SERVER_PID")}"
  if [[ -n "$REFERENCE" ]]; then
    local agreement
    agreement=$(LMAAS_BENCH_KEY=$KEY "$PY" bench/serve_agreement.py --url "$URL" --model "$MODEL_NAME" \
                  --sentences "$SENTENCES" --reference "$REFERENCE" --tol "$TOL" 2>&1 | tail -n 1) || FAILED=1
    [[ "$agreement" == '{'* ]] || agreement="{\"error\":$(printf '%s' "$agreement" | "$PY" -c 'import json, sys; print(json.dumps(sys.stdin.read()))')}"
    echo "  agreement with lmaas predict: $agreement"
    record "{\"server\":\"$server\",\"test\":\"agreement\",\"result\":$agreement}"
  fi
  # Warm-up (not recorded): first-request paths, allocator, caches.
  BENCH_BODIES=$BODIES BENCH_API_KEY=$KEY wrk -t2 -c16 -d3s -s bench/classify.lua "$URL/v1/classify" >> "$LOG" 2>&1 || true
  for ((rep = 1; rep <= REPS; rep++)); do
    for c in $LEVELS; do run_level "$server" "$c" "$rep"; done
  done
  if ((IDLE_N > 0)); then
    for ((rep = 1; rep <= REPS; rep++)); do run_idle_pair "$server" "$rep"; done
  fi
  stop_server
  echo "$server: stopped"
}

if [[ $HAVE_SERVE == 1 && "$ONLY" != fastapi ]]; then
  served=$(find "$MODELS" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort | paste -sd ' ' -)
  [[ "$served" == "$MODEL_NAME" ]] ||
    NOTES+=("- lmaas loads every model in $MODELS/ ($served), the twin $MODEL_NAME only: RSS is not like for like (--models DIR).")
fi
if [[ "$ONLY" != lmaas ]]; then run_side fastapi; fi
if [[ "$ONLY" != fastapi ]]; then
  if [[ $HAVE_SERVE == 1 ]]; then
    run_side lmaas
  else
    echo "lmaas: SKIPPED: '$LMAAS serve' is not available yet (its --help lists no --models); only the FastAPI side ran." >&2
    NOTES+=("- lmaas: skipped, \`$LMAAS serve\` is not available yet.")
  fi
fi

# ---------------------------------------------------------------------------- tables
STACK=$("$PY" -c 'import fastapi, uvicorn, torch, importlib.util as u
loop = "uvloop" if u.find_spec("uvloop") else "asyncio"
http = "httptools" if u.find_spec("httptools") else "h11"
print(f"FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__} ({loop} loop, {http} parser), torch {torch.__version__}")')
LMAAS_VERSION=$([[ $HAVE_LMAAS == 1 ]] && "$LMAAS" --version 2>/dev/null || echo "n/a")
printf '%s\n' "${NOTES[@]}" > "$WORK/notes.txt"
"$PY" - "$RESULTS" "$TABLE" "$WORK/notes.txt" "$LOAD1" "$QUICK" "$DURATION" "$REPS" "$AUTH" "$STACK" \
  "$LMAAS_VERSION" "$IDLE_N" "$IDLE_SEND" "$IDLE_LEVEL" "$TOL" "$LEVELS" <<'EOF'
import json, statistics, sys

(results_path, table_path, notes_path, load, quick, duration, reps, auth, stack, lmaas_version,
 idle_n, idle_send, idle_level, tol, levels) = sys.argv[1:16]
levels = [int(c) for c in levels.split()]
rows = [r for r in (json.loads(l) for l in open(results_path) if l.strip()) if not r.get("discarded")]
n_discarded = sum(1 for l in open(results_path) if '"discarded": true' in l or '"discarded":true' in l)
names = {"lmaas": "lmaas", "fastapi": "FastAPI"}
servers = [s for s in ("lmaas", "fastapi") if any(r["server"] == s for r in rows)]

def pick(server, test, c=None):
    return [r for r in rows if r["server"] == server and r["test"] == test and (c is None or r["concurrency"] == c)]

def med(xs):
    return statistics.median(xs) if xs else None

def cell(xs, digits):
    if not xs:
        return "n/a"
    text = f"{med(xs):.{digits}f}"
    return text + (f" ({min(xs):.{digits}f}–{max(xs):.{digits}f})" if len(xs) > 1 and digits <= 1 else "")

def summary(runs):
    w = [r["wrk"] for r in runs]
    return {"rps": [x["requests_per_s"] for x in w], "p50": [x["latency_ms"]["p50"] for x in w],
            "p99": [x["latency_ms"]["p99"] for x in w], "errors": sum(x["errors"] for x in w),
            "rss": max((r["rss_kib"] for r in runs), default=None), "other": [r["other_cpu_pct"] for r in runs]}

def ratio(a, b, digits=2):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}×"

out = [f"# lmaas serve vs FastAPI + PyTorch: POST /v1/classify, sentiment-en "
       f"({'QUICK smoke run, not meaningful' if quick == '1' else f'median of {reps} run(s), (min–max)'})", "",
       f"wrk on loopback, {duration} s per run, threads min(c, 2); auth: "
       f"{'bearer key on both servers' if auth == 'key' else 'none on either server'}; load average at start {load}.",
       f"FastAPI side: bench/fastapi_twin.py, 2 uvicorn workers, 1 torch thread each; {stack}. lmaas: {lmaas_version}.",
       "", "## Agreement with `lmaas predict` (50 sentences, each alone and all in one request)", ""]
for s in servers:
    a = pick(s, "agreement")
    if not a:
        out.append(f"- {names[s]}: not checked")
        continue
    r = a[-1]["result"]
    if "error" in r:
        out.append(f"- {names[s]}: check failed: {r['error'][:200]}")
        continue
    out.append(f"- {names[s]}: {r['match']}/{r['n']} alone, {r['batch_match']}/{r['n']} batched within {tol} "
               f"(max |Δp| {r['max_abs_diff']:.2g}; same label {r['label_match']}/{r['n']})"
               + ("" if not r["problems"] else "; " + "; ".join(r["problems"][:3])))

out += ["", "## Throughput and latency", "",
        "| server | c | requests/s | p50 ms | p99 ms | errors | server RSS MiB | other CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
table = {}
for s in servers:
    for c in levels:
        runs = pick(s, "level", c)
        if not runs:
            continue
        m = table[s, c] = summary(runs)
        out.append(f"| {names[s]} | {c} | {cell(m['rps'], 1)} | {cell(m['p50'], 2)} | {cell(m['p99'], 2)} | "
                   f"{m['errors']} | {m['rss'] / 1024:.1f} | {cell(m['other'], 1)} |")
if len(servers) == 2:
    out += ["", "| c | lmaas / FastAPI requests/s | FastAPI / lmaas p99 |", "|---:|---:|---:|"]
    for c in levels:
        lm, fa = table.get(("lmaas", c)), table.get(("fastapi", c))
        if lm and fa:
            out.append(f"| {c} | {ratio(med(lm['rps']), med(fa['rps']))} | {ratio(med(fa['p99']), med(lm['p99']))} |")

idle_rows = [s for s in servers if pick(s, "idle_on")]
if idle_rows:
    out += ["", f"## {idle_n} idle keep-alive connections (each {'sent one request' if idle_send == 'request' else 'sent nothing'})"
            f" held during wrk at c = {idle_level}", "",
            "| server | requests/s without | with | with / without | p99 ms without | with | errors with | idle open at end |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in idle_rows:
        off, on = summary(pick(s, "idle_off")), summary(pick(s, "idle_on"))
        idle = [r.get("idle") or {} for r in pick(s, "idle_on")]
        held = ", ".join(f"{i.get('open_at_end', '?')}/{i.get('opened', '?')}" for i in idle)
        out.append(f"| {names[s]} | {cell(off['rps'], 1)} | {cell(on['rps'], 1)} | {ratio(med(on['rps']), med(off['rps']))} | "
                   f"{cell(off['p99'], 2)} | {cell(on['p99'], 2)} | {on['errors']} | {held} |")

starts = [f"{names[s]} ready after {pick(s, 'start')[-1]['ready_s']} s, RSS {pick(s, 'start')[-1]['rss_kib'] / 1024:.1f} MiB"
          for s in servers if pick(s, "start")]
notes = [l for l in open(notes_path).read().splitlines() if l.strip()]
out += ["", "Errors: non-2xx responses plus socket errors (connect, read, write, timeout), summed over the runs.",
        "Server RSS: VmRSS after the level, summed over the server's processes (uvicorn: supervisor + 2 workers),",
        "the largest over the runs. Other CPU %: CPU time that neither the server nor wrk used during the run,",
        "as a share of all CPUs (noise from other work; figures from runs where it is high are suspect).",
        "Start: " + ("; ".join(starts) if starts else "n/a") + "."
        + (f" {n_discarded} run(s) discarded for noise (> 10 % other CPU) and repeated." if n_discarded else "")] + ([""] + notes if notes else [])
text = "\n".join(out) + "\n"
open(table_path, "w").write(text)
print()
print(text, end="")
EOF

echo
echo "raw lines: $RESULTS   table: $TABLE   server logs: $OUT/serve-*.log"
if [[ $FAILED != 0 ]]; then
  echo "serve_vs_fastapi: some steps failed (see above)" >&2
  exit 1
fi
