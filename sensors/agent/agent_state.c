/* hallgw-agent's state files (see agent_state.h). */
#include "agent_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdsign.h"

#define LINE_BYTES 512

static FILE *open_in(const char *dir, const char *name)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fopen(path, "re");
}

/* Writes through fn into dir/name.tmp, then renames it over dir/name. */
static int write_atomic(const char *dir, const char *name, void (*fn)(FILE *f, const void *arg),
                        const void *arg)
{
    char path[4096], tmp[4200];
    FILE *f;
    int rc = 0;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(f = fopen(tmp, "we")))
        return -errno;
    fn(f, arg);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -errno;
    else if (ferror(f)) /* a write that failed before the flush */
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        (void)unlink(tmp);
    return rc;
}

int agent_state_load(const char *dir, struct agent_state *st)
{
    char line[LINE_BYTES], word[16], text[65];
    uint64_t a, b;
    FILE *f;

    memset(st, 0, sizeof(*st));
    if (!(f = open_in(dir, "state")))
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "scanlog %" SCNu64 " %" SCNu64, &a, &b) == 2) {
            st->scanlog = (struct agent_scanlog_pos){.inode = a, .offset = b};
            st->have_scanlog = true;
        } else if (sscanf(line, "last_scan %15s %" SCNu64 " %" SCNu64, word, &a, &b) == 3) {
            memcpy(st->last_scan_type, word, sizeof(word));
            st->last_scan_inode = a;
            st->last_scan_summary = b;
            st->have_scan = true;
        } else if (sscanf(line, "net_fp %64s", text) == 1) {
            memcpy(st->net_fp, text, sizeof(text));
            st->have_net_fp = true;
        } else if (strcmp(line, "usb_known") == 0) {
            st->have_usb = true;
        } else if (strncmp(line, "usb ", 4) == 0 && st->n_usb < AGENT_USB_MAX &&
                   strlen(line + 4) < AGENT_USB_KEY_MAX) {
            memcpy(st->usb[st->n_usb++], line + 4, strlen(line + 4) + 1);
        }
    }
    fclose(f);
    return 0;
}

static void write_state(FILE *f, const void *arg)
{
    const struct agent_state *st = arg;

    fprintf(f, "# hallgw-agent state; rewritten by the agent\n");
    if (st->have_scanlog)
        fprintf(f, "scanlog %" PRIu64 " %" PRIu64 "\n", st->scanlog.inode, st->scanlog.offset);
    if (st->have_scan)
        fprintf(f, "last_scan %s %" PRIu64 " %" PRIu64 "\n", st->last_scan_type,
                st->last_scan_inode, st->last_scan_summary);
    if (st->have_net_fp)
        fprintf(f, "net_fp %s\n", st->net_fp);
    if (st->have_usb)
        fprintf(f, "usb_known\n");
    for (size_t i = 0; i < st->n_usb && i < AGENT_USB_MAX; i++)
        fprintf(f, "usb %s\n", st->usb[i]);
}

int agent_state_save(const char *dir, const struct agent_state *st)
{
    return write_atomic(dir, "state", write_state, st);
}

int agent_state_load_nonces(const char *dir, struct cmdsign_replay *rc, int64_t now)
{
    char line[LINE_BYTES], nonce[CMDSIGN_NONCE_MAX + 1];
    long long expires;
    int n = 0;
    FILE *f = open_in(dir, "nonces");

    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "%128s %lld", nonce, &expires) == 2 &&
            cmdsign_replay_check_and_add(rc, nonce, expires, now) == 0 && expires > now)
            n++;
    fclose(f);
    return n;
}

static void write_nonce(void *ctx, const char *nonce, int64_t expires)
{
    fprintf(ctx, "%s %lld\n", nonce, (long long)expires);
}

static void write_nonces(FILE *f, const void *arg)
{
    cmdsign_replay_foreach(arg, write_nonce, f);
}

int agent_state_save_nonces(const char *dir, const struct cmdsign_replay *rc)
{
    return write_atomic(dir, "nonces", write_nonces, rc);
}
