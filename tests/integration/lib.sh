# Shared helpers for the integration scripts (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CRASHLAB=${CRASHLAB:-$ROOT/build/asan/crashlab}
[ -x "$CRASHLAB" ] || CRASHLAB=$ROOT/build/crashlab
# Whole-program runs keep ASan and UBSan but not LeakSanitizer: its exit-time tracer crashes
# now and then (signal 11) with the worker threads libvirt's embedded driver leaves running,
# and libvirt's own allocations are not ours to judge. Leaks in our code are caught by the
# unit tests, which run with detect_leaks=1.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
failures=0
ok() { echo "ok - $*"; }
not_ok() { # a script may define on_not_ok to add context to a failure
    echo "not ok - $*"
    failures=$((failures + 1))
    if declare -F on_not_ok >/dev/null; then on_not_ok; fi
}
check() { # check NAME CMD...
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
json() { # json FILE EXPR: prints a field with python's json (read-only use in tests)
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}
schema_ok() { # schema_ok RESULT.json: validates against results/schema/result.schema.json
    /usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' "$1" "$ROOT/results/schema/result.schema.json"
}
jq_eq() { # jq_eq FILE FILTER WANT: the filter's raw output equals WANT
    [[ "$(jq -r "$2" "$1")" == "$3" ]] || { echo "# $1: $2 = '$(jq -r "$2" "$1")', expected '$3'"; return 1; }
}
guest_sums() { (cd "$ROOT/build/guest" && sha256sum vmlinuz initrd.img manifest.json); }
finish() { [ "$failures" -eq 0 ]; }
# serve_workdir NAME: a work directory $t that QEMU (libvirt-qemu) can enter, the daemon's
# state $st inside it, and an exit trap that stops the daemon whose pid is in $daemon and
# removes $t (KEEP=1 keeps it for a look).
serve_workdir() {
    t=$(mktemp -d "/tmp/crashlab-$1.XXXXXX")
    chmod 0711 "$t"
    st=$t/state
    daemon=0
    trap serve_cleanup EXIT
}
serve_cleanup() {
    [ "$daemon" -gt 0 ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$t"
}
