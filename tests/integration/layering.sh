#!/usr/bin/env bash
# Only lab/virt knows libvirt (issue 14; lab/virt/virt.h: the rest holds a cl_domain). Judged
# by the compiler, not by grepping sources: its preprocessor (cc -M with the build's flags)
# lists every header a file is built from, transitively and system headers included, and nm
# says which libvirt symbols each object calls. Each check is first shown to catch lab/virt.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
obj=build/obj/lab
[ -f "$obj/virt/domain.o" ] || make -s >/dev/null

cppflags=$(printf 'print-%%:\n\t@echo $($*)\n' | make -s --no-print-directory -f Makefile -f - print-CPPFLAGS)
libvirt_headers() { for f in "$@"; do cc -M $cppflags "$f" 2>/dev/null | grep -q '/libvirt/libvirt' && echo "$f"; done; }
libvirt_calls() { nm -u "$@" 2>/dev/null | grep -E '^ +U vir[A-Z]' | sort -u; }

check "the header check catches lab/virt (domain.c is built from libvirt.h)" test -n "$(libvirt_headers lab/virt/domain.c)"
check "the call check catches lab/virt (domain.o calls virDomain*)" bash -c "nm -u $obj/virt/domain.o | grep -qE '^ +U virDomain'"

outside_c=$(find lab -name '*.c' ! -path 'lab/virt/*')
outside_o=$(find "$obj" -name '*.o' ! -path "$obj/virt/*")
check "objects outside lab/virt were found ($(echo "$outside_o" | wc -w))" test "$(echo "$outside_o" | wc -w)" -gt 50
bad_h=$(libvirt_headers $outside_c)
check "no source outside lab/virt ($(echo "$outside_c" | wc -w) files) is built from a libvirt header${bad_h:+: $(echo $bad_h)}" test -z "$bad_h"
bad_c=$(for o in $outside_o; do c=$(libvirt_calls "$o"); [ -n "$c" ] && echo "$o:$(echo $c | tr -s ' ')"; done)
check "no object outside lab/virt calls libvirt${bad_c:+: $(echo $bad_c | head -c 300)}" test -z "$bad_c"
# The public headers of lab/virt hand out no libvirt type: what includes them stays clean.
bad_pub=$(grep -l '#include <libvirt/' lab/virt/*.h)
check "no lab/virt header includes libvirt's${bad_pub:+: $bad_pub}" test -z "$bad_pub"
finish
