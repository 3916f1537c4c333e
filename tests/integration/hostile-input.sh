#!/usr/bin/env bash
# Hostile and careless input that needs no guest (issue 15): special files given as a
# scenario, a dump or an install file; regular-expression bombs; names that would become
# a path, a kernel parameter or XML; bad options; symlinks planted in a directory another
# user can write; the modes results are written with. Each must be refused at once with
# exit 2 (validate: 1, its "bad file") and nothing written, or written safely.
# tests/reliability/hostile.sh runs this too, then the cases that need a guest.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
work=$(mktemp -d /tmp/cl-hostile.XXXXXX)
chmod 755 "$work"   # QEMU's user could enter it: only the check under test may refuse a run
trap 'rm -rf "$work"' EXIT
cd "$work"
export CRASHLAB_GUEST=$ROOT/build/guest
scen() { # scen FILE [install] [pattern]
    cat >"$1" <<Y
guest: {profile: linux}
steps:
${2:+  - install: $2
}  - trigger: bugcheck
expect: {verdict: expected-crash${3:+, pattern: \"$3\"}}
Y
}
nothing_in() { test ! -e "$1" || test -z "$(ls -A "$1")"; }
# A run that got past its checks must not boot anything here: it fails at once on this URI.
NOCONN='qemu+unix:///system?socket=/nonexistent/crashlab-hostile'
# rc_of SECONDS CMD...: runs CMD with a hard limit; its exit status (137: it hung).
rc_of() { local s=$1; shift; timeout -s KILL "$s" "$@" >"$work/out" 2>"$work/err"; echo $?; }

# 1. Special files: a FIFO nobody writes (it used to block for ever), a device.
mkfifo fifo.yaml fifo.dmp
rc=$(rc_of 10 "$CRASHLAB" validate fifo.yaml)
check "FIFO scenario: validate refuses it at once (exit $rc, $(head -c 120 err))" test "$rc" = 1 && grep -q "is a FIFO" err
rc=$(rc_of 10 "$CRASHLAB" run fifo.yaml --results r-fifo --state st --connect "$NOCONN")
check "FIFO scenario: run exits 2 (got $rc), nothing written" test "$rc" = 2 && nothing_in r-fifo
for cmd in inspect fingerprint; do
    rc=$(rc_of 10 "$CRASHLAB" $cmd fifo.dmp)
    check "FIFO dump: $cmd exits 2 at once (got $rc: $(head -c 100 err))" test "$rc" = 2 && grep -q "is a FIFO" err
done
rc=$(rc_of 10 "$CRASHLAB" inspect /dev/zero)
check "device as a dump: inspect exits 2 (got $rc)" test "$rc" = 2
scen zero.yaml /dev/zero
rc=$(rc_of 10 "$CRASHLAB" validate zero.yaml)
check "install: /dev/zero: validate refuses it (exit $rc: $(head -c 100 err))" test "$rc" = 1 && grep -q "zero.yaml:4: install: '/dev/zero' is not a regular file" err
rc=$(rc_of 10 "$CRASHLAB" run zero.yaml --results r-zero --state st --connect "$NOCONN")
check "install: /dev/zero: run exits 2 (got $rc), nothing written" test "$rc" = 2 && nothing_in r-zero && grep -q "not a regular file" err
scen fifo-install.yaml "$work/fifo.dmp"
rc=$(rc_of 10 "$CRASHLAB" run fifo-install.yaml --results r-fi --state st --connect "$NOCONN")
check "install: a FIFO: run exits 2 (got $rc)" test "$rc" = 2 && nothing_in r-fi && grep -q "not a regular file" err

# 2. Regular-expression bombs in expect.pattern: refused fast and small.
for p in 'a{1,32767}' '((a{1,100}){1,100}){1,100}' '(a{1,255}){1,7}' '(a*)*\\1'; do
    scen bomb.yaml "" "$p"
    /usr/bin/time -f "%e %M" -o time.txt timeout -s KILL 60 "$CRASHLAB" validate bomb.yaml >out 2>err
    rc=$?
    read -r secs kb < <(tail -1 time.txt) 2>/dev/null; [[ $secs =~ ^[0-9.]+$ && $kb =~ ^[0-9]+$ ]] || { secs=99; kb=0; }
    check "regex bomb '$p': refused (exit $rc) in ${secs}s, $((kb / 1024)) MB: $(head -c 110 err)" \
        bash -c "test $rc = 1 && grep -q 'expect.pattern: too costly' err && awk 'BEGIN{exit !($secs < 2 && $kb < 200000)}'"
done
scen bomb.yaml "" 'a{1,32767}'
rc=$(rc_of 20 "$CRASHLAB" run bomb.yaml --results r-bomb --state st --connect "$NOCONN")
check "regex bomb: run exits 2 (got $rc), nothing written" test "$rc" = 2 && nothing_in r-bomb

# 3. Names: one grammar (lab/util/names.h); refused with exit 2 before anything is written.
cp "$ROOT/scenarios/linux/clean.yaml" ok.yaml
for id in '/../escaped' '../escaped' 'x init=/bin/sh' '.hidden' 'a/b' $'esc\e[2J' '' "$(printf 'x%.0s' {1..101})"; do
    rc=$(rc_of 10 "$CRASHLAB" run ok.yaml --run-id "$id" --results r-name --state st --connect "$NOCONN")
    shown=$(printf '%q' "$id" | head -c 40)
    check "--run-id $shown: exit 2 (got $rc), nothing written, no raw escape on the terminal" \
        bash -c "test $rc = 2 && { test ! -e r-name || test -z \"\$(ls -A r-name)\"; } && test ! -e escaped && grep -q -- --run-id err && ! grep -q \$'\\e' err"
done
rc=$(rc_of 10 "$CRASHLAB" run ok.yaml --run-id good-name.1_x --print-xml --state st)
check "--run-id good-name.1_x is accepted (--print-xml, exit $rc)" test "$rc" = 0 && grep -q "crashlab.run=good-name.1_x" out

# A result.json is only as trustworthy as whoever could write the results directory: a
# trigger step whose fault is "../../../NAME" used to name a corpus file outside the corpus.
mkdir -p runs/r1
head -c 5000 /dev/urandom >runs/r1/dump.kdump
sha=$(sha256sum runs/r1/dump.kdump | cut -d' ' -f1)
cat >runs/r1/result.json <<J
{"schema_version": 1, "run_id": "r1", "started": "2026-12-02T10:00:00Z", "verdict": "expected-crash",
 "expected_verdict": "expected-crash", "reason": "x", "scenario": {"name": "s", "path": "/nonexistent.yaml", "sha256": "0"},
 "steps": [{"kind": "trigger", "fault": "../../cl-escaped-corpus"}],
 "dump": {"path": "dump.kdump", "format": "kdump-zlib", "bytes": 5000, "sha256": "$sha"}, "crash": {"title": "t", "kind": "panic"}}
J
mkdir -p deep/er
rc=$(cd deep/er && rc_of 30 "$CRASHLAB" corpus build --from ../../runs --out corp)
check "corpus build: a fault name that climbs out is skipped, nothing written outside (exit $rc)" \
    bash -c "test $rc = 0 && ! ls '$work'/deep/cl-escaped-corpus* '$work'/cl-escaped-corpus* >/dev/null 2>&1 && grep -q 'fault .* must start with a letter' deep/er/corp/manifest.json"

# 4. Options: every one checked before anything starts.
rc=$(rc_of 10 "$CRASHLAB" run ok.yaml --accel foo --results r-accel --state st-accel --connect "$NOCONN")
check "--accel foo: exit 2 (got $rc), no results, no state" test "$rc" = 2 && nothing_in r-accel && test ! -e st-accel
rc=$(rc_of 10 "$CRASHLAB" run ok.yaml --accel foo --print-xml)
check "--print-xml --accel foo: exit 2 (got $rc), no XML printed" test "$rc" = 2 && test ! -s out
rc=$(rc_of 10 "$CRASHLAB" run ok.yaml --dump-format bogus --results r-df --connect "$NOCONN")
check "--dump-format bogus: exit 2 (got $rc), nothing written" test "$rc" = 2 && nothing_in r-df

# 5. A directory another user can write: `report --out DIR` run by root into a directory
#    owned by nobody, who planted symlinks at every name the old code would use (the final
#    names and NAME.tmp.PID for the next few hundred pids). Nothing outside DIR changes.
if [ "$(id -u)" = 0 ]; then
    mkdir -p from rout
    echo precious >victim
    chown nobody rout
    # One process plants them all (every ln would use up a pid of the range).
    /usr/bin/python3 - "$work" <<'PY'
import os, sys
w = sys.argv[1]
last = int(open("/proc/sys/kernel/ns_last_pid").read())
for n in ("report.html", "junit.xml", "summary.json"):
    os.symlink(w + "/victim", w + "/rout/" + n)
    for p in range(last + 1, last + 400):
        os.symlink(w + "/victim", "%s/rout/%s.tmp.%d" % (w, n, p))
PY
    rc=$(rc_of 30 "$CRASHLAB" report --from from --out rout)
    check "report into a user-writable DIR with planted symlinks: exit 0 (got $rc)" test "$rc" = 0
    check "report: the symlink targets are untouched" test "$(cat victim)" = precious
    check "report: report.html is a new regular file, not a followed link" test -f rout/report.html -a ! -L rout/report.html
else
    ok "# skipped: the planted-symlink case needs root"
fi

# 6. Permission policy (README "Who can read results"): files 0640, directories 0750, narrowed
#    by the umask.
(umask 022; "$CRASHLAB" report --from from --out rep-modes >/dev/null 2>&1)
check "report files are 0640, its directory 0750 ($(stat -c '%a' rep-modes rep-modes/report.html | tr '\n' ' '))" \
    test "$(stat -c '%a' rep-modes)" = 750 -a "$(stat -c '%a' rep-modes/report.html)" = 640
(umask 077; "$CRASHLAB" report --from from --out rep-077 >/dev/null 2>&1)
check "under umask 077: 0600 and 0700 ($(stat -c '%a' rep-077 rep-077/report.html | tr '\n' ' '))" \
    test "$(stat -c '%a' rep-077)" = 700 -a "$(stat -c '%a' rep-077/report.html)" = 600
finish
