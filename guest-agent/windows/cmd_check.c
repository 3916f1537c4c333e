/* cmd_check.c - `labagent check`: what this image has of what the lab's scenarios and
 * capture rungs need, read from the registry (and the driver's device when it is loaded),
 * and which rungs are therefore unavailable and why. The host runs it once the agent
 * answers: it picks the capture rung from AutoReboot and refuses a fault whose needs the
 * image does not meet (drivers/windows/README.md, "What each scenario needs").
 *
 * Devices are looked up under HKLM\SYSTEM\CurrentControlSet\Enum\ACPI (fw_cfg is ACPI
 * QEMU0002, pvpanic QEMU0001), drivers under ...\Services, and a device counts as driven
 * when one of its instances names the service in its "Service" value.
 */
#include <windows.h>
#include <sddl.h>

#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "jout.h"

#define KEY_CRASHCONTROL "SYSTEM\\CurrentControlSet\\Control\\CrashControl"
#define KEY_MEMMGMT "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management"
#define KEY_ENUM_ACPI "SYSTEM\\CurrentControlSet\\Enum\\ACPI\\"
#define KEY_SERVICES "SYSTEM\\CurrentControlSet\\Services\\"
#define LF_SPECIAL_POOL_TAG 0x4662614Cu   /* "LabF", the driver's blocks */

/* A DWORD value, or def when absent or of another type. */
static DWORD reg_dword(const char *path, const char *name, DWORD def, bool *present)
{
    HKEY k;
    DWORD v = def, len = sizeof(v), type = 0;
    bool got = false;
    if (!RegOpenKeyExA(HKEY_LOCAL_MACHINE, path, 0, KEY_READ, &k)) {
        DWORD tmp = 0;
        if (!RegQueryValueExA(k, name, NULL, &type, (BYTE *)&tmp, &len) && type == REG_DWORD && len == sizeof(tmp)) {
            v = tmp;
            got = true;
        }
        RegCloseKey(k);
    }
    if (present)
        *present = got;
    return v;
}

/* A string value into out (NUL-terminated, bounded); false when absent. */
static bool reg_string(HKEY root, const char *path, const char *name, char *out, DWORD outlen)
{
    HKEY k;
    DWORD len = outlen - 1, type = 0;
    bool ok = false;
    if (!RegOpenKeyExA(root, path, 0, KEY_READ, &k)) {
        if (!RegQueryValueExA(k, name, NULL, &type, (BYTE *)out, &len) && (type == REG_SZ || type == REG_EXPAND_SZ)) {
            out[len < outlen ? len : outlen - 1] = 0;
            ok = true;
        }
        RegCloseKey(k);
    }
    return ok;
}

static bool reg_key_exists(const char *path)
{
    HKEY k;
    if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, path, 0, KEY_READ, &k))
        return false;
    RegCloseKey(k);
    return true;
}

/* Whether ACPI device `hwid` has an instance, and whether one names `service`. */
static void acpi_device(const char *hwid, const char *service, bool *present, bool *bound)
{
    char path[256], inst[128], svc[128];
    HKEY k;
    *present = *bound = false;
    snprintf(path, sizeof(path), KEY_ENUM_ACPI "%s", hwid);
    if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, path, 0, KEY_READ, &k))
        return;
    for (DWORD i = 0; i < 64; i++) {
        DWORD n = sizeof(inst);
        if (RegEnumKeyExA(k, i, inst, &n, NULL, NULL, NULL, NULL))
            break;
        *present = true;
        if (reg_string(k, inst, "Service", svc, sizeof(svc)) && !_stricmp(svc, service))
            *bound = true;
    }
    RegCloseKey(k);
}

/* VerifyDrivers is a space-separated list of image names, or "*". */
static bool verifier_lists(const char *list, const char *image)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok(buf, " \t"); t; t = strtok(NULL, " \t"))
        if (!strcmp(t, "*") || !_stricmp(t, image))
            return true;
    return false;
}

static void rung(const char *name, bool available, const char *why)
{
    jout_obj(name);
    jout_bool("available", available);
    if (!available)
        jout_str("why", why);
    jout_obj_end();
}

/* The device's DACL as SDDL, when the driver is loaded. */
static bool device_sddl(char *out, size_t outlen)
{
    HANDLE h = CreateFileA(LABFAULT_WIN_USER_PATH, READ_CONTROL, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    static BYTE sd[4096];
    DWORD need = 0;
    LPSTR text = NULL;
    bool ok = GetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, (PSECURITY_DESCRIPTOR)sd, sizeof(sd), &need) &&
              ConvertSecurityDescriptorToStringSecurityDescriptorA((PSECURITY_DESCRIPTOR)sd, SDDL_REVISION_1,
                                                                   DACL_SECURITY_INFORMATION, &text, NULL);
    CloseHandle(h);
    if (ok) {
        snprintf(out, outlen, "%s", text);
        LocalFree(text);
    }
    return ok;
}

