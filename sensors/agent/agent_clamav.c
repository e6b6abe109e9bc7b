/* hallgw-agent's view of ClamAV (see agent_clamav.h). */
#include "agent_clamav.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEADER_LEN 512
#define SUMMARY_TAIL (256 * 1024)
#define LOG_LINE_MAX 8192
#define SUMMARY_LINE "----------- SCAN SUMMARY -----------"

/* ---- signature database ------------------------------------------------- */

int agent_clamav_parse_build_time(const char *s, int64_t *out)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char mon[4], sign;
    int day, year, hh, mm, tz, n = 0;
    struct tm tm = {0};

    if (sscanf(s, "%d %3s %d %d-%d %c%4d%n", &day, mon, &year, &hh, &mm, &sign, &tz, &n) != 7 ||
        (sign != '+' && sign != '-') || day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 ||
        hh < 0 || mm < 0 || tz < 0 || tz % 100 > 59)
        return -EINVAL;
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0)
        return -EINVAL;
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    time_t t = timegm(&tm);
    int off = (tz / 100) * 3600 + (tz % 100) * 60;
    *out = (int64_t)t - (sign == '+' ? off : -off);
    return 0;
}

int agent_clamav_parse_header(const char *hdr, size_t len, struct agent_clamav_db *out)
{
    char buf[HEADER_LEN + 1], *field[10];
    size_t nf = 0;
    char *end;

    if (len > HEADER_LEN)
        len = HEADER_LEN;
    memcpy(buf, hdr, len);
    buf[len] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    for (size_t i = strlen(buf); i > 0 && buf[i - 1] == ' '; i--)
        buf[i - 1] = '\0';
    if (strncmp(buf, "ClamAV-VDB:", 11) != 0)
        return -EINVAL;
    for (char *p = buf, *tok; nf < 10 && (tok = strsep(&p, ":"));)
        field[nf++] = tok;
    if (nf < 3)
        return -EINVAL;
    long v = strtol(field[2], &end, 10);
    if (*end || end == field[2] || v < 0 || v > 100000000)
        return -EINVAL;
    out->version = (int)v;
    if (agent_clamav_parse_build_time(field[1], &out->build_time) == 0)
        return 0;
    if (nf >= 9) {
        long long st = strtoll(field[8], &end, 10);
        if (!*end && end != field[8] && st > 0) {
            out->build_time = st;
            return 0;
        }
    }
    return -EINVAL;
}

static int read_header(const char *dir, const char *name, struct agent_clamav_db *out)
{
    char path[AGENT_CLAMAV_PATH_MAX + 64], hdr[HEADER_LEN];
    ssize_t n;
    int fd;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    n = read(fd, hdr, sizeof(hdr));
    close(fd);
    if (n <= 0)
        return -EINVAL;
    return agent_clamav_parse_header(hdr, (size_t)n, out);
}

int agent_clamav_db_read(const char *db_dir, struct agent_clamav_db *out)
{
    static const char *const sets[2][2] = {{"daily.cld", "daily.cvd"}, {"main.cld", "main.cvd"}};

    for (int s = 0; s < 2; s++) {
        struct agent_clamav_db best = {.version = -1}, db;
        for (int i = 0; i < 2; i++)
            if (read_header(db_dir, sets[s][i], &db) == 0 && db.version > best.version)
                best = db;
        if (best.version >= 0) {
            *out = best;
            return 0;
        }
    }
    return -ENOENT;
}

/* ---- scan log ----------------------------------------------------------- */

