/* hallgw devices --unbound: the devices on the broker that no device of the
 * config binds, as the running gateway last wrote them to
 * <state_dir>/unbound-devices.json (unbound_feed.h). */
#ifndef HALLGW_CLI_DEVICES_H
#define HALLGW_CLI_DEVICES_H

/* Returns the process exit code. argv[0] is "devices". */
int cli_devices(int argc, char **argv, const char *default_config);

#endif
