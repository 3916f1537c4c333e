#!/usr/bin/env bash
# Installs everything crashlab needs from Debian's packages. Idempotent: a second run only checks.
set -euo pipefail

PKGS=(
  # host build
  build-essential pkg-config clang libclang-rt-14-dev
  libvirt-dev libyaml-dev libjson-c-dev libsqlite3-dev zlib1g-dev liblzo2-dev libsnappy-dev
  # the hypervisor side
  qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  libxml2-utils ovmf
  # the Linux guest
  qemu-guest-agent busybox-static linux-image-amd64 linux-headers-amd64 kmod cpio
  # the Windows side, built and tested here
  gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev binutils-mingw-w64-x86-64 wine64 osslsigncode openssl
  # tests and tools
  libssl-dev file xxd python3 python3-jsonschema jq time
  # the nightly report is checked in a real headless browser (tests/integration/report.sh)
  chromium
  # independent readers that judge the lab's dumps (tests/integration/oracle-*.sh, corpus verify):
  # crash and drgn need the guest kernel's debug vmlinux, the -dbg package of linux-image-amd64
  crash python3-drgn makedumpfile linux-image-amd64-dbg
  # crashlab replay --gdb: reverse debugging over QEMU's gdbstub (tests/integration/record.sh)
  gdb
  # the lab's own dump writer compresses with zstd on every core
  libzstd-dev
  # Windows images offline: libguestfs opens the disk, hivex reads the registry hives
  libguestfs-tools libhivex-bin
  # ... from C (crashlab image/rescue link libguestfs and hivex); NTFS inside the appliance
  # needs ntfs-3g on the host (supermin copies it in); xorriso makes the tests' virtio-win ISO
  libguestfs-dev libhivex-dev ntfs-3g xorriso
  # a fleet host reached over qemu+ssh:// is tested for real (tests/integration/fleet-tcp.sh):
  # sshd runs inside the test's second libvirtd's mount namespace, with a key made in the test
  openssh-server
)

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PKGS[@]} packages present"
fi

# The embedded QEMU driver runs QEMU as this user; Debian creates it only with libvirt-daemon-system.
if ! getent passwd libvirt-qemu >/dev/null; then
  getent group kvm >/dev/null || groupadd -r kvm
  groupadd -r libvirt-qemu 2>/dev/null || true
  useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  echo "setup: created user libvirt-qemu"
fi
