# The Linux guest: fault module, guest-agent helper, and the boot image (kernel + initramfs).
# `make` builds the module and labagent; `make guest` builds build/guest/.

# The kernel the guest boots is the one whose headers are installed: the newest release
# under /usr/lib/modules that has a build directory.
GUEST_KREL  ?= $(notdir $(patsubst %/build,%,$(lastword $(sort $(wildcard /usr/lib/modules/*/build)))))
GUEST_KDIR  ?= /usr/lib/modules/$(GUEST_KREL)/build
LINUX_OUT   := $(BUILD)/linux
LINUX_MODOBJ := $(BUILD)/linux-module-obj
LINUX_MOD_SRCS := drivers/linux/labfault.c drivers/linux/Kbuild \
                  drivers/catalogue/labfault_abi.h drivers/catalogue/faults.def
# Named, not globbed: other programs live in guest-agent/linux too (badagent.c, mk/bench.mk).
LABAGENT_SRCS := guest-agent/linux/labagent.c guest-agent/linux/jsonout.c drivers/catalogue/catalogue.c \
                 guest-agent/common/sha256.c
LABAGENT_HDRS := guest-agent/linux/jsonout.h guest-agent/common/sha256.h drivers/catalogue/catalogue.h \
                 drivers/catalogue/labfault_abi.h drivers/catalogue/faults.def

all: $(LINUX_OUT)/labfault.ko $(LINUX_OUT)/labagent

# The kernel's build must not see our CC/CFLAGS or command-line overrides: it uses the
# compiler the kernel was built with (the headers' .kernelvariables).
$(LINUX_OUT)/labfault.ko: $(LINUX_MOD_SRCS)
	@test -d "$(GUEST_KDIR)" || { echo "no kernel headers in /usr/lib/modules/*/build: run make setup" >&2; exit 1; }
	@mkdir -p $(LINUX_MODOBJ) $(LINUX_OUT)
	$(Q)cp $(LINUX_MOD_SRCS) $(LINUX_MODOBJ)/
	$(Q)env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS $(MAKE) -s -C $(GUEST_KDIR) M=$(abspath $(LINUX_MODOBJ)) modules 2>&1 \
		| { grep -v 'Skipping BTF generation' || true; } >&2
	$(Q)cp $(LINUX_MODOBJ)/labfault.ko $@
	@echo "  built $@ ($(GUEST_KREL))"

# Static: the initramfs has no libc of its own.
$(LINUX_OUT)/labagent: $(LABAGENT_SRCS) $(LABAGENT_HDRS)
	@mkdir -p $(LINUX_OUT)
	$(Q)$(CC) -std=c11 $(WARN) -O2 -g -static -D_GNU_SOURCE -Idrivers/catalogue -Iguest-agent/linux -Iguest-agent/common \
		$(LABAGENT_SRCS) -o $@
	@echo "  built $@"

GUEST_DIR    := $(BUILD)/guest
GUEST_INPUTS := scripts/mkguest.sh guest-agent/linux/init $(LINUX_OUT)/labagent $(LINUX_OUT)/labfault.ko \
                $(wildcard /boot/vmlinuz-$(GUEST_KREL) /usr/sbin/qemu-ga /usr/bin/qemu-ga /bin/busybox) \
                /usr/lib/modules/$(GUEST_KREL)/modules.dep

guest: $(GUEST_DIR)/manifest.json

$(GUEST_DIR)/manifest.json: $(GUEST_INPUTS)
	$(Q)bash scripts/mkguest.sh --krel $(GUEST_KREL) --out $(GUEST_DIR) \
		--agent $(LINUX_OUT)/labagent --module $(LINUX_OUT)/labfault.ko --init guest-agent/linux/init

TEST_DEPS += $(GUEST_DIR)/manifest.json
