#!/usr/bin/env bash
# The results file system fills up during the dump (a 20 MiB tmpfs as --results; the
# dump of a 256 MiB guest is ~40 MB): the run says so clearly, removes (or marks) the
# partial dump, records the job as infra-error and leaves no domain behind.
set -u
. "$(dirname "$0")/lib.sh"
mkwork diskfull
mkdir -p "$work/tmpfs"
if ! mount -t tmpfs -o size=20m tmpfs "$work/tmpfs"; then
    not_ok "disk full: cannot mount a tmpfs (needs root)"
    finish
    exit
fi
chmod 755 "$work/tmpfs"
scenario "$work/s.yaml" 256
start_run full "$work/s.yaml" --results "$work/tmpfs"
wait "$RUN_PID"
rc=$?
res=$work/tmpfs/full/result.json
check "disk full: the run ended with exit 1 or 3 (got $rc)" test "$rc" = 1 -o "$rc" = 3
check "disk full: result recorded once the partial dump is gone" test -f "$res"
if [[ -f $res ]]; then
    v=$(json "$res" 'd["verdict"]')
    why=$(json "$res" 'd.get("capture",{}).get("dump_error","") + " | " + d.get("reason","")')
    check "disk full: verdict infra-error (got $v; $why)" test "$v" = infra-error
    check "disk full: the error says the disk is full ($why)" grep -qiE "no space|space left|ENOSPC|disk full" <<<"$why"
fi
left=$(find "$work/tmpfs" -name '*.partial' -o -name '*.tmp.*' -o -name 'dump.*' | tr '\n' ' ')
check "disk full: no partial or truncated dump left ($left)" test -z "$left"
used=$(df --output=used -k "$work/tmpfs" | tail -1 | tr -d ' ')
check "disk full: the space was given back (${used} KiB used)" test "$used" -lt 2048
check "disk full: no domain left behind" test "$(domains_left full)" = 0
finish
