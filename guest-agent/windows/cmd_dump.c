/* cmd_dump.c - configure-dump (CrashControl and Driver Verifier registry values) and
 * collect (where the dumps are, how big, their SHA-256, for the host to fetch in bounded
 * chunks). Settings take effect at the next boot; the output says so.
 */
#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jout.h"
#include "sha256.h"

#define CRASHCONTROL "SYSTEM\\CurrentControlSet\\Control\\CrashControl"
#define MEMMGMT "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management"
#define MAX_MINIDUMPS 64

static bool set_dword(const char *path, const char *name, DWORD v, char *why, size_t whylen)
{
    HKEY k;
    LONG r = RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL);
    if (!r) {
        r = RegSetValueExA(k, name, 0, REG_DWORD, (const BYTE *)&v, sizeof(v));
        RegCloseKey(k);
    }
    if (r)
        snprintf(why, whylen, "cannot set HKLM\\%s\\%s: %s", path, name, jout_winerr((DWORD)r));
    return r == 0;
}

static bool set_string(const char *path, const char *name, DWORD type, const char *v, char *why, size_t whylen)
{
    HKEY k;
    LONG r = RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL);
    if (!r) {
        r = RegSetValueExA(k, name, 0, type, (const BYTE *)v, (DWORD)strlen(v) + 1);
        RegCloseKey(k);
    }
    if (r)
        snprintf(why, whylen, "cannot set HKLM\\%s\\%s: %s", path, name, jout_winerr((DWORD)r));
    return r == 0;
}

static bool parse_u32(const char *s, DWORD *out)
{
    char *end = NULL;
    if (!*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > 0xffffffffull)
        return false;
    *out = (DWORD)v;
    return true;
}

static bool parse_flag(const char *s, DWORD *out)
{
    return parse_u32(s, out) && *out <= 1;
}

