# shellcheck shell=bash
# Sourced by the bench sections that time a server (section_serve.sh,
# section_eval.sh): one server at a time on a free loopback port.
#   port=$(free_port)
#   server_up NAME LOGDIR CMD...   starts CMD (its argv holds $port), waits
#                                  for /health 200 (up to 300 s); 0 when up
#   server_down                    SIGTERM, wait
# The EXIT trap kills a server a failed section leaves behind.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null' EXIT

server_up() {
  local name=$1 dir=$2 url="http://127.0.0.1:${port:?server_up: set port first}/health"; shift 2
  "$@" >"$dir/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    kill -0 $pid 2>/dev/null || break
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ] && return 0
    sleep 0.1
  done
  echo "$name did not answer /health: see $dir/$name.log" >&2
  return 1
}

server_down() { kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; pid=""; }
