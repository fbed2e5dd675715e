#!/usr/bin/env bash
# xuan report --md / --html: a store built against tests/fake_openai.py (three runs: one model at
# two "quants" named in its model name, and one with a hostile name: <script>, quotes, |, a newline),
# the Markdown table values equal to the store's, the HTML well-formed (every tag closed, nothing
# outside the file, no <script), the SVG bar and point counts, and a chromium screenshot where
# /usr/bin/chromium exists.
set -u
X=${XUAN_BIN:?}; SRC=${XUAN_SRC:?}; SH=${XUAN_SHARED:?}
[ -f "$SH/datasets/gsm8k/test.jsonl" ] || { echo "skip: no datasets in $SH"; exit 77; }
T=$(mktemp -d "${XUAN_TMP:-/tmp}/report_html.XXXXXX")
export XUAN_PROGRESS=0 XUAN_DATA=$SH/datasets XUAN_TASKS=$SRC/tasks
fails=0; passes=0
ok() { passes=$((passes+1)); echo "ok   $1"; }
bad() { fails=$((fails+1)); echo "FAIL $1"; }
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# gsm8k 0..9: even items right; medqa 0..9: items with i % 3 != 0 right.  The server answers by
# prompt, not by model, so the two "quants" differ by --limit: 10 items (50%, 60%) and 6 (50%, 66.67%).
python3 - "$SH/datasets" >"$T/rules" <<'EOF'
import json, sys
d = sys.argv[1]
for i, l in enumerate(open(d + "/gsm8k/test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); gold = int(r["answer"].split("####")[-1].strip().replace(",", ""))
    print(json.dumps({"match": r["question"], "reply": "So it is\n#### %d" % (gold if i % 2 == 0 else gold + 1)}))
for i, l in enumerate(open(d + "/medqa_us/phrases_no_exclude_test.jsonl", encoding="utf-8")):
    if i == 10: break
    r = json.loads(l); g = r["answer_idx"]
    letter = g if i % 3 else "ABCD"[("ABCD".index(g) + 1) % 4]
    print(json.dumps({"match": r["question"], "reply": "The answer is (%s)." % letter}))
EOF
python3 "$SRC/tests/fake_openai.py" "$T/port" "$T/rules" 120 & PID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
U=http://127.0.0.1:$(cat "$T/port")
DB=$T/r.db
HOSTILE=$'evil<script>alert("x")</script>|\'a\'\nb&c'
"$X" eval --endpoint "$U" --model tiny-Q4_K_M --tasks gsm8k,medqa --limit 10 --db "$DB" >/dev/null 2>"$T/e1" \
  && "$X" eval --endpoint "$U" --model tiny-Q8_0 --tasks gsm8k,medqa --limit 6 --db "$DB" >/dev/null 2>"$T/e2" \
  && "$X" eval --endpoint "$U" --model "$HOSTILE" --tasks gsm8k --limit 4 --db "$DB" >/dev/null 2>"$T/e3" \
  && ok "three runs stored" || bad "eval: $(cat "$T"/e*)"

"$X" report --db "$DB" --md "$T/report.md" --html "$T/report.html" 2>"$T/err"; rc=$?
[ $rc = 0 ] && [ -s "$T/report.md" ] && [ -s "$T/report.html" ] && ok "report --md --html" || bad "report rc=$rc $(cat "$T/err")"

# 1. the Markdown: the "Scores" table's cells equal the store's own numbers, recomputed here
python3 - "$DB" "$T/report.md" <<'EOF' && ok "markdown: scores, intervals, n, columns aligned" || bad "markdown"
import json, math, sqlite3, sys
db, md = sqlite3.connect(sys.argv[1]), open(sys.argv[2], encoding="utf-8").read()
sec = md.split("## Scores")[1].strip().splitlines()
rows = [l for l in sec if l.startswith("|")]
assert len(set(len(l) for l in rows)) == 1, "columns not aligned"
cells = [[c.strip() for c in l.strip("|").split(" | ")] for l in rows]
head = cells[0]; assert head[:3] == ["run", "model", "task"], head
got = {(int(c[0]), c[2]): c for c in cells[2:]}
want = 0
for run, task, n, right, ngen, wall in db.execute(
        "select run, task, count(*), sum(first_correct), sum(n_gen), sum(wall_s) from items group by run, task"):
    c = got[(run, task)]; want += 1
    p = right / n; se = math.sqrt(p * (1 - p) / (n - 1)) if n > 1 else 0
    assert c[6] == str(n), (c, n)
    assert c[7] == "%.2f" % (100 * p), (c, p)
    lo, hi = max(0, p - 1.96 * se), min(1, p + 1.96 * se)
    assert c[8] == "%.2f-%.2f" % (100 * lo, 100 * hi), (c, lo, hi)
    assert c[9] == ("%.1f" % (ngen / wall) if wall > 0 and ngen else "-"), (c, ngen, wall)
assert want == len(got) == 5, (want, len(got))
assert got[(1, "gsm8k")][7] == "50.00" and got[(1, "medqa")][7] == "60.00" and got[(2, "gsm8k")][7] == "50.00", got
# the hostile name stays in its cell: escaped, on one line
runs = md.split("## Runs")[1].split("## Scores")[0]
assert "<script" not in md and "\\|" in runs and "&lt;script&gt;" in runs and "&quot;x&quot;" in runs, runs
assert all(l.count(" | ") == 6 for l in runs.strip().splitlines() if l.startswith("| ")), runs
import re
split = lambda l: [c.strip() for c in re.split(r"(?<!\\)\|", l)[1:-1]]
q = {split(l)[0]: split(l)[2] for l in runs.strip().splitlines()[2:] if l.startswith("|")}
assert q == {"1": "Q4\\_K\\_M", "2": "Q8\\_0", "3": "-"}, q
EOF

# 2. the HTML: strictly well-formed, self-contained, the charts' marks counted
python3 - "$T/report.html" <<'EOF' && ok "html: well-formed, no script, no external resource, bars/points counted" || bad "html"
import re, sys
from html.parser import HTMLParser
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "source", "wbr", "path", "line",
        "rect", "circle", "polygon", "polyline"}
src = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    def __init__(s):
        super().__init__(convert_charrefs=True); s.stack = []; s.count = {}; s.text = []
    def handle_starttag(s, tag, a):
        a = dict(a)
        for k, v in a.items():
            assert not k.startswith("on"), k
            assert k not in ("src", "href") or v.startswith("#"), (k, v)
        cls = a.get("class", "")
        s.count[(tag, cls)] = s.count.get((tag, cls), 0) + 1
        if tag not in VOID: s.stack.append(tag)
    def handle_startendtag(s, tag, a):
        a = dict(a); cls = a.get("class", "")
        s.count[(tag, cls)] = s.count.get((tag, cls), 0) + 1
    def handle_endtag(s, tag):
        if tag in VOID: return
        assert s.stack and s.stack[-1] == tag, ("misnested", tag, s.stack[-5:])
        s.stack.pop()
    def handle_data(s, d): s.text.append(d)
p = P(); p.feed(src); p.close()
assert not p.stack, ("unclosed", p.stack)
low = src.lower()
assert "<script" not in low and "javascript:" not in low and "url(" not in low and "@import" not in low
c = lambda tag, cls: p.count.get((tag, cls), 0)
assert c("svg", "") == 4, p.count                       # scores, radar, quant, speed
assert c("rect", "bar") == 5, c("rect", "bar")          # run 1: 2 tasks, run 2: 2, run 3: 1
assert c("path", "ci") == 5 + 4, c("path", "ci")        # a bar's interval each, and the quant points'
assert c("circle", "qpt") == 4, c("circle", "qpt")      # tiny at Q4_K_M and Q8_0, two tasks
assert c("polyline", "series") == 2
assert c("circle", "tpt") == 5, c("circle", "tpt")      # every run-task has timings
assert c("circle", "rpt") == 5, c("circle", "rpt")      # math + med, math + med, math
assert c("polygon", "area") == 3
text = "".join(p.text)
assert 'evil<script>alert("x")</script>' in text, "hostile name not shown as text"
assert "zh (not measured)" in text and "code (not measured)" in text and "math (not" not in text
m = re.search(r'id="chart-quant".*?</svg>', src, re.S).group(0)
assert m.index(">Q4_K_M<") < m.index(">Q8_0<"), "quants not by bits"
EOF

# 3. the tables' values and usage errors
o=$("$X" report --db "$DB" --md - 2 2>&1)
grep -qF "|   2 | tiny-Q8\\_0 @ " <<<"$o" && ! grep -qF "tiny-Q4\\_K\\_M" <<<"$o" && ok "--md - with a RUN list: that run only" \
  || bad "--md -: $o"
"$X" report --db "$DB" --md - --json >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "md and --html take the RUN list" "$T/err" && ok "--md with --json refused (2)" || bad "usage rc=$rc $(cat "$T/err")"
"$X" report --db "$DB" --html "$T/no/such/dir/r.html" 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "cannot write" "$T/err" && ok "unwritable --html: one line, exit 1" || bad "unwritable rc=$rc $(cat "$T/err")"

# 4. a screenshot, where chromium is installed
CH=/usr/bin/chromium
if [ -x "$CH" ]; then
  timeout 60 "$CH" --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$T/report.png" \
    --window-size=1280,2000 "file://$T/report.html" >"$T/ch.log" 2>&1
  python3 - "$T/report.png" <<'EOF' && ok "chromium screenshot: 1280x2000 PNG, not blank" || bad "screenshot: $(tail -3 "$T/ch.log")"
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 20000, len(b)
w, h = struct.unpack(">II", b[16:24]); assert (w, h) == (1280, 2000), (w, h)
EOF
else
  echo "skip screenshot: no $CH"
fi

echo "$passes passed, $fails failed"
[ $fails = 0 ]
