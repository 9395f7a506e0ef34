#!/usr/bin/env bash
# Fault runs under load (docs/fault-runs.md): while cmd/load sends traffic,
# Redis, MongoDB or a Redis Cluster master stops for a few seconds; each run
# reports the requests sent and answered, by HTTP status and GraphQL error
# code, wrong answers, lost requests (no HTTP answer), the outage as the
# per-second timeline saw it, and whether every user and session survived.
#
#   scripts/fault-runs.sh                 # every run: a1 a2 b1 b2 c (about 4 minutes)
#   scripts/fault-runs.sh a1 c            # only some
#   SERVER_REF=HEAD scripts/fault-runs.sh # the server as committed (git archive), not the work tree
#   KEEP=1 scripts/fault-runs.sh          # keep the logs, reports and JSON in the temp folder
#
# Runs:
#   a1  Redis hangs:  SIGSTOP for 5 s, then SIGCONT (connections stay open, nothing answers)
#   a2  Redis down:   SHUTDOWN SAVE, port closed for 5 s, restarted on the same port and data
#   b1  MongoDB hangs (FerretDB SIGSTOP 5 s) under the mixed scenario
#   b2  MongoDB hangs (FerretDB SIGSTOP 5 s) under me, which needs no MongoDB
#   c   Redis Cluster, 3 masters with 1 replica each: kill -9 a master, replica promoted
#
# Needs go, redis-server and redis-cli (7.x), curl and jq; builds the server,
# cmd/load and cmd/devstores (MongoDB is its FerretDB, in a process of its
# own, so a run can stop it). Everything
# listens on 127.0.0.1 on free ports; every step has a time bound and every
# process started here is stopped on exit. Exit status 1 when a run breaks a
# requirement (the summary says which).
set -Eeuo pipefail
trap 'echo "fault-runs: line $LINENO failed: $BASH_COMMAND" >&2' ERR

cd "$(dirname "$0")/.."
ROOT=$PWD
C=${C:-32}                 # load workers
# The mixed scenario logs in 5% of the time (bcrypt at the default cost 12):
# at 32 workers that alone saturates 2 cores and MongoDB calls miss
# STORE_TIMEOUT before any fault, so run b1 uses fewer workers.
MIXED_C=${MIXED_C:-8}
DURATION=${DURATION:-20}   # measured seconds per run
FAULT_AT=${FAULT_AT:-5}    # seconds into the measured window
FAULT_FOR=${FAULT_FOR:-5}  # seconds the store stays stopped (a, b)
# The server runs with its defaults except REGISTER_LIMIT_PER_IP; these are
# the defaults the figures depend on (internal/config).
STORE_TIMEOUT_DEFAULT=2s
# What "answers SERVICE_UNAVAILABLE within the configured timeout" is held
# to: STORE_TIMEOUT plus half a second of scheduling on a busy 2-core box.
UNAVAILABLE_WITHIN_MS=${UNAVAILABLE_WITHIN_MS:-2500}
# Redis Cluster failure detection, as internal/redistest uses it.
CLUSTER_NODE_TIMEOUT_MS=1000

die() { echo "fault-runs: $*" >&2; exit 2; }
for tool in go redis-server redis-cli curl jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
RUNS=("$@")
[ ${#RUNS[@]} -gt 0 ] || RUNS=(a1 a2 b1 b2 c)
for r in "${RUNS[@]}"; do
  case $r in a1 | a2 | b1 | b2 | c) ;; *) die "unknown run $r (a1 a2 b1 b2 c)" ;; esac
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fault-runs.XXXXXX")
OUT=$TMP/out
mkdir -p "$OUT"
source scripts/lib/processes.sh

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_processes 15
  if [ -n "${KEEP:-}" ]; then echo "fault-runs: logs, reports and JSON kept in $OUT"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: picked at random where nothing listens, never twice.
