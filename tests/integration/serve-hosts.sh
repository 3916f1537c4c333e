#!/usr/bin/env bash
# crashlab serve over two real libvirt connections at once: the embedded driver here and
# a second, real libvirtd (its own config, socket, state and run directories, in a private
# mount namespace so it shares nothing with any other libvirt on this machine), reached
# through qemu+unix://. The second host gets its guest files through a libvirt storage
# pool upload, checksum-verified (and re-uploaded when its copy is damaged).
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

lv=$(mktemp -d /tmp/crashlab-lvd.XXXXXX)
st=$(mktemp -d /tmp/crashlab-hosts.XXXXXX)
daemon=0 lvd=0
uri="qemu+unix:///system?socket=$lv/sock/libvirt-sock"
cleanup() {
    [ "$daemon" -gt 0 ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    if [ "$lvd" -gt 0 ]; then
        for d in $(virsh -c "$uri" list --name 2>/dev/null); do virsh -c "$uri" destroy "$d" >/dev/null 2>&1; done
        kill -TERM "$lvd" 2>/dev/null; wait "$lvd" 2>/dev/null
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$lv" "$st"
}
trap cleanup EXIT

libvirtd=$(command -v virtqemud || echo /usr/sbin/libvirtd)
mkdir -p "$lv"/{etc,sock,lib,cache,log,pool}
# QEMU (another user) boots the kernel straight from the pool: let it through.
chmod 0711 "$lv"
cat >"$lv/etc/libvirtd.conf" <<EOC
unix_sock_dir = "$lv/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$lv/log/libvirtd.log"
EOC
# No virtlogd here: QEMU's output goes straight to files.
echo 'stdio_handler = "file"' >"$lv/etc/qemu.conf"
cp "$lv/etc/libvirtd.conf" "$lv/etc/virtqemud.conf"
cat >"$lv/start.sh" <<EOC
set -e
mount --make-rprivate /
mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt
mount --bind "$lv/etc" /etc/libvirt
mount -t tmpfs tmpfs /run/libvirt
mount --bind "$lv/lib" /var/lib/libvirt
mount --bind "$lv/cache" /var/cache/libvirt
exec "$libvirtd" --config "$lv/etc/$(basename "$libvirtd").conf"
EOC
unshare -m bash "$lv/start.sh" >"$lv/log/stdout.log" 2>&1 &
lvd=$!
for _ in $(seq 100); do virsh -c "$uri" version >/dev/null 2>&1 && break; sleep 0.2; done
check "hosts: a second libvirt daemon ($(basename "$libvirtd")) answers on its own socket" virsh -c "$uri" version
check "hosts: it has a storage pool for the guest files" bash -c "virsh -c '$uri' pool-define-as crashlab-guest dir --target '$lv/pool' >/dev/null && virsh -c '$uri' pool-start crashlab-guest >/dev/null"

cat >"$st/hosts.conf" <<EOC
# two hosts: this machine's embedded driver, and the daemon above
[here]
uri = embedded
slots = 1

[lvd]
uri = $uri
slots = 1
memory_mb = 1024
vcpus = 1
guest_pool = crashlab-guest
EOC
start_daemon() {
    "$CRASHLAB" serve --state "$st" --hosts "$st/hosts.conf" --backoff 1 >>"$st/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 900); do
        "$CRASHLAB" status --state "$st" >/dev/null 2>&1 && return 0
        kill -0 "$daemon" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
stop_daemon() { kill -TERM "$daemon"; wait "$daemon"; local rc=$?; daemon=0; return $rc; }

check "hosts: daemon starts with the hosts file" start_daemon
check "hosts: guest files uploaded to the second host" grep -q "uploading vmlinuz" "$st/daemon.log"
check "hosts: uploaded kernel is byte-identical" cmp -s build/guest/vmlinuz "$lv/pool/vmlinuz"
check "hosts: uploaded initrd is byte-identical" cmp -s build/guest/initrd.img "$lv/pool/initrd.img"
check "hosts: hosts op reports the remote guest directory" \
    bash -c "'$CRASHLAB' status --state '$st' >/dev/null && python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b\"{\\\"op\\\":\\\"hosts\\\"}\\n\")
r=json.loads(s.makefile().readline()); h={x[\"name\"]:x for x in r[\"hosts\"]}
sys.exit(0 if h[\"lvd\"][\"guest_dir\"]==sys.argv[2] and h[\"here\"][\"uri\"]==\"embedded\" else 1)' '$st/serve.sock' '$lv/pool'"
check "hosts: daemon stops" stop_daemon
# Damage the remote copy: the next daemon must notice through the checksum and upload again.
printf 'X' | dd of="$lv/pool/initrd.img" bs=1 seek=1000 conv=notrunc status=none
: >"$st/daemon.log"
check "hosts: daemon restarts" start_daemon
check "hosts: a damaged remote initrd is uploaded again" grep -q "uploading initrd.img" "$st/daemon.log"
check "hosts: an intact remote kernel is not uploaded again" bash -c "! grep -q 'uploading vmlinuz' '$st/daemon.log'"
check "hosts: the remote initrd is intact again" cmp -s build/guest/initrd.img "$lv/pool/initrd.img"

ids=$("$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/panic.yaml scenarios/linux/clean.yaml)
check "hosts: two jobs submitted" test "$(echo $ids)" = "1 2"
"$CRASHLAB" wait --all --timeout 300 --state "$st"
check "hosts: both jobs ended as expected" test $? = 0
"$CRASHLAB" status --state "$st"
h1=$("$CRASHLAB" status 1 --json --state "$st" | jq -r .host)
h2=$("$CRASHLAB" status 2 --json --state "$st" | jq -r .host)
check "hosts: the jobs ran on both hosts ($h1, $h2)" test "$(printf '%s\n' "$h1" "$h2" | sort | tr '\n' ' ')" = "here lvd "
r1=$("$CRASHLAB" status 1 --json --state "$st" | jq -r .result_dir)
r2=$("$CRASHLAB" status 2 --json --state "$st" | jq -r .result_dir)
overlap=$(python3 - "$r1/result.json" "$r2/result.json" <<'EOP'
import json, sys, datetime
def span(p):
    r = json.load(open(p))
    s = datetime.datetime.strptime(r["started"], "%Y-%m-%dT%H:%M:%SZ").timestamp()
    return s, s + r["timings"]["total"]
(a0, a1), (b0, b1) = span(sys.argv[1]), span(sys.argv[2])
print("yes" if a0 < b1 and b0 < a1 else "no")
EOP
)
check "hosts: the two runs overlapped in time" test "$overlap" = yes
for r in "$r1" "$r2"; do
    if [ "$(jq -r .host "$r/job.json")" = lvd ]; then
        check "hosts: the lvd run used the libvirtd URI" test "$(jq -r .host.uri "$r/result.json")" = "$uri"
        check "hosts: the lvd run booted the uploaded kernel" grep -q "$lv/pool/vmlinuz" "$r/domain.xml"
    else
        check "hosts: the local run used the embedded driver" bash -c "jq -r .host.uri '$r/result.json' | grep -q '^qemu:///embed'"
    fi
done
# Cancel while running: the run tears its domain down and the job ends cancelled.
id3=$("$CRASHLAB" submit --state "$st" --accel tcg scenarios/linux/clean.yaml)
for _ in $(seq 600); do
    grep -q "boot" "$st/logs/job-$(printf %06d "$id3").log" 2>/dev/null && break
    sleep 0.2
done
check "hosts: cancel a running job" "$CRASHLAB" cancel "$id3" --state "$st"
"$CRASHLAB" wait "$id3" --timeout 120 --state "$st"
check "hosts: the running job ended cancelled" test "$("$CRASHLAB" status "$id3" --json --state "$st" | jq -r .state)" = cancelled
check "hosts: its run recorded the interruption" \
    test "$(jq -r .verdict "$("$CRASHLAB" status "$id3" --json --state "$st" | jq -r .result_dir)/result.json")" = infra-error
check "hosts: no QEMU left for this state" bash -c "! pgrep -f '[q]emu-system.*$st' >/dev/null"
check "hosts: no domain left on the second daemon" test -z "$(virsh -c "$uri" list --name | tr -d '[:space:]')"
finish
