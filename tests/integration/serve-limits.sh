#!/usr/bin/env bash
# crashlab serve's retry and capacity rules, without booting a guest:
#   - an infrastructure error (a host whose libvirt cannot be reached) is retried with
#     back-off until --max-attempts, then the job closes as infra-error with the count;
#   - a job no host could ever hold (more memory than any host offers) closes at once;
#   - the hosts file is checked before the daemon starts; so is the state directory's
#     reachability for QEMU; a second daemon on the same state is refused.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

serve_workdir limits
req() { # req JSON: one request to the daemon, its reply on stdout
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n"); print(s.makefile().readline(), end="")' "$st/serve.sock" "$1"
}

printf '[h]\nslots = 0\n' >"$t/bad.conf"
check "limits: a bad hosts file stops the daemon with its line" \
    bash -c "'$CRASHLAB' serve --state '$st' --hosts '$t/bad.conf' 2>&1 | grep -q 'bad.conf:2: slots must be'"
mkdir -p "$t/closed"; chmod 0700 "$t/closed"
check "limits: a state directory QEMU cannot reach is refused at start" \
    bash -c "'$CRASHLAB' serve --state '$t/closed/st' 2>&1 | grep -q 'cannot enter'"

cat >"$t/hosts.conf" <<EOC
[broken]
uri = qemu+unix:///system?socket=$t/no-such-libvirt-sock
slots = 2
memory_mb = 512

[nopool]
uri = qemu+unix:///system?socket=$t/no-such-libvirt-sock
guest_pool = crashlab-guest
memory_mb = 512
EOC
sed 's/memory_mb: 256/memory_mb: 1024/' scenarios/linux/panic.yaml >"$t/big.yaml"
"$CRASHLAB" serve --state "$st" --hosts "$t/hosts.conf" --backoff 0.5 --max-attempts 3 >"$t/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && break; sleep 0.1; done
check "limits: a second daemon on the same state is refused" \
    bash -c "'$CRASHLAB' serve --state '$st' --hosts '$t/hosts.conf' 2>&1 | grep -q 'another daemon (pid [0-9]*) owns'"
check "limits: a host whose guest files cannot be put there is disabled, not fatal" \
    test "$(req '{"op":"hosts"}' | jq -r '[.hosts[]|select(.disabled)|.name]|join(" ")')" = nopool
ids=$("$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/clean.yaml "$t/big.yaml")
"$CRASHLAB" wait $ids --timeout 120 --state "$st"
check "limits: wait says not every job ended as expected (exit 1)" test $? = 1
j1=$("$CRASHLAB" status 1 --json --state "$st")
check "limits: unreachable host: infra-error after 3 attempts" \
    test "$(echo "$j1" | jq -r '.state+" "+.verdict+" "+(.attempts|tostring)')" = "done infra-error 3"
check "limits: every attempt went to the enabled host" test "$(echo "$j1" | jq -r .host)" = broken
check "limits: its reason gives the attempt count" bash -c "echo '$(echo "$j1" | jq -r .reason)' | grep -q '^3 attempt(s); last: '"
check "limits: the back-off was logged for each retry" test "$(grep -c 'infrastructure error .* retry in' "$t/daemon.log")" = 2
check "limits: each attempt has its own log header" test "$("$CRASHLAB" logs 1 --state "$st" | grep -c '^=== ')" = 3
j2=$("$CRASHLAB" status 2 --json --state "$st")
check "limits: a job bigger than every host closes at once, never started" \
    test "$(echo "$j2" | jq -r '.state+" "+.verdict+" "+(.attempts|tostring)')" = "done infra-error 0"
check "limits: and says why" bash -c "echo '$(echo "$j2" | jq -r .reason)' | grep -q 'no host can hold a guest of 1024 MiB'"
check "limits: cancel of a finished job is refused" bash -c "! '$CRASHLAB' cancel 1 --state '$st' 2>/dev/null"
check "limits: an unknown job is an error" bash -c "! '$CRASHLAB' status 99 --state '$st' 2>/dev/null"
check "limits: a malformed request gets an error reply" test "$(req '[1,2]' | jq -r '(.ok|tostring)+" "+(.error|length>0|tostring)')" = "false true"
check "limits: an unknown op gets an error reply" test "$(req '{"op":"reboot"}' | jq -r .ok)" = false
kill -TERM "$daemon"; wait "$daemon"; daemon=0

# The watchdog: an attempt that outlives its scenario's run timeout (here: frozen with
# SIGSTOP, so it cannot honour its own timeouts) is stopped, counted as an infrastructure
# error, and its domain destroyed.
st2=$t/state2
sed 's/timeouts: {boot: 90, step: 60, observe: 60, run: 300}/timeouts: {boot: 90, step: 60, observe: 60, run: 8}/' \
    scenarios/linux/panic.yaml >"$t/short.yaml"
"$CRASHLAB" serve --state "$st2" --watchdog-margin 2 --max-attempts 1 >"$t/daemon2.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do "$CRASHLAB" status --state "$st2" >/dev/null 2>&1 && break; sleep 0.1; done
id=$("$CRASHLAB" submit --state "$st2" --accel tcg "$t/short.yaml")
for _ in $(seq 100); do
    pid=$("$CRASHLAB" status "$id" --json --state "$st2" | jq -r '.pid // empty')
    [ -n "$pid" ] && break
    sleep 0.1
done
sleep 3
kill -STOP "$pid"
"$CRASHLAB" wait "$id" --timeout 90 --state "$st2"
j=$("$CRASHLAB" status "$id" --json --state "$st2")
check "limits: watchdog: the frozen attempt was stopped" grep -q "past its run timeout; killing it" "$t/daemon2.log"
check "limits: watchdog: the job closed as infra-error after its one attempt" \
    test "$(echo "$j" | jq -r '.state+" "+.verdict+" "+(.attempts|tostring)')" = "done infra-error 1"
check "limits: watchdog: the killed attempt's domain was cleaned up" grep -q "attempt killed by signal 9" "$t/daemon2.log"
check "limits: watchdog: the process is gone" bash -c "! kill -0 $pid 2>/dev/null"
check "limits: watchdog: no QEMU left" bash -c "! pgrep -f '[q]emu-system.*$st2' >/dev/null"
finish
