/* hallgw override: keep a PC (or plug) on past the nightly power-off, with a
 * reason and an end ("keep pc-w03 on until 21:00, reason: overtime"). Writes
 * the state store directly; the running gateway reads it before it acts. */
#ifndef HALLGW_CLI_OVERRIDE_H
#define HALLGW_CLI_OVERRIDE_H

/* Returns the process exit code. argv[0] is "override". */
int cli_override(int argc, char **argv, const char *default_config);

#endif
