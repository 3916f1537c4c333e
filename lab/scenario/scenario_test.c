/* scenario_test.c - the scenario loader: every field and default of good files, every
 * error class with its exact FILE:LINE:COLUMN, the bad corpus in tests/data/scenarios/bad
 * (each file's first line says what it must produce), the shipped scenarios and the
 * validate command. Runs from the repository root (tests/run.sh cds there). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cmd.h"
#include "scenario/scenario.h"
#include "util/fileio.h"

static char tmpdir[64];

static cl_scenario *parse(const char *text, cl_error **err)
{
    return cl_scenario_parse("t.yaml", text, strlen(text), err);
}

/* Parses text that must fail and returns its message (static buffer), or "(parsed)". */
static const char *fail_msg(const char *text)
{
    static char msg[1024];
    cl_error *err = NULL;
    cl_scenario *s = cl_scenario_parse("t.yaml", text, strlen(text), &err);
    if (s) {
        cl_scenario_free(s);
        return "(parsed)";
    }
    snprintf(msg, sizeof(msg), "%s", err ? err->msg : "(no error set)");
    if (err && err->code != CL_ERR_INVAL)
        snprintf(msg, sizeof(msg), "(wrong code %d) %.900s", err->code, err->msg);
    cl_error_free(err);
    return msg;
}

static bool starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

#define HEAD "guest:\n  profile: linux\nsteps:\n  - install: build/linux/labfault.ko\n"

