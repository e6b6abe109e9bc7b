/* Enforcement: virus scans ordered when they are overdue (enforce.h). A PC
 * whose max_age rule with action "scan" is overdue gets one signed "scan" a
 * day at the next allowed moment (enforce_time.h), and that rule's alert is
 * held pending (alerting_hold) until still_overdue_after has passed. */
#include "enforce_internal.h"

#include <stdio.h>
#include <string.h>

#include "alerting.h"
#include "enforce_time.h"
#include "rules.h"

/* How long a scan command is valid: the agent acts on it at once. */
#define SCAN_LIFETIME_S 900

static void order_scan(struct enforce *ef, const struct hm_device *d, struct pc_track *t,
                       wall_s wall)
{
    struct cmdsign_cmd cmd = {0};
    const char *why = "";
    int r = cmdsign_arg_str(&cmd, "type", config_scans_type_name(ef->cfg->scans.type));
    if (r == 0)
        r = enforce_send_signed(ef, &cmd, "sc", "scan", d->hall, d->id, SCAN_LIFETIME_S, wall,
                                &why);
    enforce_local_date(wall, t->scan_date);
    if (r < 0) {
        log_warn("scan of %s not ordered: %s", d->id, why);
        return;
    }
    snprintf(t->scan_cmd, sizeof(t->scan_cmd), "%s", cmd.id);
    log_notice("scan (%s) of %s ordered: %s", config_scans_type_name(ef->cfg->scans.type), d->id,
               cmd.id);
}

void enforce_scans_device(struct enforce *ef, const struct hm_device *d, wall_s wall,
                          bool may_order)
{
    const struct config *cfg = ef->cfg;
    if (!cfg->scans.enabled || d->kind != KIND_PC || !d->registered)
        return;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->enabled || r->type != RULE_MAX_AGE || !r->action || strcmp(r->action, "scan") ||
            !rules_scope_matches(r, d))
            continue;
        const struct hm_value *v = hallmodel_value(d, r->metric);
        struct pc_track *t = enforce_track(ef, d->id);
        /* A retained copy alone orders nothing (docs/enforcement.md). */
        if (!v || v->type != METRIC_NUMBER || v->retained || !t)
            continue;
        char alert_id[ALERT_ID_MAX + 1], today[11];
        snprintf(alert_id, sizeof(alert_id), "%s:%s", r->name, d->id);
        if (!enforce_scan_overdue(r, v->num, wall)) {
            t->scan_hold = 0;
            continue;
        }
        /* Overdue: quiet until the next allowed moment and the time to scan. */
        double quiet = (double)cfg->scans.still_overdue_after_ms / 1000.0;
        enforce_local_date(wall, today);
        if (t->scan_hold == 0 && strcmp(t->scan_date, today) != 0) {
            wall_s next = enforce_scan_next(cfg, wall);
            t->scan_hold = (next ? next : wall) + quiet;
            if (ef->io.alerting)
                alerting_hold(ef->io.alerting, d->hall, alert_id, t->scan_hold);
        }
        if (!may_order || strcmp(t->scan_date, today) == 0 || d->avail != AVAIL_ONLINE ||
            !enforce_scan_allowed(cfg, wall))
            continue;
        order_scan(ef, d, t, wall);
        t->scan_hold = wall + quiet;
        if (ef->io.alerting)
            alerting_hold(ef->io.alerting, d->hall, alert_id, t->scan_hold);
    }
}

struct scans_arg {
    struct enforce *ef;
    wall_s wall;
};

static void scans_one(struct hm_device *d, void *arg)
{
    struct scans_arg *a = arg;
    enforce_scans_device(a->ef, d, a->wall, true);
}

void enforce_scans_tick(struct enforce *ef, wall_s wall)
{
    struct scans_arg a = {ef, wall};
    hallmodel_foreach(ef->hm, scans_one, &a);
}
