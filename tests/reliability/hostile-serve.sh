#!/usr/bin/env bash
# The daemon under hostile conditions (issue 15), without booting a guest:
#   - ENOSPC in the queue: the state directory on a 4 MiB tmpfs filled up while jobs retry
#     and a client submits. A failed queue write is never taken as done, a full disk is an
#     infrastructure error (retried), each run id is started once, and once space returns
#     every job ends with a result directory, none left "running";
#   - cancel at every moment (queued, the first milliseconds of the run, mid-connect):
#     every job that ends has a verdict, and every job that ran a result directory.
# The fast cases (options, exit codes, messages, FIFOs, a hung libvirt, the loop never
# blocking) are tests/integration/serve-hostile.sh.
set -u
. "$(dirname "$0")/lib.sh"
mkwork hostile-serve
silent_pid=0
trap 'kill "$silent_pid" 2>/dev/null; [ -n "${daemon:-}" ] && kill -TERM "$daemon" 2>/dev/null; wait 2>/dev/null; rel_cleanup' EXIT

up() { for _ in $(seq 300); do "$CRASHLAB" status --state "$1" >/dev/null 2>&1 && return; sleep 0.1; done; }

# --- a full disk under the queue -----------------------------------------------------------
mkdir -p "$work/tmpfs"
if ! mount -t tmpfs -o size=4m tmpfs "$work/tmpfs"; then
    not_ok "hostile-serve: cannot mount a tmpfs (needs root)"
    finish
    exit
fi
chmod 755 "$work/tmpfs"
st=$work/tmpfs/state
cat >"$work/hosts.conf" <<EOC
[gone]
uri = qemu+unix:///system?socket=$work/no-such-libvirt.sock
slots = 2
memory_mb = 4096
EOC
"$CRASHLAB" serve --state "$st" --hosts "$work/hosts.conf" --backoff 0.3 --max-attempts 3 >"$work/daemon.log" 2>&1 &
daemon=$!
up "$st"
ids=$("$CRASHLAB" submit --state "$st" --accel tcg $(for _ in 1 2 3 4 5 6; do echo scenarios/linux/clean.yaml; done))
check "hostile-serve: 6 jobs queued" test "$(echo $ids | wc -w)" = 6
dd if=/dev/zero of="$work/tmpfs/fill" bs=64k 2>/dev/null
check "hostile-serve: the disk is full" test "$(df --output=avail -k "$work/tmpfs" | tail -1 | tr -d ' ')" -lt 64
sleep 1
"$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/clean.yaml >"$work/late.out" 2>"$work/late.err"
rc=$?
check "hostile-serve: a submit on a full disk fails with exit 1, not 0 or 3 (got $rc: $(head -c 160 "$work/late.err"))" test "$rc" = 1
sleep 8
check "hostile-serve: the daemon saw the queue write fail" grep -q "the queue could not be written" "$work/daemon.log"
check "hostile-serve: the daemon still answers on a full disk" bash -c "'$CRASHLAB' status --state '$st' >/dev/null"
rm -f "$work/tmpfs/fill"
"$CRASHLAB" wait $ids --timeout 120 --state "$st" >/dev/null 2>&1
rc=$?
check "hostile-serve: once space returns every job ends (wait exit $rc, 1: not as expected)" test "$rc" = 1
"$CRASHLAB" status --json --state "$st" >"$work/jobs.json"
check "hostile-serve: no job is left running" test "$(jq '[.[]|select(.state=="running")]|length' "$work/jobs.json")" = 0
check "hostile-serve: the late submit queued nothing" test "$(jq length "$work/jobs.json")" = 6
check "hostile-serve: every job is infra-error (the host is gone), none 'refused' as bad input" \
    test "$(jq -r '[.[]|select(.verdict=="infra-error" and (.reason|test("refused")|not))]|length' "$work/jobs.json")" = 6
