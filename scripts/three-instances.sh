#!/usr/bin/env bash
# Three server instances on one three-master Redis Cluster and one MongoDB
# (docs/performance.md, "Three instances on one Redis Cluster"): load spread
# over all three shows sessions, revocation and sessionEnded events working
# across them, and a login throttle shared by them.
#
#   scripts/three-instances.sh            # about a minute
#   DURATION=30 C=64 scripts/three-instances.sh
#
# Needs go, redis-server and redis-cli (7.x), curl and jq; builds the
# server, cmd/load and cmd/devstores (MongoDB is its in-process FerretDB).
# Everything listens on 127.0.0.1 on free ports and is stopped on exit.
# Exit status 1 when a check fails.
set -Eeuo pipefail
trap 'echo "three-instances: line $LINENO failed: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
C=${C:-32}
DURATION=${DURATION:-10}
LOGIN_LIMIT=3 # failed logins per email before RATE_LIMITED

die() { echo "three-instances: $*" >&2; exit 2; }
for tool in go redis-server redis-cli curl jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/three-instances.XXXXXX")
source scripts/lib/processes.sh
cleanup() {
  trap - EXIT INT TERM
  stop_processes 15
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

NEXT_PORT=$((21000 + RANDOM % 2000))
pick_port() { # VAR: a free port whose cluster-bus port (+10000) is free too
  while port_in_use "$NEXT_PORT" || port_in_use $((NEXT_PORT + 10000)); do NEXT_PORT=$((NEXT_PORT + 1)); done
  printf -v "$1" %d "$NEXT_PORT"
  NEXT_PORT=$((NEXT_PORT + 1))
}
cluster_ok() { timeout 2 redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'; }

echo "three-instances: building the server, cmd/load and cmd/devstores"
go build -tags noembedded -o "$TMP/sgql" .
go build -o "$TMP/load" ./cmd/load
go build -o "$TMP/devstores" ./cmd/devstores

pick_port MONGO_PORT
"$TMP/devstores" -redis '' -mongo "127.0.0.1:$MONGO_PORT" -data "$TMP/ferretdb-data" >"$TMP/devstores.log" 2>&1 &
PIDS+=($!)
wait_until 30 "FerretDB on $MONGO_PORT" port_in_use "$MONGO_PORT"

NODES=() ADDRS=()
for _ in 1 2 3; do
  pick_port p
  mkdir -p "$TMP/redis-$p"
  redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis-$p" \
    --cluster-enabled yes --cluster-config-file "$TMP/redis-$p/nodes.conf" --logfile "$TMP/redis-$p/redis.log" &
  PIDS+=($!)
  wait_until 10 "redis-server on $p" redis_ping "$p"
  NODES+=("$p") ADDRS+=("127.0.0.1:$p")
done
timeout 60 redis-cli --cluster create "${ADDRS[@]}" --cluster-yes >"$TMP/cluster-create.log" 2>&1
for p in "${NODES[@]}"; do wait_until 30 "cluster node $p" cluster_ok "$p"; done
REDIS_URL=$(IFS=,; echo "${ADDRS[*]}")
echo "three-instances: Redis Cluster of 3 masters at $REDIS_URL"

URLS=()
for i in 1 2 3; do
  pick_port p
  env -i PATH="$PATH" HOME="$HOME" REDIS_URL="$REDIS_URL" MONGODB_URI="mongodb://127.0.0.1:$MONGO_PORT/" ENCRYPTION_KEY="$ENCRYPTION_KEY" \
    MONGODB_DATABASE=three PORT="$p" REGISTER_LIMIT_PER_IP=100000 LOGIN_LIMIT_PER_EMAIL=$LOGIN_LIMIT \
    LOGIN_LIMIT_PER_IP=1000 BCRYPT_COST=10 "$TMP/sgql" >"$TMP/server-$i.log" 2>&1 &
  PIDS+=($!)
  URLS+=("http://127.0.0.1:$p")
  wait_until 60 "server $i" curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$p/healthz"
done
U=$(IFS=,; echo "${URLS[*]}")
echo "three-instances: servers at $U"

failed=0
check() { # WHAT CONDITION-RESULT
  if [ "$2" = ok ]; then echo "  ok    $1"; else echo "  FAIL  $1: $2"; failed=1; fi
}

echo "== me, spread over the three (-verify: every session answers as its user on every instance)"
"$TMP/load" -url "$U" -scenario me -c "$C" -d "${DURATION}s" -verify -json-file "$TMP/me.json" | sed 's/^/  /'
if jq -e '.delivery.lost == 0 and .failed == 0 and (.check_failures | length) == 0 and .requests > 0
    and .verify.sessions_live == .verify.users and .verify.sign_ins == .verify.users' "$TMP/me.json" >/dev/null; then
  check "me: nothing lost, no error, no wrong answer; every session live and every user signs in afterwards" ok
else check "me" "see the report above"; fi

echo "== ws: subscriptions on one instance, their sessions ended on another"
"$TMP/load" -url "$U" -scenario ws -c "$C" -d "${DURATION}s" -json-file "$TMP/ws.json" | sed 's/^/  /'
if jq -e '.ws.subscriptions > 0 and .ws.open_failed == 0 and .ws.lost == 0
    and .ws.events == .ws.revocations and .ws.closed_4403 == .ws.revocations' "$TMP/ws.json" >/dev/null; then
  check "ws: every ended session's subscriber got its event and a 4403 close" ok
else check "ws" "see the report above"; fi

echo "== login throttle shared by the three ($LOGIN_LIMIT failures per email)"
gql() { # URL QUERY VARIABLES
  curl -sS --max-time 10 -H 'Content-Type: application/json' \
    -d "$(jq -cn --arg q "$2" --argjson v "$3" '{query: $q, variables: $v}')" "$1/graphql"
}
email="throttle-$RANDOM$RANDOM@example.com"
login='mutation($i: LoginInput!) { login(input: $i) { id } }'
gql "${URLS[0]}" 'mutation($i: RegisterInput!) { register(input: $i) { id } }' \
  "$(jq -cn --arg e "$email" '{i: {email: $e, password: "password-123", name: "Throttle"}}')" >/dev/null
for n in $(seq "$LOGIN_LIMIT"); do
  url=${URLS[$(((n - 1) % 3))]}
  code=$(gql "$url" "$login" "$(jq -cn --arg e "$email" '{i: {email: $e, password: "wrong-password"}}')" | jq -r '.errors[0].extensions.code')
  echo "  wrong password on $url: $code"
  [ "$code" = INVALID_CREDENTIALS ] || check "failure $n" "got $code"
done
for url in "${URLS[@]}"; do
  code=$(gql "$url" "$login" "$(jq -cn --arg e "$email" '{i: {email: $e, password: "password-123"}}')" | jq -r '.errors[0].extensions.code // "ok"')
  echo "  right password on $url: $code"
  if [ "$code" = RATE_LIMITED ]; then check "throttled on $url" ok; else check "throttled on $url" "got $code"; fi
done

for i in 1 2 3; do
  if grep -q 'level=ERROR' "$TMP/server-$i.log"; then check "server $i log" "has ERROR lines"; fi
done
if [ $failed -eq 0 ]; then echo "three-instances: PASS"; else echo "three-instances: FAIL"; fi
exit $failed