static void test_defaults_linux(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    const char *text = "guest: {profile: linux}\nsteps:\n  - install: build/linux/labfault.ko\n"
                       "  - trigger: bugcheck\nexpect: {verdict: expected-crash}\n";
    CL_AUTOPTR(cl_scenario) s = cl_scenario_parse("dir/sub/my panic.yaml", text, strlen(text), &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_STR(s->path, "dir/sub/my panic.yaml");
    CHECK_STR(s->name, "my-panic");
    CHECK(s->description == NULL);
    CHECK(s->profile == CL_PROFILE_LINUX);
    CHECK(s->memory_mb == 256);
    CHECK(s->vcpus == 1);
    CHECK(s->kernel_args == NULL && s->image == NULL && s->virtio_iso == NULL);
    CHECK(s->firmware == CL_FIRMWARE_BIOS);
    CHECK(!s->tpm);
    CHECK(s->t_boot == 120 && s->t_step == 60 && s->t_observe == 60 && s->t_run == 600);
    CHECK(s->dump_format == CL_DUMPFMT_KDUMP_LZO);
    CHECK(!s->screenshot);
    CHECK(s->nmi_on_hang);
    CHECK(s->nsteps == 2);
    CHECK(s->steps[0].kind == CL_STEP_INSTALL);
    CHECK_STR(s->steps[0].path, "build/linux/labfault.ko");   /* relative, as given */
    CHECK(s->steps[0].timeout == 60);
    CHECK(s->steps[0].line == 3 && s->steps[0].column == 5);
    CHECK(s->steps[1].kind == CL_STEP_TRIGGER);
    CHECK(s->steps[1].fault == cl_fault_lookup("bugcheck"));
    CHECK(s->steps[1].request.fault == LABFAULT_BUGCHECK);
    CHECK(s->steps[1].request.abi_version == LABFAULT_ABI_VERSION);
    CHECK(s->steps[1].request.arg[0] == 0xE2);                 /* catalogue default */
    CHECK_STR(s->steps[1].request.message, "crashlab: fault injected");
    CHECK(s->steps[1].params_text == NULL);
    CHECK(s->expect_verdict == CL_VERDICT_EXPECTED_CRASH);
    CHECK(s->expect_kind == NULL && s->expect_pattern == NULL && s->expect_bugcheck == 0);
    char hex[65];
    cl_sha256_buf(text, strlen(text), hex);
    CHECK_STR(s->sha256, hex);
}

static void test_defaults_windows(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = parse("guest: {profile: windows, image: w.qcow2}\n"
                                      "steps: [{exec: \"dir C:\\\\\"}]\nexpect: {verdict: pass}\n", &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_STR(s->name, "t");
    CHECK(s->memory_mb == 2048);
    CHECK(s->firmware == CL_FIRMWARE_UEFI);
    CHECK(s->dump_format == CL_DUMPFMT_WIN_DMP);
    CHECK(s->screenshot);
    CHECK_STR(s->image, "w.qcow2");
    CHECK_STR(s->steps[0].argv[0], "cmd.exe");
    CHECK_STR(s->steps[0].argv[1], "/c");
    CHECK_STR(s->steps[0].argv[2], "dir C:\\");
    CHECK(s->steps[0].argv[3] == NULL);
    CHECK(s->steps[0].expect_exit == 0);
}

static void test_full_linux(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = cl_scenario_load("tests/data/scenarios/good/full-linux.yaml", &err);
    CHECK(s != NULL);
    if (!s) {
        printf("# %s\n", err ? err->msg : "?");
        return;
    }
    CHECK_STR(s->name, "full-linux");
    CHECK_STR(s->description, "Line one.\nLine two.\n");
    CHECK(s->memory_mb == 512 && s->vcpus == 2);
    CHECK_STR(s->kernel_args, "loglevel=7 unknown_nmi_panic=1");
    CHECK_STR(s->smbios.manufacturer, "ACME");
    CHECK_STR(s->smbios.version, "1.0");
    CHECK_STR(s->smbios.bios_version, "2.3");
    CHECK_STR(s->smbios.sku, "K");
    CHECK(s->nsteps == 12);
    CHECK(s->steps[0].timeout == 30);
    CHECK_STR(s->steps[0].path, "build/linux/labfault.ko");
    CHECK_STR(s->steps[1].argv[0], "/bin/sh");
    CHECK_STR(s->steps[1].argv[1], "-c");
    CHECK_STR(s->steps[1].argv[2], "grep labfault /proc/modules");
    CHECK(s->steps[1].timeout == 45.5);   /* timeouts.step */
    CHECK_STR(s->steps[2].argv[0], "/bin/echo");
    CHECK_STR(s->steps[2].argv[1], "two words");
    CHECK_STR(s->steps[2].argv[2], "");
    CHECK(s->steps[2].argv[3] == NULL);
    CHECK(s->steps[2].expect_exit == -1);
    CHECK(s->steps[2].timeout == 5);
    CHECK_STR(s->steps[3].argv[2], "exit 3");
    CHECK(s->steps[3].expect_exit == 3);
    CHECK(s->steps[4].expect_exit == -1);
    CHECK(s->steps[5].kind == CL_STEP_WAIT && s->steps[5].seconds == 2.5);
    CHECK(s->steps[6].kind == CL_STEP_WAIT && s->steps[6].seconds == 1);
    CHECK(s->steps[7].kind == CL_STEP_TRIGGER && s->steps[7].timeout == 15);
    CHECK_STR(s->steps[7].request.message, "say \"hi\" \\ there");
    CHECK(s->steps[7].request.arg[0] == 0x133);
    CHECK_STR(s->steps[7].params_text, "message=\"say \\\"hi\\\" \\\\ there\" code=0x133");
    CHECK(s->steps[8].kind == CL_STEP_NMI);
    CHECK(s->steps[9].kind == CL_STEP_REMOVE && s->steps[9].timeout == 45.5);
    CHECK(s->steps[10].kind == CL_STEP_REMOVE && s->steps[10].timeout == 10);
    CHECK(s->steps[11].kind == CL_STEP_REMOVE);
    CHECK(s->expect_verdict == CL_VERDICT_EXPECTED_CRASH);
    CHECK_STR(s->expect_kind, "panic");
    CHECK_STR(s->expect_pattern, "Kernel panic - not syncing: .*hi");
    CHECK(s->t_boot == 90 && s->t_step == 45.5 && s->t_observe == 20 && s->t_run == 300);
    CHECK(s->dump_format == CL_DUMPFMT_ELF && s->screenshot && !s->nmi_on_hang);
}

static void test_full_windows(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = cl_scenario_load("tests/data/scenarios/good/full-windows.yaml", &err);
    CHECK(s != NULL);
    if (!s) {
        printf("# %s\n", err ? err->msg : "?");
        return;
    }
    CHECK(s->profile == CL_PROFILE_WINDOWS && s->firmware == CL_FIRMWARE_BIOS && s->tpm);
    CHECK_STR(s->virtio_iso, "images/virtio-win.iso");
    CHECK(s->memory_mb == 4096 && s->vcpus == 4);
    CHECK_STR(s->smbios.manufacturer, "Dell Inc.");
    CHECK(s->smbios.product == NULL);
    CHECK_STR(s->steps[1].argv[0], "cmd.exe");
    CHECK_STR(s->steps[2].request.tag, "Lab2");
    CHECK(s->steps[2].request.arg[3] == 1);     /* paged: True */
    CHECK(s->steps[2].request.arg[0] == 1024);
    CHECK(s->steps[2].request.arg[1] == 100);   /* rate default */
    CHECK_STR(s->steps[2].params_text, "tag=Lab2 paged=true size=1024");
    CHECK(s->steps[3].request.arg[0] == 0x133 && s->steps[3].request.arg[2] == 15);
    CHECK(s->steps[3].request.arg[3] == UINT64_MAX);
    CHECK_STR(s->steps[3].params_text, "code=0x133 p1=0 p2=15 p3=18446744073709551615");
    CHECK(s->expect_bugcheck == 0x133);
    CHECK(s->expect_param_set[0] && s->expect_params[0] == 0);
    CHECK(!s->expect_param_set[1] && !s->expect_param_set[3]);
    CHECK(s->expect_param_set[2] && s->expect_params[2] == 0x500);
    CHECK(s->dump_format == CL_DUMPFMT_WIN_DMP);
}

static void test_vcpus_raised(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = parse(HEAD "  - trigger: spinlock-deadlock\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s && s->vcpus == 2);
    CL_AUTOPTR(cl_scenario) s4 = parse("guest: {profile: linux, vcpus: 4}\nsteps: [{trigger: spinlock-deadlock}]\n"
                                       "expect: {verdict: hang}\n", &err);
    CHECK(s4 && s4->vcpus == 4);
}

/* Counts whole-word occurrences of word in a space-separated line. */
static int word_count(const char *line, const char *word)
{
    int n = 0;
    size_t wl = strlen(word);
    for (const char *p = line; (p = strstr(p, word)); p += wl)
        if ((p == line || p[-1] == ' ') && (p[wl] == ' ' || !p[wl]))
            n++;
    return n;
}

/* Expectations come from the catalogue, which the driver authors tune: what is tested is
 * the rule (every word the faults need, once, in order, then kernel_args verbatim). */
static void test_fault_cmdline(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) s = cl_scenario_load("scenarios/linux/hang-nmi.yaml", &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CL_AUTOFREE char *c1 = cl_scenario_fault_cmdline(s);
    char want[1024];
    snprintf(want, sizeof(want), "%s softlockup_panic=0 unknown_nmi_panic=1",
             cl_fault_lookup("spinlock-deadlock")->linux_.cmdline);
    CHECK_STR(c1, want);
    CHECK(c1 && word_count(c1, "softlockup_panic=1") == 1);
    CHECK(c1 && strstr(c1, "softlockup_panic=1") < strstr(c1, "softlockup_panic=0"));   /* the later one wins */

    const char *ids[] = { "null-deref", "stack-trash", "double-free", "null-deref" };
    CL_AUTOPTR(cl_scenario) s2 = parse(HEAD "  - trigger: null-deref\n  - trigger: stack-trash\n"
                                       "  - trigger: double-free\n  - trigger: null-deref\n"
                                       "expect: {verdict: expected-crash}\n", &err);
    CHECK(s2 != NULL);
    if (!s2)
        return;
    CL_AUTOFREE char *c2 = cl_scenario_fault_cmdline(s2);
    CHECK(c2 != NULL);
    if (!c2)
        return;
    size_t words = 0;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", cl_fault_lookup(ids[i])->linux_.cmdline);
        for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
            CHECK(word_count(c2, w) == 1);
    }
    for (const char *p = c2; *p; p++)
        words += *p != ' ' && (p == c2 || p[-1] == ' ');
    CHECK(words >= 2);
    CHECK(!strstr(c2, "  ") && c2[0] != ' ' && c2[strlen(c2) - 1] != ' ');
    /* the first fault's words come first */
    CHECK(starts_with(c2, cl_fault_lookup("null-deref")->linux_.cmdline));

    CL_AUTOPTR(cl_scenario) s3 = parse(HEAD "expect: {verdict: pass}\n", &err);
    CL_AUTOFREE char *c3 = s3 ? cl_scenario_fault_cmdline(s3) : NULL;
    CHECK_STR(c3, "");
    CL_AUTOPTR(cl_scenario) s4 = parse("guest: {profile: windows, image: w.qcow2}\nsteps: [{trigger: null-deref}]\n"
                                       "expect: {verdict: expected-crash}\n", &err);
    CL_AUTOFREE char *c4 = s4 ? cl_scenario_fault_cmdline(s4) : NULL;
    CHECK_STR(c4, "");   /* a Windows guest has no kernel command line */
}

static void test_names(void)
{
    for (int v = 0; v < CL_VERDICT_LAST; v++) {
        cl_verdict back = CL_VERDICT_LAST;
        CHECK(cl_verdict_from_string(cl_verdict_to_string((cl_verdict)v), &back) && back == (cl_verdict)v);
    }
    cl_verdict x;
    CHECK(!cl_verdict_from_string("crashed", &x));
    CHECK(!cl_verdict_from_string(NULL, &x));
    CHECK_STR(cl_verdict_to_string(CL_VERDICT_INFRA_ERROR), "infra-error");
    CHECK_STR(cl_verdict_to_string(CL_VERDICT_LAST), "unknown");
    CHECK_STR(cl_profile_to_string(CL_PROFILE_WINDOWS), "windows");
    CHECK_STR(cl_dump_format_to_string(CL_DUMPFMT_KDUMP_ZLIB), "kdump-zlib");
    char list[128], tiny[6];
    CHECK_STR(cl_dump_format_list(list, sizeof(list)), "kdump-zlib, elf, win-dmp, kdump-zstd, none, kdump-lzo");
    CHECK_STR(cl_dump_format_list(tiny, sizeof(tiny)), "kdump");
    CHECK_STR(cl_dump_format_to_string(CL_DUMPFMT_WIN_DMP), "win-dmp");
    CHECK_STR(cl_step_kind_to_string(CL_STEP_NMI), "nmi");
    CHECK_STR(cl_firmware_to_string(CL_FIRMWARE_UEFI), "uefi");
}

/* One case per error class, with the exact message. */
static const struct {
    const char *text, *want;
} errors[] = {
    /* YAML syntax: the parser's problem mark */
    { "guest: {profile: linux\nsteps: []\n", "t.yaml:2:6: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at 1:8)" },
    { "a: 'open\n", "t.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at 1:4)" },
    /* libyaml's reader: its byte offset turned into a position */
    { "guest:\n  profile: \x07linux\n", "t.yaml:2:12: YAML syntax error: control characters are not allowed" },
    /* wrong types */
    { HEAD "  - wait: soon\nexpect: {verdict: pass}\n", "t.yaml:5:11: steps[1].wait: expected a number of seconds, got 'soon'" },
    { "guest: {profile: linux, memory_mb: lots}\n", "t.yaml:1:36: guest.memory_mb: expected an integer, got 'lots'" },
    { "guest: {profile: linux, memory_mb: [1]}\n", "t.yaml:1:36: guest.memory_mb: expected an integer, got a sequence" },
    { "guest: {profile: linux, tpm: 'true'}\n", "t.yaml:1:30: guest.tpm: expected true or false, got the quoted string 'true'" },
    { "guest: linux\n", "t.yaml:1:8: guest: expected a mapping, got 'linux'" },
    { "guest:\n", "t.yaml:1:7: guest: expected a mapping, got null" },
    /* unknown keys, with a suggestion when one is close */
    { "guest: {profile: linux, memroy_mb: 1}\n", "t.yaml:1:25: unknown key 'memroy_mb' in guest (did you mean 'memory_mb'? known: profile, memory_mb, vcpus, kernel_args, image, virtio_iso, firmware, tpm, smbios, hyperv)" },
    { "colour: red\n", "t.yaml:1:1: unknown key 'colour' in the scenario (known: name, description, guest, steps, expect, timeouts, capture)" },
    /* unknown faults and bad parameters */
    { HEAD "  - trigger: nul-deref\nexpect: {verdict: pass}\n", "t.yaml:5:14: steps[1].trigger: unknown fault 'nul-deref' (did you mean 'null-deref'? known: hang-irp, hang-irp-cancel, spinlock-deadlock, resource-self-deadlock, dpc-watchdog-single, dpc-watchdog-cumulative, high-irql-fault, pool-overrun, double-free, use-after-free, stack-overflow, stack-trash, pool-leak, bugcheck, null-deref)" },
    { HEAD "  - trigger: {fault: pool-overrun, overrun: 0}\nexpect: {verdict: pass}\n", "t.yaml:5:45: steps[1].trigger.overrun: parameter 'overrun' = 0 is out of range [1, 4096]" },
    { HEAD "  - trigger: {fault: hang-irp, timeout_ms: 0o77777777777}\nexpect: {verdict: pass}\n", "t.yaml:5:44: steps[1].trigger.timeout_ms: parameter 'timeout_ms' = 8589934591 is out of range [0, 3600000]" },
    { HEAD "  - trigger: {fault: hang-irp, stall: 1}\nexpect: {verdict: pass}\n", "t.yaml:5:32: steps[1].trigger: fault 'hang-irp' has no parameter 'stall' (it takes: timeout_ms); besides parameters a trigger takes fault and timeout" },
    { HEAD "  - trigger: {fault: bugcheck, message: \"tab\\there\"}\nexpect: {verdict: pass}\n", "t.yaml:5:41: steps[1].trigger.message: parameter 'message' must be printable ASCII of at most 127 characters" },
    /* missing fields */
    { "guest: {profile: linux}\nexpect: {verdict: pass}\n", "t.yaml:1:1: missing required field 'steps'" },
    { "guest: {memory_mb: 64}\n", "t.yaml:1:1: guest: missing required field 'profile'" },
    { HEAD "expect: {}\n", "t.yaml:5:1: expect: missing required field 'verdict'" },
    /* duplicate keys */
    { "guest: {profile: linux}\nguest: {profile: linux}\n", "t.yaml:2:1: duplicate key 'guest' (first at 1:1)" },
    /* out of range */
    { "guest: {profile: linux, memory_mb: 99999999999999999999999}\n", "t.yaml:1:36: guest.memory_mb: '99999999999999999999999' is out of range [64, 65536]" },
    { "guest: {profile: linux, vcpus: 0}\n", "t.yaml:1:32: guest.vcpus: '0' is out of range [1, 64]" },
    { HEAD "expect: {verdict: pass}\ntimeouts: {step: 86400.5}\n", "t.yaml:6:18: timeouts.step: '86400.5' is out of range: seconds must be > 0 and <= 86400" },
    /* profile mismatches */
    { HEAD "expect: {verdict: pass}\ncapture: {dump_format: win-dmp}\n", "t.yaml:6:24: capture.dump_format: win-dmp needs profile windows (use kdump-zlib or elf)" },
    /* regular expressions must compile */
    { HEAD "expect: {verdict: expected-crash, pattern: 'a{1'}\n", NULL },
    /* anchors, aliases, tags */
    { "x: &a 1\n", "t.yaml:1:4: anchor '&a' not allowed: scenarios do not use anchors or aliases" },
    { "x: *a\n", "t.yaml:1:4: alias '*a' not allowed: scenarios do not use anchors or aliases" },
    { "x: !!binary aGk=\n", "t.yaml:1:4: tag 'tag:yaml.org,2002:binary' not allowed (only !!str is)" },
    /* messages stay one line whatever the quoted value holds */
    { HEAD "  - trigger: {fault: double-free, size: \"6\\n4\"}\nexpect: {verdict: pass}\n", "t.yaml:5:41: steps[1].trigger.size: parameter 'size' must be an unsigned integer, got '6?4'" },
    { "x: !foo%0Abar 1\n", "t.yaml:1:4: tag '!foo?bar' not allowed (only !!str is)" },
    /* nesting */
    { "a: [[[[[[[[[1]]]]]]]]]\n", "t.yaml:1:11: nesting deeper than 8 levels" },
    { "a: [[[[[[[1]]]]]]]\n", "t.yaml:1:1: unknown key 'a' in the scenario (known: name, description, guest, steps, expect, timeouts, capture)" },
    /* bytes: NUL, UTF-8 */
    { "name: \xc3\x28\n", "t.yaml:1:7: invalid UTF-8 sequence at byte 6: a scenario is UTF-8 text" },
    { "name: \xf4\x90\x80\x80\n", "t.yaml:1:7: invalid UTF-8 sequence at byte 6: a scenario is UTF-8 text" },
    /* columns count characters, not bytes: each \xc3\xa9 is one */
    { "guest: {kernel_args: \"\xc3\xa9\xc3\xa9\", bogus: 1}\n", "t.yaml:1:28: unknown key 'bogus' in guest (known: profile, memory_mb, vcpus, kernel_args, image, virtio_iso, firmware, tpm, smbios, hyperv)" },
    { "d: {a: \"\xc3\xa9\xc3\xa9\", e: &x 1}\n", "t.yaml:1:17: anchor '&x' not allowed: scenarios do not use anchors or aliases" },
    /* empty and non-mapping documents */
    { "", "t.yaml:1:1: empty scenario: expected a mapping with guest, steps and expect" },
    { "# only a comment\n\n", "t.yaml:1:1: empty scenario: expected a mapping with guest, steps and expect" },
    { "[1, 2]\n", "t.yaml:1:1: a scenario is a mapping with guest, steps and expect, got a sequence" },
    /* line endings: \r\n counts as one line break */
    { "guest:\r\n  profile: linux\r\n  vcpus: x\r\n", "t.yaml:3:10: guest.vcpus: expected an integer, got 'x'" },
};

static void test_error_classes(void)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        const char *got = fail_msg(errors[i].text);
        if (!errors[i].want)
            continue;
        if (strcmp(got, errors[i].want))
            printf("# case %zu\n#   want %s\n#   got  %s\n", i, errors[i].want, got);
        CHECK_STR(got, errors[i].want);
    }
    /* Cases whose tail comes from the C library or whose column counts characters. */
    const char *re = fail_msg(HEAD "expect: {verdict: expected-crash, pattern: 'a{1'}\n");
    CHECK(starts_with(re, "t.yaml:5:44: expect.pattern: not a valid POSIX extended regular expression: "));
    /* A regex bomb is refused by its bounds (lab/util/ere.h), before regcomp could take 47 s. */
    const char *bomb = fail_msg(HEAD "expect: {verdict: expected-crash, pattern: 'a{1,32767}'}\n");
    CHECK(starts_with(bomb, "t.yaml:5:44: expect.pattern: too costly a regular expression: repeat count"));
    bomb = fail_msg(HEAD "expect: {verdict: expected-crash, pattern: '((a{1,100}){1,100}){1,100}'}\n");
    CHECK(starts_with(bomb, "t.yaml:5:44: expect.pattern: too costly a regular expression: counted repeats"));
}