TAKEN=" "
pick_port() { # VAR LOW HIGH [BUS_OFFSET]: also needs PORT+BUS_OFFSET free
  # (its locals are prefixed: a caller's VAR of the same name would be hidden)
  local pp_var=$1 pp_lo=$2 pp_hi=$3 pp_bus=${4:-0} pp_port
  for _ in $(seq 500); do
    pp_port=$((pp_lo + (RANDOM * 32768 + RANDOM) % (pp_hi - pp_lo + 1)))
    [[ $TAKEN == *" $pp_port "* ]] && continue
    port_in_use "$pp_port" && continue
    if [ "$pp_bus" -gt 0 ]; then port_in_use $((pp_port + pp_bus)) && continue; fi
    TAKEN+="$pp_port "
    printf -v "$pp_var" '%s' "$pp_port"
    return 0
  done
  die "no free port in $pp_lo-$pp_hi"
}


# start_redis PORT DIR [ARGS...]: sets REDIS_PID.
start_redis() {
  local port=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" --dbfilename dump.rdb --logfile "$dir/redis.log" --daemonize no "$@" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_until 10 "redis-server on $port" redis_ping "$port"
}

# start_server NAME REDIS_URL DATABASE: sets SERVER_PID and BASE. Only the
# variables named here reach it: every other setting is its default.
start_server() {
  local port
  pick_port port 20000 29999
  env -i PATH="$PATH" HOME="$HOME" \
    REDIS_URL="$2" MONGODB_URI="mongodb://127.0.0.1:$MONGO_PORT/" MONGODB_DATABASE="$3" ENCRYPTION_KEY="$ENCRYPTION_KEY" \
    PORT="$port" REGISTER_LIMIT_PER_IP=100000 DATA_DIR="$TMP/unused-data" \
    "$TMP/sgql" >"$OUT/$1.server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  BASE=http://127.0.0.1:$port
  wait_until 30 "the server of $1" curl -fsS -o /dev/null --max-time 2 "$BASE/healthz"
}

# stop_server NAME: SIGTERM, as a deployment would; records how it ended.
stop_server() {
  local rc=0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" || rc=$?
  echo "$rc" >"$OUT/$1.server.exit"
}

# run_load NAME SCENARIO [LOAD FLAGS...]: starts cmd/load in the background
# (LOAD_PID) and waits for the start of its measured window (FROM, unix s).
run_load() {
  local name=$1 scenario=$2 iso
  shift 2
  timeout 180 "$TMP/load" -url "$BASE" -c "$C" -d "${DURATION}s" -scenario "$scenario" \
    -timeline -verify -json-file "$OUT/$name.json" "$@" >"$OUT/$name.load.txt" 2>"$OUT/$name.load.err" &
  LOAD_PID=$!
  PIDS+=("$LOAD_PID")
  wait_until 150 "the measured window of $name" grep -q 'then measuring for' "$OUT/$name.load.err"
  iso=$(grep -o 'then measuring for [^ ]* from [^ ]*' "$OUT/$name.load.err" | awk '{print $NF}')
  FROM=$(date -d "$iso" +%s)
  echo "$FROM" >"$OUT/$name.from"
}

wait_load() { # NAME
  local rc=0
  wait "$LOAD_PID" || rc=$?
  [ "$rc" -eq 0 ] || die "cmd/load of $1 exited with $rc: $(tail -3 "$OUT/$1.load.err")"
}

# at OFFSET: sleep until OFFSET seconds into the measured window.
at() { sleep "$(awk -v f="$FROM" -v o="$1" -v n="$(date +%s.%N)" 'BEGIN { d = f + o - n; printf "%.3f", d < 0 ? 0 : d }')"; }

# event NAME TEXT: logs TEXT with the clock and the offset into the window.
event() {
  local now
  now=$(date +%s.%N)
  printf '%s  t+%.3fs  %s\n' "$(date -d "@$now" +%T.%3N)" "$(awk -v n="$now" -v f="$FROM" 'BEGIN { print n - f }')" "$2" |
    tee -a "$OUT/$1.events" | sed 's/^/  event /'
}
offset_now() { awk -v n="$(date +%s.%N)" -v f="$FROM" 'BEGIN { printf "%.3f", n - f }'; }

