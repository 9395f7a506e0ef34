#!/usr/bin/env bash
# Sockets at scale on one server instance (docs/performance.md, "Sockets at
# scale"): SOCKETS websockets, each with one sessionEnded subscription on a
# session of its own (USERS users), the server's RSS per socket (VmRSS
# before the sockets and once the server counts every subscription), then
# REVOKE of the sessions revoked at once (REVOKE_C revokeSession requests in
# flight) and, per revoked socket, the time from the revoke response to the
# sessionEnded event and to the 4403 close; the other sockets must get
# nothing. Runs `cmd/load -scenario sockets`.
#
#   scripts/sockets.sh                      # 10,000 sockets, 1,000 revoked (about 1 minute)
#   SOCKETS=2000 REVOKE=200 scripts/sockets.sh
#   SERVER_REF=HEAD scripts/sockets.sh      # the server as committed (git archive), not the work tree
#   KEEP=1 scripts/sockets.sh               # keep the logs and the JSON in the temp folder
#   JSON_OUT=/tmp/sockets.json scripts/sockets.sh
#   REVOKE_AT=32s scripts/sockets.sh        # release when the watchers' 30 s re-checks of Redis fire
#
# Needs go, redis-server and redis-cli (7.x) and jq; MongoDB is FerretDB
# served by cmd/devstores in a process of its own (EMBEDDED_MONGO=1: the
# server's in-process FerretDB instead). Raises the open-files limit to
# NOFILE (as root). Everything listens on 127.0.0.1 on free ports and is
# stopped on exit. Exit status 1 when a target of issue 13 is not met.
set -Eeuo pipefail
trap 'echo "sockets: line $LINENO failed: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
SOCKETS=${SOCKETS:-10000}
USERS=${USERS:-20}          # 10,000 / 20 = 500 sessions per user (the server keeps 1,000 per user)
REVOKE=${REVOKE:-1000}
REVOKE_C=${REVOKE_C:-64}
WAIT=${WAIT:-10s}           # the longest wait for the events and closes after the release
WARMUP=${WARMUP:-2s}        # after the server counts every subscription, before reading its RSS
REVOKE_AT=${REVOKE_AT:-0s}  # release no sooner than this after the first socket opened (0s: at once)
NOFILE=${NOFILE:-65536}

die() { echo "sockets: $*" >&2; exit 2; }
for tool in go redis-server redis-cli jq; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

# Each socket is a file descriptor in the server and one in cmd/load.
if [ "$(ulimit -n)" -lt "$NOFILE" ]; then
  ulimit -Hn "$NOFILE" 2>/dev/null || true
  ulimit -n "$NOFILE" 2>/dev/null || true
fi
# (A container without CAP_SYS_RESOURCE keeps its hard limit even for root.)
[ "$(ulimit -n)" -ge $((SOCKETS + 1000)) ] || die "open files limited to $(ulimit -n): run as root or raise it (ulimit -n $NOFILE)"
read -r PORT_LO PORT_HI </proc/sys/net/ipv4/ip_local_port_range
[ $((PORT_HI - PORT_LO)) -ge $((SOCKETS + 1000)) ] || die "ephemeral ports $PORT_LO-$PORT_HI: too few for $SOCKETS sockets"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockets.XXXXXX")
source scripts/lib/processes.sh
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_processes 20
  if [ -n "${KEEP:-}" ]; then echo "sockets: logs and JSON kept in $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NEXT_PORT=$((23000 + RANDOM % 2000))
pick_port() { # VAR
  while port_in_use "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  printf -v "$1" %d "$NEXT_PORT"
  NEXT_PORT=$((NEXT_PORT + 1))
}

SRC=$ROOT
if [ -n "${SERVER_REF:-}" ]; then
  mkdir "$TMP/src"
  git -C "$ROOT" archive "$SERVER_REF" | tar -x -C "$TMP/src"
  SRC=$TMP/src
  echo "sockets: server from $SERVER_REF ($(git -C "$ROOT" rev-parse --short "$SERVER_REF"))"
