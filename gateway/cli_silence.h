/* hallgw silence add|list|expire: silences in the state store. The running
 * gateway reads them again within 10 seconds. */
#ifndef HALLGW_CLI_SILENCE_H
#define HALLGW_CLI_SILENCE_H

/* Returns the process exit code. argv[0] is "silence". */
int cli_silence(int argc, char **argv, const char *default_config);

#endif