FAILED=0
# summarize NAME TITLE FAULT_START FAULT_END [SESSION_OPS]: prints the
# run's figures and checks them; SESSION_OPS are operations that must not
# fail at all (the session answers them without the stopped store).
summarize() {
  local name=$1 title=$2 fs=$3 fe=$4 session_ops=${5:-} json=$OUT/$1.json problems=()
  echo
  echo "== $name: $title"
  sed 's/^/  event /' "$OUT/$name.events"
  jq -r --argjson fs "$fs" --argjson fe "$fe" '
    def counts: if length == 0 then "none" else to_entries | map("\(.key) \(.value)") | join(", ") end;
    def sum(f): map(f) | add // 0;
    ([.timeline[] | select(.sent != .ok)]) as $bad
    | "  scenario \(.scenario), c=\(.concurrency), \(.users) users, \(.duration_s) s; fault from t=\($fs) to t=\($fe) s",
      "  sent \(.delivery.sent)  answered \(.delivery.answered)  lost \(.delivery.lost)",
      "  HTTP 2xx \(.delivery.answered - (.http_status | to_entries | sum(.value)))  non-2xx: \(.http_status | counts)",
      "  ok \(.ok)  answered SERVICE_UNAVAILABLE \(.timeline | sum(.unavailable))  other failed answers \(.timeline | sum(.other))",
      "  GraphQL errors by code: \(.graphql_errors | counts)",
      "  check failures (wrong answers): \(.check_failures | counts)",
      "  transport errors: \(.transport_errors | counts)",
      "  latency p50 \(.latency.p50_ms) ms  p99 \(.latency.p99_ms) ms  max \(.latency.max_ms) ms",
      (.timeline) as $tl
      | def rate(f): [$tl[] | select(f) | .sent] | if length > 0 then add / length | round else 0 end;
      ([$tl[] | select(.t_s >= ($fe | floor) and .sent > 0) | .t_s] as $after
         | [$after[] as $s | select(all($tl[] | select(.t_s >= $s); .sent == .ok)) | $s] | first) as $rec
      | (if ($bad | length) == 0 then "  timeline: every request of every second ok"
         else "  timeline: failed requests were sent in seconds \($bad | map(.t_s | tostring) | join(","))"
         end),
      "  slowest SERVICE_UNAVAILABLE answer \([$tl[].unavailable_max_ms] | max) ms; slowest request \(.latency.max_ms) ms (\(.ops | to_entries | max_by(.value.latency.max_ms) | .key))",
      (if $rec == null then "  recovery: NOT within the window"
       else "  recovery: from t=\($rec) s on every request ok: within \((($rec + 1 - $fe) * 1000 | round) / 1000) s of the fault ending;"
            + " \(rate(.t_s < ($fs | floor)))/s before the fault, \(rate(.t_s >= $rec))/s after"
       end),
      "  seconds \(($fs | floor) - 1)..\(($rec // ($tl | length - 1)) + 1): "
        + ([$tl[] | select(.t_s >= ($fs | floor) - 1 and .t_s <= ($rec // ($tl | length)) + 1)
            | "t\(.t_s) \(.sent)/\(.ok)" + (if .unavailable > 0 then " U\(.unavailable)" else "" end)
              + (if .checks > 0 then " W\(.checks)" else "" end) + (if .other > 0 then " X\(.other)" else "" end)
              + (if .lost > 0 then " L\(.lost)" else "" end)] | join("  "))
        + "   (sent/ok, U unavailable, W wrong, X other, L lost)",
      (.ops | to_entries | map("    \(.key): \(.value.requests) sent, \(.value.failed) failed") | .[]),
      "  after the run: \(.verify.sessions_live)/\(.verify.users) sessions answer me as their user, \(.verify.sign_ins)/\(.verify.users) users sign in; failures \(.verify.failures | counts)"
  ' "$json" | tee "$OUT/$name.summary"
  local ready errors panics exit_rc
  ready=$(cat "$OUT/$name.readyz")
  errors=$(grep -c 'level=ERROR' "$OUT/$name.server.log" || true)
  panics=$(grep -c -i 'panic' "$OUT/$name.server.log" || true)
  exit_rc=$(cat "$OUT/$name.server.exit")
  echo "  server: /readyz after the run $ready; $errors ERROR log lines; $panics lines mentioning panic; exit $exit_rc on SIGTERM"
  local from times
  from=$(cat "$OUT/$name.from")
  times=$({ grep 'msg="store unavailable"' "$OUT/$name.server.log" || true; } | sed -E 's/^time=([^ ]+) .*/\1/' |
    while read -r t; do date -d "$t" +%s.%3N; done | sort -n)
  if [ -n "$times" ]; then
    echo "  server log: $(wc -l <<<"$times") \"store unavailable\" lines, the first at t+$(awk -v f="$from" 'NR == 1 { printf "%.3f", $1 - f }' <<<"$times") s, the last at t+$(awk -v f="$from" 'END { printf "%.3f", $1 - f }' <<<"$times") s"
  fi

  [ "$(jq '.delivery.lost' "$json")" -eq 0 ] || problems+=("requests lost (no HTTP answer)")
  [ "$(jq '.delivery.sent == .requests' "$json")" = true ] || problems+=("sent differs from recorded")
  [ "$(jq '[.http_status | keys[] | select(startswith("5"))] | length' "$json")" -eq 0 ] || problems+=("5xx answers")
  [ "$(jq '.check_failures | length' "$json")" -eq 0 ] || problems+=("wrong answers (check failures)")
  [ "$(jq '[.graphql_errors | keys[] | select(. != "SERVICE_UNAVAILABLE")] | length' "$json")" -eq 0 ] ||
    problems+=("GraphQL errors other than SERVICE_UNAVAILABLE")
  [ "$(jq --argjson b "$UNAVAILABLE_WITHIN_MS" '[.timeline[].unavailable_max_ms] | max <= $b' "$json")" = true ] ||
    problems+=("a SERVICE_UNAVAILABLE answer took longer than ${UNAVAILABLE_WITHIN_MS} ms")
  [ "$(jq '.verify.sessions_live == .verify.users and .verify.sign_ins == .verify.users' "$json")" = true ] ||
    problems+=("users or sessions lost")
  grep -q 'recovery: NOT' "$OUT/$name.summary" && problems+=("not recovered within the window")
  local op
  for op in $session_ops; do
    [ "$(jq --arg op "$op" '.ops[$op].failed // 0' "$json")" -eq 0 ] || problems+=("$op failed while only the stopped store was missing")
  done
  [ "$ready" = 200 ] || problems+=("/readyz $ready after the run")
  [ "$panics" -eq 0 ] || problems+=("panic in the server log")
  [ "$exit_rc" -eq 0 ] || problems+=("server exit status $exit_rc")
  if [ ${#problems[@]} -eq 0 ]; then
    echo "  verdict: PASS"
  else
    FAILED=$((FAILED + 1))
    local IFS=';'
    echo "  verdict: FAIL: ${problems[*]}"
  fi
}

finish_run() { # NAME: after the load, record readiness and stop the server
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/readyz" || true)
  echo "${code:-none}" >"$OUT/$1.readyz"
  stop_server "$1"
}

# --- build -------------------------------------------------------------------
echo "fault-runs: $(date -u +%FT%TZ), $(nproc) cores, $(go version | awk '{print $3}'), $(redis-server --version | awk '{print $3}')"
SRC=$ROOT
if [ -n "${SERVER_REF:-}" ]; then
  mkdir "$TMP/src"
  git -C "$ROOT" archive "$SERVER_REF" | tar -x -C "$TMP/src"
  SRC=$TMP/src
  echo "fault-runs: server from $SERVER_REF ($(git -C "$ROOT" rev-parse --short "$SERVER_REF"))"
else
  echo "fault-runs: server from the work tree at $(git -C "$ROOT" rev-parse --short HEAD), changed files: $(git -C "$ROOT" diff --name-only HEAD -- . | tr '\n' ' ')"
fi
(cd "$SRC" && timeout 300 go build -tags noembedded -o "$TMP/sgql" .)
(cd "$ROOT" && timeout 300 go build -o "$TMP/load" ./cmd/load)
(cd "$ROOT" && timeout 300 go build -o "$TMP/devstores" ./cmd/devstores)
echo "fault-runs: built; STORE_TIMEOUT $STORE_TIMEOUT_DEFAULT (default), c=$C, ${DURATION}s per run, fault at t+${FAULT_AT}s for ${FAULT_FOR}s"

# One MongoDB-compatible server (FerretDB v1 on SQLite) for every run, each
# run in a database of its own.
pick_port MONGO_PORT 20000 29999
mkdir -p "$TMP/fdb"
"$TMP/devstores" -redis '' -mongo "127.0.0.1:$MONGO_PORT" -data "$TMP/fdb" >"$OUT/ferretdb.log" 2>&1 &
FDB_PID=$!
PIDS+=("$FDB_PID")
wait_until 30 "FerretDB on $MONGO_PORT" port_in_use "$MONGO_PORT"

# --- runs ----------------------------------------------------------------------
run_a1() {
  local rp
  pick_port rp 20000 29999
  start_redis "$rp" "$TMP/a1-redis"
  start_server a1 "redis://127.0.0.1:$rp/0" fault_a1
  run_load a1 me
  at "$FAULT_AT"
  local keys
  keys=$(timeout 2 redis-cli -p "$rp" dbsize)
  kill -STOP "$REDIS_PID"
  local fs
  fs=$(offset_now)
  event a1 "redis-server SIGSTOP ($keys keys)"
  at $((FAULT_AT + FAULT_FOR))
  kill -CONT "$REDIS_PID"
  local fe
  fe=$(offset_now)
  event a1 "redis-server SIGCONT"
  wait_until 5 "redis after SIGCONT" redis_ping "$rp"
  event a1 "redis-server answers again: $(timeout 2 redis-cli -p "$rp" dbsize) keys"
  wait_load a1
  finish_run a1
  kill -TERM "$REDIS_PID"
  summarize a1 "Redis hangs 5 s (SIGSTOP/SIGCONT) under me" "$fs" "$fe"
}

run_a2() {
  local rp keys
  pick_port rp 20000 29999
  start_redis "$rp" "$TMP/a2-redis"
  start_server a2 "redis://127.0.0.1:$rp/0" fault_a2
  run_load a2 me
  at "$FAULT_AT"
  keys=$(timeout 2 redis-cli -p "$rp" dbsize)
  timeout 10 redis-cli -p "$rp" shutdown save >/dev/null 2>&1 || true
  wait "$REDIS_PID" || true
  local fs
  fs=$(offset_now)
  event a2 "redis-server down after SHUTDOWN SAVE ($keys keys saved); port $rp refuses connections"
  at $((FAULT_AT + FAULT_FOR))
  start_redis "$rp" "$TMP/a2-redis"
  local fe
  fe=$(offset_now)
  event a2 "redis-server restarted on $rp from its dump: $(timeout 2 redis-cli -p "$rp" dbsize) keys"
  wait_load a2
  finish_run a2
  kill -TERM "$REDIS_PID"
  summarize a2 "Redis down 5 s (SHUTDOWN SAVE, restart on the same port and data) under me" "$fs" "$fe"
}

# run_b NAME SCENARIO SESSION_OPS [LOAD FLAGS...]
run_b() {
  local name=$1 scenario=$2 ops=$3 rp
  shift 3
  pick_port rp 20000 29999
  start_redis "$rp" "$TMP/$name-redis"
  start_server "$name" "redis://127.0.0.1:$rp/0" "fault_$name"
  run_load "$name" "$scenario" "$@"
  at "$FAULT_AT"
  kill -STOP "$FDB_PID"
  local fs
  fs=$(offset_now)
  event "$name" "FerretDB SIGSTOP"
  at $((FAULT_AT + FAULT_FOR))
  kill -CONT "$FDB_PID"
  local fe
  fe=$(offset_now)
  event "$name" "FerretDB SIGCONT"
  wait_load "$name"
  finish_run "$name"
  kill -TERM "$REDIS_PID"
  summarize "$name" "MongoDB hangs 5 s (FerretDB SIGSTOP/SIGCONT) under $scenario" "$fs" "$fe" "$ops"
}

cluster_healthy() { # PORT NODES: this node sees every slot served and NODES nodes
  local info
  info=$(timeout 2 redis-cli -p "$1" cluster info) || return 1
  grep -q '^cluster_state:ok' <<<"$info" && grep -q '^cluster_slots_ok:16384' <<<"$info" &&
    grep -q "^cluster_known_nodes:$2" <<<"$info"
}
replica_synced() { timeout 2 redis-cli -p "$1" info replication | grep -q -e '^role:master' -e '^master_link_status:up'; }
# failed_over LIVE KILLED: LIVE marks KILLED as failed and sees every slot served.
failed_over() {
  timeout 2 redis-cli -p "$1" cluster nodes | awk -v a="127.0.0.1:$2@" 'index($2, a) == 1 && $3 ~ /(^|,)fail(,|$)/ { f = 1 } END { exit !f }' &&
    timeout 2 redis-cli -p "$1" cluster info | grep -q '^cluster_slots_ok:16384' &&
    timeout 2 redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'
}

run_c() {
  local ports=() pids=() p i addrs=() masters killed live
  for i in 1 2 3 4 5 6; do
    pick_port p 11000 22767 10000 # the cluster bus is on port+10000
    start_redis "$p" "$TMP/c-redis-$p" --cluster-enabled yes --cluster-config-file "$TMP/c-redis-$p/nodes.conf" \
      --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT_MS" --repl-diskless-sync-delay 0
    ports+=("$p")
    pids+=("$REDIS_PID")
    addrs+=("127.0.0.1:$p")
  done
  timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$OUT/c.cluster-create.log" 2>&1
  for p in "${ports[@]}"; do
    wait_until 30 "cluster node $p healthy" cluster_healthy "$p" 6
    wait_until 30 "cluster node $p in sync" replica_synced "$p"
  done
  masters=$(timeout 2 redis-cli -p "${ports[0]}" cluster nodes | awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }' | sort -n)
  [ "$(wc -w <<<"$masters")" -eq 3 ] || die "cluster has masters $masters"
  killed=$(head -1 <<<"$masters")
  live=$(tail -1 <<<"$masters")
  local killed_id replica
  killed_id=$(timeout 2 redis-cli -p "$killed" cluster myid)
  replica=$(timeout 2 redis-cli -p "$killed" cluster nodes | awk -v id="$killed_id" '$4 == id { split($2, a, "[:@]"); print a[2] }')
  local url=""
  for p in $masters; do url+="${url:+,}redis://127.0.0.1:$p"; done
  start_server c "$url" fault_c
  run_load c me
  at "$FAULT_AT"
  local keys
  keys=$(timeout 2 redis-cli -p "$killed" dbsize)
  for i in "${!ports[@]}"; do
    if [ "${ports[$i]}" = "$killed" ]; then kill -KILL "${pids[$i]}"; wait "${pids[$i]}" 2>/dev/null || true; fi
  done
  local fs
  fs=$(offset_now)
  event c "kill -9 master 127.0.0.1:$killed, which held $keys keys (cluster-node-timeout ${CLUSTER_NODE_TIMEOUT_MS} ms)"
  wait_until 30 "failover of $killed" failed_over "$live" "$killed"
  local fe
  fe=$(offset_now)
  event c "failover complete as 127.0.0.1:$live sees it: $killed marked fail, 16384 slots served, cluster_state ok; its replica $replica is $(timeout 2 redis-cli -p "$replica" role | head -1) with $(timeout 2 redis-cli -p "$replica" dbsize) keys"
  timeout 2 redis-cli -p "$live" cluster nodes >"$OUT/c.cluster-nodes-after.txt"
  wait_load c
  finish_run c
  for i in "${!ports[@]}"; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  summarize c "Redis Cluster (3 masters + 1 replica each): a master killed, its replica promoted, under me" "$fs" "$fe"
}

for r in "${RUNS[@]}"; do
  echo "fault-runs: run $r ($(date -u +%T))"
  case $r in
  a1) run_a1 ;;
  a2) run_a2 ;;
  b1) run_b b1 mixed "me sessions" -c "$MIXED_C" -decks 2 -cards 5 ;;
  b2) run_b b2 me "me" ;;
  c) run_c ;;
  esac
done

echo
echo "fault-runs: ${#RUNS[@]} runs, $FAILED failed; total ${SECONDS}s"
[ "$FAILED" -eq 0 ] || exit 1
