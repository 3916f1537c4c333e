# The lab's dump writer (lab/dump/writer, lab/virt/memdump.c): the comparison tool its
# integration test (tests/integration/dump-writer.sh) runs over QEMU's dump and the lab's.
DUMPCMP := $(BUILD)/tools/dumpcmp

$(DUMPCMP): tests/tools/dumpcmp.c $(OBJ_REL)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $^ -o $@ $(PKG_LIBS)

TEST_DEPS += $(DUMPCMP)
