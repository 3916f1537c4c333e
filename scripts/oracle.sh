# oracle.sh - helpers to open a Linux dump in the standard debuggers (sourced, not run).
#
#   . scripts/oracle.sh
#   rel=$(oracle_release DUMP)            # the kernel release the dump's VMCOREINFO names
#   vml=$(oracle_vmlinux "$rel")          # its debug vmlinux, or a message naming the package
#   oracle_crash "$vml" DUMP OUT [CMD...] # crash in batch mode (default: sys, log, bt), timed out;
#                                         # ORACLE_CRASH_OPTS adds options (--no_panic)
#   oracle_drgn "$vml" DUMP OUT           # tests/oracle/drgn_read.py: JSON of what drgn reads
#   oracle_dmesg DUMP OUT                 # makedumpfile --dump-dmesg
#
# Used by tests/integration/oracle-open.sh and `crashlab corpus verify --oracle` tests. Every
# function returns the tool's status (124 on timeout) and leaves its output in OUT. Nothing
# here converts the dump: the tools open the file as the lab stored it.
ORACLE_ROOT=${ORACLE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-600}   # crash needs ~1 min per 256 MiB dump on a loaded 2-core machine
ORACLE_DEBUG_DIR=${ORACLE_DEBUG_DIR:-/usr/lib/debug/boot}

# The release in the dump's VMCOREINFO, through `crashlab inspect` (any format the lab reads).
oracle_release() {
    local cl=${CRASHLAB:-$ORACLE_ROOT/build/crashlab}
    "$cl" inspect "$1" --json 2>/dev/null |
        /usr/bin/python3 -c 'import json,sys; print((json.load(sys.stdin).get("os") or {}).get("release") or "")'
}

# The debug vmlinux for a release: Debian's linux-image-RELEASE-dbg puts it in
# /usr/lib/debug/boot/vmlinux-RELEASE (scripts/setup.sh installs linux-image-amd64-dbg, which
# follows the newest kernel, the one the guest is built from).
oracle_vmlinux() {
    local rel=$1 f
    f=$ORACLE_DEBUG_DIR/vmlinux-$rel
    if [ -z "$rel" ] || [ ! -r "$f" ]; then
        echo "no debug vmlinux for release '$rel' (install linux-image-$rel-dbg)" >&2
        return 1
    fi
    echo "$f"
}

# crash -s in batch mode; commands from the arguments (default sys, log, bt), one per line.
oracle_crash() {
    local vml=$1 dump=$2 out=$3; shift 3
    local in
    in=$(mktemp /tmp/oracle-crash.XXXXXX)
    if [ $# -eq 0 ]; then set -- sys log bt; fi
    printf '%s\n' "$@" quit >"$in"
    # Commands on stdin, not -i FILE: with -i, a failing command (bt on a dump crash cannot
    # walk) ends crash and its buffered output of the earlier commands is lost.
    # shellcheck disable=SC2086 # ORACLE_CRASH_OPTS: extra options, e.g. --no_panic
    timeout "$ORACLE_TIMEOUT" crash -s --no_scroll ${ORACLE_CRASH_OPTS:-} "$vml" "$dump" <"$in" >"$out" 2>&1
    local rc=$?
    rm -f "$in"
    return $rc
}

# The PANIC string of crash's `sys` output (without the quotes).
# ("PANIC: "Oops: 0002 [#1] PREEMPT SMP NOPTI" (check log for details)" gives the Oops line.)
oracle_crash_panic() {
    sed -n 's/^ *PANIC: "\([^"]*\)".*/\1/p' "$1" | head -n 1
}

# crash's version ("8.0.2").
oracle_crash_version() {
    crash --version 2>/dev/null | awk 'NF { print $2; exit }'
}

oracle_drgn() {
    local vml=$1 dump=$2 out=$3
    timeout "$ORACLE_TIMEOUT" drgn -q -c "$dump" -s "$vml" "$ORACLE_ROOT/tests/oracle/drgn_read.py" >"$out" 2>&1
}

oracle_dmesg() {
    timeout "$ORACLE_TIMEOUT" makedumpfile --dump-dmesg "$1" "$2" >"$2.log" 2>&1
}
