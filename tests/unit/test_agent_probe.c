/* hallgw-agent's probes against a fake probe_root tree made here: /proc
 * samples, /proc/net/route, resolv.conf, /etc/environment, a fake sysfs USB
 * mass-storage device, a utmp file, ClamAV database headers and scan logs;
 * the state files and the agent's config file.
 * The agent's modules are those of sensors/agent/ (the hallgw_agent
 * library). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include <cmocka.h>

#include "agent_clamav.h"
#include "agent_probe.h"
#include "agent_state.h"
#include "agentconf.h"
#include "cmdsign.h"

static char root[256];

/* ---- the fake tree ---- */

static void put_file(const char *rel, const void *data, size_t n)
{
    char path[1024], dir[1024];

    snprintf(path, sizeof(path), "%s%s", root, rel);
    /* mkdir -p of the parent */
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void put_text(const char *rel, const char *text)
{
    put_file(rel, text, strlen(text));
}

/* A password or key file, mode 0600 as the agent asks of one. */
static void put_secret(const char *rel, const char *text)
{
    char path[1024];

    put_text(rel, text);
    snprintf(path, sizeof(path), "%s%s", root, rel);
    assert_int_equal(chmod(path, 0600), 0);
}

static void append_text(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *at(const char *rel)
{
    static char path[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof(path[i]), "%s%s", root, rel);
    return path[i];
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/test_agent_probe_XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* ---- system ---- */

static void test_cpu_pct_from_proc_stat_deltas(void **state)
{
    struct agent_cpu_sample a, b;
    (void)state;

    put_text("/proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\nintr 5\n");
    assert_int_equal(agent_probe_cpu_sample(root, &a), 0);
    assert_int_equal(a.total, 1000);
    assert_int_equal(a.idle, 800);
    /* Since boot: 20 % busy. */
    assert_float_equal(agent_probe_cpu_pct(NULL, &a), 20.0, 1e-9);
    /* 100 more jiffies, 25 idle (20 idle + 5 iowait): 75 % busy. */
    put_text("/proc/stat", "cpu  150 0 125 720 105 0 0 0 0 0\n");
    assert_int_equal(agent_probe_cpu_sample(root, &b), 0);
    assert_float_equal(agent_probe_cpu_pct(&a, &b), 75.0, 1e-9);
    /* No time passed: since boot rather than 0/0. */
    assert_float_equal(agent_probe_cpu_pct(&b, &b), 100.0 * (1100 - 825) / 1100.0, 1e-9);
    put_text("/proc/stat", "intr 5\n");
    assert_int_equal(agent_probe_cpu_sample(root, &b), -EINVAL);
}

static void test_mem_uptime_and_disk(void **state)
{
    double pct;
    int64_t up;
    (void)state;

    put_text("/proc/meminfo", "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
                              "MemAvailable:   12000000 kB\nBuffers:  1 kB\n");
    assert_int_equal(agent_probe_mem_pct(root, &pct), 0);
    assert_float_equal(pct, 25.0, 1e-9);
    put_text("/proc/meminfo", "MemTotal: 100 kB\n");
    assert_int_equal(agent_probe_mem_pct(root, &pct), -EINVAL);

    put_text("/proc/uptime", "3600.75 7000.10\n");
    assert_int_equal(agent_probe_uptime_s(root, &up), 0);
    assert_int_equal(up, 3600);

    assert_int_equal(agent_probe_disk_free_pct(root, &pct), 0);
    assert_true(pct >= 0.0 && pct <= 100.0);
    assert_int_equal(agent_probe_disk_free_pct("/nonexistent/x", &pct), -ENOENT);
}

static void test_users_count_user_processes_in_utmp(void **state)
{
    struct utmpx u[4];
    int n = -1;
    (void)state;

    memset(u, 0, sizeof(u));
    u[0].ut_type = BOOT_TIME;
    u[1].ut_type = USER_PROCESS;
    strcpy(u[1].ut_user, "staff1");
    strcpy(u[1].ut_line, "tty1");
    u[2].ut_type = LOGIN_PROCESS;
    strcpy(u[2].ut_line, "tty2");
    u[3].ut_type = USER_PROCESS;
    strcpy(u[3].ut_user, "staff2");
    strcpy(u[3].ut_line, "pts/0");
    put_file("/var/run/utmp", u, sizeof(u));
    assert_int_equal(agent_probe_users(root, &n), 0);
    assert_int_equal(n, 2);
}

static void test_realtime_av_is_a_running_clamd_or_clamonacc(void **state)
{
    static const char *const names[] = {"clamd", "clamonacc", NULL};
    (void)state;

    put_text("/proc/1/comm", "systemd\n");
    put_text("/proc/812/comm", "bash\n");
    put_text("/proc/self/comm", "clamd\n"); /* not a pid: ignored */
    assert_false(agent_probe_process_running(root, names));
    put_text("/proc/977/comm", "clamonacc\n");
    assert_true(agent_probe_process_running(root, names));
}

/* ---- network ---- */

static const char route_sample[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
    "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
    "wlan0\t00000000\t0100000A\t0002\t0\t0\t600\t00000000\t0\t0\t0\n";

static void test_net_text_is_canonical(void **state)
{
    char *addrs[] = {(char *)"addr eth0 192.168.1.23/24", (char *)"addr eth0 2001:db8::23/64",
                     (char *)"addr docker0 172.17.0.1/16"};
    (void)state;

    put_text("/proc/net/route", route_sample);
    put_text("/etc/resolv.conf", "# generated\nsearch hall.example\nnameserver 192.168.1.1\n"
                                 "nameserver 8.8.8.8\noptions edns0\n");
    put_text("/etc/environment", "PATH=\"/usr/bin\"\nHTTPS_PROXY=\"http://proxy.hall:3128\"\n"
                                 "http_proxy=http://proxy.hall:3128\n"
                                 "export no_proxy='localhost,.hall'\n");
    char *t = agent_probe_net_text(root, addrs, 3, true);
    assert_non_null(t);
    /* The route with the down flag (wlan0, flags 0002) is not a default route. */
    assert_string_equal(t, "addr docker0 172.17.0.1/16\n"
                           "addr eth0 192.168.1.23/24\n"
                           "addr eth0 2001:db8::23/64\n"
                           "route default eth0 192.168.1.1\n"
                           "dns 192.168.1.1\n"
                           "dns 8.8.8.8\n"
                           "proxy http_proxy=http://proxy.hall:3128\n"
                           "proxy https_proxy=http://proxy.hall:3128\n"
                           "proxy no_proxy=localhost,.hall\n");
    char fp1[65], fp2[65];
    cmdsign_sha256_hex(t, strlen(t), fp1);
    free(t);

    /* Without proxies, and the fingerprint follows any change. */
    t = agent_probe_net_text(root, addrs, 3, false);
    assert_null(strstr(t, "proxy"));
    free(t);
    put_text("/etc/resolv.conf", "nameserver 192.168.1.1\nnameserver 1.1.1.1\n");
    t = agent_probe_net_text(root, addrs, 3, true);
    cmdsign_sha256_hex(t, strlen(t), fp2);
    assert_string_not_equal(fp1, fp2);
    free(t);
}

static void test_net_text_reads_through_systemd_resolved_stub(void **state)
{
    (void)state;

    put_text("/etc/resolv.conf", "nameserver 127.0.0.53\noptions edns0 trust-ad\n");
    put_text("/run/systemd/resolve/resolv.conf", "nameserver 10.0.0.53\nnameserver 10.0.1.53\n");
    char *t = agent_probe_net_text(root, NULL, 0, false);
    assert_non_null(strstr(t, "dns 10.0.0.53\ndns 10.0.1.53\n"));
    assert_null(strstr(t, "127.0.0.53"));
    free(t);
}

static void test_net_text_of_an_empty_tree_is_empty(void **state)
{
    (void)state;
    char *t = agent_probe_net_text(root, NULL, 0, true);
    assert_non_null(t);
    assert_string_equal(t, "");
    free(t);
}

static void test_ifaddrs_leaves_out_loopback(void **state)
{
    char **lines;
    size_t n;
    (void)state;

    assert_int_equal(agent_probe_ifaddrs(true, &lines, &n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strncmp(lines[i], "addr ", 5), 0);
        assert_null(strstr(lines[i], " 127.0.0.1/"));
        assert_null(strstr(lines[i], " ::1/"));
        if (i)
            assert_true(strcmp(lines[i - 1], lines[i]) <= 0);
    }
    agent_probe_lines_free(lines, n);
}

/* ---- USB ---- */

static void fake_usb(const char *port, const char *vendor, const char *product, const char *mfr,
                     const char *model, const char *serial, const char *const *classes)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/idVendor", port);
    put_text(rel, vendor);
    snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/idProduct", port);
    put_text(rel, product);
    snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/manufacturer", port);
    put_text(rel, mfr);
    snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/product", port);
    put_text(rel, model);
    if (serial) {
        snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/serial", port);
        put_text(rel, serial);
    }
    for (int i = 0; classes[i]; i++) {
        snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s:1.%d/bInterfaceClass", port, i);
        put_text(rel, classes[i]);
    }
}

static void test_usb_storage_counts_mass_storage_devices(void **state)
{
    static const char *const storage[] = {"08\n", NULL};
    static const char *const keyboard[] = {"03\n", NULL};
    static const char *const two_luns[] = {"08\n", "08\n", NULL};
    struct agent_usb_dev devs[8];
    size_t n = 99;
    (void)state;

    assert_int_equal(agent_probe_usb_storage(root, devs, 8, &n), 0); /* no sysfs: none */
    assert_int_equal(n, 0);
    put_text("/sys/bus/usb/devices/usb1/idVendor", "1d6b\n"); /* a root hub */
    fake_usb("1-2", "046d\n", "c31c\n", "Logitech\n", "USB Keyboard\n", NULL, keyboard);
    assert_int_equal(agent_probe_usb_storage(root, devs, 8, &n), 0);
    assert_int_equal(n, 0);

    fake_usb("1-1", "0951\n", "1666\n", "Kingston\n", "DataTraveler 3.0\n", "E0D55EA5\n", storage);
    fake_usb("2-1.4", "0781\n", "5581\n", "SanDisk\n", "Ultra\n", "4C5300012\n", two_luns);
    assert_int_equal(agent_probe_usb_storage(root, devs, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(devs[0].key, "1-1:0951:1666:E0D55EA5");
    assert_string_equal(devs[0].vendor, "Kingston");
    assert_string_equal(devs[0].model, "DataTraveler 3.0");
    assert_string_equal(devs[0].serial, "E0D55EA5");
    assert_string_equal(devs[0].vendor_id, "0951");
    assert_string_equal(devs[1].vendor, "SanDisk");
    /* More devices than room: the count is still right. */
    assert_int_equal(agent_probe_usb_storage(root, devs, 1, &n), 0);
    assert_int_equal(n, 2);
}

/* ---- ClamAV ---- */

static void put_cvd(const char *name, const char *header)
{
    char buf[600];
    memset(buf, ' ', 512);
    memcpy(buf, header, strlen(header));
    memcpy(buf + 512, "\x1f\x8b binary follows", 17);
    char rel[128];
    snprintf(rel, sizeof(rel), "/clamav/%s", name);
    put_file(rel, buf, 529);
}

static void test_clamav_build_time_and_header(void **state)
{
    struct agent_clamav_db db;
    int64_t t;
    (void)state;

    assert_int_equal(agent_clamav_parse_build_time("14 Mar 2023 07-25 -0400", &t), 0);
    assert_int_equal(t, 1678793100); /* 11:25 UTC */
    assert_int_equal(agent_clamav_parse_build_time("13 Mar 2024 07-36 +0000", &t), 0);
    assert_int_equal(t, 1710315360);
    assert_int_equal(agent_clamav_parse_build_time("1 Jan 2026 00-00 +0800", &t), 0);
    assert_int_equal(t, 1767225600 - 8 * 3600);
    assert_int_equal(agent_clamav_parse_build_time("14 Foo 2023 07-25 -0400", &t), -EINVAL);
    assert_int_equal(agent_clamav_parse_build_time("14 Mar 2023 07:25 -0400", &t), -EINVAL);

    const char *h = "ClamAV-VDB:14 Mar 2023 07-25 -0400:26843:2025640:90:X:X:raynman:1678793134";
    assert_int_equal(agent_clamav_parse_header(h, strlen(h), &db), 0);
    assert_int_equal(db.version, 26843);
    assert_int_equal(db.build_time, 1678793100);
    /* An unreadable text time falls back to stime. */
    h = "ClamAV-VDB:sometime:26844:2025640:90:X:X:raynman:1678879534";
    assert_int_equal(agent_clamav_parse_header(h, strlen(h), &db), 0);
    assert_int_equal(db.build_time, 1678879534);
    h = "ClamAV-VDB:sometime:26844";
    assert_int_equal(agent_clamav_parse_header(h, strlen(h), &db), -EINVAL);
    h = "MZ\x90";
    assert_int_equal(agent_clamav_parse_header(h, strlen(h), &db), -EINVAL);
}

static void test_clamav_db_prefers_the_newest_daily(void **state)
{
    struct agent_clamav_db db;
    (void)state;

    assert_int_equal(agent_clamav_db_read(at("/clamav"), &db), -ENOENT);
    put_cvd("main.cvd", "ClamAV-VDB:16 Sep 2021 08-32 -0400:62:6647427:90:X:X:sigmgr:1631795563");
    assert_int_equal(agent_clamav_db_read(at("/clamav"), &db), 0);
    assert_int_equal(db.version, 62);
    put_cvd("daily.cvd", "ClamAV-VDB:13 Mar 2024 07-36 +0000:27213:2055624:90:X:X:rm:1710315402");
    put_cvd("daily.cld", "ClamAV-VDB:14 Mar 2024 07-36 +0000:27214:2055700:90:X:X:rm:1710401802");
    assert_int_equal(agent_clamav_db_read(at("/clamav"), &db), 0);
    assert_int_equal(db.version, 27214);
    assert_int_equal(db.build_time, 1710315360 + 86400);
}

static const char summary_a[] = "/home/staff/a.exe: Win.Trojan.Agent-1 FOUND\n"
                                "\n"
                                "----------- SCAN SUMMARY -----------\n"
                                "Known viruses: 8693007\n"
                                "Engine version: 0.103.8\n"
                                "Scanned directories: 10\n"
                                "Scanned files: 120\n"
                                "Infected files: 1\n"
                                "Data scanned: 10.00 MB\n"
                                "Time: 17.062 sec (0 m 17 s)\n"
                                "Start Date: 2023:03:14 10:21:05\n"
                                "End Date:   2023:03:14 10:21:22\n";
static const char summary_b[] = "\n"
                                "----------- SCAN SUMMARY -----------\n"
                                "Known viruses: 8693007\n"
                                "Infected files: 0\n"
                                "Start Date: 2023:03:15 12:00:00\n"
                                "End Date:   2023:03:15 12:05:00\n";

static void test_scan_summary_is_the_last_block(void **state)
{
    struct agent_scan_summary s;
    (void)state;

    setenv("TZ", "UTC", 1);
    tzset();
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), 0, &s), -ENOENT);
    put_text("/scan.log", "");
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), 0, &s), -ENOENT);
    put_text("/scan.log", summary_a);
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), 0, &s), 0);
    assert_int_equal(s.threats, 1);
    assert_int_equal(s.start, 1678789265);
    assert_int_equal(s.end, 1678789282);
    assert_int_equal(s.offset, strlen("/home/staff/a.exe: Win.Trojan.Agent-1 FOUND\n\n"));
    uint64_t first = s.offset, end_a = strlen(summary_a);
    append_text("/scan.log", summary_b);
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), 0, &s), 0);
    assert_int_equal(s.threats, 0);
    assert_int_equal(s.start, 1678881600);
    assert_true(s.offset > first);
    /* Only at or after from: the summary a new scan wrote. */
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), end_a, &s), 0);
    assert_int_equal(s.start, 1678881600);
    assert_int_equal(agent_clamav_last_summary(at("/scan.log"), end_a + strlen(summary_b), &s),
                     -ENOENT);
    struct stat st;
    stat(at("/scan.log"), &st);
    assert_int_equal(s.inode, (uint64_t)st.st_ino);
}

