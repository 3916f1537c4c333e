/* cmd_service.c - install-cert, install-driver, remove-driver.
 *
 * The driver is test-signed with the certificate made by `make` (build/windows/); the
 * agent carries that certificate (lf_cert.h, generated) and puts it in the machine's Root
 * and TrustedPublisher stores. Loading still needs `bcdedit /set testsigning on` on the
 * image; the agent only reports whether it is on (SystemStartOptions).
 */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "jout.h"
#include "lf_cert.h"

#define MAX_CERT_FILE (64 * 1024)

static bool testsigning_on(void)
{
    char opts[1024];
    DWORD len = sizeof(opts) - 1, type = 0;
    HKEY k;
    if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, "SYSTEM\\CurrentControlSet\\Control", 0, KEY_READ, &k))
        return false;
    LONG r = RegQueryValueExA(k, "SystemStartOptions", NULL, &type, (BYTE *)opts, &len);
    RegCloseKey(k);
    if (r || type != REG_SZ)
        return false;
    opts[len < sizeof(opts) ? len : sizeof(opts) - 1] = 0;
    for (char *p = opts; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return strstr(opts, "TESTSIGNING") != NULL;
}

/* Reads a DER or PEM certificate file into buf (bounded). */
static bool read_cert_file(const char *path, BYTE *buf, DWORD *len, char *why, size_t whylen)
{
    static BYTE raw[MAX_CERT_FILE];
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    DWORD got = 0;
    if (h == INVALID_HANDLE_VALUE) {
        snprintf(why, whylen, "cannot open '%s': %s", path, jout_winerr(GetLastError()));
        return false;
    }
    BOOL ok = ReadFile(h, raw, sizeof(raw), &got, NULL);
    CloseHandle(h);
    if (!ok || got == 0 || got == sizeof(raw)) {
        snprintf(why, whylen, "'%s' is empty, unreadable or larger than %d bytes", path, MAX_CERT_FILE);
        return false;
    }
    DWORD out = *len;
    if (CryptStringToBinaryA((const char *)raw, got, CRYPT_STRING_BASE64HEADER, buf, &out, NULL, NULL)) {
        *len = out;
        return true;
    }
    if (got > *len) {
        snprintf(why, whylen, "'%s' is too large", path);
        return false;
    }
    memcpy(buf, raw, got);
    *len = got;
    return true;
}

int cmd_install_cert(int argc, char **argv)
{
    static BYTE der[MAX_CERT_FILE];
    DWORD der_len = sizeof(der);
    const char *stores[] = { "Root", "TrustedPublisher" };
    char why[600];

    if (argc > 1)
        return jout_fail("install-cert", LABAGENT_EXIT_USAGE, "usage: labagent install-cert [FILE.cer]");
    if (argc == 1) {
        if (!read_cert_file(argv[0], der, &der_len, why, sizeof(why)))
            return jout_fail("install-cert", LABAGENT_EXIT_FAIL, "%s", why);
    } else {
        memcpy(der, lf_cert_der, sizeof(lf_cert_der));
        der_len = sizeof(lf_cert_der);
    }

    PCCERT_CONTEXT cert = CertCreateCertificateContext(X509_ASN_ENCODING, der, der_len);
    if (!cert)
        return jout_fail("install-cert", LABAGENT_EXIT_FAIL, "not a certificate: %s",
                         jout_winerr(GetLastError()));
    BYTE sha1[20];
    DWORD sha1_len = sizeof(sha1);
    char thumb[41] = "";
    if (CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, sha1, &sha1_len) && sha1_len == 20)
        for (int i = 0; i < 20; i++)
            snprintf(thumb + 2 * i, 3, "%02X", sha1[i]);
    char subject[256] = "";
    CertGetNameStringA(cert, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, subject, sizeof(subject));

    for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
        HCERTSTORE st = CertOpenStore(CERT_STORE_PROV_SYSTEM_A, 0, 0,
                                      CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_OPEN_EXISTING_FLAG, stores[i]);
        if (!st)
            st = CertOpenStore(CERT_STORE_PROV_SYSTEM_A, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, stores[i]);
        if (!st) {
            DWORD err = GetLastError();
            CertFreeCertificateContext(cert);
            return jout_fail("install-cert", LABAGENT_EXIT_FAIL, "cannot open store %s: %s", stores[i],
                             jout_winerr(err));
        }
        BOOL ok = CertAddCertificateContextToStore(st, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL);
        DWORD err = GetLastError();
        CertCloseStore(st, 0);
        if (!ok) {
            CertFreeCertificateContext(cert);
            return jout_fail("install-cert", LABAGENT_EXIT_FAIL, "cannot add to store %s: %s", stores[i],
                             jout_winerr(err));
        }
    }
    CertFreeCertificateContext(cert);

    jout_begin("install-cert");
    jout_str("subject", subject);
    jout_str("thumbprint", thumb);
    jout_arr("stores");
    for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++)
        jout_str(NULL, stores[i]);
    jout_arr_end();
    jout_bool("testsigning", testsigning_on());
    if (!testsigning_on())
        jout_str("note", "run 'bcdedit /set testsigning on' and reboot before install-driver");
    jout_print();
    return LABAGENT_EXIT_OK;
}

static const char *state_name(DWORD s)
{
    switch (s) {
    case SERVICE_STOPPED: return "stopped";
    case SERVICE_START_PENDING: return "start-pending";
    case SERVICE_STOP_PENDING: return "stop-pending";
    case SERVICE_RUNNING: return "running";
    default: return "other";
    }
}

