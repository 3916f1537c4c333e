/* windows_fuzz.c - libFuzzer target: the Windows dump reader, the inspect object built from
 * it, physical page reads and the SMBIOS/driver fingerprint. */
#include <stddef.h>
#include <stdint.h>

#include "dump/fuzz_inspect.h"
#include "dump/windows/windump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_reader *r = cl_reader_open_mem(data, size, NULL);
    if (!r)
        return 0;
    cl_fuzz_inspect(r, cl_inspect_windows, true);
    cl_windump *d = cl_windump_open(r, NULL);
    if (d) {
        unsigned char page[4096];
        for (uint64_t pfn = 0; pfn < 64; pfn++)
            cl_windump_read_page(d, pfn * 7, page, NULL);
        cl_windump_free(d);
    }
    cl_reader_free(r);
    return 0;
}
