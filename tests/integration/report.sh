#!/usr/bin/env bash
# Matrix -> jobs -> nightly report, two nights, checked in a real headless browser.
#   Night 1: a matrix (one scenario x two dump types, TCG) expands to two jobs on the
#   daemon; the report renders. Night 2: the "driver" regressed (the scenario's trigger now
#   panics with another message, which the expectation no longer matches); the same
#   matrix runs again and the report, compared with night 1, names the new crash title,
#   the one that went away, and both changed verdicts. junit.xml agrees.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

serve_workdir report
mkdir -p "$st" "$t/drv"
"$CRASHLAB" serve --state "$st" --slots 2 --backoff 1 >"$t/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && break; sleep 0.1; done

scenario() { # scenario MESSAGE: the driver under test panics with MESSAGE
    cat >"$t/drv/nightly.yaml" <<EOS
name: nightly
guest: {profile: linux, memory_mb: 256}
steps:
  - install: build/linux/labfault.ko
  - trigger: {fault: bugcheck, message: "$1"}
expect:
  verdict: expected-crash
  kind: panic
  pattern: "not syncing: nightly alpha"
timeouts: {boot: 120, step: 60, observe: 60, run: 300}
EOS
}
cat >"$t/matrix.yaml" <<EOM
name: nightly
scenarios: [$t/drv/nightly.yaml]
dump_formats: [kdump-zlib, elf]
accels: [tcg]
EOM

night() { # night N: submit the matrix, wait, report; prints the job ids
    local ids
    ids=$("$CRASHLAB" submit --state "$st" --matrix "$t/matrix.yaml") || return 1
    "$CRASHLAB" wait $ids --timeout 300 --state "$st" >/dev/null
    echo $ids
}
dirs() { for i in "$@"; do "$CRASHLAB" status "$i" --json --state "$st" | jq -r .result_dir; done; }

scenario "nightly alpha"
ids1=$(night 1)
check "report: the matrix expanded to two jobs ($ids1)" test "$(echo $ids1 | wc -w)" = 2
keys=$(for i in $ids1; do "$CRASHLAB" status "$i" --json --state "$st" | jq -r .options.key; done | sort | tr '\n' ' ')
check "report: jobs carry their matrix coordinates" test "$keys" = "nightly/default/default/elf/tcg nightly/default/default/kdump-zlib/tcg "
"$CRASHLAB" report --from $(dirs $ids1) --out "$t/night1" --title "night 1"
check "report: night 1 is all as expected (exit 0)" test $? = 0

scenario "nightly bravo"
ids2=$(night 2)
check "report: night 2 ran two jobs" test "$(echo $ids2 | wc -w)" = 2
check "report: test failures are not retried (one attempt each)" \
    test "$(for i in $ids2; do "$CRASHLAB" status "$i" --json --state "$st" | jq -r '.verdict+"/"+(.attempts|tostring)'; done | sort -u)" = "unexpected-crash/1"
"$CRASHLAB" report --from $(dirs $ids2) --out "$t/night2" --previous "$t/night1" --title "night 2"
check "report: night 2 has unexpected verdicts (exit 1)" test $? = 1
for f in report.html junit.xml summary.json compare.json; do
    check "report: night 2 wrote $f" test -s "$t/night2/$f"
done

# The browser: what a person opening the file sees, not the bytes we wrote.
browser=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --no-first-run --user-data-dir="$t/chrome")
timeout 120 "${browser[@]}" --dump-dom "file://$t/night2/report.html" >"$t/night2.dom" 2>>"$t/chromium.log"
check "report: chromium rendered the report" test -s "$t/night2.dom"
timeout 120 "${browser[@]}" --window-size=1000,1400 --screenshot="$t/night2.png" "file://$t/night2/report.html" >/dev/null 2>>"$t/chromium.log"
check "report: chromium took a screenshot of it" test -s "$t/night2.png"
python3 - "$t/night2.dom" "$t/night2.png" "$t/night2/junit.xml" "$(dirname "$(dirs ${ids2%% *})")" <<'EOP'
import sys, html.parser, xml.etree.ElementTree as ET, zlib, struct
dom, png, junit, resdir = sys.argv[1:5]
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.found = []; s.text = {}
    def handle_starttag(s, tag, attrs):
        a = dict(attrs); s.stack.append((tag, a)); s.found.append((tag, a, tuple(x[1].get("id") for x in s.stack)))
    def handle_endtag(s, tag):
        while s.stack:
            t, _ = s.stack.pop()
            if t == tag: break
    def handle_data(s, d):
        for t, a in s.stack:
            if a.get("id"): s.text[a["id"]] = s.text.get(a["id"], "") + d
p = P(); p.feed(open(dom).read())
def within(i, tag, cls=None):
    return [f for f in p.found if f[0] == tag and i in f[2] and (cls is None or cls in (f[1].get("class") or "").split())]
checks = []
def check(name, cond): checks.append(cond); print(("ok - " if cond else "not ok - ") + "report: " + name)
check("the runs table has two rows", len(within("runs", "tr", "run")) == 2)
check("both rows are marked not as expected", len(within("runs", "tr", "bad")) == 2)
check("the chart has a bar per run", len(within("runs-chart", "rect", "bar")) == 2)
check("one new crash title, naming bravo", len(within("new-titles", "li")) == 1 and "nightly bravo" in p.text.get("new-titles", ""))
check("one title gone, naming alpha", len(within("fixed-titles", "li")) == 1 and "nightly alpha" in p.text.get("fixed-titles", ""))
check("two changed verdicts", len(within("changed-verdicts", "tr")) == 3)   # header + 2
ch = p.text.get("changed-verdicts", "")
check("changed verdicts say expected-crash -> unexpected-crash", ch.count("expected-crash") == 4 and ch.count("unexpected-crash") == 2)
check("summary counts", p.text.get("count-runs") == "2" and p.text.get("count-bad") == "2")
links = [f[1]["href"] for f in p.found if f[0] == "a"]
import os
check("every file link resolves", links and all(os.path.exists(os.path.join(os.path.dirname(junit), l)) for l in links))
check("no link leaves the machine", all("://" not in l for l in links))
# The screenshot is a real image with more than one colour (the table and the chart drew).
data = open(png, "rb").read()
ok = data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24]) if ok else (0, 0)
check("screenshot is a %dx%d PNG" % (w, h), ok and w >= 800 and h >= 600)
r = ET.parse(junit).getroot().find("testsuite")
check("junit: 2 tests, 2 failures", r.get("tests") == "2" and r.get("failures") == "2" and len(r.findall("testcase/failure")) == 2)
sys.exit(0 if all(checks) else 1)
EOP
check "report: compare.json names both changed keys" \
    test "$(jq -r '[.changed[].key]|sort|join(" ")' "$t/night2/compare.json")" = "nightly/default/default/elf/tcg nightly/default/default/kdump-zlib/tcg"
finish
