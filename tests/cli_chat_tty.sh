#!/usr/bin/env bash
# xuan chat on a real pseudo-terminal: Ctrl-C typed during a reply stops
# the reply and gives a new prompt, Ctrl-C at the prompt or twice in a reply
# leaves, and every run leaves the terminal settings as they were
# (tests/tty_chat.py does the typing; python3 standard library only).
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_TMP:?}" "${XUAN_SRC:?}"
dir="$XUAN_TMP/cli_chat_tty"; mkdir -p "$dir"
m="$dir/tiny.gguf"
command -v python3 >/dev/null || { echo "FAIL: python3 not found (scripts/deps.sh installs it)"; exit 1; }
"$XUAN_BIN" synth --preset tiny256 --type F32 --force -o "$m" >"$dir/synth.log" 2>&1 ||
  { echo "FAIL: synth"; cat "$dir/synth.log"; exit 1; }
python3 "$XUAN_SRC/tests/tty_chat.py" "$XUAN_BIN" "$m"
