# Sourced by the scripts in scripts/ after they define die(): the processes
# a script starts (PIDS, stopped on exit) and what it polls, on loopback.

PIDS=() # every process the script starts

# The servers a script starts on one MongoDB share one ENCRYPTION_KEY (the
# setting is required with MONGODB_URI); a run makes its own unless given.
ENCRYPTION_KEY=${ENCRYPTION_KEY:-$(head -c32 /dev/urandom | base64)}

alive() { # PID: running (a zombie is not)
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}

# stop_processes SECONDS: ask every process in PIDS to stop, and kill what
# is still running after SECONDS.
stop_processes() {
  local p deadline=$((SECONDS + $1))
  for p in "${PIDS[@]}"; do
    kill -CONT "$p" 2>/dev/null || true # a stopped process cannot act on TERM
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    while alive "$p" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.1 s.
wait_until() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what: not ready after ${limit}s"
    sleep 0.1
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
redis_ping() { [ "$(timeout 2 redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }
