/* memdump_test.c - the parsers of QEMU's monitor text the lab's dump writer relies on, on
 * text captured from QEMU 7.2 (a booted 2-vCPU Linux guest), and on damaged text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "virt/memdump.h"

static const char mtree[] =
    "FlatView #0\r\n AS \"I/O\", root: io\r\n Root memory region: io\r\n"
    "  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\r\n\r\n"
    "FlatView #3\r\n AS \"memory\", root: system\r\n AS \"cpu-memory-0\", root: system\r\n"
    " Root memory region: system\r\n"
    "  0000000000000000-00000000000c2fff (prio 0, ram): pc.ram\r\n"
    "  00000000000c3000-00000000000e7fff (prio 0, rom): pc.ram @00000000000c3000\r\n"
    "  00000000000e8000-00000000000effff (prio 0, ram): pc.ram @00000000000e8000\r\n"
    "  00000000000f0000-00000000000fffff (prio 0, rom): pc.ram @00000000000f0000\r\n"
    "  0000000000100000-000000000fffffff (prio 0, ram): pc.ram @0000000000100000\r\n"
    "  00000000fec00000-00000000fec00fff (prio 0, i/o): ioapic\r\n"
    "  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\r\n\r\n"
    "FlatView #4\r\n AS \"cpu-smm-0\", root: memory\r\n Root memory region: memory\r\n"
    "  0000000000000000-00000000000bffff (prio 0, ram): pc.ram\r\n";

static const char regs[] =
    "\r\nCPU#0\r\n"
    "RAX=000000000001ad40 RBX=0000000000000000 RCX=0000000000000000 RDX=4000000000000000\r\n"
    "RSI=0000000000000083 RDI=000000000004a954 RBP=ffffffffbbe1aa40 RSP=ffffffffbbe03e98\r\n"
    "R8 =0000000000000000 R9 =000000003d1162eb R10=00000000fffffffb R11=0000000000000001\r\n"
    "R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=0000000000014790\r\n"
    "RIP=ffffffffbae592eb RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\r\n"
    "ES =0000 0000000000000000 00000000 00000000\r\n"
    "CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]\r\n"
    "SS =0018 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]\r\n"
    "DS =0000 0000000000000000 00000000 00000000\r\n"
    "FS =0000 0000000000000000 00000000 00000000\r\n"
    "GS =0000 ffff8ae50f400000 00000000 00000000\r\n"
    "LDT=0000 0000000000000000 00000000 00008200 DPL=0 LDT\r\n"
    "TR =0040 fffffe000003e000 00004087 00008900 DPL=0 TSS64-avl\r\n"
    "GDT=     fffffe0000001000 0000007f\r\n"
    "IDT=     fffffe0000000000 00000fff\r\n"
    "CR0=80050033 CR2=0000000026ac2730 CR3=0000000001204000 CR4=000006f0\r\n"
    "EFER=0000000000000d01\r\n";

static void test_mtree(void)
{
    cl_memdump_section s[8];
    size_t n = 0;
    CHECK(cl_memdump_parse_mtree(mtree, s, 8, &n, NULL));
    CHECK(n == 6);
    CHECK(s[0].gpa == 0 && s[0].len == 0xc3000 && !strcmp(s[0].name, "pc.ram"));
    CHECK(s[4].gpa == 0x100000 && s[4].len == 0xff00000);
    CHECK(s[5].gpa == 0xfffc0000 && s[5].len == 0x40000 && !strcmp(s[5].name, "pc.bios"));
    cl_error *err = NULL;
    CHECK(!cl_memdump_parse_mtree(mtree, s, 3, &n, &err) && err && strstr(err->msg, "more than 3"));
    cl_error_free(err);
    err = NULL;
    CHECK(!cl_memdump_parse_mtree("FlatView #0\n AS \"I/O\", root: io\n", s, 8, &n, &err));
    cl_error_free(err);
    err = NULL;
    /* sections out of order are refused, not sorted silently */
    const char *bad = " AS \"memory\", root: system\n Root memory region: system\n"
                      "  0000000000100000-00000000001fffff (prio 0, ram): pc.ram\n"
                      "  0000000000000000-0000000000000fff (prio 0, ram): pc.ram\n";
    CHECK(!cl_memdump_parse_mtree(bad, s, 8, &n, &err) && err && strstr(err->msg, "out of order"));
    cl_error_free(err);
}

static void test_gpa2hva(void)
{
    uint64_t h = 0;
    CHECK(cl_memdump_parse_gpa2hva("Host virtual address for 0x100000 (pc.ram) is 0x7f9dabf00000\r\n", &h, NULL) &&
          h == 0x7f9dabf00000ull);
    cl_error *err = NULL;
    CHECK(!cl_memdump_parse_gpa2hva("No memory is mapped at address 0xfec00000\r\n", &h, &err));
    cl_error_free(err);
}

static void test_registers_and_notes(void)
{
    cl_memdump_cpu c[4];
    size_t n = 0;
    CHECK(cl_memdump_parse_registers(regs, c, 4, &n, NULL) && n == 1);
    CHECK(c[0].rip == 0xffffffffbae592ebull && c[0].rflags == 0x246 && c[0].regs[4] == 0xffffffffbbe03e98ull);
    CHECK(c[0].seg[5].base == 0xffff8ae50f400000ull && c[0].seg[1].selector == 0x10 && c[0].seg[1].flags == 0xaf9b00);
    CHECK(c[0].seg[8].base == 0xfffffe0000001000ull && c[0].seg[8].limit == 0x7f && c[0].cr[3] == 0x1204000);
    /* HMP masks the flags' low byte; for TR it is base[23:16] and comes back (QEMU's note has 0x8903) */
    CHECK(c[0].seg[7].flags == 0x8903 && c[0].seg[6].flags == 0x8200);
    unsigned char vnote[40] = { 11, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 'V', 'M', 'C', 'O', 'R', 'E', 'I', 'N', 'F', 'O' };
    memcpy(vnote + 24, "OSRELEASE=x\n", 12);
    unsigned char *notes = NULL;
    size_t len = 0;
    CHECK(cl_memdump_build_notes(c, n, vnote, 36, &notes, &len, NULL));
    uint32_t cpus = 0;
    size_t vo = 0, vl = 0;
    CHECK(notes && cl_kw_notes_scan(notes, len, &cpus, &vo, &vl, NULL) && cpus == 1 && vl == 12);
    uint64_t rip = 0, rsp = 0;
    memcpy(&rip, notes + 20 + 112 + 16 * 8, 8); /* pr_reg.rip */
    memcpy(&rsp, notes + 20 + 112 + 19 * 8, 8);
    CHECK(rip == c[0].rip && rsp == c[0].regs[4]);
    free(notes);
    cl_error *err = NULL;
    CHECK(!cl_memdump_parse_registers("CPU#0\nEAX=00000000 EBX=00000000\n", c, 4, &n, &err) && err &&
          strstr(err->msg, "64-bit"));
    cl_error_free(err);
    err = NULL;
    char cut[sizeof(regs)];
    memcpy(cut, regs, sizeof(regs));
    *strstr(cut, "GDT=") = '\0'; /* truncated reply */
    CHECK(!cl_memdump_parse_registers(cut, c, 4, &n, &err));
    cl_error_free(err);
}

int main(void)
{
    RUN_TEST(test_mtree);
    RUN_TEST(test_gpa2hva);
    RUN_TEST(test_registers_and_notes);
    TEST_EXIT();
}
