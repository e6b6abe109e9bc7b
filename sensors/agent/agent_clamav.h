/* hallgw-agent's view of ClamAV: the signature database's version and build
 * time (from the .cvd/.cld headers, without running freshclam), the last
 * scan summary in a clamscan log, and the log's new "FOUND" lines.
 *
 * Parsing functions are pure; the others read files and never log. */
#ifndef HALLGW_AGENT_CLAMAV_H
#define HALLGW_AGENT_CLAMAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_CLAMAV_PATH_MAX 1024
#define AGENT_CLAMAV_SIG_MAX 256

/* ---- signature database ------------------------------------------------- */

struct agent_clamav_db {
    int version;        /* the daily database's version (main's if there is no daily) */
    int64_t build_time; /* unix seconds */
};

/* Parses "14 Mar 2023 07-25 -0400" (a .cvd header's build time). Returns 0
 * and unix seconds in *out, or -EINVAL. */
int agent_clamav_parse_build_time(const char *s, int64_t *out);

/* Parses a header "ClamAV-VDB:<build time>:<version>:<sigs>:<level>:<md5>:
 * <dsig>:<builder>:<stime>" (the first 512 bytes of a .cvd or .cld file, space
 * padded). The build time falls back to stime when the text does not parse.
 * Returns 0 or -EINVAL. */
int agent_clamav_parse_header(const char *hdr, size_t len, struct agent_clamav_db *out);

/* The newest of db_dir/daily.cld and db_dir/daily.cvd (by version), else of
 * main.cld and main.cvd. -ENOENT when there is none. */
int agent_clamav_db_read(const char *db_dir, struct agent_clamav_db *out);

/* ---- scan log ----------------------------------------------------------- */

struct agent_scan_summary {
    int64_t start;   /* "Start Date: yyyy:mm:dd hh:mm:ss", local time; 0 if absent */
    int64_t end;     /* "End Date: ...", 0 if absent */
    int threats;     /* "Infected files: N"; -1 if absent */
    uint64_t offset; /* of the "----------- SCAN SUMMARY -----------" line */
    uint64_t inode;  /* of the log */
};

/* The last scan summary of the log at or after offset from (only the last
 * 256 KiB are read). Returns 0, -ENOENT (no log, or no summary there) or
 * another negative errno. */
int agent_clamav_last_summary(const char *log_path, uint64_t from, struct agent_scan_summary *out);

/* Parses "<path>: <signature> FOUND", also with a clamd/clamonacc log prefix
 * ("Tue Mar 14 10:00:00 2023 -> "). Returns true and fills path and sig. */
bool agent_clamav_parse_found(const char *line, char *path, size_t path_size, char *sig,
                              size_t sig_size);

/* Where the follower is in the log. inode 0: the log did not exist. */
struct agent_scanlog_pos {
    uint64_t inode, offset;
};

/* Calls on_found for each complete "FOUND" line after pos, reading at most
 * max_bytes, and advances pos past the last complete line read. A log that
 * was replaced (another inode) or truncated is read from its start; lines
 * longer than 8 KiB are skipped. Returns the number of FOUND lines, or a
 * negative errno (-ENOENT: no log, pos then says so). */
int agent_clamav_follow(const char *log_path, struct agent_scanlog_pos *pos, size_t max_bytes,
                        void (*on_found)(void *ctx, const char *path, const char *sig), void *ctx);

/* The log's current end, to start following from there: 0 and *pos, or
 * -ENOENT (then pos is {0, 0}: a log that appears later is read whole). */
int agent_clamav_log_end(const char *log_path, struct agent_scanlog_pos *pos);

#endif