static void test_found_lines_parse(void **state)
{
    static const struct {
        const char *line, *path, *sig;
    } good[] = {
        {"/home/staff/Downloads/eicar.com: Eicar-Test-Signature FOUND\n",
         "/home/staff/Downloads/eicar.com", "Eicar-Test-Signature"},
        {"/srv/a: b/c.txt: Win.Test.EICAR_HDB-1 FOUND", "/srv/a: b/c.txt", "Win.Test.EICAR_HDB-1"},
        {"Tue Mar 14 10:00:00 2023 -> /home/x/y.doc: Doc.Dropper.Agent-123 FOUND\r\n",
         "/home/x/y.doc", "Doc.Dropper.Agent-123"},
        {"/home/a -> b/evil: Sig.X FOUND", "/home/a -> b/evil", "Sig.X"},
        {"/home/文件/病毒.exe: Win.Trojan.X FOUND", "/home/文件/病毒.exe", "Win.Trojan.X"},
    };
    static const char *const bad[] = {
        "/home/staff/ok.txt: OK",
        "----------- SCAN SUMMARY -----------",
        "Infected files: 1",
        ": Sig FOUND",
        "/x: FOUND",
        "/x:Sig FOUND",
        "FOUND",
        "",
    };
    char path[AGENT_CLAMAV_PATH_MAX], sig[AGENT_CLAMAV_SIG_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!agent_clamav_parse_found(good[i].line, path, sizeof(path), sig, sizeof(sig)))
            fail_msg("not parsed: %s", good[i].line);
        assert_string_equal(path, good[i].path);
        assert_string_equal(sig, good[i].sig);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (agent_clamav_parse_found(bad[i], path, sizeof(path), sig, sizeof(sig)))
            fail_msg("parsed: %s", bad[i]);
}

