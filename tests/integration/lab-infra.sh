#!/usr/bin/env bash
# The host side failing: QEMU killed mid-run gives infra-error with a reason, never pass,
# and leaves no domain and no partial result behind. Bad input is refused before anything
# starts.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
work=$(mktemp -d /tmp/cl-infra.XXXXXX); chmod 755 "$work"
trap 'pkill -f "$work" 2>/dev/null; rm -rf "$work"' EXIT

# 1. Bad scenario: one line naming file:line:column, exit 2, nothing written.
cat >"$work/bad.yaml" <<'Y'
guest:
  profile: linux
  memroy_mb: 256
steps:
  - trigger: bugcheck
expect: {verdict: expected-crash}
Y
"$CRASHLAB" run "$work/bad.yaml" --results "$work/r0" --state "$work/st0" >"$work/bad.out" 2>"$work/bad.err"
rc=$?
check "bad scenario: exit 2 (got $rc)" test "$rc" = 2
check "bad scenario: error names file:line:column ($(head -1 "$work/bad.err"))" grep -q "bad.yaml:3:3:" "$work/bad.err"
check "bad scenario: one line" test "$(wc -l <"$work/bad.err")" = 1
check "bad scenario: no results written" test ! -e "$work/r0" -o -z "$(ls -A "$work/r0" 2>/dev/null)"

# 2. QEMU killed while the guest hangs in the module (hung-task with a long observe).
cat >"$work/long.yaml" <<'Y'
guest: {profile: linux}
steps:
  - install: build/linux/labfault.ko
  - trigger: {fault: hang-irp}
expect: {verdict: hang}
timeouts: {boot: 120, observe: 300, run: 600}
capture: {nmi_on_hang: false}
Y
sed -i "s|build/linux/labfault.ko|$ROOT/build/linux/labfault.ko|" "$work/long.yaml"
"$CRASHLAB" run "$work/long.yaml" --results "$work/r1" --state "$work/st1" --run-id kill-qemu \
    >"$work/kill.out" 2>"$work/kill.err" &
pid=$!
for _ in $(seq 1 240); do
    grep -q "watching for a crash" "$work/kill.err" 2>/dev/null && break
    sleep 0.5
done
qpid=$(pgrep -f "qemu-system.*guest=cl-.*$work/st1" | head -1)
[ -z "$qpid" ] && qpid=$(pgrep -f "qemu-system.*$work/st1" | head -1)
check "qemu process found" test -n "$qpid"
# The run reaps its own QEMU (lab/util/reaper.h): QEMU's parent is the run's reaper, the
# child of the command's own process (so that a kept spare can outlive the command).
qpp=$(ps -o ppid= -p "$qpid" | tr -d ' ')
check "QEMU is adopted by the run's reaper (parent $qpp, its parent $(ps -o ppid= -p "$qpp" | tr -d ' '), run $pid)" \
    test -n "$qpp" -a "$(ps -o ppid= -p "$qpp" | tr -d ' ')" = "$pid"
[ -n "$qpid" ] && kill -9 "$qpid"
wait "$pid"
rc=$?
res="$work/r1/kill-qemu/result.json"
check "killed qemu: result recorded" test -f "$res"
if [ -f "$res" ]; then
    v=$(json "$res" 'd["verdict"]')
    check "killed qemu: verdict infra-error (got $v)" test "$v" = infra-error
    check "killed qemu: reason names QEMU ($(json "$res" 'd["reason"]'))" grep -qi "qemu" <<<"$(json "$res" 'd["reason"]')"
fi
check "killed qemu: exit 1 (got $rc)" test "$rc" = 1
check "killed qemu: no partial directory" test -z "$(ls -A "$work/r1" | grep '^\.')"
left=$(virsh -c "qemu:///embed?root=$work/st1/embed" list --name 2>/dev/null | grep -c cl- )
check "killed qemu: no domain left behind ($left)" test "$left" = 0
# 3. Two runs on one state directory: the second waits for the first instead of fighting
#    over the embedded libvirt root; both end with their verdict.
"$CRASHLAB" run scenarios/linux/clean.yaml --results "$work/r2" --state "$work/st2" --run-id same-a --quiet \
    >/dev/null 2>&1 &
a=$!
sleep 1
"$CRASHLAB" run scenarios/linux/clean.yaml --results "$work/r2" --state "$work/st2" --run-id same-b \
    >/dev/null 2>"$work/same-b.err"
rb=$?
wait "$a"
ra=$?
why() { [ -f "$work/r2/$1/result.json" ] && json "$work/r2/$1/result.json" 'd["verdict"] + ": " + d["reason"]'; }
check "same state dir: both runs pass (exit $ra, $rb; a: $(why same-a); b: $(why same-b))" test "$ra" = 0 -a "$rb" = 0
[ "$rb" = 0 ] || sed 's/^/    | b: /' "$work/same-b.err"
check "same state dir: the second one said it waited" grep -q "waiting for another crashlab run" "$work/same-b.err"
# 4. The process before has released the state lock but is still exiting, so libvirt's
#    driver.pid (an fcntl lock libvirt only drops at exit) is still held: the next run
#    waits for it instead of failing to open the embedded root. A holder stands in for the
#    exiting process, for 4 s.
pidf="$work/st2/embed/run/qemu/driver.pid"
/usr/bin/python3 -c 'import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDWR|os.O_CREAT); fcntl.lockf(fd,fcntl.LOCK_EX,1,0); open(sys.argv[2],"w").close(); time.sleep(4)' \
    "$pidf" "$work/held" &
holder=$!
for _ in $(seq 1 50); do [ -e "$work/held" ] && break; sleep 0.1; done
check "a holder took driver.pid" test -e "$work/held"
"$CRASHLAB" run scenarios/linux/clean.yaml --results "$work/r2" --state "$work/st2" --run-id same-c --quiet \
    >/dev/null 2>"$work/same-c.err"
rc=$?
wait "$holder"
check "driver.pid still held: the run waits for it and passes (exit $rc; $(why same-c))" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/    | c: /' "$work/same-c.err"

# 5. SIGTERM to the run (as a scheduler or `timeout` sends it): the run stops, tears the
#    guest down and records infra-error "interrupted"; nothing is left running.
"$CRASHLAB" run "$work/long.yaml" --results "$work/r1" --state "$work/st1" --run-id term \
    >/dev/null 2>"$work/term.err" &
pid=$!
for _ in $(seq 1 240); do
    grep -q "watching for a crash" "$work/term.err" 2>/dev/null && break
    sleep 0.5
done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 1 (got $rc)" test "$rc" = 1
res="$work/r1/term/result.json"
check "SIGTERM: result recorded" test -f "$res"
[ -f "$res" ] && check "SIGTERM: infra-error, interrupted ($(json "$res" 'd["verdict"] + ": " + d["reason"]'))" \
    test "$(json "$res" 'd["verdict"] + ": " + d["reason"]')" = "infra-error: interrupted"
check "SIGTERM: no QEMU left" bash -c "! pgrep -f '[q]emu-system.*$work/st1' >/dev/null"
check "SIGTERM: no crashlab process left" bash -c "! pgrep -f '[c]rashlab run .*$work/st1' >/dev/null"
finish
