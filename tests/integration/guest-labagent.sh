#!/usr/bin/env bash
# labagent's command-line contract, on the host (it is a static program; the parts that need
# /dev/labfault run in the guest, tests/integration/guest-agent.sh): one JSON object on
# stdout for every command, exit 0/1/2, the catalogue's Linux expectations for every fault,
# and hostile parameter text that cannot break the JSON.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
A=build/linux/labagent
# The status of the command just run: `cmd; check_rc NAME $?` (lib.sh's check runs a command).
check_rc() { if [[ $2 -eq 0 ]]; then ok "guest-labagent: $1"; else not_ok "guest-labagent: $1"; fi; }
if [[ ! -x $A ]] || ! command -v jq >/dev/null; then
    echo "not ok - guest-labagent: $A and jq are needed (run make)"
    exit 1
fi
# run EXPECTED_RC JQ_FILTER ARGS...: exactly one JSON object, the exit code, the filter true.
run() {
    local want=$1 filter=$2 out rc
    shift 2
    out=$("$A" "$@" 2>/dev/null)
    rc=$?
    [[ $rc -eq $want ]] || { echo "# labagent $*: exit $rc, wanted $want: $out"; return 1; }
    [[ $(jq -s length <<<"$out" 2>/dev/null) == 1 ]] || { echo "# labagent $*: not one JSON object: $out"; return 1; }
    jq -e "$filter" <<<"$out" >/dev/null || { echo "# labagent $*: $filter is false: $out"; return 1; }
}
run 2 '.ok == false and (.error | test("usage"))'; check_rc "no command is a usage error (exit 2)" $?
run 2 '.ok == false' frobnicate; check_rc "unknown command is a usage error" $?
run 2 '.ok == false' install-driver; check_rc "install-driver without PATH is a usage error" $?
run 1 '.ok == false and (.error | test("unknown fault"))' arm no-such-fault; check_rc "unknown fault is an error (exit 1)" $?
run 1 '.ok == false and (.error | test("out of range"))' arm pool-overrun size=1; check_rc "out-of-range parameter is refused before the device is opened" $?
run 1 '.ok == false and (.error | test("no parameter"))' arm null-deref size=64; check_rc "a parameter the fault does not take is refused" $?
run 2 '.ok == false' arm bugcheck =x; check_rc "a parameter without a name is a usage error" $?
run 1 '.ok == false' arm bugcheck_rc "message=$(printf 'a"\\\x01\x7f')"; check_rc "control characters in a message are refused, the error stays valid JSON" $?
run 1 '.ok == false and (.error | test("/dev/labfault"))' status; check_rc "status without the module names the device" $?
run 1 '.ok == false and .command == "install-driver"' install-driver "/nonexistent/\"quoted\"\\path"; check_rc "install-driver of a missing file, quotes in the path escaped" $?
run 0 '.ok and .dumps == [] and .dump_dir == "/var/crash"' collect; check_rc "collect: no dumps when /var/crash is empty" $?
n=0 bad=0
for id in $(sed -n 's/^LABFAULT([A-Z_]*, *[0-9]*, *"\([a-z-]*\)").*/\1/p' drivers/catalogue/faults.def); do
    n=$((n + 1))
    run 0 ".ok and .fault == \"$id\" and (.outcome | IN(\"crash\",\"hang\",\"pass\")) and
           (.outcome != \"crash\" or (.pattern | length > 0))" expect "$id" || bad=$((bad + 1))
done
[[ $n -ge 15 && $bad -eq 0 ]]; check_rc "expect: all $n faults have a Linux outcome, crashes a pattern" $?
finish
