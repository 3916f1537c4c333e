/* gen_synth.c - writes the SYNTHETIC dumps of synth.h to a directory (fuzz seeds, CLI tests).
 * usage: gen_synth DIR */
#include <errno.h>
#include <sys/stat.h>

#include "synth.h"

static int put(const char *dir, const char *name, synth_buf b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f)) {
        fprintf(stderr, "gen_synth: cannot write %s\n", path);
        return 1;
    }
    free(b.p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_synth DIR\n");
        return 2;
    }
    if (mkdir(argv[1], 0755) < 0 && errno != EEXIST)
        return 1;
    const uint64_t p133[4] = { 0, 0x501, 0x500, 0xfffff80000c1c340ull };
    int bad = 0;
    bad |= put(argv[1], "synthetic-win64-full.dmp", synth_win64_full());
    bad |= put(argv[1], "synthetic-win64-bitmap-full.dmp", synth_win64_bitmap(5));
    bad |= put(argv[1], "synthetic-win64-bitmap-kernel.dmp", synth_win64_bitmap(6));
    bad |= put(argv[1], "synthetic-win32-full.dmp", synth_win32_full());
    bad |= put(argv[1], "synthetic-win64-triage-0x133.dmp", synth_win64_triage(0x133, p133));
    synth_linux s;
    synth_linux_build(&s, synth_soft_lockup_log, true);
    bad |= put(argv[1], "synthetic-linux.elf", synth_linux_elf(&s, false));
    bad |= put(argv[1], "synthetic-linux-novmci.elf", synth_linux_elf(&s, true));
    bad |= put(argv[1], "synthetic-linux-zlib.kdump", synth_linux_kdump(&s, 1, false));
    bad |= put(argv[1], "synthetic-linux-lzo.kdump", synth_linux_kdump(&s, 2, false));
    bad |= put(argv[1], "synthetic-linux-snappy.kdump", synth_linux_kdump(&s, 4, false));
    bad |= put(argv[1], "synthetic-linux-raw-flat.kdump", synth_linux_kdump(&s, 0, true));
    bad |= put(argv[1], "synthetic-linux-zlib-flat.kdump", synth_linux_kdump(&s, 1, true));
    free(s.mem);
    return bad;
}