struct seen {
    int n;
    char path[8][128], sig[8][64];
};

static void on_found_cb(void *ctx, const char *path, const char *sig)
{
    struct seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->path[s->n], sizeof(s->path[0]), "%s", path);
        snprintf(s->sig[s->n], sizeof(s->sig[0]), "%s", sig);
    }
    s->n++;
}

static void test_follow_reports_each_new_found_line_once(void **state)
{
    struct agent_scanlog_pos pos;
    struct seen s = {0};
    (void)state;

    /* No log yet: nothing, and a log that appears later is read whole. */
    assert_int_equal(agent_clamav_log_end(at("/scan.log"), &pos), -ENOENT);
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), -ENOENT);
    put_text("/scan.log", "/a: Sig.A FOUND\n/b: OK\n/c: Sig.C FO");
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), 1);
    assert_string_equal(s.path[0], "/a");
    /* The partial last line waits for its end. */
    assert_int_equal(pos.offset, strlen("/a: Sig.A FOUND\n/b: OK\n"));
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), 0);
    append_text("/scan.log", "UND\n");
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), 1);
    assert_string_equal(s.sig[1], "Sig.C");
    /* A saved position (a restart) repeats nothing. */
    struct agent_scanlog_pos saved = pos;
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &saved, 1 << 20, on_found_cb, &s), 0);
    assert_int_equal(s.n, 2);
    /* Small windows still get every line. */
    append_text("/scan.log", "/d: Sig.D FOUND\n/e: Sig.E FOUND\n");
    while (agent_clamav_follow(at("/scan.log"), &pos, 20, on_found_cb, &s) > 0 ||
           pos.offset < (uint64_t)strlen("/a: Sig.A FOUND\n/b: OK\n/c: Sig.C FOUND\n"
                                         "/d: Sig.D FOUND\n/e: Sig.E FOUND\n"))
        ;
    assert_int_equal(s.n, 4);
    /* Rotated (a new file) or truncated: read from the start. */
    unlink(at("/scan.log"));
    put_text("/scan.log", "/f: Sig.F FOUND\n");
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), 1);
    assert_string_equal(s.path[4], "/f");
    /* From the end of an existing log: old lines are history, not events. */
    assert_int_equal(agent_clamav_log_end(at("/scan.log"), &pos), 0);
    assert_int_equal(agent_clamav_follow(at("/scan.log"), &pos, 1 << 20, on_found_cb, &s), 0);
}