int cmd_configure_dump(int argc, char **argv)
{
    static const struct { const char *name; DWORD crash_dump_enabled; DWORD filter_pages; } types[] = {
        { "none", 0, 0 }, { "full", 1, 0 }, { "complete", 1, 0 }, { "kernel", 2, 0 },
        { "small", 3, 0 }, { "automatic", 7, 0 }, { "active", 1, 1 },
    };
    char why[600];
    int t = -1;

    if (argc < 1)
        return jout_fail("configure-dump", LABAGENT_EXIT_USAGE,
                         "usage: labagent configure-dump none|full|kernel|small|automatic|active [key=value ...]");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(argv[0], types[i].name))
            t = (int)i;
    if (t < 0)
        return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "unknown dump type '%s'", argv[0]);

    /* Validate every option before writing anything: no half-applied configuration. */
    struct {
        int always_keep, nmi, overwrite, autoreboot;     /* -1: leave alone */
        const char *dump_file, *minidump_dir, *verifier_drivers, *tag;
        bool verifier_set;
        DWORD verifier_flags, tag_value;
    } o = { -1, -1, -1, -1, NULL, NULL, NULL, NULL, false, 0, 0 };
    for (int i = 1; i < argc; i++) {
        char *k, *v;
        DWORD d;
        if (agent_split_kv(argv[i], &k, &v) < 0)
            return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "expected key=value, got '%s'", argv[i]);
        int *flag = !strcmp(k, "always_keep") ? &o.always_keep
                    : !strcmp(k, "nmi")       ? &o.nmi
                    : !strcmp(k, "overwrite") ? &o.overwrite
                    : !strcmp(k, "autoreboot") ? &o.autoreboot
                                               : NULL;
        if (flag) {
            if (!parse_flag(v, &d))
                return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "%s must be 0 or 1, got '%s'", k, v);
            *flag = (int)d;
        } else if (!strcmp(k, "dump_file") || !strcmp(k, "minidump_dir") || !strcmp(k, "verifier_drivers")) {
            if (!*v || strlen(v) >= MAX_PATH)
                return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "%s must be 1 to %d characters", k,
                                 MAX_PATH - 1);
            *(!strcmp(k, "dump_file") ? &o.dump_file : !strcmp(k, "minidump_dir") ? &o.minidump_dir
                                                                                   : &o.verifier_drivers) = v;
        } else if (!strcmp(k, "verifier_flags")) {
            if (!parse_u32(v, &o.verifier_flags))
                return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "verifier_flags must be a 32-bit number");
            o.verifier_set = true;
        } else if (!strcmp(k, "special_pool_tag")) {
            size_t n = strlen(v);
            if (n < 1 || n > 4)
                return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "special_pool_tag must be 1 to 4 characters");
            o.tag = v;
            o.tag_value = 0;
            for (int c = 3; c >= 0; c--) {
                unsigned char ch = (size_t)c < n ? (unsigned char)v[c] : ' ';
                if (ch < 0x20 || ch > 0x7e)
                    return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "special_pool_tag must be printable");
                o.tag_value = (o.tag_value << 8) | ch;
            }
        } else {
            return jout_fail("configure-dump", LABAGENT_EXIT_USAGE, "unknown option '%s'", k);
        }
    }

    bool ok = set_dword(CRASHCONTROL, "CrashDumpEnabled", types[t].crash_dump_enabled, why, sizeof(why)) &&
              set_dword(CRASHCONTROL, "FilterPages", types[t].filter_pages, why, sizeof(why));
    if (ok && o.always_keep >= 0)
        ok = set_dword(CRASHCONTROL, "AlwaysKeepMemoryDump", (DWORD)o.always_keep, why, sizeof(why));
    if (ok && o.nmi >= 0)
        ok = set_dword(CRASHCONTROL, "NMICrashDump", (DWORD)o.nmi, why, sizeof(why));
    if (ok && o.overwrite >= 0)
        ok = set_dword(CRASHCONTROL, "Overwrite", (DWORD)o.overwrite, why, sizeof(why));
    if (ok && o.autoreboot >= 0)
        ok = set_dword(CRASHCONTROL, "AutoReboot", (DWORD)o.autoreboot, why, sizeof(why));
    if (ok && o.dump_file)
        ok = set_string(CRASHCONTROL, "DumpFile", REG_EXPAND_SZ, o.dump_file, why, sizeof(why));
    if (ok && o.minidump_dir)
        ok = set_string(CRASHCONTROL, "MinidumpDir", REG_EXPAND_SZ, o.minidump_dir, why, sizeof(why));
    if (ok && (o.verifier_set || o.verifier_drivers || o.tag))
        ok = set_string(MEMMGMT, "VerifyDrivers", REG_SZ, o.verifier_drivers ? o.verifier_drivers : "labfault.sys",
                        why, sizeof(why));
    if (ok && o.verifier_set)
        ok = set_dword(MEMMGMT, "VerifyDriverLevel", o.verifier_flags, why, sizeof(why));
    /* Special pool by tag needs the special-pool verifier flag (0x1) on the driver too. */
    if (ok && o.tag) {
        ok = set_dword(MEMMGMT, "PoolTag", o.tag_value, why, sizeof(why));
        if (ok && !o.verifier_set)
            ok = set_dword(MEMMGMT, "VerifyDriverLevel", 0x1, why, sizeof(why));
    }
    if (!ok)
        return jout_fail("configure-dump", LABAGENT_EXIT_FAIL, "%s", why);

    jout_begin("configure-dump");
    jout_str("type", types[t].name);
    jout_u64("CrashDumpEnabled", types[t].crash_dump_enabled);
    jout_u64("FilterPages", types[t].filter_pages);
    if (o.always_keep >= 0)
        jout_u64("AlwaysKeepMemoryDump", (uint64_t)o.always_keep);
    if (o.nmi >= 0)
        jout_u64("NMICrashDump", (uint64_t)o.nmi);
    if (o.overwrite >= 0)
        jout_u64("Overwrite", (uint64_t)o.overwrite);
    if (o.autoreboot >= 0)
        jout_u64("AutoReboot", (uint64_t)o.autoreboot);
    if (o.dump_file)
        jout_str("DumpFile", o.dump_file);
    if (o.minidump_dir)
        jout_str("MinidumpDir", o.minidump_dir);
    if (o.verifier_set)
        jout_hex("VerifyDriverLevel", o.verifier_flags);
    if (o.tag) {
        jout_str("special_pool_tag", o.tag);
        jout_hex("PoolTag", o.tag_value);
    }
    jout_bool("reboot_required", true);
    jout_print();
    return LABAGENT_EXIT_OK;
}

