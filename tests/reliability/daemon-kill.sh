#!/usr/bin/env bash
# `crashlab serve` killed with SIGKILL at random moments, KILLS (default 20) times, while
# it works through a queue of JOBS (default 4) jobs on 2 slots; restarted each time. In
# the end every job is done with exactly one result: one published run directory with
# its result.json, no job lost or run twice to completion, no domain left in any slot's
# embedded root, no run process left over.
set -u
. "$(dirname "$0")/lib.sh"
mkwork daemon
KILLS=${KILLS:-20}
JOBS=${JOBS:-4}
if ! "$CRASHLAB" --help 2>&1 | grep -qE '^ +serve '; then
    not_ok "daemon kill: crashlab has no serve command"
    finish
    exit
fi
st=$work/d
mkdir -p "$st" && chmod 755 "$st"
scenario "$work/s.yaml" 256

serve() { # starts the daemon; true when it is still alive a moment later
    "$CRASHLAB" serve --state "$st" --slots 2 --backoff 1 >>"$work/serve.log" 2>&1 &
    spid=$!
    rel_pids+=("$spid")
    sleep 0.5
    kill -0 "$spid" 2>/dev/null
}
# answering SECONDS: true once the daemon answers a status request (it first settles the
# runs the previous daemon left, which may take a while).
answering() {
    local i
    for i in $(seq 1 $(($1 * 5))); do
        kill -0 "$spid" 2>/dev/null || return 1
        "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
check "daemon starts" serve
check "daemon answers" answering 30
ids=()
for i in $(seq 1 "$JOBS"); do
    ids+=($("$CRASHLAB" submit "$work/s.yaml" --state "$st" --accel tcg 2>>"$work/submit.err"))
done
check "$JOBS jobs queued (${ids[*]})" test "${#ids[@]}" = "$JOBS"

started_ok=0 died=0
for k in $(seq 1 "$KILLS"); do
    # Anywhere from right after start to well into a run: 0.0 to 9.9 s.
    sleep "$((RANDOM % 10)).$((RANDOM % 10))"
    if ! kill -0 "$spid" 2>/dev/null; then
        died=$((died + 1))
        echo "# daemon $spid had died by itself before kill $k: $(grep -E 'runtime error|ERROR:' "$work/serve.log" | tail -1)"
    fi
    kill -9 "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    serve && started_ok=$((started_ok + 1))
done
check "daemon killed $KILLS times, alive after each restart ($started_ok)" test "$started_ok" = "$KILLS"
check "daemon never died by itself ($died times; sanitizer: $(grep -c 'runtime error\|ERROR: AddressSanitizer' "$work/serve.log"))" \
    test "$died" = 0 -a "$(grep -c 'runtime error\|ERROR: AddressSanitizer' "$work/serve.log")" = 0
kill -0 "$spid" 2>/dev/null || serve
check "daemon answers after the last restart" answering 300
timeout 1500 "$CRASHLAB" wait --all --timeout 1400 --state "$st" >"$work/wait.out" 2>&1
wrc=$?
check "every job finished (wait exit $wrc: 0 or 1, not 3/4)" test "$wrc" = 0 -o "$wrc" = 1
"$CRASHLAB" status --json --state "$st" >"$work/status.json" 2>&1
res=$st/results
python3 - "$work/status.json" "$res" "${ids[@]}" <<'PY'
import glob, json, os, sys
try:
    doc = json.load(open(sys.argv[1]))
except ValueError:
    print("not ok - status --json is readable: " + open(sys.argv[1]).read()[:200].replace("\n", " "))
    sys.exit(0)
jobs = doc if isinstance(doc, list) else doc.get("jobs", [])
byid = {str(j.get("id")): j for j in jobs}
for i in sys.argv[3:]:
    j = byid.get(i)
    if not j:
        print(f"not ok - job {i}: missing from status"); continue
    st = j.get("state")
    print(("ok" if st == "done" else "not ok") + f" - job {i}: done (state {st}, verdict {j.get('verdict')}, attempts {j.get('attempts')})")
    dirs = sorted(d for d in glob.glob(os.path.join(sys.argv[2], "job-%06d-a*" % int(i))) if os.path.isdir(d))
    print(("ok" if len(dirs) == 1 else "not ok") + f" - job {i}: exactly one published result ({[os.path.basename(d) for d in dirs]})")
    if len(dirs) == 1:
        r = os.path.join(dirs[0], "result.json")
        good = os.path.isfile(r) and json.load(open(r)).get("verdict") == j.get("verdict")
        print(("ok" if good else "not ok") + f" - job {i}: result.json there and agrees with the queue")
PY
left=0
for e in "$st"/slots/*/*/embed "$st"/*/*/embed; do
    [[ -d $e ]] || continue
    left=$((left + $(virsh -c "qemu:///embed?root=$e" list --all --name 2>/dev/null | grep -c .)))
done
check "no domain left in any slot ($left)" test "$left" = 0
kill -TERM "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
sleep 1
check "no run process left" test -z "$(pgrep -f "crashlab run .*$st")"
finish
