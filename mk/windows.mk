# Windows side: the WDM fault driver and the guest agent, cross-built with mingw-w64 and
# tested under Wine (tests/integration/windows*.sh). See drivers/windows/README.md.
WIN_CC      := x86_64-w64-mingw32-gcc
WIN_DDK     := /usr/share/mingw-w64/include/ddk
WIN_OUT     := $(BUILD)/windows
WIN_WARN    := -Wall -Wextra -Werror -Wno-missing-field-initializers

# Kernel code: no CRT, no stack protector (nothing to report to), frame pointers so that
# stacks in dumps walk cleanly, and the DDK's own definitions for everything. The driver is
# built with clang and lld for the mingw target because only they write CodeView and a PDB
# (gcc writes DWARF, which WinDbg cannot read): build/windows/labfault.pdb ships beside the
# .sys, and the image's CodeView record names it (file name only, not this build's path).
WIN_DRV_CC      := clang --target=x86_64-w64-mingw32
WIN_DRV_CFLAGS  := -std=gnu11 $(WIN_WARN) -Wno-pragma-pack -O2 -gcodeview -g -fno-omit-frame-pointer \
                   -fno-stack-protector -fno-strict-aliasing -mno-red-zone -D_AMD64_ -DNTDDI_VERSION=0x0A000000 \
                   -I$(WIN_DDK) -Idrivers/catalogue -Idrivers/windows
# --allow-multiple-definition: clang emits wdm.h's static InterlockedBitTestAnd{Set,Reset}
# with external linkage (intrin-impl.h declared them extern first); every copy is the same.
WIN_DRV_LDFLAGS := -fuse-ld=lld -shared -nostdlib -Wl,--subsystem,native -Wl,--entry,DriverEntry \
                   -Wl,--exclude-all-symbols -Wl,--image-base,0x140000000 -Wl,--dynamicbase -Wl,--nxcompat \
                   -Wl,--file-alignment,0x200 -Wl,--section-alignment,0x1000 -Wl,--allow-multiple-definition \
                   -g -Wl,--pdb=$(WIN_OUT)/labfault.pdb -Wl,-Xlink=-pdbaltpath:labfault.pdb
WIN_DRV_LIBS    := -lntoskrnl -lhal
WIN_DRV_SRCS    := $(sort $(wildcard drivers/windows/*.c))
WIN_DRV_OBJS    := $(WIN_DRV_SRCS:drivers/windows/%.c=$(WIN_OUT)/drvobj/%.o)

WIN_AGENT_CFLAGS := -std=c11 $(WIN_WARN) -O2 -D_WIN32_WINNT=0x0601 \
                    -Idrivers/catalogue -Iguest-agent/windows -Iguest-agent/common -I$(WIN_OUT)
WIN_AGENT_LIBS   := -static -ladvapi32 -lcrypt32 -lntdll
WIN_AGENT_SRCS   := $(sort $(wildcard guest-agent/windows/*.c guest-agent/common/*.c)) drivers/catalogue/catalogue.c
WIN_AGENT_OBJS   := $(WIN_AGENT_SRCS:%.c=$(WIN_OUT)/obj/%.o)

WIN_CERT := $(WIN_OUT)/labfault-test.crt
WIN_KEY  := $(WIN_OUT)/labfault-test.key

all: $(WIN_OUT)/labfault.sys $(WIN_OUT)/labfault.pdb $(WIN_OUT)/labagent.exe
TEST_DEPS += $(WIN_OUT)/labfault.sys $(WIN_OUT)/labfault.pdb $(WIN_OUT)/labagent.exe

$(WIN_OUT)/drvobj/%.o: drivers/windows/%.c
	@mkdir -p $(dir $@)
	$(Q)$(WIN_DRV_CC) $(WIN_DRV_CFLAGS) -MMD -MP -c $< -o $@

# The PDB is written by the same link (one rule, both files).
$(WIN_OUT)/labfault-unsigned.sys $(WIN_OUT)/labfault.pdb &: $(WIN_DRV_OBJS)
	$(Q)$(WIN_DRV_CC) $(WIN_DRV_LDFLAGS) $^ -o $(WIN_OUT)/labfault-unsigned.sys $(WIN_DRV_LIBS) 2>$(WIN_OUT)/link.log || \
	    { cat $(WIN_OUT)/link.log; exit 1; }

# The test-signing certificate is made once and kept: re-signing with a new key every
# build would force every test image to trust a new certificate.
$(WIN_CERT):
	@mkdir -p $(dir $@)
	$(Q)openssl req -x509 -newkey rsa:3072 -sha256 -days 3650 -nodes -subj "/CN=crashlab test signing/O=crashlab" \
	    -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
	    -addext "basicConstraints=critical,CA:FALSE" \
	    -keyout $(WIN_KEY) -out $@ 2>/dev/null
$(WIN_KEY): $(WIN_CERT)

$(WIN_OUT)/labfault-test.cer: $(WIN_CERT)
	$(Q)openssl x509 -in $< -outform der -out $@

$(WIN_OUT)/labfault.sys: $(WIN_OUT)/labfault-unsigned.sys $(WIN_CERT) $(WIN_KEY)
	$(Q)rm -f $@
	$(Q)osslsigncode sign -certs $(WIN_CERT) -key $(WIN_KEY) -h sha256 -n "crashlab labfault" \
	    -in $< -out $@ >/dev/null
	@echo "  built $@ (test-signed)"

# The agent carries the certificate so that install-cert needs no second file.
$(WIN_OUT)/lf_cert.h: $(WIN_OUT)/labfault-test.cer
	$(Q){ echo '/* generated from $< */'; echo 'static const unsigned char lf_cert_der[] = {'; \
	    xxd -i < $<; echo '};'; } > $@.tmp && mv $@.tmp $@

$(WIN_OUT)/obj/guest-agent/windows/%.o: guest-agent/windows/%.c $(WIN_OUT)/lf_cert.h
	@mkdir -p $(dir $@)
	$(Q)$(WIN_CC) $(WIN_AGENT_CFLAGS) -MMD -MP -c $< -o $@

$(WIN_OUT)/obj/guest-agent/common/%.o: guest-agent/common/%.c
	@mkdir -p $(dir $@)
	$(Q)$(WIN_CC) $(WIN_AGENT_CFLAGS) -MMD -MP -c $< -o $@

$(WIN_OUT)/obj/drivers/catalogue/%.o: drivers/catalogue/%.c
	@mkdir -p $(dir $@)
	$(Q)$(WIN_CC) $(WIN_AGENT_CFLAGS) -MMD -MP -c $< -o $@

$(WIN_OUT)/labagent.exe: $(WIN_AGENT_OBJS)
	$(Q)$(WIN_CC) -mconsole $^ -o $@ $(WIN_AGENT_LIBS)
	@echo "  built $@"
