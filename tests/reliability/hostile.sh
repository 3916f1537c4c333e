#!/usr/bin/env bash
# Hostile input and bad moments for `crashlab run` (issue 15), with a real guest: the fast
# cases of tests/integration/hostile-input.sh (special files, regex bombs, names, options,
# symlinks planted in a writable directory, modes), then
#   - hostile guest text: an exec step that prints escape sequences, bytes that are not
#     UTF-8 and a 3-byte character across the 4 KiB cap, on stdout and stderr (which lands
#     in the reason): result.json must be strict UTF-8 JSON, junit.xml well-formed for
#     xmllint, the terminal free of control characters, the files private (0640/0751);
#   - signals at every phase: SIGTERM 20 ms after the start, while waiting for the state
#     lock, while booting, once the agent answered; SIGKILL of the run's process and of its
#     worker. Every SIGTERM ends as a recorded "infra-error: interrupted"; after any of them
#     no QEMU of the run is left.
set -u
. "$(dirname "$0")/lib.sh"
mkwork hostile
export CRASHLAB

bash "$ROOT/tests/integration/hostile-input.sh"
[ $? = 0 ] || failures=$((failures + 1))

no_qemu() { # no_qemu NAME [SECONDS]: true once no QEMU of the run's state dir is left
    local i
    for i in $(seq 1 $((${2:-15} * 5))); do
        pgrep -f "qemu-system.*$work/$1.st" >/dev/null || return 0
        sleep 0.2
    done
    return 1
}
verdict_of() { # verdict_of NAME: "verdict: reason" of the recorded run, or "(no result)"
    local r="$work/$1.res/$1/result.json"
    [ -f "$r" ] && json "$r" 'd["verdict"] + ": " + d["reason"][:200]' || echo "(no result)"
}
no_partial() { test -z "$(ls -A "$work/$1.res" 2>/dev/null | grep '^\.')"; }
gone_clean() { no_qemu "$1" && no_partial "$1"; }

# 1. Hostile guest text.
cat >"$work/text.yaml" <<'Y'
name: hostile-text
guest: {profile: linux}
steps:
  - exec:
      cmd: "head -c 4095 /dev/zero | tr '\\0' a; printf '\\342\\202\\254 \\033]0;pwned\\007\\033[2J\\377\\376 \\302\\233'; printf 'bad \\033[31m\\377 err\\001' >&2; exit 3"
      expect_exit: 0