static void test_step_limits(void)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "guest: {profile: linux}\nexpect: {verdict: pass}\nsteps:\n");
    for (int i = 0; i < CL_SCENARIO_MAX_STEPS; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "  - wait: 1\n");
    cl_error *err = NULL;
    cl_scenario *s = parse(buf, &err);
    CHECK(s && s->nsteps == CL_SCENARIO_MAX_STEPS);
    cl_scenario_free(s);
    cl_error_free(err);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "  - nmi: true\n");
    CHECK_STR(fail_msg(buf), "t.yaml:68:5: steps: more than 64 steps");

    /* 32 arguments are fine, 33 are not */
    n = snprintf(buf, sizeof(buf), "guest: {profile: linux}\nexpect: {verdict: pass}\nsteps:\n  - exec: {argv: [a");
    for (int i = 1; i < CL_SCENARIO_MAX_ARGS; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", b");
    snprintf(buf + n, sizeof(buf) - (size_t)n, "]}\n");
    err = NULL;
    s = parse(buf, &err);
    CHECK(s && s->steps[0].argv[CL_SCENARIO_MAX_ARGS - 1] && !s->steps[0].argv[CL_SCENARIO_MAX_ARGS]);
    cl_scenario_free(s);
    cl_error_free(err);
    snprintf(buf + n, sizeof(buf) - (size_t)n, ", c]}\n");
    CHECK_STR(fail_msg(buf), "t.yaml:4:115: steps[0].exec.argv: more than 32 arguments");
}

