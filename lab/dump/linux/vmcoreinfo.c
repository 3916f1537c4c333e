#include "dump/linux/vmcoreinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cl_vmci_get(const char *vmci, const char *key, char *out, size_t outlen)
{
    if (!vmci || !outlen)
        return false;
    size_t kl = strlen(key);
    for (const char *line = vmci; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > kl && !memcmp(line, key, kl) && line[kl] == '=') {
            size_t vl = ll - kl - 1;
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, line + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

bool cl_vmci_hex(const char *vmci, const char *key, uint64_t *out)
{
    char v[64], *end;
    if (!cl_vmci_get(vmci, key, v, sizeof(v)) || !v[0])
        return false;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 16);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

bool cl_vmci_dec(const char *vmci, const char *key, int64_t *out)
{
    char v[64], *end;
    if (!cl_vmci_get(vmci, key, v, sizeof(v)) || !v[0])
        return false;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

static bool keyed(const char *vmci, const char *kind, const char *name, bool hex, uint64_t *u, int64_t *s)
{
    char key[160];
    if (snprintf(key, sizeof(key), "%s(%s)", kind, name) >= (int)sizeof(key))
        return false;
    return hex ? cl_vmci_hex(vmci, key, u) : cl_vmci_dec(vmci, key, s);
}

bool cl_vmci_symbol(const char *vmci, const char *name, uint64_t *out)
{
    return keyed(vmci, "SYMBOL", name, true, out, NULL);
}

bool cl_vmci_offset(const char *vmci, const char *member, uint64_t *out)
{
    int64_t v;
    if (!keyed(vmci, "OFFSET", member, false, NULL, &v) || v < 0)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool cl_vmci_size(const char *vmci, const char *type, uint64_t *out)
{
    int64_t v;
    if (!keyed(vmci, "SIZE", type, false, NULL, &v) || v < 0)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool cl_vmci_number(const char *vmci, const char *name, int64_t *out)
{
    return keyed(vmci, "NUMBER", name, false, NULL, out);
}