expect: {verdict: fail}
timeouts: {boot: 400, step: 60, run: 600}
Y
start_run text "$work/text.yaml"
wait "$RUN_PID"
rc=$?
res="$work/text.res/text/result.json"
check "guest text: the run is recorded (exit $rc: $(verdict_of text | tr -d '\000-\037'))" test -f "$res"
if [ -f "$res" ]; then
    check "guest text: result.json is strict UTF-8 JSON" /usr/bin/python3 -c \
        'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8","strict"))' "$res"
    out=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["steps"][0].get("stdout",""); print(len(s.encode()), s.rstrip("a")[:8] == "")' "$res")
    check "guest text: stdout cut at 4096 bytes on a character boundary, not inside the euro sign (bytes, only a's: $out)" test "$out" = "4095 True"
    check "guest text: result.json against its schema" schema_ok "$res"
    check "guest text: junit.xml is well-formed (xmllint)" xmllint --noout "$work/text.res/text/junit.xml"
    check "guest text: the reason carries the guest's stderr, cleaned" grep -q "bad" "$work/text.res/text/junit.xml"
    check "guest text: no control character reached the terminal" \
        bash -c "! LC_ALL=C grep -qP '[\\x00-\\x08\\x0b-\\x1f\\x7f]|\\xc2[\\x80-\\x9f]' '$work/text.err'"
    modes=$(cd "$work/text.res" && stat -c '%a %n' . text text/* | tr '\n' ' ')
    check "guest text: nothing in the run is readable by others ($modes)" bash -c \
        "! find '$work/text.res' -perm -o=r | grep -q ."
    check "guest text: QEMU still writes the 0640 console log ($(stat -c %s "$work/text.res/text/console.log") bytes)" \
        test -s "$work/text.res/text/console.log"
    check "guest text: files 0640 ($(stat -c %a "$res")), run directory 0751 ($(stat -c %a "$work/text.res/text"))" \
        test "$(stat -c %a "$res")" = 640 -a "$(stat -c %a "$work/text.res/text")" = 751
fi

# 2. SIGTERM at the start. Nothing can catch a signal while the dynamic loader maps the
#    program's ~70 libraries (0.1-0.4 s here under load), so the run is signalled at the
#    first moment its process says it catches SIGTERM (SigCgt in /proc/PID/status), and
#    20 ms after that: the handlers are installed first thing, before the options are read
#    and before the reaper splits off its worker.
catches_term() { # catches_term PID: true once the process has a SIGTERM handler
    local i m
    for i in $(seq 1 500); do
        m=$(awk '/^SigCgt:/{print $2}' "/proc/$1/status" 2>/dev/null) || return 1
        [ -n "$m" ] && (( 0x$m & 0x4000 )) && return 0
        sleep 0.01
    done
    return 1
}
scenario "$work/panic.yaml" 256 "" 60 400   # boot may take minutes on a loaded TCG host
for delay in 0 0.02; do
    n=early${delay#0.}
    start_run "$n" "$work/panic.yaml"
    if catches_term "$RUN_PID"; then
        sleep "$delay"
        kill -TERM "$RUN_PID"
    else
        not_ok "SIGTERM at the start: the run's process never caught SIGTERM"
        kill -TERM "$RUN_PID"
    fi
    wait "$RUN_PID"
    rc=$?
    check "SIGTERM ${delay}s after the handler: exit 1 (got $rc), recorded as interrupted ($(verdict_of $n))" \
        test "$rc" = 1 -a "$(verdict_of $n)" = "infra-error: interrupted"
    check "SIGTERM ${delay}s after the handler: no QEMU, no partial directory" gone_clean "$n"
done

# 3. SIGTERM while waiting for the state lock (another run holds it): interrupted, not
#    "stayed in use by another crashlab run".
mkdir -p "$work/lockw.st" && chmod 755 "$work/lockw.st"
flock "$work/lockw.st/lock" sleep 60 &
holder=$!
rel_pids+=("$holder")
sleep 0.3
start_run lockw "$work/panic.yaml"
wait_for "$work/lockw.err" "waiting for another crashlab run" 30
kill -TERM "$RUN_PID"
wait "$RUN_PID"
rc=$?
kill "$holder" 2>/dev/null
check "SIGTERM while waiting for the state lock: exit 1 (got $rc), interrupted ($(verdict_of lockw))" \
    test "$rc" = 1 -a "$(verdict_of lockw)" = "infra-error: interrupted"

# 4. SIGTERM while booting and once the agent answered.
for phase in boot:"starting cl-" agent:"guest agent answered"; do
    n=${phase%%:*}
    start_run "term-$n" "$work/panic.yaml"
    if wait_for "$work/term-$n.err" "${phase#*:}" 420; then
        t0=$SECONDS
        kill -TERM "$RUN_PID"
        wait "$RUN_PID"
        rc=$?
        secs=$((SECONDS - t0))
        check "SIGTERM at $n: exit 1 (got $rc), interrupted ($(verdict_of term-$n))" \
            test "$rc" = 1 -a "$(verdict_of term-$n)" = "infra-error: interrupted"
        # Not the boot timeout (400 s): the wait for the agent looks at the signal; a domain
        # start in progress still finishes first (20-30 s under a load of 20 here).
        check "SIGTERM at $n: the run ended ${secs}s after the signal (< 60 s)" test "$secs" -lt 60
        check "SIGTERM at $n: no QEMU left" no_qemu "term-$n"
    else
        not_ok "SIGTERM at $n: the run never reached '${phase#*:}'"
        kill -9 "$RUN_PID" 2>/dev/null
    fi
done

# 5. SIGKILL of the run's own process (the reaper) once the guest is up: its worker is told
#    (SIGTERM), destroys the domain and still records the run.
start_run kill-outer "$work/panic.yaml"
if wait_for "$work/kill-outer.err" "guest agent answered" 420; then
    kill -KILL "$RUN_PID"
    wait "$RUN_PID" 2>/dev/null
    check "SIGKILL of the run: no QEMU left within 30 s" no_qemu kill-outer 30
    for _ in $(seq 1 150); do [ -f "$work/kill-outer.res/kill-outer/result.json" ] && break; sleep 0.2; done
    check "SIGKILL of the run: its worker recorded it ($(verdict_of kill-outer))" \
        test "$(verdict_of kill-outer)" = "infra-error: interrupted"
else
    not_ok "SIGKILL of the run: the guest never came up"
fi

# 6. SIGKILL of the worker (the run's grandchild: the run's process waits, its child the
#    reaper reaps, the reaper's child works): the reaper kills the QEMU it adopted.
start_run kill-worker "$work/panic.yaml"
if wait_for "$work/kill-worker.err" "guest agent answered" 420; then
    # The processes with the run's own name (QEMU, adopted by the reaper, is a child too).
    comm=$(cat /proc/$RUN_PID/comm)
    reaper=$(pgrep -P "$RUN_PID" -x "$comm" | head -1)
    worker=$([ -n "$reaper" ] && pgrep -P "$reaper" -x "$comm" | head -1)
    check "the run has a worker process ($worker)" test -n "$worker"
    [ -n "$worker" ] && kill -KILL "$worker"
    wait "$RUN_PID"
    rc=$?
    check "SIGKILL of the worker: the run exits 137 (got $rc)" test "$rc" = 137
    check "SIGKILL of the worker: no QEMU left" no_qemu kill-worker 10
else
    not_ok "SIGKILL of the worker: the guest never came up"
fi
finish
