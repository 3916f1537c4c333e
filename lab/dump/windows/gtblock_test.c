/* gtblock_test.c - labfault.sys's ground-truth block found in a dump: a valid block in a
 * synthetic full dump is found by the scan and by `inspect`; the newest of two copies wins;
 * a block with a bad checksum, size, count or name is refused. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/dumps/synth.h"
#include "dump/dump_test_util.h"
#include "dump/windows/gtblock.h"

static struct labfault_gt_block make_block(uint64_t seq, uint64_t self)
{
    struct labfault_gt_block b;
    memset(&b, 0, sizeof(b));
    memcpy(b.magic, LABFAULT_GT_MAGIC, 8);
    b.size = sizeof(b);
    b.self = self;
    b.sequence = seq;
    b.truth.abi_version = LABFAULT_ABI_VERSION;
    b.truth.fault = LABFAULT_HANG_IRP;
    b.truth.state = LABFAULT_STATE_FIRED;
    b.truth.count = 2;
    strcpy(b.truth.item[0].name, "irp");
    b.truth.item[0].value = 0xffffa00012345678ull;
    strcpy(b.truth.item[1].name, "fire_thread");
    b.truth.item[1].value = 0xffffa00087654321ull;
    b.nframes = 2;
    b.frames[0] = 0xfffff80012340000ull;
    b.frames[1] = 0xfffff80012350000ull;
    b.checksum = labfault_gt_checksum(&b);
    return b;
}

static void test_parse(void)
{
    struct labfault_gt_block b = make_block(3, 0xffffa00000001000ull), out;
    CHECK(cl_gtblock_parse((unsigned char *)&b, sizeof(b), &out) && out.sequence == 3);
    CHECK(!cl_gtblock_parse((unsigned char *)&b, sizeof(b) - 1, &out));
    struct labfault_gt_block bad = b;
    bad.truth.item[0].value ^= 1;       /* checksum no longer matches */
    CHECK(!cl_gtblock_parse((unsigned char *)&bad, sizeof(bad), &out));
    bad = b;
    bad.truth.count = 13;
    bad.checksum = labfault_gt_checksum(&bad);
    CHECK(!cl_gtblock_parse((unsigned char *)&bad, sizeof(bad), &out));
    bad = b;
    memset(bad.truth.item[1].name, 'A', sizeof(bad.truth.item[1].name));
    bad.checksum = labfault_gt_checksum(&bad);
    CHECK(!cl_gtblock_parse((unsigned char *)&bad, sizeof(bad), &out));
    bad = b;
    bad.size = 100;
    CHECK(!cl_gtblock_parse((unsigned char *)&bad, sizeof(bad), &out));
    bad = b;
    bad.nframes = 17;
    bad.checksum = labfault_gt_checksum(&bad);
    CHECK(!cl_gtblock_parse((unsigned char *)&bad, sizeof(bad), &out));
}

static void test_in_dump(void)
{
    synth_buf d = synth_win64_full();
    /* page 0x10 is the dump's third stored page; an older copy in page 1, the newer in 0x10 */
    struct labfault_gt_block old = make_block(5, 0xffffa00000002000ull), cur = make_block(9, 0xffffa00000003000ull);
    memcpy(d.p + 0x2000 + 0 * 4096 + 0x100, &old, sizeof(old));
    memcpy(d.p + 0x2000 + 2 * 4096 + 0x7a8, &cur, sizeof(cur));
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(d.p, d.len, NULL);
    CL_AUTOPTR(cl_windump) w = cl_windump_open(r, NULL);
    cl_gtblock g;
    CHECK(w && cl_gtblock_find(w, &g));
    CHECK(g.block.sequence == 9 && g.pfn == 0x10 && g.offset == 0x7a8);

    json_object *o = NULL;
    CHECK(tu_inspect_buf(d.p, d.len, &o) == CL_DUMP_OK);
    CHECK_STR(tu_str(o, "windows.labfault_ground_truth.fault"), "hang-irp");
    CHECK_STR(tu_str(o, "windows.labfault_ground_truth.state"), "fired");
    CHECK_STR(tu_str(o, "windows.labfault_ground_truth.items.irp"), "0xffffa00012345678");
    CHECK_STR(tu_str(o, "windows.labfault_ground_truth.address"), "0xffffa00000003000");
    CHECK_STR(tu_str(o, "windows.labfault_ground_truth.physical_address"), "0x107a8");
    json_object_put(o);

    /* The same dump without a block: no key (the check above can fail). */
    memset(d.p + 0x2000, 0, 4096);
    memset(d.p + 0x2000 + 2 * 4096, 0, 4096);
    CHECK(tu_inspect_buf(d.p, d.len, &o) == CL_DUMP_OK);
    CHECK(tu_get(o, "windows.labfault_ground_truth") == NULL);
    json_object_put(o);
    free(d.p);
}

int main(void)
{
    RUN_TEST(test_parse);
    RUN_TEST(test_in_dump);
    TEST_EXIT();
}
