# crashlab - see README.md. `make` builds everything that needs no root; `make setup` installs
# the Debian packages; `make test` is the test command CI runs.
.DEFAULT_GOAL := all
MAKEFLAGS += --no-print-directory
Q ?= @

BUILD      := build
CC         ?= cc
PKGS       := libvirt libvirt-qemu yaml-0.1 json-c sqlite3 zlib libcrypto libguestfs hivex libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llzo2 -lsnappy -lpthread
CPPFLAGS   := -Ilab -Idrivers/catalogue -Itests -D_GNU_SOURCE $(PKG_CFLAGS)
WARN       := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS     := -std=c11 $(WARN) -O2 -g
SANFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Every .c under lab/ is part of the program; *_test.c are unit tests, *_fuzz.c fuzz targets.
ALL_LAB    := $(shell find lab -name '*.c' | sort) drivers/catalogue/catalogue.c
TEST_SRCS  := $(filter %_test.c,$(ALL_LAB))
FUZZ_SRCS  := $(filter %_fuzz.c,$(ALL_LAB))
MAIN_SRC   := lab/main.c
LIB_SRCS   := $(filter-out $(TEST_SRCS) $(FUZZ_SRCS) $(MAIN_SRC),$(ALL_LAB))

OBJ_REL    := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
OBJ_ASAN   := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
TEST_BINS  := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRCS)))

.PHONY: all setup test unit guest demo clean fuzz bench test-reliability
all: $(BUILD)/crashlab

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -std=c11 $(WARN) $(SANFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/crashlab: $(OBJ_REL) $(BUILD)/obj/lab/main.o
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(PKG_LIBS)
	@echo "  built $@"

# The test build of the program: same sources, sanitizers on.
$(BUILD)/asan/crashlab: $(OBJ_ASAN) $(BUILD)/asan/lab/main.o
	$(Q)$(CC) $(SANFLAGS) $^ -o $@ $(PKG_LIBS)

define test_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(1:%.c=$(BUILD)/asan/%.o) $(OBJ_ASAN)
	@mkdir -p $(BUILD)/tests
	$(Q)$(CC) $(SANFLAGS) $$^ -o $$@ $(PKG_LIBS)
endef
$(foreach t,$(TEST_SRCS),$(eval $(call test_rule,$(t))))

setup:
	$(Q)bash scripts/setup.sh

unit: $(TEST_BINS)

# Fragments owned by the parts of the tree they build (guest image, drivers, fuzzing, bench).
-include $(sort $(wildcard mk/*.mk))

test: all $(BUILD)/asan/crashlab $(TEST_BINS) $(TEST_DEPS)
	$(Q)bash tests/run.sh

# One real scenario end to end: boot the Linux guest, load the module through qemu-ga,
# panic, dump, verdict.
demo: all guest
	$(Q)$(BUILD)/crashlab run scenarios/linux/panic.yaml --results results

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