/* Bombs that a naive loader would expand or recurse into: all must fail fast and flat. */
static void test_bombs(void)
{
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 16);
    CHECK(deep != NULL);
    if (!deep)
        return;
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    CHECK_STR(fail_msg(deep), "t.yaml:1:9: nesting deeper than 8 levels");
    free(deep);

    size_t items = CL_SCENARIO_MAX_NODES + 10;
    char *wide = malloc(items * 2 + 32);
    CHECK(wide != NULL);
    if (!wide)
        return;
    size_t o = (size_t)sprintf(wide, "description: [");
    for (size_t i = 0; i < items; i++) {
        wide[o++] = '1';
        wide[o++] = ',';
    }
    strcpy(wide + o - 1, "]\n");
    /* node 10001 is the 9999th list entry: map, key, list, then entries at columns 15, 17, ... */
    char want[128];
    snprintf(want, sizeof(want), "t.yaml:1:%d: more than %d YAML nodes", 15 + 2 * (CL_SCENARIO_MAX_NODES - 3),
             CL_SCENARIO_MAX_NODES);
    CHECK_STR(fail_msg(wide), want);
    free(wide);

    const char *laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
    CHECK_STR(fail_msg(laughs), "t.yaml:1:4: anchor '&a' not allowed: scenarios do not use anchors or aliases");
    CHECK_STR(fail_msg("c: [*b, *b, *b]\n"), "t.yaml:1:5: alias '*b' not allowed: scenarios do not use anchors or aliases");
}

