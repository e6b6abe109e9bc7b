/* hallgw-agent's probes of the PC (see agent_probe.h). */
#include "agent_probe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <utmpx.h>

#include "buf.h"

#define LINE_MAX_BYTES 1024
#define NET_TEXT_MAX 65536 /* bytes of the network description that net_fp hashes */
#define USB_NAMES_MAX 4096 /* entries of /sys/bus/usb/devices read */

char *agent_probe_path(const char *root, const char *path, char *buf, size_t size)
{
    size_t rl = strlen(root);

    while (rl > 0 && root[rl - 1] == '/')
        rl--;
    (void)snprintf(buf, size, "%.*s%s", (int)rl, root, path);
    return buf;
}

static FILE *open_at(const char *root, const char *path)
{
    char p[4096];
    return fopen(agent_probe_path(root, path, p, sizeof(p)), "re");
}

/* ---- system ------------------------------------------------------------- */

int agent_probe_cpu_sample(const char *root, struct agent_cpu_sample *out)
{
    uint64_t v[8] = {0};
    char line[LINE_MAX_BYTES];
    FILE *f = open_at(root, "/proc/stat");
    int rc = -EINVAL;

    if (!f)
        return -errno;
    if (fgets(line, sizeof(line), f) &&
        sscanf(line,
               "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
               " %" SCNu64 " %" SCNu64,
               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 4) {
        /* user nice system idle iowait irq softirq steal; guest is inside user. */
        out->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        out->idle = v[3] + v[4];
        rc = 0;
    }
    fclose(f);
    return rc;
}

double agent_probe_cpu_pct(const struct agent_cpu_sample *prev, const struct agent_cpu_sample *cur)
{
    uint64_t total = cur->total, idle = cur->idle;

    if (prev && cur->total > prev->total && cur->idle >= prev->idle) {
        total = cur->total - prev->total;
        idle = cur->idle - prev->idle;
    }
    if (total == 0 || idle > total)
        return 0.0;
    return 100.0 * (double)(total - idle) / (double)total;
}

int agent_probe_mem_pct(const char *root, double *pct)
{
    char line[LINE_MAX_BYTES];
    unsigned long long total = 0, avail = 0, v;
    bool have_avail = false;
    FILE *f = open_at(root, "/proc/meminfo");

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "MemTotal: %llu", &v) == 1)
            total = v;
        else if (sscanf(line, "MemAvailable: %llu", &v) == 1) {
            avail = v;
            have_avail = true;
        }
    }
    fclose(f);
    if (total == 0 || !have_avail || avail > total)
        return -EINVAL;
    *pct = 100.0 * (double)(total - avail) / (double)total;
    return 0;
}

int agent_probe_disk_free_pct(const char *path, double *pct)
{
    struct statvfs st;

    if (statvfs(path, &st) < 0)
        return -errno;
    if (st.f_blocks == 0)
        return -EINVAL;
    *pct = 100.0 * (double)st.f_bavail / (double)st.f_blocks;
    return 0;
}

int agent_probe_uptime_s(const char *root, int64_t *out)
{
    double up;
    FILE *f = open_at(root, "/proc/uptime");
    int rc = -EINVAL;

    if (!f)
        return -errno;
    if (fscanf(f, "%lf", &up) == 1 && up >= 0) {
        *out = (int64_t)up;
        rc = 0;
    }
    fclose(f);
    return rc;
}

int agent_probe_users(const char *root, int *out)
{
    char p[4096];
    struct utmpx *u;
    int n = 0;

    if (strcmp(root, "/") != 0 &&
        utmpxname(agent_probe_path(root, "/var/run/utmp", p, sizeof(p))) != 0)
        return -ENOMEM;
    setutxent();
    while ((u = getutxent()))
        if (u->ut_type == USER_PROCESS)
            n++;
    endutxent();
    if (strcmp(root, "/") != 0)
        (void)utmpxname(_PATH_UTMPX);
    *out = n;
    return 0;
}