else
  echo "sockets: server from the work tree at $(git -C "$ROOT" rev-parse --short HEAD), changed files: $(git -C "$ROOT" diff --name-only HEAD -- . | tr '\n' ' ')"
fi
MONGO_ENV=()
if [ -z "${EMBEDDED_MONGO:-}" ]; then
  (cd "$SRC" && timeout 300 go build -tags noembedded -o "$TMP/sgql" .)
  (cd "$ROOT" && timeout 300 go build -o "$TMP/devstores" ./cmd/devstores)
  pick_port MONGO_PORT
  "$TMP/devstores" -redis '' -mongo "127.0.0.1:$MONGO_PORT" -data "$TMP/ferretdb-data" >"$TMP/devstores.log" 2>&1 &
  PIDS+=($!)
  wait_until 30 "FerretDB on $MONGO_PORT" port_in_use "$MONGO_PORT"
  MONGO_ENV=(MONGODB_URI="mongodb://127.0.0.1:$MONGO_PORT/" MONGODB_DATABASE=sockets ENCRYPTION_KEY="$ENCRYPTION_KEY")
  echo "sockets: MongoDB is cmd/devstores' FerretDB on 127.0.0.1:$MONGO_PORT"
else
  (cd "$SRC" && timeout 300 go build -o "$TMP/sgql" .)
  MONGO_ENV=(DATA_DIR="$TMP/data")
  echo "sockets: MongoDB is the server's in-process FerretDB"
fi
(cd "$ROOT" && timeout 300 go build -o "$TMP/load" ./cmd/load)

pick_port REDIS_PORT
mkdir -p "$TMP/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis" \
  --logfile "$TMP/redis/redis.log" &
PIDS+=($!)
wait_until 10 "redis-server on $REDIS_PORT" redis_ping "$REDIS_PORT"

pick_port PORT
env -i PATH="$PATH" HOME="$HOME" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "${MONGO_ENV[@]}" PORT="$PORT" \
  BCRYPT_COST=4 REGISTER_LIMIT_PER_IP=100000 LOGIN_LIMIT_PER_IP=100000 "$TMP/sgql" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
echo "$SERVER_PID" >"$TMP/server.pid"
wait_until 60 "server on $PORT" port_in_use "$PORT"
echo "sockets: server pid $SERVER_PID on 127.0.0.1:$PORT, Redis on $REDIS_PORT; $(nproc) cores, open files $(ulimit -n), $(go version | cut -d' ' -f3), $(redis-server --version | cut -d' ' -f3)"

set +e
"$TMP/load" -url "http://127.0.0.1:$PORT" -scenario sockets -c "$SOCKETS" -users "$USERS" -revoke "$REVOKE" \
  -revoke-c "$REVOKE_C" -revoke-at "$REVOKE_AT" -d "$WAIT" -warmup "$WARMUP" -timeout 30s -server-pid-file "$TMP/server.pid" \
  -json-file "$TMP/sockets.json"
rc=$?
set -e
[ $rc -eq 0 ] || die "cmd/load failed (exit $rc); server log: $(tail -5 "$TMP/server.log")"
[ -z "${JSON_OUT:-}" ] || cp "$TMP/sockets.json" "$JSON_OUT"
echo "sockets: server log: $(grep -c 'level=ERROR' "$TMP/server.log" || true) ERROR lines, $(grep -c 'level=WARN' "$TMP/server.log" || true) WARN lines"
if jq -e '[.sockets.targets[].met] | all' "$TMP/sockets.json" >/dev/null; then
  echo "sockets: every target met"
  exit 0
fi
echo "sockets: NOT MET: $(jq -r '[.sockets.targets[] | select(.met | not) | .name] | join("; ")' "$TMP/sockets.json")"
exit 1