/* "yyyy:mm:dd hh:mm:ss" in local time. */
static int64_t parse_scan_date(const char *s)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se;

    while (*s == ' ')
        s++;
    if (sscanf(s, "%d:%d:%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6 || y < 1970 || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? 0 : (int64_t)t;
}

int agent_clamav_last_summary(const char *log_path, uint64_t from, struct agent_scan_summary *out)
{
    struct stat st;
    uint64_t start;
    char *buf, *p, *last = NULL;
    ssize_t n;
    int rc = -ENOENT;
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    start = (uint64_t)st.st_size > SUMMARY_TAIL ? (uint64_t)st.st_size - SUMMARY_TAIL : 0;
    if (start < from)
        start = from;
    if (start >= (uint64_t)st.st_size)
        goto out_close;
    if (!(buf = malloc((size_t)((uint64_t)st.st_size - start) + 1))) {
        rc = -ENOMEM;
        goto out_close;
    }
    n = pread(fd, buf, (size_t)((uint64_t)st.st_size - start), (off_t)start);
    if (n < 0) {
        rc = -errno;
        goto out_free;
    }
    buf[n] = '\0';
    for (p = buf; (p = strstr(p, SUMMARY_LINE)); p++)
        if (p == buf || p[-1] == '\n')
            last = p;
    if (!last)
        goto out_free;
    *out = (struct agent_scan_summary){
        .threats = -1, .offset = start + (uint64_t)(last - buf), .inode = (uint64_t)st.st_ino};
    for (p = strchr(last, '\n'); p && *++p;) {
        char *eol = strchr(p, '\n');
        int v;
        if (eol)
            *eol = '\0';
        if (strncmp(p, "----------- ", 12) == 0 || !strchr(p, ':'))
            break; /* the next block, or not a summary line any more */
        if (sscanf(p, "Infected files: %d", &v) == 1 && v >= 0)
            out->threats = v;
        else if (strncmp(p, "Start Date:", 11) == 0)
            out->start = parse_scan_date(p + 11);
        else if (strncmp(p, "End Date:", 9) == 0)
            out->end = parse_scan_date(p + 9);
        if (!eol)
            break;
        p = eol;
    }
    rc = 0;
out_free:
    free(buf);
out_close:
    close(fd);
    return rc;
}

bool agent_clamav_parse_found(const char *line, char *path, size_t path_size, char *sig,
                              size_t sig_size)
{
    const char *arrow = strstr(line, " -> ");
    const char *end, *s;
    size_t len;

    /* clamd and clamonacc logs: "Tue Mar 14 10:00:00 2023 -> /path: Sig FOUND". */
    if (arrow && line[0] != '/')
        line = arrow + 4;
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len < 10 || memcmp(line + len - 6, " FOUND", 6) != 0)
        return false;
    end = line + len - 6;
    /* The signature is the last word before FOUND; the path may hold ": ". */
    for (s = end; s > line && s[-1] != ' '; s--)
        ;
    if (s == end || s - line < 3 || s[-2] != ':')
        return false;
    size_t plen = (size_t)(s - 2 - line), slen = (size_t)(end - s);
    if (plen >= path_size || slen >= sig_size)
        return false;
    memcpy(path, line, plen);
    path[plen] = '\0';
    memcpy(sig, s, slen);
    sig[slen] = '\0';
    return true;
}

int agent_clamav_log_end(const char *log_path, struct agent_scanlog_pos *pos)
{
    struct stat st;

    *pos = (struct agent_scanlog_pos){0};
    if (stat(log_path, &st) < 0)
        return -errno;
    pos->inode = (uint64_t)st.st_ino;
    pos->offset = (uint64_t)st.st_size;
    return 0;
}

int agent_clamav_follow(const char *log_path, struct agent_scanlog_pos *pos, size_t max_bytes,
                        void (*on_found)(void *ctx, const char *path, const char *sig), void *ctx)
{
    struct stat st;
    char *buf, path[AGENT_CLAMAV_PATH_MAX], sig[AGENT_CLAMAV_SIG_MAX];
    int found = 0;
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            *pos = (struct agent_scanlog_pos){0};
        return -e;
    }
    if (fstat(fd, &st) < 0) {
        found = -errno;
        goto out_close;
    }
    if ((uint64_t)st.st_ino != pos->inode || (uint64_t)st.st_size < pos->offset)
        *pos = (struct agent_scanlog_pos){.inode = (uint64_t)st.st_ino};
    if ((uint64_t)st.st_size == pos->offset)
        goto out_close;
    size_t want = (size_t)((uint64_t)st.st_size - pos->offset);
    if (want > max_bytes)
        want = max_bytes;
    if (!(buf = malloc(want + 1))) {
        found = -ENOMEM;
        goto out_close;
    }
    ssize_t n = pread(fd, buf, want, (off_t)pos->offset);
    if (n < 0) {
        found = -errno;
        free(buf);
        goto out_close;
    }
    buf[n] = '\0';
    char *p = buf, *eol;
    while ((eol = memchr(p, '\n', (size_t)(buf + n - p)))) {
        *eol = '\0';
        if (eol - p <= LOG_LINE_MAX && strlen(p) == (size_t)(eol - p) &&
            agent_clamav_parse_found(p, path, sizeof(path), sig, sizeof(sig))) {
            on_found(ctx, path, sig);
            found++;
        }
        p = eol + 1;
    }
    /* A partial last line waits for its end, unless it alone fills the
     * window (an overlong line): then it is skipped. */
    if (p == buf && (size_t)n == max_bytes)
        p = buf + n;
    pos->offset += (uint64_t)(p - buf);
    free(buf);
out_close:
    close(fd);
    return found;
}
