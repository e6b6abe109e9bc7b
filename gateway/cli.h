/* The subcommands for people: hallgw alerts, hallgw ack, and the helpers
 * every subcommand shares. Each finds the state directory (and the broker,
 * for ack) through the config file. */
#ifndef HALLGW_CLI_H
#define HALLGW_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "clock.h"

struct config;
struct store;

/* Return the process exit code. argv[0] is the subcommand's name. */
int cli_alerts(int argc, char **argv, const char *default_config);
int cli_ack(int argc, char **argv, const char *default_config);

/* The config at path, or NULL with its errors printed (FILE:LINE: key). */
struct config *cli_load_config(const char *path);
/* The state store of cfg's state_dir, or NULL with the reason printed. */
struct store *cli_open_store(const struct config *cfg, bool readonly);
/* The person at the keyboard, as the audit log names them: "unix:<user>". */
void cli_unix_name(char *out, size_t size);
/* Appends an action of that person (from "cli") to the audit log; a failure
 * is a warning on standard error. */
void cli_audit_record(struct store *st, const char *action, const char *target, const char *detail);
/* The index of verb (the subcommand's first argument; NULL: none) in the
 * NULL-terminated verbs of command cmd, or -1 after printing what was
 * expected ("hallgw user: unknown command 'x'; expected add, ... or list"). */
int cli_verb(const char *cmd, const char *verb, const char *const *verbs);
/* t as local "YYYY-MM-DD HH:MM:SS", "-" for 0. */
void cli_fmt_time(wall_s t, char *buf, size_t size);

/* Terminal columns UTF-8 text s takes: East Asian wide and fullwidth
 * characters (汉字, 한글, fullwidth forms) count 2, others 1; a byte that is
 * not part of a valid UTF-8 sequence counts 1. Independent of the locale. */
size_t cli_text_width(const char *s);

/* Writes s into buf followed by spaces up to cols columns, for a table
 * column (printf's %-12s pads by bytes, not columns). s longer than the
 * buffer is cut at a character boundary. Returns buf, always terminated;
 * size must be at least 1. */
const char *cli_pad(char *buf, size_t size, const char *s, size_t cols);

#endif