int cmd_check(int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return jout_fail("check", LABAGENT_EXIT_USAGE, "usage: labagent check");

    bool ar_set, nmi_set, cde_set, lvl_set, tag_set;
    DWORD autoreboot = reg_dword(KEY_CRASHCONTROL, "AutoReboot", 1, &ar_set);   /* Windows' default is 1 */
    DWORD nmi = reg_dword(KEY_CRASHCONTROL, "NMICrashDump", 0, &nmi_set);
    DWORD cde = reg_dword(KEY_CRASHCONTROL, "CrashDumpEnabled", 7, &cde_set);
    DWORD level = reg_dword(KEY_MEMMGMT, "VerifyDriverLevel", 0, &lvl_set);
    DWORD tag = reg_dword(KEY_MEMMGMT, "PoolTag", 0, &tag_set);
    char drivers[1024] = "";
    bool have_list = reg_string(HKEY_LOCAL_MACHINE, KEY_MEMMGMT, "VerifyDrivers", drivers, sizeof(drivers));
    bool verified = have_list && verifier_lists(drivers, "labfault.sys");
    bool special_pool = (verified && (level & 0x1)) || (tag_set && tag == LF_SPECIAL_POOL_TAG);
    bool fw_dev, fw_bound, pp_dev, pp_bound;
    acpi_device("QEMU0002", "FwCfg", &fw_dev, &fw_bound);
    acpi_device("QEMU0001", "pvpanic", &pp_dev, &pp_bound);
    bool fw_svc = reg_key_exists(KEY_SERVICES "FwCfg"), pp_svc = reg_key_exists(KEY_SERVICES "pvpanic");
    bool fwcfg = fw_dev && fw_svc && fw_bound;

    jout_begin("check");
    jout_obj("crash_control");
    jout_u64("AutoReboot", autoreboot);
    jout_bool("AutoReboot_set", ar_set);
    jout_u64("CrashDumpEnabled", cde);
    jout_u64("NMICrashDump", nmi);
    jout_obj_end();
    jout_obj("verifier");
    jout_str("VerifyDrivers", drivers);
    jout_hex("VerifyDriverLevel", level);
    jout_hex("PoolTag", tag);
    jout_bool("special_pool", special_pool);
    jout_obj_end();
    jout_obj("devices");
    jout_obj("fwcfg");
    jout_bool("device", fw_dev);
    jout_bool("driver", fw_svc);
    jout_bool("bound", fw_bound);
    jout_obj_end();
    jout_obj("pvpanic");
    jout_bool("device", pp_dev);
    jout_bool("driver", pp_svc);
    jout_bool("bound", pp_bound);
    jout_obj_end();
    jout_obj_end();

    char why[256];
    jout_obj("rungs");
    rung("hypervisor-record", true, "");
    snprintf(why, sizeof(why), "%s",
             cde == 0 ? "CrashDumpEnabled=0: Windows writes no dump"
                      : "AutoReboot=0: Windows stays at the blue screen and writes MEMORY.DMP out of the page file only at the next boot");
    rung("guest-dump", cde != 0 && autoreboot != 0, why);
    snprintf(why, sizeof(why), "%s",
             !fw_dev   ? "no fw_cfg device (ACPI\\QEMU0002): QEMU's win-dmp reads the header the fwcfg driver writes into vmcoreinfo"
             : !fw_svc ? "the virtio-win fwcfg driver is not installed (no Services\\FwCfg): win-dmp needs the header it writes"
                       : "the fw_cfg device is not driven by FwCfg (no instance of ACPI\\QEMU0002 names it)");
    rung("win-dmp", fwcfg, why);
    snprintf(why, sizeof(why), "%s", !nmi ? "NMICrashDump is not 1: the NMI does not bug-check (no 0x80)"
                                          : "NMICrashDump=1 but no rung can take the dump (neither win-dmp nor guest-dump)");
    rung("nmi", nmi == 1 && (fwcfg || (cde != 0 && autoreboot != 0)), why);
    jout_obj_end();

    jout_arr("needs_met");
    if (special_pool)
        jout_str(NULL, "special-pool");
    if (nmi == 1)
        jout_str(NULL, "nmi-dump");
    jout_arr_end();
    char sddl[512];
    if (device_sddl(sddl, sizeof(sddl)))
        jout_str("device_sddl", sddl);
    jout_print();
    return LABAGENT_EXIT_OK;
}