static bool write_file(const char *path, const char *data, size_t len)
{
    return cl_file_write_atomic(path, data, len, NULL);
}

static void test_file_limits(void)
{
    char path[128];
    const char *good = "guest: {profile: linux}\nsteps: [{wait: 1}]\nexpect: {verdict: pass}\n#";
    size_t glen = strlen(good);

    /* exactly CL_SCENARIO_MAX_BYTES: loads (the rest is one long comment) */
    size_t big = CL_SCENARIO_MAX_BYTES;
    char *buf = malloc(2u << 20);
    CHECK(buf != NULL);
    if (!buf)
        return;
    memcpy(buf, good, glen);
    memset(buf + glen, 'x', big - glen - 1);
    buf[big - 1] = '\n';
    snprintf(path, sizeof(path), "%s/limit.yaml", tmpdir);
    CHECK(write_file(path, buf, big));
    cl_error *err = NULL;
    cl_scenario *s = cl_scenario_load(path, &err);
    CHECK(s != NULL);
    cl_scenario_free(s);
    cl_error_free(err);

    /* a 2 MB file: refused before it is parsed */
    memset(buf + glen, 'x', (2u << 20) - glen);
    snprintf(path, sizeof(path), "%s/two-mb.yaml", tmpdir);
    CHECK(write_file(path, buf, 2u << 20));
    err = NULL;
    s = cl_scenario_load(path, &err);
    CHECK(s == NULL && err && err->code == CL_ERR_INVAL);
    char want[300];
    snprintf(want, sizeof(want), "%s:1:1: '%s' is larger than %u bytes", path, path, (unsigned)CL_SCENARIO_MAX_BYTES);
    CHECK_STR(err ? err->msg : NULL, want);
    cl_error_free(err);

    /* the buffer entry point has the same limit */
    err = NULL;
    CHECK(cl_scenario_parse("b.yaml", buf, CL_SCENARIO_MAX_BYTES + 1, &err) == NULL);
    CHECK_STR(err ? err->msg : NULL, "b.yaml:1:1: file is larger than 1048576 bytes, the limit for a scenario");
    cl_error_free(err);
    free(buf);

    /* an empty file */
    snprintf(path, sizeof(path), "%s/empty.yaml", tmpdir);
    CHECK(write_file(path, "", 0));
    err = NULL;
    CHECK(cl_scenario_load(path, &err) == NULL);
    snprintf(want, sizeof(want), "%s:1:1: empty scenario: expected a mapping with guest, steps and expect", path);
    CHECK_STR(err ? err->msg : NULL, want);
    cl_error_free(err);

    /* a missing file is an I/O error, not a scenario error */
    err = NULL;
    snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
    CHECK(cl_scenario_load(path, &err) == NULL && err && err->code == CL_ERR_IO);
    cl_error_free(err);

    /* the buffer need not be NUL-terminated: parse stops at len */
    const char *text = "guest: {profile: linux}\nsteps: [{wait: 1}]\nexpect: {verdict: pass}\nZZZ: 1";
    err = NULL;
    s = cl_scenario_parse("n.yaml", text, strlen(text) - 6, &err);
    CHECK(s != NULL);
    cl_scenario_free(s);
    cl_error_free(err);
}