/* Polls the service until it leaves a pending state (bounded: 15 s). */
static DWORD wait_state(SC_HANDLE svc)
{
    SERVICE_STATUS ss;
    memset(&ss, 0, sizeof(ss));
    for (int i = 0; i < 150; i++) {
        if (!QueryServiceStatus(svc, &ss))
            return 0;
        if (ss.dwCurrentState != SERVICE_START_PENDING && ss.dwCurrentState != SERVICE_STOP_PENDING)
            break;
        Sleep(100);
    }
    return ss.dwCurrentState;
}

int cmd_install_driver(int argc, char **argv)
{
    char full[MAX_PATH];
    if (argc != 1)
        return jout_fail("install-driver", LABAGENT_EXIT_USAGE, "usage: labagent install-driver PATH");
    DWORD n = GetFullPathNameA(argv[0], sizeof(full), full, NULL);
    if (n == 0 || n >= sizeof(full))
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "bad path '%s'", argv[0]);
    if (GetFileAttributesA(full) == INVALID_FILE_ATTRIBUTES)
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "'%s': %s", full, jout_winerr(GetLastError()));

    SC_HANDLE scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    if (!scm)
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "OpenSCManager: %s", jout_winerr(GetLastError()));
    bool created = true;
    SC_HANDLE svc = CreateServiceA(scm, LABAGENT_SERVICE, "crashlab fault driver", SERVICE_ALL_ACCESS,
                                   SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, full, NULL,
                                   NULL, NULL, NULL, NULL);
    if (!svc && GetLastError() == ERROR_SERVICE_EXISTS) {
        created = false;
        svc = OpenServiceA(scm, LABAGENT_SERVICE, SERVICE_ALL_ACCESS);
        if (svc && !ChangeServiceConfigA(svc, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                                         full, NULL, NULL, NULL, NULL, NULL, NULL)) {
            DWORD err = GetLastError();
            CloseServiceHandle(svc);
            CloseServiceHandle(scm);
            return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "ChangeServiceConfig: %s", jout_winerr(err));
        }
    }
    if (!svc) {
        DWORD err = GetLastError();
        CloseServiceHandle(scm);
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "CreateService: %s", jout_winerr(err));
    }
    if (!StartServiceA(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        DWORD err = GetLastError();
        CloseServiceHandle(svc);
        CloseServiceHandle(scm);
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "StartService: %s%s", jout_winerr(err),
                         err == 577 /* ERROR_INVALID_IMAGE_HASH */ ? " (test signing off or certificate not installed)" : "");
    }
    DWORD state = wait_state(svc);
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);

    /* The device must answer, or the install did not really work. */
    HANDLE dev = INVALID_HANDLE_VALUE;
    for (int i = 0; i < 50 && dev == INVALID_HANDLE_VALUE; i++) {
        dev = CreateFileA(LABFAULT_WIN_USER_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (dev == INVALID_HANDLE_VALUE)
            Sleep(100);
    }
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("install-driver", LABAGENT_EXIT_FAIL, "service %s but %s does not open: %s",
                         state_name(state), LABFAULT_WIN_USER_PATH, jout_winerr(GetLastError()));
    CloseHandle(dev);

    jout_begin("install-driver");
    jout_str("service", LABAGENT_SERVICE);
    jout_str("path", full);
    jout_bool("created", created);
    jout_str("state", state_name(state));
    jout_str("device", LABFAULT_WIN_USER_PATH);
    jout_print();
    return LABAGENT_EXIT_OK;
}

int cmd_remove_driver(int argc, char **argv)
{
    SERVICE_STATUS ss;
    (void)argv;
    if (argc != 0)
        return jout_fail("remove-driver", LABAGENT_EXIT_USAGE, "usage: labagent remove-driver");
    SC_HANDLE scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    if (!scm)
        return jout_fail("remove-driver", LABAGENT_EXIT_FAIL, "OpenSCManager: %s", jout_winerr(GetLastError()));
    SC_HANDLE svc = OpenServiceA(scm, LABAGENT_SERVICE, SERVICE_ALL_ACCESS);
    if (!svc) {
        DWORD err = GetLastError();
        CloseServiceHandle(scm);
        if (err == ERROR_SERVICE_DOES_NOT_EXIST) {
            jout_begin("remove-driver");
            jout_str("service", LABAGENT_SERVICE);
            jout_bool("existed", false);
            jout_print();
            return LABAGENT_EXIT_OK;
        }
        return jout_fail("remove-driver", LABAGENT_EXIT_FAIL, "OpenService: %s", jout_winerr(err));
    }
    memset(&ss, 0, sizeof(ss));
    bool stopped = ControlService(svc, SERVICE_CONTROL_STOP, &ss) || GetLastError() == ERROR_SERVICE_NOT_ACTIVE;
    DWORD stop_err = GetLastError();
    DWORD state = wait_state(svc);
    bool deleted = DeleteService(svc) || GetLastError() == ERROR_SERVICE_MARKED_FOR_DELETE;
    DWORD del_err = GetLastError();
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    if (!deleted)
        return jout_fail("remove-driver", LABAGENT_EXIT_FAIL, "DeleteService: %s", jout_winerr(del_err));
    jout_begin("remove-driver");
    jout_str("service", LABAGENT_SERVICE);
    jout_bool("existed", true);
    jout_bool("stopped", stopped && state == SERVICE_STOPPED);
    if (!stopped)
        jout_str("stop_error", jout_winerr(stop_err));
    jout_str("state", state_name(state));
    jout_print();
    return LABAGENT_EXIT_OK;
}