static void test_follow_skips_an_overlong_line(void **state)
{
    struct agent_scanlog_pos pos = {0};
    struct seen s = {0};
    char *big = malloc(20000);
    (void)state;

    memset(big, 'x', 19990);
    strcpy(big + 19990, " FOUND\n");
    put_text("/scan.log", big);
    append_text("/scan.log", "/g: Sig.G FOUND\n");
    for (int i = 0; i < 10; i++)
        (void)agent_clamav_follow(at("/scan.log"), &pos, 4096, on_found_cb, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.path[0], "/g");
    free(big);
}

/* ---- state files ---- */

static void test_state_round_trip(void **state)
{
    struct agent_state st = {0}, back;
    (void)state;

    assert_int_equal(agent_state_load(root, &back), -ENOENT);
    st.have_scanlog = true;
    st.scanlog = (struct agent_scanlog_pos){.inode = 1234, .offset = 5678};
    st.have_scan = true;
    strcpy(st.last_scan_type, "full");
    st.last_scan_inode = 1234;
    st.last_scan_summary = 900;
    st.have_net_fp = true;
    strcpy(st.net_fp, "edc2adc497bb7e599109c5c8df34b639d94bdb61a9486de5d1f9fbaab03dda2d");
    st.have_usb = true;
    strcpy(st.usb[0], "1-1:0951:1666:E0D55EA5");
    strcpy(st.usb[1], "2-1:0781:5581:serial with spaces");
    st.n_usb = 2;
    assert_int_equal(agent_state_save(root, &st), 0);
    assert_int_equal(agent_state_load(root, &back), 0);
    assert_memory_equal(&back.scanlog, &st.scanlog, sizeof(st.scanlog));
    assert_true(back.have_scanlog && back.have_scan && back.have_net_fp && back.have_usb);
    assert_string_equal(back.last_scan_type, "full");
    assert_int_equal(back.last_scan_summary, 900);
    assert_string_equal(back.net_fp, st.net_fp);
    assert_int_equal(back.n_usb, 2);
    assert_string_equal(back.usb[1], "2-1:0781:5581:serial with spaces");
    assert_int_equal(access(at("/state.tmp"), F_OK), -1);

    /* First run with no devices: have_usb still marks the baseline as taken. */
    memset(&st, 0, sizeof(st));
    st.have_usb = true;
    assert_int_equal(agent_state_save(root, &st), 0);
    assert_int_equal(agent_state_load(root, &back), 0);
    assert_true(back.have_usb);
    assert_int_equal(back.n_usb, 0);
    assert_false(back.have_scanlog);
}