/* Reads an (expandable) string value; def when absent. Expanded into out. */
static void reg_path(const char *name, const char *def, char *out, size_t outlen)
{
    char raw[MAX_PATH];
    DWORD len = sizeof(raw) - 1, type = 0;
    HKEY k;
    const char *src = def;
    if (!RegOpenKeyExA(HKEY_LOCAL_MACHINE, CRASHCONTROL, 0, KEY_READ, &k)) {
        if (!RegQueryValueExA(k, name, NULL, &type, (BYTE *)raw, &len) && (type == REG_SZ || type == REG_EXPAND_SZ)) {
            raw[len < sizeof(raw) ? len : sizeof(raw) - 1] = 0;
            if (raw[0])
                src = raw;
        }
        RegCloseKey(k);
    }
    DWORD n = ExpandEnvironmentStringsA(src, out, (DWORD)outlen);
    if (n == 0 || n > outlen)
        snprintf(out, outlen, "%s", src);
}

/* Hashes a file; returns false (and leaves a reason) when it cannot be read. */
static bool hash_file(const char *path, uint64_t *size, char hex[65], char *why, size_t whylen)
{
    static unsigned char buf[1 << 20];
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                           FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        snprintf(why, whylen, "%s", jout_winerr(GetLastError()));
        return false;
    }
    sha256_ctx c;
    uint8_t d[32];
    uint64_t total = 0;
    DWORD got;
    sha256_init(&c);
    while (ReadFile(h, buf, sizeof(buf), &got, NULL) && got > 0) {
        sha256_update(&c, buf, got);
        total += got;
    }
    CloseHandle(h);
    sha256_final(&c, d);
    sha256_hex(d, hex);
    *size = total;
    return true;
}

static void emit_file(const char *kind, const char *path)
{
    uint64_t size = 0;
    char hex[65], why[600];
    jout_obj(NULL);
    jout_str("kind", kind);
    jout_str("path", path);
    if (hash_file(path, &size, hex, why, sizeof(why))) {
        jout_u64("size", size);
        jout_str("sha256", hex);
    } else {
        jout_str("error", why);
    }
    jout_obj_end();
}

int cmd_collect(int argc, char **argv)
{
    char dump[MAX_PATH], dir[MAX_PATH], pattern[MAX_PATH + 8], path[2 * MAX_PATH];
    (void)argv;
    if (argc != 0)
        return jout_fail("collect", LABAGENT_EXIT_USAGE, "usage: labagent collect");
    reg_path("DumpFile", "%SystemRoot%\\MEMORY.DMP", dump, sizeof(dump));
    reg_path("MinidumpDir", "%SystemRoot%\\Minidump", dir, sizeof(dir));

    jout_begin("collect");
    jout_str("dump_file", dump);
    jout_str("minidump_dir", dir);
    jout_arr("dumps");
    if (GetFileAttributesA(dump) != INVALID_FILE_ATTRIBUTES)
        emit_file("memory", dump);
    snprintf(pattern, sizeof(pattern), "%s\\*.dmp", dir);
    WIN32_FIND_DATAA fd;
    HANDLE fh = FindFirstFileA(pattern, &fd);
    size_t n = 0;
    bool truncated = false;
    if (fh != INVALID_HANDLE_VALUE) {
        do {
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
                continue;
            if (n == MAX_MINIDUMPS) {
                truncated = true;
                break;
            }
            snprintf(path, sizeof(path), "%s\\%s", dir, fd.cFileName);
            emit_file("minidump", path);
            n++;
        } while (FindNextFileA(fh, &fd));
        FindClose(fh);
    }
    jout_arr_end();
    jout_bool("truncated", truncated);
    jout_print();
    return LABAGENT_EXIT_OK;
}