/* The corpus: each file's first line is "# expect: LINE:COLUMN substring". */
static void test_bad_corpus(void)
{
    const char *dir = "tests/data/scenarios/bad";
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml"))
            continue;
        char path[512], *data = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = 0;
        if (!cl_file_read_all(path, 4u << 20, &data, &len, NULL)) {
            CHECK(!"cannot read a corpus file");
            continue;
        }
        files++;
        char *nl = strchr(data, '\n');
        if (nl)
            *nl = '\0';
        int line = 0, col = 0, off = 0;
        if (sscanf(data, "# expect: %d:%d %n", &line, &col, &off) != 2 || !off) {
            printf("# %s: first line is not '# expect: LINE:COLUMN text'\n", path);
            CHECK(!"corpus file without an expect line");
            free(data);
            continue;
        }
        char want_prefix[600], want_text[512];
        snprintf(want_prefix, sizeof(want_prefix), "%s:%d:%d: ", path, line, col);
        snprintf(want_text, sizeof(want_text), "%s", data + off);
        free(data);

        cl_error *err = NULL;
        cl_scenario *s = cl_scenario_load(path, &err);
        bool ok = !s && err && err->code == CL_ERR_INVAL && starts_with(err->msg, want_prefix) &&
                  strstr(err->msg + strlen(want_prefix), want_text);
        if (!ok)
            printf("# %s\n#   want %s...%s\n#   got  %s\n", path, want_prefix, want_text,
                   s ? "(parsed)" : err ? err->msg : "(no error)");
        CHECK(ok);
        cl_scenario_free(s);
        cl_error_free(err);
    }
    closedir(d);
    printf("# %d files in the bad corpus\n", files);
    CHECK(files >= 90);
}

static int load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml"))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        cl_error *err = NULL;
        cl_scenario *s = cl_scenario_load(path, &err);
        if (!s)
            printf("# %s\n", err ? err->msg : "(no error)");
        CHECK(s != NULL);
        files += s != NULL;
        cl_scenario_free(s);
        cl_error_free(err);
    }
    closedir(d);
    return files;
}

static void test_good_corpus(void)
{
    CHECK(load_dir("tests/data/scenarios/good") >= 5);
}

/* The shipped Linux scenarios: all load, one per catalogue fault, and the named ones say
 * what issue 3 asks of them. */