static void test_nonces_survive_a_restart_until_they_expire(void **state)
{
    struct cmdsign_replay *rc = cmdsign_replay_new(16), *back = cmdsign_replay_new(16);
    (void)state;

    assert_int_equal(agent_state_load_nonces(root, back, 100), -ENOENT);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "aaaa0000aaaa0000", 200, 100), 0);
    assert_int_equal(cmdsign_replay_check_and_add(rc, "bbbb0000bbbb0000", 150, 100), 0);
    assert_int_equal(agent_state_save_nonces(root, rc), 0);
    assert_int_equal(agent_state_load_nonces(root, back, 160), 1);
    assert_int_equal(cmdsign_replay_check_and_add(back, "aaaa0000aaaa0000", 200, 170), -EALREADY);
    cmdsign_replay_free(rc);
    cmdsign_replay_free(back);
}

/* ---- the agent's config ---- */

static void test_agentconf_defaults_and_relative_files(void **state)
{
    struct agentconf *c;
    struct conf_errors errs;
    (void)state;

    put_secret("/etc/command.key", "hallgw-example-key-0123456789abcdef\n");
    put_secret("/etc/mqtt.secret", "s3cret\n");
    put_text("/etc/agent.conf", "mqtt = { uri = \"mqtts://broker.hall:8883\"; username = \"pc\";\n"
                                "  password_file = \"mqtt.secret\"; };\n"
                                "hall = \"h1\"; device = \"pc-w01\";\n"
                                "command_key_file = \"command.key\";\n"
                                "notify = { argv = [\"/usr/local/bin/hall-notify\", \"--\"]; };\n");
    if (agentconf_load(at("/etc/agent.conf"), &c, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        fail();
    }
    assert_string_equal(c->mqtt.uri, "ssl://broker.hall:8883");
    assert_string_equal(c->mqtt.client_id, "hallgw-agent-h1-pc-w01");
    assert_string_equal(c->mqtt.password, "s3cret");
    assert_string_equal(c->mqtt.prefix, "hall");
    assert_int_equal(c->command_key_len, 35);
    assert_memory_equal(c->command_key, "hallgw-example-key-0123456789abcdef", 35);
    assert_int_equal(c->interval_ms, 60000);
    assert_int_equal(c->poweroff.grace_ms, 300000);
    assert_string_equal(c->poweroff.argv.v[0], "systemctl");
    assert_string_equal(c->poweroff.argv.v[1], "poweroff");
    assert_null(c->poweroff.argv.v[2]);
    assert_int_equal(c->scan.quick_argv.n, 4);
    assert_string_equal(c->scan.full_argv.v[3], "/");
    assert_string_equal(c->scan.log, "/var/log/clamav/scan.log");
    assert_int_equal(c->notify.argv.n, 2);
    assert_string_equal(c->state_dir, "/var/lib/hallgw-agent");
    assert_string_equal(c->probe_root, "/");
    assert_true(c->network.proxy_env);
    agentconf_free(c);
    agentconf_free(NULL);
}

static void test_agentconf_reports_every_error_with_its_line(void **state)
{
    struct agentconf *c = (struct agentconf *)1;
    struct conf_errors errs;
    (void)state;

    put_text("/etc/bad.conf", "mqtt = { uri = \"http://x:1\"; colour = 1; };\n"
                              "hall = \"h 1\";\n"
                              "device = \"alerts\";\n"
                              "interval = \"soon\";\n"
                              "command_key_file = \"short.key\";\n"
                              "poweroff = { argv = []; grace = \"2d\"; };\n"
                              "scan = { quick_argv = \"clamscan\"; };\n");
    put_secret("/etc/short.key", "abc\n");
    assert_int_equal(agentconf_load(at("/etc/bad.conf"), &c, &errs), -EINVAL);
    assert_null(c);
    static const struct {
        int line;
        const char *key, *msg;
    } want[] = {
        {1, "mqtt.uri", "must start with"},  {1, "mqtt.colour", "unknown key"},
        {2, "hall", "not a valid id"},       {3, "device", "is reserved"},
        {4, "interval", "not a duration"},   {5, "command_key_file", "shorter than 16 bytes"},
        {6, "poweroff.argv", "must name"},   {6, "poweroff.grace", "must be between 0s and 1d"},
        {7, "scan.quick_argv", "a list of"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool found = false;
        for (size_t k = 0; k < errs.n && !found; k++)
            found = errs.v[k].line == want[i].line && strcmp(errs.v[k].key, want[i].key) == 0 &&
                    strstr(errs.v[k].msg, want[i].msg);
        if (!found) {
            conf_errors_print(&errs, stderr);
            fail_msg("missing error %d %s: %s", want[i].line, want[i].key, want[i].msg);
        }
    }
    assert_int_equal(errs.n, sizeof(want) / sizeof(want[0]));
    assert_string_equal(errs.v[0].file, at("/etc/bad.conf"));
    conf_errors_free(&errs);

    put_text("/etc/syntax.conf", "hall = \"h1\"\ndevice = ;\n");
    assert_int_equal(agentconf_load(at("/etc/syntax.conf"), &c, &errs), -EINVAL);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.v[0].key, "(syntax)");
    conf_errors_free(&errs);

    put_text("/etc/missing.conf", "device = \"pc-1\";\n");
    assert_int_equal(agentconf_load(at("/etc/missing.conf"), &c, &errs), -EINVAL);
    assert_int_equal(errs.n, 2); /* mqtt and hall */
    conf_errors_free(&errs);
}

/* The agent's secret files, as the gateway's: 0600 loads; a mode that lets
 * group or others in is refused at the key's line with the file, its mode
 * and the fix. The certificates beside them are not secrets. */
static void test_agentconf_secret_files_must_keep_group_and_others_out(void **state)
{
    static const char *const keys[] = {"command_key_file", "mqtt.password_file",
                                       "mqtt.tls.key_file"};
    static const char *const files[] = {"/etc/command.key", "/etc/mqtt.secret", "/etc/pc.key"};
    static const mode_t refused[] = {0640, 0604, 0660, 0644};
    struct agentconf *c;
    struct conf_errors errs;
    char want[2300], path[1024];
    (void)state;

    put_text("/etc/agent.conf", "hall = \"h1\"; device = \"pc-w01\";\n"
                                "command_key_file = \"command.key\";\n"
                                "mqtt = { uri = \"ssl://broker:8883\"; username = \"pc\";\n"
                                "  password_file = \"mqtt.secret\";\n"
                                "  tls = { ca_file = \"ca.crt\"; cert_file = \"pc.crt\";\n"
                                "    key_file = \"pc.key\"; }; };\n");
    put_text("/etc/ca.crt", "-----BEGIN CERTIFICATE-----\n"); /* 0644 */
    put_text("/etc/pc.crt", "-----BEGIN CERTIFICATE-----\n");
    put_secret("/etc/command.key", "hallgw-example-key-0123456789abcdef\n");
    put_secret("/etc/mqtt.secret", "s3cret\n");
    put_secret("/etc/pc.key", "-----BEGIN PRIVATE KEY-----\n");
    if (agentconf_load(at("/etc/agent.conf"), &c, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        fail_msg("0600 secret files are refused");
    }
    agentconf_free(c);

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        static const int lines[] = {2, 4, 6};
        for (size_t m = 0; m < sizeof(refused) / sizeof(refused[0]); m++) {
            snprintf(path, sizeof(path), "%s", at(files[i]));
            assert_int_equal(chmod(path, refused[m]), 0);
            c = (struct agentconf *)1;
            assert_int_equal(agentconf_load(at("/etc/agent.conf"), &c, &errs), -EINVAL);
            assert_null(c);
            snprintf(want, sizeof(want),
                     "%s has mode %04o: a secret file must not be accessible by group or others "
                     "(chmod 600 %s)",
                     path, (unsigned)refused[m], path);
            if (errs.n != 1 || strcmp(errs.v[0].file, at("/etc/agent.conf")) != 0 ||
                errs.v[0].line != lines[i] || strcmp(errs.v[0].key, keys[i]) != 0 ||
                strcmp(errs.v[0].msg, want) != 0) {
                conf_errors_print(&errs, stderr);
                fail_msg("%s, mode %04o: want one error at line %d: %s", keys[i],
                         (unsigned)refused[m], lines[i], want);
            }
            conf_errors_free(&errs);
        }
        assert_int_equal(chmod(path, 0600), 0);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_cpu_pct_from_proc_stat_deltas),
        T(test_mem_uptime_and_disk),
        T(test_users_count_user_processes_in_utmp),
        T(test_realtime_av_is_a_running_clamd_or_clamonacc),
        T(test_net_text_is_canonical),
        T(test_net_text_reads_through_systemd_resolved_stub),
        T(test_net_text_of_an_empty_tree_is_empty),
        T(test_ifaddrs_leaves_out_loopback),
        T(test_usb_storage_counts_mass_storage_devices),
        T(test_clamav_build_time_and_header),
        T(test_clamav_db_prefers_the_newest_daily),
        T(test_scan_summary_is_the_last_block),
        T(test_found_lines_parse),
        T(test_follow_reports_each_new_found_line_once),
        T(test_follow_skips_an_overlong_line),
        T(test_state_round_trip),
        T(test_nonces_survive_a_restart_until_they_expire),
        T(test_agentconf_defaults_and_relative_files),
        T(test_agentconf_reports_every_error_with_its_line),
        T(test_agentconf_secret_files_must_keep_group_and_others_out),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
