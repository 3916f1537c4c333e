#!/usr/bin/env bash
# crashlab serve: jobs survive a SIGKILL of the daemon, and of the daemon and its run.
#   Two jobs on one slot; the daemon is killed with SIGKILL while the first one's guest
#   runs; its run (PR_SET_PDEATHSIG) tears down and records "interrupted"; a new daemon
#   finds the job, waits for that run to be gone, destroys what is left of its domain and
#   retries it. Then the daemon and the running attempt are both SIGKILLed: the domain
#   stays behind, and the next daemon destroys it by its run id. Every job ends with
#   exactly one result; no attempt overlaps another; no QEMU is left. Also: socket permissions, status --json, logs, cancel of a queued job,
#   a bad submit refused as a whole, and a clean stop on SIGTERM.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

st=$(mktemp -d /tmp/crashlab-serve.XXXXXX)
daemon=0
cleanup() {
    [ "$daemon" -gt 0 ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$st"
}
trap cleanup EXIT
start_daemon() {
    "$CRASHLAB" serve --state "$st" --slots 1 --backoff 1 >>"$st/daemon.log" 2>&1 &
    daemon=$!
    # Recovery comes before the socket: a daemon answers once it is ready.
    for _ in $(seq 1800); do
        "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && return 0
        kill -0 "$daemon" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
jstate() { "$CRASHLAB" status "$1" --json --state "$st" | jq -r "$2"; }

check "serve: daemon starts" start_daemon
check "serve: control socket is owner-only (0600)" test "$(stat -c %a "$st/serve.sock")" = 600
check "serve: a submit with one bad scenario is refused whole" \
    bash -c "! '$CRASHLAB' submit --state '$st' scenarios/linux/clean.yaml /etc/hostname"
ids=$("$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/panic.yaml scenarios/linux/clean.yaml)
extra=$("$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/clean.yaml)
check "serve: submit prints one id per job" test "$(echo $ids)" = "1 2"
check "serve: cancel a queued job" "$CRASHLAB" cancel "$extra" --state "$st"
check "serve: cancelled job is cancelled" test "$(jstate "$extra" .state)" = cancelled

# Kill the daemon once job 1's guest is booting.
for _ in $(seq 600); do
    grep -q "boot" "$st/logs/job-000001.log" 2>/dev/null && break
    sleep 0.2
done
check "serve: job 1 runs on the one slot, job 2 waits" test "$(jstate 1 .state)/$(jstate 2 .state)" = running/queued
sleep 3
run1=$(jstate 1 .pid)
kill -KILL "$daemon"; wait "$daemon" 2>/dev/null; daemon=0
check "serve: the database still says job 1 is running" test "$(sqlite3 "$st/jobs.db" 'select state from jobs where id=1')" = running
check "serve: a new daemon starts while the old run tears down" start_daemon

# Harsher: the daemon and the running attempt (reaper and worker) all die by SIGKILL. Nothing tears the
# domain down; QEMU (daemonized by libvirt) keeps running in the slot's embedded root
# until the next daemon's recovery destroys it by the run id in its metadata.
for _ in $(seq 900); do
    cur=$("$CRASHLAB" status --json --state "$st" | jq -r '[.[]|select(.state=="running")][0].id // empty')
    [ -n "$cur" ] && grep -q "boot" "$st/logs/job-$(printf %06d "$cur").log" 2>/dev/null && \
        [ "$(grep -c '^===' "$st/logs/job-$(printf %06d "$cur").log")" = "$(jstate "$cur" .attempts)" ] && break
    sleep 0.2
done
sleep 3
cur_att=$(jstate "$cur" .attempts)
cur_rid=$(jstate "$cur" .run_id)
cur_pid=$(jstate "$cur" .pid)
# The run's three processes (original, reaper, worker: lab/util/reaper.h) die at once with
# the daemon (as under the OOM killer): a worker that outlived its reaper would tear the
# domain down and record the run itself. QEMU, the reaper's adopted child, is left alone.
run_tree() {
    local c
    for c in $(pgrep -P "$1"); do
        case "$(cat /proc/$c/comm 2>/dev/null)" in qemu*) ;; *) echo "$c"; run_tree "$c" ;; esac
    done
}
kill -KILL "$daemon" "$cur_pid" $(run_tree "$cur_pid"); wait "$daemon" 2>/dev/null; daemon=0
sleep 1
# Whether QEMU outlived them depends on who noticed first (the reaper kills what a dead worker
# left, issue 15 item 6); either way recovery below must leave none, checked at the end.
if pgrep -f "[q]emu-system.*$st" >/dev/null; then echo "# the killed run's QEMU outlived it"; else echo "# the killed run's QEMU went with it"; fi
check "serve: a third daemon starts" start_daemon
check "serve: recovery destroyed the left-behind domain of $cur_rid" grep -q "destroying domain .* of run $cur_rid" "$st/daemon.log"
check "serve: the attempt without a result counts as an infrastructure error" \
    grep -q "job $cur: attempt $cur_att was an infrastructure error (the attempt's process was lost)" "$st/daemon.log"
if "$CRASHLAB" wait --all --timeout 480 --state "$st"; then rc=0; else rc=$?; fi
check "serve: wait --all: both jobs ended with their expected verdicts" test "$rc" = 0
check "serve: job 1 expected-crash after 2 attempts" test "$(jstate 1 '.state+" "+.verdict+" "+(.attempts|tostring)')" = "done expected-crash 2"
check "serve: job 2 pass after $([ "$cur" = 2 ] && echo 2 || echo 1) attempt(s)" \
    test "$(jstate 2 '.state+" "+.verdict+" "+(.attempts|tostring)')" = "done pass $([ "$cur" = 2 ] && echo 2 || echo 1)"
check "serve: the first killed attempt recorded itself as interrupted" \
    test "$(jq -r '.verdict+" "+.reason' "$st"/results/.attempts/job-000001-a1-*/result.json | cut -c1-23)" = "infra-error interrupted"
runs=$(find "$st/results" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | xargs -n1 basename | sort | tr '\n' ' ')
check "serve: exactly one result per finished job ($runs)" test "$runs" = "$(jstate 1 .run_id) $(jstate 2 .run_id) "
rid12=$(jstate 1 .run_id)
check "serve: job 1's final run is its attempt 2 ($rid12)" bash -c "echo '$rid12' | grep -Eq '^job-000001-a2-[0-9a-f]{6}$'"
check "serve: job.json names the job" test "$(jq -r '(.id|tostring)+" "+.run_id' "$st/results/$rid12/job.json")" = "1 $rid12"
a1_end=$(jq -r .finished "$st"/results/.attempts/job-000001-a1-*/result.json)
a2_start=$(jq -r .started "$st/results/$rid12/result.json")
check "serve: attempt 2 started after attempt 1 finished ($a1_end <= $a2_start)" test "$(date -d "$a1_end" +%s)" -le "$(date -d "$a2_start" +%s)"
check "serve: the old run processes are gone" bash -c "! kill -0 $run1 2>/dev/null && ! kill -0 $cur_pid 2>/dev/null"
check "serve: no QEMU left on the slots" bash -c "! pgrep -f '[q]emu-system.*$st' >/dev/null"
check "serve: recovery is in the daemon log" grep -q "recovery: job 1" "$st/daemon.log"
check "serve: logs shows both attempts of job 1" bash -c "'$CRASHLAB' logs 1 --state '$st' | grep -c '^=== .* attempt' | grep -qx 2"
check "serve: status table lists three jobs" test "$("$CRASHLAB" status --state "$st" | tail -n +2 | wc -l)" = 3
kill -TERM "$daemon"
if wait "$daemon"; then rc=0; else rc=$?; fi
daemon=0
check "serve: SIGTERM stops the daemon cleanly" test "$rc" = 0
check "serve: socket removed on stop" test ! -e "$st/serve.sock"
check "serve: clients say there is no daemon" bash -c "! '$CRASHLAB' status --state '$st' 2>/dev/null"
finish