check "hostile-serve: no job used more than its 3 attempts" test "$(jq '[.[]|select(.attempts>3)]|length' "$work/jobs.json")" = 0
dups=0 nodir=0
for id in $ids; do
    n=$(grep -c "^=== " "$st/logs/job-$(printf %06d "$id").log" 2>/dev/null || echo 0)
    u=$(grep "^=== " "$st/logs/job-$(printf %06d "$id").log" 2>/dev/null | sed 's/.*run id //' | sort -u | wc -l)
    [ "$n" = "$u" ] || dups=$((dups + 1))
    d=$(jq -r ".[]|select(.id==$id)|.result_dir" "$work/jobs.json")
    [ -f "$d/result.json" ] && [ "$(jq -r .verdict "$d/result.json")" = infra-error ] || nodir=$((nodir + 1))
    done_lines=$(grep -c "job $id: done" "$work/daemon.log")
    [ "$done_lines" = 1 ] || dups=$((dups + 100))
done
check "hostile-serve: each run id started once, each job logged done once ($dups)" test "$dups" = 0
check "hostile-serve: every job has a result directory with its verdict ($nodir without)" test "$nodir" = 0
kill -TERM "$daemon"; wait "$daemon"; daemon=
check "hostile-serve: the daemon reported no sanitizer error" bash -c "! grep -qE 'runtime error|ERROR: AddressSanitizer' '$work/daemon.log'"

# --- cancel at every moment ----------------------------------------------------------------
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64); held = []
while True:
    c, _ = s.accept(); held.append(c)' "$work/hung.sock" &
silent_pid=$!
for _ in $(seq 50); do [ -S "$work/hung.sock" ] && break; sleep 0.1; done
cat >"$work/hung.conf" <<EOC
[hung]
uri = qemu+unix:///system?socket=$work/hung.sock
slots = 4
memory_mb = 4096
EOC
printf 'name: hostile\nguest: {profile: linux}\nsteps:\n  - exec: "true"\nexpect: {verdict: pass}\ntimeouts: {boot: 90, step: 60, observe: 10, run: 30}\n' \
    >"$work/short.yaml"
st2=$work/state2
"$CRASHLAB" serve --state "$st2" --hosts "$work/hung.conf" >"$work/daemon2.log" 2>&1 &
daemon=$!
up "$st2"
ids=""
for delay in 0 0.01 0.02 0.05 0.1 0.3 0.6 1 2 3; do
    id=$("$CRASHLAB" submit --state "$st2" --accel tcg "$work/short.yaml")
    ids="$ids $id"
    (sleep "$delay"; "$CRASHLAB" cancel "$id" --state "$st2" >/dev/null 2>&1) &
done
wait $(jobs -p | grep -v "^$daemon\$" | grep -v "^$silent_pid\$") 2>/dev/null
"$CRASHLAB" wait $ids --timeout 90 --state "$st2" >/dev/null 2>&1
"$CRASHLAB" status --json --state "$st2" >"$work/jobs2.json"
check "hostile-serve: every cancelled job ended" test "$(jq '[.[]|select(.state=="cancelled")]|length' "$work/jobs2.json")" = 10
bad=$(jq -r '.[]|select(.attempts>0)|select(.verdict==null or .result_dir==null)|.id' "$work/jobs2.json" | tr '\n' ' ')
check "hostile-serve: every cancelled job that ran has a verdict and a result directory (not: $bad)" test -z "$bad"
missing=0
for d in $(jq -r '.[]|select(.attempts>0)|.result_dir' "$work/jobs2.json"); do
    [ -n "$(jq -r '.verdict // empty' "$d/result.json" 2>/dev/null)" ] || missing=$((missing + 1))
done
check "hostile-serve: ... each result.json there has a verdict ($missing missing)" test "$missing" = 0
check "hostile-serve: no run left a .partial" test -z "$(find "$st2/results" -name '*.partial')"
kill -TERM "$daemon"; wait "$daemon"; daemon=
check "hostile-serve: the daemon reported no sanitizer error (cancels)" bash -c "! grep -qE 'runtime error|ERROR: AddressSanitizer' '$work/daemon2.log'"
finish
