/* hallgw-agent's state across restarts, in files under state_dir:
 *
 *   state   where the scan log was read up to, the agent's own last scan,
 *           the last network fingerprint and the USB storage devices seen,
 *           so a restart neither repeats events nor misses changes made
 *           while it was down
 *   nonces  the replay cache: nonces of accepted commands until they expire,
 *           so a command can not be replayed across a restart (or a reboot)
 *
 * Text files of "key value" lines, written to a temporary file and renamed. */
#ifndef HALLGW_AGENT_STATE_H
#define HALLGW_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_clamav.h"

#define AGENT_USB_MAX 32
#define AGENT_USB_KEY_MAX 160

struct cmdsign_replay;

struct agent_state {
    bool have_scanlog; /* false on the first run: the log is read from its end */
    struct agent_scanlog_pos scanlog;
    bool have_scan; /* the agent ran a scan and its summary is at last_scan_summary */
    char last_scan_type[16];
    uint64_t last_scan_inode, last_scan_summary;
    bool have_net_fp;
    char net_fp[65];
    bool have_usb; /* false on the first run: the devices present are the baseline */
    char usb[AGENT_USB_MAX][AGENT_USB_KEY_MAX];
    size_t n_usb;
};

/* Reads dir/state into st (zeroed first). -ENOENT when there is none yet;
 * unknown or bad lines are skipped. */
int agent_state_load(const char *dir, struct agent_state *st);
int agent_state_save(const char *dir, const struct agent_state *st);

/* Adds the unexpired nonces of dir/nonces to rc. Returns how many, or a
 * negative errno (-ENOENT: none saved). */
int agent_state_load_nonces(const char *dir, struct cmdsign_replay *rc, int64_t now);
int agent_state_save_nonces(const char *dir, const struct cmdsign_replay *rc);

#endif
