/* elf_fuzz.c - libFuzzer target: the ELF vmcore reader and everything the Linux inspect
 * object reads through it (notes, VMCOREINFO, page tables, printk ring, kallsyms, SMBIOS). */
#include <stddef.h>
#include <stdint.h>

#include "dump/fuzz_inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || data[0] != 0x7f || data[1] != 'E' || data[2] != 'L' || data[3] != 'F')
        return 0; /* the kdump target covers the rest */
    cl_reader *r = cl_reader_open_mem(data, size, NULL);
    if (!r)
        return 0;
    cl_fuzz_inspect(r, cl_inspect_linux, true);
    cl_reader_free(r);
    return 0;
}
