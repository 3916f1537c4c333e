# fuzz.mk - libFuzzer targets (every lab/**/*_fuzz.c) built with clang, ASan and UBSan.
#   make fuzz                  builds them and runs each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=10  the short pass CI runs
#   make fuzz FUZZERS="elf_fuzz kdump_fuzz"   only those targets
#   make fuzz-build            builds only
#   make dump-synth            regenerates tests/data/dumps/synthetic/ (SYNTHETIC dumps)
# A target in lab/MODULE/... links lab/MODULE/**, lab/util and the catalogue. Each runs on its
# own corpus in build/fuzz/corpus/NAME, seeded from the real Windows dumps, the synthetic dumps
# and the regression inputs; crashes land in build/fuzz/crashes/NAME/ and make the run fail:
# copy them into tests/data/dumps/regress/ (dump_hostile_test replays that directory).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 262144
FUZZ_CFLAGS  := -std=c11 $(WARN) -Wno-unknown-warning-option -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
FUZZ_BINS    := $(patsubst %.c,$(BUILD)/fuzz/%,$(notdir $(FUZZ_SRCS)))
FUZZ_RUN     := $(if $(FUZZERS),$(addprefix $(BUILD)/fuzz/,$(FUZZERS)),$(FUZZ_BINS))
FUZZ_SEEDS   := $(wildcard ../shared/testdata/windows-dumps/*.dmp ../shared/testdata/windows-dumps/*.bin) \
                $(wildcard tests/data/dumps/synthetic/*) $(filter-out %.md,$(wildcard tests/data/dumps/regress/*))

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# lab/dump/windows/windows_fuzz.c -> module lab/dump
fuzz_module = $(word 1,$(subst /, ,$(patsubst lab/%,%,$(1))))
# A module's files outside it that its objects call: lab/agent's client sends through
# lab/virt's qemu-ga call (so lab/agent itself includes no libvirt header).
fuzz_extra_agent := lab/virt/agentcmd.c
define fuzz_rule
$(BUILD)/fuzz/$(basename $(notdir $(1))): $(1:%.c=$(BUILD)/fuzzobj/%.o) \
    $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(filter lab/$(call fuzz_module,$(1))/% lab/util/% drivers/% $(fuzz_extra_$(call fuzz_module,$(1))),$(LIB_SRCS)))
	@mkdir -p $(BUILD)/fuzz
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) $$^ -o $$@ $(PKG_LIBS)
endef
$(foreach f,$(FUZZ_SRCS),$(eval $(call fuzz_rule,$(f))))

.PHONY: fuzz-build dump-synth
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_RUN)
	$(Q)fail=0; for f in $(FUZZ_RUN); do \
	    n=$$(basename $$f); c=$(BUILD)/fuzz/corpus/$$n; x=$(BUILD)/fuzz/crashes/$$n; \
	    mkdir -p $$c $$x; for s in $(FUZZ_SEEDS); do cp -n $$s $$c/ 2>/dev/null; done; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -timeout=20 -rss_limit_mb=2048 \
	        -artifact_prefix=$$x/ -print_final_stats=1 $$c >$(BUILD)/fuzz/$$n.log 2>&1 \
	        || { echo "fuzz: $$n FAILED, see $(BUILD)/fuzz/$$n.log and $$x/"; fail=1; }; \
	    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' $(BUILD)/fuzz/$$n.log | tail -2 | sed "s/^/  /"; \
	done; exit $$fail

$(BUILD)/gen_synth: tests/data/dumps/gen_synth.c tests/data/dumps/synth.h
	@mkdir -p $(BUILD)
	$(Q)$(CC) -std=c11 $(WARN) -D_GNU_SOURCE -O1 $< -o $@ -lz -llzo2 -lsnappy

dump-synth: $(BUILD)/gen_synth
	$(Q)$(BUILD)/gen_synth tests/data/dumps/synthetic
