/* hallgw: the gateway daemon and its command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_devices.h"
#include "cli_override.h"
#include "cli_notify.h"
#include "cli_people.h"
#include "cli_silence.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "report.h"

#define DEFAULT_CONFIG "/etc/hallgw/hallgw.conf"

static void usage(FILE *f)
{
    fputs("Usage: hallgw [-c FILE] [-v]\n"
          "       hallgw --check-config FILE\n"
          "       hallgw alerts [-c FILE] [--active] [--hall H] [--date YYYY-MM-DD]\n"
          "       hallgw ack ALERT_ID --by NAME [--note TEXT] [--resolve] [--hall H] [-c FILE]\n"
          "       hallgw override add|list|remove [DEVICE] [...] [-c FILE]\n"
          "       hallgw report [--date YYYY-MM-DD] [--hall H] [--format md|html|csv] [-c FILE]\n"
          "       hallgw report --period week|month [--date D] [--hall H] [--format F] [-c FILE]\n"
          "       hallgw user add|passwd|role|disable|enable|list [NAME] [...] [-c FILE]\n"
          "       hallgw token add|list|revoke [ACCOUNT|ID] [--label TEXT] [-c FILE]\n"
          "       hallgw audit [--from YYYY-MM-DD] [--to YYYY-MM-DD] [-c FILE]\n"
          "       hallgw silence add|list|expire [ID] [--device D] [--for DURATION] [...]\n"
          "       hallgw notify test ROUTE [-c FILE]\n"
          "       hallgw devices --unbound [--json] [-c FILE]\n"
          "\n"
          "hallgw turns the MQTT traffic of a public service hall (seat sensors, queue\n"
          "systems, environment sensors, printers, smart plugs, PC agents) into a live\n"
          "hall model and InfluxDB data. It runs in the foreground and logs to stderr;\n"
          "systemd does the rest.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE        configuration file (default " DEFAULT_CONFIG ")\n"
          "      --check-config FILE  validate FILE, print every error as\n"
          "                           FILE:LINE: key: message, and exit\n"
          "  -v, --verbose            log debug messages too\n"
          "  -V, --version            print the version and exit\n"
          "  -h, --help               print this help and exit\n"
          "\n"
          "Commands (each has its own --help):\n"
          "  alerts   list active alerts or the day's alert history (the patrol record)\n"
          "  ack      acknowledge or resolve an alert, with who and a handling note\n"
          "  override keep a PC on past the nightly power-off, until a time, with a reason\n"
          "  report   the daily inspection record (巡查记录) as Markdown, HTML or CSV, or\n"
          "           with --period the week's or month's assessment (考核)\n"
          "  user     the accounts people sign in with, and their roles\n"
          "  token    API tokens of accounts, for scripts and Prometheus\n"
          "  audit    the log of what people did: sign-ins, acks, approvals, overrides\n"
          "  silence  hold back the notifications of matching alerts for a while\n"
          "  notify   send a test message on a notification route, show the answer\n"
          "  devices  --unbound: devices on the broker no device's source names yet\n"
          "\n"
          "Signals:\n"
          "  SIGHUP          reload the configuration; a bad new one keeps the old running\n"
          "  SIGTERM, SIGINT stop: disconnect, write or spool every accepted message, exit\n"
          "\n"
          "Exit status: 0 on a clean stop or a valid config, 1 on a runtime failure,\n"
          "2 on an invalid configuration or usage.\n"
          "\n"
          "See hallgw(8) and hallgw.conf(5); docs/ in the source tree has the rest.\n",
          f);
}

static int check_config(const char *path)
{
    struct config *cfg = NULL;
    struct conf_errors errs = {0};
    if (config_load(path, &cfg, &errs) < 0) {
        conf_errors_print(&errs, stderr);
        fprintf(stderr, "%s: %zu error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
        conf_errors_free(&errs);
        return 2;
    }
    printf("%s: OK (%zu halls, %zu devices)\n", path, cfg->n_halls, cfg->n_devices);
    config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"check-config", required_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config_path = DEFAULT_CONFIG;
    int c;
    if (argc > 1 && strcmp(argv[1], "alerts") == 0)
        return cli_alerts(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "ack") == 0)
        return cli_ack(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "override") == 0)
        return cli_override(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return report_cli(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "user") == 0)
        return cli_user(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return cli_token(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "audit") == 0)
        return cli_audit(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "notify") == 0)
        return cli_notify(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "silence") == 0)
        return cli_silence(argc - 1, argv + 1, DEFAULT_CONFIG);
    if (argc > 1 && strcmp(argv[1], "devices") == 0)
        return cli_devices(argc - 1, argv + 1, DEFAULT_CONFIG);
    while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            return check_config(optarg);
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'V':
            printf("hallgw %s\n", HALLGW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallgw: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return gateway_run(config_path);
}
