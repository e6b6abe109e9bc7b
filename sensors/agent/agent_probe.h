/* hallgw-agent's probes of the PC: CPU, memory, disk, uptime, logged-in
 * users, running processes, the network fingerprint and USB mass storage.
 *
 * Every file is read below root (the config's probe_root, "/" normally), so
 * tests run the probes against a fake tree: root/proc/stat, root/proc/meminfo,
 * root/proc/uptime, root/proc/<pid>/comm, root/proc/net/route,
 * root/etc/resolv.conf, root/run/systemd/resolve/resolv.conf,
 * root/etc/environment, root/sys/bus/usb/devices, root/var/run/utmp (when
 * root is not "/"). Interface addresses (getifaddrs) and the disk (statvfs
 * of root) are the running system's. Functions return 0 or a negative errno;
 * none logs. */
#ifndef HALLGW_AGENT_PROBE_H
#define HALLGW_AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- system -------------------------------------------------------------- */

struct agent_cpu_sample {
    uint64_t total, idle; /* jiffies since boot: all, and idle + iowait */
};

int agent_probe_cpu_sample(const char *root, struct agent_cpu_sample *out);

/* Busy percentage between two samples; since boot when prev is NULL or no
 * time passed between them. */
double agent_probe_cpu_pct(const struct agent_cpu_sample *prev, const struct agent_cpu_sample *cur);

/* Used memory: 100 * (MemTotal - MemAvailable) / MemTotal. */
int agent_probe_mem_pct(const char *root, double *pct);

/* Free space available to users on the file system of path, in percent. */
int agent_probe_disk_free_pct(const char *path, double *pct);

int agent_probe_uptime_s(const char *root, int64_t *out);

/* USER_PROCESS entries of utmp: the running system's, or root/var/run/utmp. */
int agent_probe_users(const char *root, int *out);

/* True when a process whose comm is one of names (NULL-terminated) runs. */
bool agent_probe_process_running(const char *root, const char *const *names);

/* ---- network fingerprint -------------------------------------------------- */

/* The interface addresses as sorted lines "addr <ifname> <address>/<prefix>",
 * loopback and IPv6 link-local left out, IPv6 only when ipv6. *lines is a
 * malloc'd array of malloc'd strings (agent_probe_lines_free()). */
int agent_probe_ifaddrs(bool ipv6, char ***lines, size_t *n);
void agent_probe_lines_free(char **lines, size_t n);

/* The canonical text the fingerprint is the SHA-256 of, one "\n"-ended line
 * each, in this order:
 *   addr <ifname> <address>/<prefix>   the given addr lines, sorted
 *   route default <ifname> <gateway>   default routes of root/proc/net/route
 *   dns <address>                      nameservers of root/etc/resolv.conf (in order;
 *                                      systemd-resolved's upstream servers
 *                                      when it lists only 127.0.0.53)
 *   proxy <name>=<value>               http_proxy, https_proxy, ftp_proxy,
 *                                      all_proxy, no_proxy of root/etc/environment
 *                                      (names lower-cased, sorted; only when proxy)
 * Missing files add nothing. Returns a malloc'd string, NULL on ENOMEM. */
char *agent_probe_net_text(const char *root, char *const *addrs, size_t n_addrs, bool proxy);

/* ---- USB mass storage ----------------------------------------------------- */

struct agent_usb_dev {
    char key[160]; /* "<port>:<idVendor>:<idProduct>:<serial>": identifies one plug-in */
    char vendor[64], model[64], serial[64]; /* manufacturer, product, serial; may be "" */
    char vendor_id[8], product_id[8];       /* idVendor, idProduct, hex */
};

/* USB devices with an interface of class 08 (mass storage), in
 * root/sys/bus/usb/devices, sorted by key; at most max in devs, the total in
 * *n. */
int agent_probe_usb_storage(const char *root, struct agent_usb_dev *devs, size_t max, size_t *n);

/* root + path into buf ("/" root: path itself). Returns buf. */
char *agent_probe_path(const char *root, const char *path, char *buf, size_t size);

#endif