static void test_shipped_linux(void)
{
    CHECK(load_dir("scenarios/linux") >= 18);
    size_t n;
    const cl_fault *all = cl_fault_all(&n);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        const char *named[] = { "hang-irp", "hung-task", "bugcheck", "panic", "null-deref", "oops",
                                "dpc-watchdog-single", "soft-lockup", NULL };
        const char *file = all[i].id;
        for (size_t k = 0; named[k]; k += 2)
            if (!strcmp(named[k], all[i].id))
                file = named[k + 1];
        snprintf(path, sizeof(path), "scenarios/linux/%s.yaml", file);
        CL_AUTOPTR(cl_error) err = NULL;
        CL_AUTOPTR(cl_scenario) s = cl_scenario_load(path, &err);
        CHECK(s != NULL);
        if (!s)
            continue;
        bool triggers = false;
        for (size_t k = 0; k < s->nsteps; k++)
            triggers |= s->steps[k].kind == CL_STEP_TRIGGER && s->steps[k].fault == &all[i];
        CHECK(triggers);
        CHECK(s->steps[0].kind == CL_STEP_INSTALL && !strcmp(s->steps[0].path, "build/linux/labfault.ko"));
        CHECK(s->t_boot == 90 && s->t_step == 60 && s->t_run == 300);
        /* A scenario for a fault expects what the catalogue says that fault does. */
        cl_verdict want = all[i].linux_.outcome == CL_OUTCOME_CRASH ? CL_VERDICT_EXPECTED_CRASH : CL_VERDICT_PASS;
        CHECK(s->expect_verdict == want);
        if (want == CL_VERDICT_EXPECTED_CRASH)
            CHECK(s->expect_kind && !strcmp(s->expect_kind, all[i].linux_.kind));
    }
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_scenario) clean = cl_scenario_load("scenarios/linux/clean.yaml", &err);
    CHECK(clean && clean->expect_verdict == CL_VERDICT_PASS && clean->nsteps == 3);
    CL_AUTOPTR(cl_scenario) wrong = cl_scenario_load("scenarios/linux/wrong-expectation.yaml", &err);
    CHECK(wrong && wrong->expect_verdict == CL_VERDICT_EXPECTED_CRASH);
    for (size_t k = 0; wrong && k < wrong->nsteps; k++)
        if (wrong->steps[k].kind == CL_STEP_TRIGGER)
            CHECK(wrong->steps[k].fault->linux_.outcome != CL_OUTCOME_CRASH);
    CL_AUTOPTR(cl_scenario) nmi = cl_scenario_load("scenarios/linux/hang-nmi.yaml", &err);
    CHECK(nmi && nmi->expect_verdict == CL_VERDICT_HANG && nmi->nmi_on_hang);
    CL_AUTOPTR(cl_scenario) panic = cl_scenario_load("scenarios/linux/panic.yaml", &err);
    CHECK(panic && panic->expect_pattern && strstr(panic->expect_pattern, panic->steps[1].request.message));
}