bool agent_probe_process_running(const char *root, const char *const *names)
{
    char p[4096], comm[64];
    struct dirent *de;
    bool found = false;
    DIR *d = opendir(agent_probe_path(root, "/proc", p, sizeof(p)));

    if (!d)
        return false;
    while (!found && (de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char rel[300];
        (void)snprintf(rel, sizeof(rel), "/proc/%s/comm", de->d_name);
        FILE *f = open_at(root, rel);
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f)) {
            comm[strcspn(comm, "\n")] = '\0';
            for (size_t i = 0; names[i] && !found; i++)
                found = strcmp(comm, names[i]) == 0;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- network ------------------------------------------------------------ */

static int prefix_len(const struct sockaddr *mask)
{
    const unsigned char *b;
    size_t n;
    int bits = 0;

    if (!mask)
        return 0;
    if (mask->sa_family == AF_INET) {
        b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
        n = 4;
    } else {
        b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
        n = 16;
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 7; j >= 0; j--)
            bits += (b[i] >> j) & 1;
    return bits;
}

void agent_probe_lines_free(char **lines, size_t n)
{
    for (size_t i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines);
}

int agent_probe_ifaddrs(bool ipv6, char ***lines, size_t *n)
{
    struct ifaddrs *ifa, *i;
    char **v = NULL, addr[INET6_ADDRSTRLEN], line[IF_NAMESIZE + INET6_ADDRSTRLEN + 16];
    size_t cnt = 0;

    *lines = NULL;
    *n = 0;
    if (getifaddrs(&ifa) < 0)
        return -errno;
    for (i = ifa; i; i = i->ifa_next) {
        int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
        const void *a;
        if ((i->ifa_flags & IFF_LOOPBACK) || (fam != AF_INET && fam != AF_INET6) ||
            (fam == AF_INET6 && !ipv6))
            continue;
        if (fam == AF_INET) {
            a = &((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
        } else {
            const struct in6_addr *a6 = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LINKLOCAL(a6))
                continue;
            a = a6;
        }
        if (!inet_ntop(fam, a, addr, sizeof(addr)))
            continue;
        (void)snprintf(line, sizeof(line), "addr %s %s/%d", i->ifa_name, addr,
                       prefix_len(i->ifa_netmask));
        char **nv = realloc(v, (cnt + 1) * sizeof(char *));
        if (!nv || !(nv[cnt] = strdup(line))) {
            v = nv ? nv : v;
            agent_probe_lines_free(v, cnt);
            freeifaddrs(ifa);
            return -ENOMEM;
        }
        v = nv;
        cnt++;
    }
    freeifaddrs(ifa);
    if (cnt)
        qsort(v, cnt, sizeof(char *), cmp_str);
    *lines = v;
    *n = cnt;
    return 0;
}

static void add_routes(struct buf *t, const char *root)
{
    char line[LINE_MAX_BYTES], ifname[64], gwtxt[INET_ADDRSTRLEN];
    unsigned int dest, gw, flags, mask;
    FILE *f = open_at(root, "/proc/net/route");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifname, &dest, &gw, &flags, &mask) != 5)
            continue;                                 /* the header line */
        if (dest != 0 || mask != 0 || !(flags & 0x1)) /* RTF_UP */
            continue;
        struct in_addr a = {.s_addr = gw};
        if (inet_ntop(AF_INET, &a, gwtxt, sizeof(gwtxt)))
            buf_printf(t, "route default %s %s\n", ifname, gwtxt);
    }
    fclose(f);
}

/* The nameserver lines of one resolv.conf into t; returns how many, and
 * whether the only one is systemd-resolved's stub. */
static size_t add_dns_from(struct buf *t, const char *root, const char *path, bool *stub_only)
{
    char line[LINE_MAX_BYTES], addr[256];
    size_t n = 0;
    bool stub = true;
    FILE *f = open_at(root, path);

    *stub_only = false;
    if (!f)
        return 0;
    struct buf tmp;
    buf_init(&tmp, NET_TEXT_MAX);
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, " nameserver %255s", addr) != 1)
            continue;
        stub &= strcmp(addr, "127.0.0.53") == 0;
        buf_printf(&tmp, "dns %s\n", addr);
        n++;
    }
    fclose(f);
    *stub_only = n > 0 && stub;
    if (!*stub_only && tmp.data)
        buf_puts(t, tmp.data);
    buf_free(&tmp);
    return *stub_only ? 0 : n;
}

static void add_dns(struct buf *t, const char *root)
{
    bool stub;

    add_dns_from(t, root, "/etc/resolv.conf", &stub);
    if (stub && add_dns_from(t, root, "/run/systemd/resolve/resolv.conf", &stub) == 0)
        buf_printf(t, "dns 127.0.0.53\n");
}

static void add_proxies(struct buf *t, const char *root)
{
    static const char *const names[] = {"http_proxy", "https_proxy", "ftp_proxy",
                                        "all_proxy",  "no_proxy",    NULL};
    char line[LINE_MAX_BYTES];
    char *found[5] = {0};
    FILE *f = open_at(root, "/etc/environment");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *eq, *v;
        line[strcspn(line, "\r\n")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "export ", 7) == 0)
            p += 7;
        if (!(eq = strchr(p, '=')))
            continue;
        *eq = '\0';
        for (char *c = p; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        for (int i = 0; names[i]; i++) {
            if (strcmp(p, names[i]) == 0) {
                free(found[i]);
                found[i] = strdup(v); /* the last assignment wins */
            }
        }
    }
    fclose(f);
    /* names[] is not sorted; print in sorted name order. */
    static const int order[] = {3, 2, 0, 1, 4}; /* all, ftp, http, https, no */
    for (int k = 0; k < 5; k++) {
        int i = order[k];
        if (found[i])
            buf_printf(t, "proxy %s=%s\n", names[i], found[i]);
        free(found[i]);
    }
}

