#include "cli_notify.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "httpclient.h"
#include "notifier.h"

static void usage(FILE *f)
{
    fputs("Usage: hallgw notify test ROUTE [-c FILE]\n"
          "\n"
          "Sends one test message on the notification route ROUTE of the configuration\n"
          "(a made-up firing alert \"test:hallgw\", through the route's template, signed as\n"
          "the route says), once and now, and prints what the far end answered: the HTTP\n"
          "status and body of a webhook, with the robot's own error code when it gives\n"
          "one (WeCom, DingTalk errcode; Feishu code), or the SMTP server's refusal.\n"
          "\n"
          "  -c, --config FILE  the gateway's configuration (default /etc/hallgw/hallgw.conf)\n"
          "  -h, --help         this help\n"
          "\n"
          "Exit status: 0 sent, 1 refused or unreachable, 2 usage error or no such route.\n",
          f);
}

int cli_notify(int argc, char **argv, const char *default_config)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = default_config;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    static const char *const verbs[] = {"test", NULL};
    if (cli_verb("notify", optind < argc ? argv[optind] : NULL, verbs) < 0)
        return 2;
    if (argc - optind != 2) {
        fprintf(stderr, "hallgw notify test: give the route's name (hallgw notify --help)\n");
        return 2;
    }
    const char *route = argv[optind + 1];
    struct config *cfg = cli_load_config(path);
    if (!cfg)
        return 2;
    char answer[512];
    int rc = http_global_init() < 0 ? -EIO : notifier_test(cfg, route, answer, sizeof(answer));
    config_free(cfg);
    if (rc == -ENOENT) {
        fprintf(stderr, "hallgw notify test: no route named \"%s\" in %s\n", route, path);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "hallgw notify test: %s: not sent: %s\n", route, answer);
        return 1;
    }
    printf("%s: sent; the far end answered %s\n", route, answer[0] ? answer : "OK");
    return 0;
}