/* Runs cl_cmd_validate with stdout/stderr sent to a file, returns its exit code. */
static int run_validate(const char *out, int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = cl_cmd_validate(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    return rc;
}

static void test_cmd_validate(void)
{
    char out[128];
    snprintf(out, sizeof(out), "%s/validate.out", tmpdir);
    char *good[] = { "validate", "scenarios/linux/panic.yaml", "scenarios/linux/clean.yaml", NULL };
    CHECK(run_validate(out, 3, good) == 0);
    char *text = NULL;
    CHECK(cl_file_read_all(out, 1 << 16, &text, NULL, NULL));
    CHECK_STR(text, "scenarios/linux/panic.yaml: ok\nscenarios/linux/clean.yaml: ok\n");
    free(text);

    char *mixed[] = { "validate", "--quiet", "scenarios/linux/panic.yaml",
                      "tests/data/scenarios/bad/type-memory-string.yaml", NULL };
    CHECK(run_validate(out, 4, mixed) == 1);
    CHECK(cl_file_read_all(out, 1 << 16, &text, NULL, NULL));
    CHECK_STR(text, "tests/data/scenarios/bad/type-memory-string.yaml:4:14: guest.memory_mb: expected an integer, got 'lots'\n");
    free(text);

    char *none[] = { "validate", NULL };
    CHECK(run_validate(out, 1, none) == 2);
    char *badopt[] = { "validate", "--strict", "x.yaml", NULL };
    CHECK(run_validate(out, 3, badopt) == 2);
    char *missing[] = { "validate", "does/not/exist.yaml", NULL };
    CHECK(run_validate(out, 2, missing) == 1);
    char *help[] = { "validate", "--help", NULL };
    CHECK(run_validate(out, 2, help) == 0);
}

#define WHEAD "guest: {profile: windows, image: w.qcow2}\nsteps:\n  - install: build/windows/labfault.sys\n"

/* Issue 18: what a real Windows needs from a scenario. */
static void test_windows_real(void)
{
    CL_AUTOPTR(cl_error) err = NULL;
    /* 5: a watchdog fault drops relaxed; other enlightenments stay as the host allows. */
    cl_scenario *s = parse(WHEAD "  - trigger: dpc-watchdog-single\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s && (s->hv_set & (1u << CL_HV_RELAXED)) && !(s->hv_on & (1u << CL_HV_RELAXED)));
    CHECK(s && cl_scenario_hv_mask(s, 0xfff) == (0xfffu & ~(1u << CL_HV_RELAXED)));
    cl_scenario_free(s);
    s = parse(WHEAD "  - trigger: null-deref\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s && s->hv_set == 0 && cl_scenario_hv_mask(s, 0xfff) == 0xfff);
    cl_scenario_free(s);
    s = parse("guest: {profile: windows, image: w.qcow2, hyperv: {stimer: false, ipi: true}}\n"
              "steps: [{trigger: null-deref}]\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s && cl_scenario_hv_mask(s, 1u << CL_HV_RELAXED) == ((1u << CL_HV_RELAXED) | (1u << CL_HV_IPI)));
    cl_scenario_free(s);
    s = NULL;
    CHECK_STR(fail_msg("guest: {profile: windows, image: w.qcow2, hyperv: {relaxed: true}}\n"
                       "steps: [{trigger: dpc-watchdog-cumulative}]\nexpect: {verdict: expected-crash}\n"),
              "t.yaml:1:61: guest.hyperv.relaxed: dpc-watchdog-cumulative needs the DPC watchdog, and relaxed timing "
              "tells Windows to disable watchdog timeouts: leave relaxed off");
    CHECK(starts_with(fail_msg("guest: {profile: windows, image: w.qcow2, hyperv: {relaxd: false}}\n"
                               "steps: [{trigger: null-deref}]\nexpect: {verdict: pass}\n"),
                      "t.yaml:1:52: unknown key 'relaxd' in guest.hyperv (did you mean 'relaxed'?"));
    CHECK(starts_with(fail_msg(HEAD "  - trigger: null-deref\nexpect: {verdict: pass}\nguest: {hyperv: {}}\n"),
                      "t.yaml:"));

    /* The lab's writer is Linux-only, in both codecs. */
    CHECK(starts_with(fail_msg(WHEAD "  - trigger: null-deref\nexpect: {verdict: pass}\ncapture: {dump_format: kdump-lzo}\n"),
                      "t.yaml:6:24: capture.dump_format: kdump-lzo needs profile linux"));
    s = parse(HEAD "expect: {verdict: pass}\ncapture: {dump_format: kdump-zstd}\n", &err);
    CHECK(s && s->dump_format == CL_DUMPFMT_KDUMP_ZSTD);
    cl_scenario_free(s);

    /* capture.record (issue 17): off unless asked, a boolean only. */
    s = parse(HEAD "expect: {verdict: pass}\n", &err);
    CHECK(s && !s->record);
    cl_scenario_free(s);
    s = parse(HEAD "expect: {verdict: pass}\ncapture: {record: true}\n", &err);
    CHECK(s && s->record);
    cl_scenario_free(s);
    s = NULL;
    CHECK(starts_with(fail_msg(HEAD "expect: {verdict: pass}\ncapture: {record: sometimes}\n"), "t.yaml:6:19: capture.record"));

    /* 8: the DPC time limit, by field. */
    CHECK_STR(fail_msg(WHEAD "  - trigger: {fault: dpc-watchdog-single, stall_ms: 5000}\nexpect: {verdict: expected-crash}\n"),
              "t.yaml:4:53: steps[1].trigger.stall_ms: stall_ms = 5000 is within the DPC time limit (~20000 ms): the "
              "DPC would end before the watchdog fires; use 0 (stall until it fires) or more than 20000");
    s = parse(WHEAD "  - trigger: {fault: dpc-watchdog-single, stall_ms: 25000}\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s != NULL);
    cl_scenario_free(s);
    /* ... and the same value is fine for the Linux analog (its watchdog is seconds). */
    s = parse(HEAD "  - trigger: {fault: dpc-watchdog-single, stall_ms: 5000}\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s != NULL);
    cl_scenario_free(s);

    /* 1: special pool's guard page. */
    CHECK(starts_with(fail_msg(WHEAD "  - trigger: {fault: pool-overrun, size: 72}\nexpect: {verdict: expected-crash}\n"),
                      "t.yaml:4:42: steps[1].trigger.size: size = 72 is not a multiple of 16"));
    CHECK(starts_with(fail_msg(WHEAD "  - trigger: {fault: use-after-free, size: 8192}\nexpect: {verdict: expected-crash}\n"),
                      "t.yaml:4:44: steps[1].trigger.size: size = 8192 is larger than special pool serves"));

    /* 8: the hang-irp zombie is looked for within its ~5 minutes. */
    CHECK(starts_with(fail_msg(WHEAD "  - trigger: {fault: hang-irp, timeout: 100}\nexpect: {verdict: hang}\n"
                                     "timeouts: {observe: 200}\n"),
                      "t.yaml:4:5: steps[1].trigger: hang-irp: its timeout (100 s) and timeouts.observe (200 s) add up to 300 s"));
    s = parse(WHEAD "  - trigger: {fault: hang-irp, timeout: 30}\nexpect: {verdict: hang}\ntimeouts: {observe: 30}\n", &err);
    CHECK(s != NULL);
    cl_scenario_free(s);

    /* 3: guest_dump follows the image unless the scenario decides. */
    s = parse(WHEAD "  - trigger: null-deref\nexpect: {verdict: expected-crash}\n", &err);
    CHECK(s && s->guest_dump && s->guest_dump_auto);
    cl_scenario_free(s);
    s = parse(WHEAD "  - trigger: null-deref\nexpect: {verdict: expected-crash}\ncapture: {guest_dump: true}\n", &err);
    CHECK(s && s->guest_dump && !s->guest_dump_auto);
    cl_scenario_free(s);
    s = parse(WHEAD "  - trigger: null-deref\nexpect: {verdict: expected-crash}\ncapture: {guest_dump: auto}\n", &err);
    CHECK(s && s->guest_dump && s->guest_dump_auto);
    cl_scenario_free(s);
    CHECK(starts_with(fail_msg(HEAD "  - trigger: null-deref\nexpect: {verdict: pass}\ncapture: {guest_dump: auto}\n"),
                      "t.yaml:7:23: capture.guest_dump: auto needs profile windows"));
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/cl-scenario-test.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("not ok - mkdtemp\n");
        return 1;
    }
    RUN_TEST(test_defaults_linux);
    RUN_TEST(test_defaults_windows);
    RUN_TEST(test_full_linux);
    RUN_TEST(test_full_windows);
    RUN_TEST(test_vcpus_raised);
    RUN_TEST(test_fault_cmdline);
    RUN_TEST(test_names);
    RUN_TEST(test_error_classes);
    RUN_TEST(test_step_limits);
    RUN_TEST(test_bombs);
    RUN_TEST(test_file_limits);
    RUN_TEST(test_bad_corpus);
    RUN_TEST(test_good_corpus);
    RUN_TEST(test_shipped_linux);
    RUN_TEST(test_cmd_validate);
    RUN_TEST(test_windows_real);
    cl_rm_rf(tmpdir, NULL);
    TEST_EXIT();
}
