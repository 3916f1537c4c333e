/* kdump_fuzz.c - libFuzzer target: the kdump-compressed reader (plain and flattened) and the
 * Linux inspect object read through it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dump/fuzz_inspect.h"
#include "dump/kdump/kdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cl_kdump_probe(data, size))
        return 0;
    cl_reader *r = cl_reader_open_mem(data, size, NULL);
    if (!r)
        return 0;
    cl_fuzz_inspect(r, cl_inspect_linux, false);
    cl_kdump *k = cl_kdump_open(r, NULL);
    if (k) {
        unsigned char page[4096];
        uint64_t pfn = 0, next;
        for (int i = 0; i < 64 && k->mem.next_page(k, pfn, &next); i++) {
            k->mem.read_page(k, next, page, NULL);
            pfn = next + 1;
        }
        cl_kdump_free(k);
    }
    cl_reader_free(r);
    return 0;
}