char *agent_probe_net_text(const char *root, char *const *addrs, size_t n_addrs, bool proxy)
{
    struct buf t;
    char **sorted = n_addrs ? malloc(n_addrs * sizeof(char *)) : NULL;

    if (n_addrs && !sorted)
        return NULL;
    for (size_t i = 0; i < n_addrs; i++)
        sorted[i] = addrs[i];
    if (n_addrs)
        qsort(sorted, n_addrs, sizeof(char *), cmp_str);
    buf_init(&t, NET_TEXT_MAX);
    for (size_t i = 0; i < n_addrs; i++)
        buf_printf(&t, "%s\n", sorted[i]);
    free(sorted);
    add_routes(&t, root);
    add_dns(&t, root);
    if (proxy)
        add_proxies(&t, root);
    return buf_steal(&t, NULL); /* "" when empty; NULL when it failed */
}

/* ---- USB ---------------------------------------------------------------- */

/* The first line of root/sys/bus/usb/devices/<dev>/<attr> into buf, "" if none. */
static void read_attr(const char *root, const char *dev, const char *attr, char *buf, size_t n)
{
    char rel[512];
    FILE *f;

    buf[0] = '\0';
    (void)snprintf(rel, sizeof(rel), "/sys/bus/usb/devices/%s/%s", dev, attr);
    if (!(f = open_at(root, rel)))
        return;
    if (!fgets(buf, (int)n, f))
        buf[0] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    fclose(f);
}

static int cmp_usb(const void *a, const void *b)
{
    return strcmp(((const struct agent_usb_dev *)a)->key, ((const struct agent_usb_dev *)b)->key);
}

/* True when one of the device's interfaces (names "<port>:<config>.<n>") is
 * of class 08, mass storage. */
static bool has_storage_interface(const char *root, char **names, size_t n, const char *port)
{
    char cls[16];
    size_t pl = strlen(port);

    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], port, pl) != 0 || names[i][pl] != ':')
            continue;
        read_attr(root, names[i], "bInterfaceClass", cls, sizeof(cls));
        if (strcmp(cls, "08") == 0)
            return true;
    }
    return false;
}

int agent_probe_usb_storage(const char *root, struct agent_usb_dev *devs, size_t max, size_t *n)
{
    char p[4096], **names = NULL;
    struct dirent *de;
    size_t n_names = 0, cnt = 0;
    int rc = 0;
    DIR *d = opendir(agent_probe_path(root, "/sys/bus/usb/devices", p, sizeof(p)));

    *n = 0;
    if (!d)
        return errno == ENOENT ? 0 : -errno; /* no USB at all */
    while ((de = readdir(d)) && n_names < USB_NAMES_MAX) {
        char **nv;
        if (de->d_name[0] == '.')
            continue;
        if (!(nv = realloc(names, (n_names + 1) * sizeof(char *))) ||
            !(nv[n_names] = strdup(de->d_name))) {
            names = nv ? nv : names;
            rc = -ENOMEM;
            goto out;
        }
        names = nv;
        n_names++;
    }
    for (size_t i = 0; i < n_names; i++) {
        const char *port = names[i];
        if (strchr(port, ':') || strncmp(port, "usb", 3) == 0 || strlen(port) >= 64 ||
            !has_storage_interface(root, names, n_names, port))
            continue;
        if (cnt < max) {
            struct agent_usb_dev *dev = &devs[cnt];
            memset(dev, 0, sizeof(*dev));
            read_attr(root, port, "idVendor", dev->vendor_id, sizeof(dev->vendor_id));
            read_attr(root, port, "idProduct", dev->product_id, sizeof(dev->product_id));
            read_attr(root, port, "manufacturer", dev->vendor, sizeof(dev->vendor));
            read_attr(root, port, "product", dev->model, sizeof(dev->model));
            read_attr(root, port, "serial", dev->serial, sizeof(dev->serial));
            (void)snprintf(dev->key, sizeof(dev->key), "%.63s:%s:%s:%s", port, dev->vendor_id,
                           dev->product_id, dev->serial);
        }
        cnt++;
    }
    qsort(devs, cnt < max ? cnt : max, sizeof(*devs), cmp_usb);
    *n = cnt;
out:
    closedir(d);
    agent_probe_lines_free(names, n_names);
    return rc;
}
