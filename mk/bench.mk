# `make bench` (bench/bench.sh: crashlab against hand-written virsh scripts and plain
# tools, side by side) and `make test-reliability` (tests/reliability: breaking the lab on
# purpose). Both need the guest; the reliability suite also boots guests running
# badagent, a deliberately misbehaving qemu-ga (guest-agent/linux/badagent.c).

BADAGENT := $(BUILD)/linux/badagent

# badagent.c is a program of its own; guest.mk names labagent's sources explicitly.

all: $(BADAGENT)

# Static like labagent: the initramfs has no libc of its own.
$(BADAGENT): guest-agent/linux/badagent.c
	@mkdir -p $(dir $(BADAGENT))
	$(Q)$(CC) -std=c11 $(WARN) -O2 -g -static -D_GNU_SOURCE $< -o $@
	@echo "  built $@"

# scripts/mkguest.sh copies it into the initramfs when it sits next to labagent.
$(BUILD)/guest/manifest.json: $(BADAGENT)

bench: all $(BUILD)/guest/manifest.json
	$(Q)bash bench/bench.sh

test-reliability: all $(BUILD)/asan/crashlab $(BUILD)/guest/manifest.json
	$(Q)bash tests/reliability/run.sh
