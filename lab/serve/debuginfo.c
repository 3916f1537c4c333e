/* debuginfo.c - a manifest entry's "debug" object: what a debugger needs to open the dump.
 * Linux: the kernel release, the vmlinux build-id (the dump's VMCOREINFO BUILD-ID, else
 * the debug vmlinux's own note), Debian's debug package for that release and the version
 * installed here, and the debug vmlinux's path when present. Windows: the build, ntoskrnl's
 * symbol-server image key and PDB identity as read from the dump (or why not). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"
#include "util/fileio.h"
#include "util/json.h"

#define SHDR_MAX 4096
#define NOTE_MAX (64u << 10)

/* A release is a file-name component and a package-name part: nothing else gets through. */
static bool release_ok(const char *r)
{
    size_t n = r ? strlen(r) : 0;
    if (n == 0 || n > 64 || r[0] == '.' || r[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z') || (r[i] >= '0' && r[i] <= '9') ||
              strchr("._+~-", r[i])))
            return false;
    return true;
}

static bool pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* The NT_GNU_BUILD_ID note of an ELF64 file (its SHT_NOTE sections), as hex. */
bool cl_elf_build_id(const char *path, char *out, size_t outlen)
{
    CL_AUTOCLOSE fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    Elf64_Ehdr eh;
    if (fd < 0 || fstat(fd, &st) < 0 || !pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > SHDR_MAX ||
        eh.e_shoff > (uint64_t)st.st_size || (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > (uint64_t)st.st_size - eh.e_shoff)
        return false;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        if (!pread_all(fd, &sh, sizeof(sh), eh.e_shoff + (uint64_t)i * sizeof(sh)))
            return false;
        if (sh.sh_type != SHT_NOTE || sh.sh_size > NOTE_MAX || sh.sh_offset > (uint64_t)st.st_size ||
            sh.sh_size > (uint64_t)st.st_size - sh.sh_offset)
            continue;
        unsigned char buf[NOTE_MAX];
        if (!pread_all(fd, buf, sh.sh_size, sh.sh_offset))
            return false;
        for (uint64_t o = 0; o + sizeof(Elf64_Nhdr) <= sh.sh_size;) {
            Elf64_Nhdr nh;
            memcpy(&nh, buf + o, sizeof(nh));
            uint64_t name = o + sizeof(nh), desc = name + (((uint64_t)nh.n_namesz + 3) & ~3ull);
            uint64_t next = desc + (((uint64_t)nh.n_descsz + 3) & ~3ull);
            if (next > sh.sh_size)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(buf + name, "GNU", 4) && nh.n_descsz &&
                nh.n_descsz * 2 < outlen) {
                for (unsigned k = 0; k < nh.n_descsz; k++)
                    snprintf(out + 2 * k, 3, "%02x", buf[desc + k]);
                return true;
            }
            o = next;
        }
    }
    return false;
}

/* The installed version of a Debian package ("" when it is not installed). */
static void dpkg_version(const char *pkg, char *out, size_t outlen)
{
    out[0] = '\0';
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 2);
        }
        dup2(p[1], 1);
        execlp("dpkg-query", "dpkg-query", "-W", "-f", "${db:Status-Abbrev}|${Version}", pkg, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[256];
    size_t n = 0;
    ssize_t r;
    while (pid > 0 && n < sizeof(buf) - 1 && ((r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    buf[n] = '\0';
    close(p[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* "ii |6.1.192-3": installed; anything else (rc, un) is not. */
    const char *bar = strchr(buf, '|');
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !strncmp(buf, "ii", 2) && bar)
        snprintf(out, outlen, "%s", bar + 1);
}

static json_object *jstr_or_null(const char *s)
{
    return s && *s ? json_object_new_string(s) : NULL;
}

json_object *cl_corpus_debuginfo(json_object *result)
{
    json_object *crash = cl_json_get(result, "crash"), *os = cl_json_get(crash, "os");
    json_object *d = json_object_new_object();
    if (!strcmp(cl_json_str(os, "name", ""), "windows")) {
        json_object_object_add(d, "os", json_object_new_string("windows"));
        json_object_object_add(d, "build", json_object_get(cl_json_get(os, "build")));
        json_object_object_add(d, "major", json_object_get(cl_json_get(os, "major")));
        /* crashlab inspect read them out of the dump (lab/dump/windows/kimage.h). */
        json_object *ki = cl_json_get(cl_json_get(crash, "windows"), "kernel_image");
        json_object *pdb = cl_json_get(ki, "pdb");
        json_object_object_add(d, "ntoskrnl_image_key", json_object_get(cl_json_get(ki, "image_key")));
        json_object_object_add(d, "ntoskrnl_pdb", json_object_get(pdb));
        if (!pdb) {
            const char *why = cl_json_str(ki, "pdb_why", cl_json_str(ki, "why", NULL));
            json_object_object_add(d, "ntoskrnl_pdb_why",
                                   json_object_new_string(why ? why : "the dump's inspection has no kernel_image"));
        }
        return d;
    }
    const char *rel = cl_json_str(os, "release", cl_json_str(cl_json_get(result, "guest"), "kernel_release", NULL));
    json_object_object_add(d, "os", json_object_new_string("linux"));
    if (!release_ok(rel)) {
        json_object_object_add(d, "kernel_release", NULL);
        json_object_object_add(d, "why", json_object_new_string("the dump names no usable kernel release"));
        return d;
    }
    json_object_object_add(d, "kernel_release", json_object_new_string(rel));
    char pkg[128], ver[128], vmlinux[256], vid[96] = "";
    snprintf(pkg, sizeof(pkg), "linux-image-%s-dbg", rel);
    dpkg_version(pkg, ver, sizeof(ver));
    snprintf(vmlinux, sizeof(vmlinux), "/usr/lib/debug/boot/vmlinux-%s", rel);
    bool have_vmlinux = cl_elf_build_id(vmlinux, vid, sizeof(vid));
    const char *dump_id = cl_json_str(cl_json_get(crash, "linux"), "build_id", NULL);
    json_object_object_add(d, "build_id", jstr_or_null(dump_id ? dump_id : vid));
    json_object_object_add(d, "build_id_source", json_object_new_string(dump_id ? "vmcoreinfo" : have_vmlinux ? "vmlinux" : "none"));
    json_object_object_add(d, "debug_package", json_object_new_string(pkg));
    json_object_object_add(d, "debug_package_version", jstr_or_null(ver));
    json_object_object_add(d, "vmlinux", have_vmlinux ? json_object_new_string(vmlinux) : NULL);
    if (have_vmlinux && dump_id)
        json_object_object_add(d, "vmlinux_matches", json_object_new_boolean(!strcmp(dump_id, vid)));
    return d;
}
