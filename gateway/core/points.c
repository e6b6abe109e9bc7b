#include "points.h"

int points_alert(struct buf *b, const struct alert *a, enum alert_transition t, wall_s wall)
{
    struct lp_tag tags[] = {{"hall", a->hall},     {"window", a->window},
                            {"device", a->device}, {"kind", config_kind_name(a->kind)},
                            {"rule", a->rule},     {"severity", config_severity_name(a->severity)}};
    struct lp_field fields[8];
    size_t nf = 0;
    fields[nf++] = (struct lp_field){.key = "alert_id", .type = LP_STRING, .s = a->id};
    fields[nf++] =
        (struct lp_field){.key = "state", .type = LP_STRING, .s = alert_state_name(a->state)};
    fields[nf++] =
        (struct lp_field){.key = "transition", .type = LP_STRING, .s = alert_transition_name(t)};
    fields[nf++] = (struct lp_field){.key = "summary", .type = LP_STRING, .s = a->summary};
    fields[nf++] = (struct lp_field){.key = "active", .type = LP_BOOL, .b = alert_is_active(a)};
    if (a->has_value)
        fields[nf++] = (struct lp_field){.key = "value", .type = LP_FLOAT, .f = a->value};
    const char *by = t == AT_RESOLVED && a->resolved_by[0] ? a->resolved_by : a->acked_by;
    if (by[0])
        fields[nf++] = (struct lp_field){.key = "by", .type = LP_STRING, .s = by};
    if (a->note[0])
        fields[nf++] = (struct lp_field){.key = "note", .type = LP_STRING, .s = a->note};
    return lineproto_append(b, "alert", tags, sizeof(tags) / sizeof(tags[0]), fields, nf,
                            wall_ns(wall));
}

int points_window(struct buf *b, const struct config_hall *h, const struct config_window *w,
                  bool open, int presence, double waiting, wall_s wall)
{
    struct lp_tag tags[] = {{"hall", h->id}, {"window", w->id}};
    struct lp_field fields[4];
    size_t nf = 0;
    fields[nf++] = (struct lp_field){.key = "open", .type = LP_BOOL, .b = open};
    if (presence >= 0) {
        fields[nf++] = (struct lp_field){.key = "staffed", .type = LP_BOOL, .b = presence == 1};
        /* 1 while open and staffed, 0 while open and empty: mean() is the staffed ratio. */
        if (open)
            fields[nf++] = (struct lp_field){
                .key = "staffed_open", .type = LP_FLOAT, .f = presence == 1 ? 1.0 : 0.0};
    }
    if (waiting >= 0)
        fields[nf++] = (struct lp_field){.key = "waiting", .type = LP_FLOAT, .f = waiting};
    return lineproto_append(b, "window", tags, 2, fields, nf, wall_ns(wall));
}

int points_poweroff(struct buf *b, const char *hall, const char *window, const char *device,
                    const char *kind, const char *step, bool ok, const char *detail, int64_t ts_ns)
{
    struct lp_tag tags[] = {{"hall", hall}, {"window", window}, {"device", device}, {"kind", kind}};
    struct lp_field fields[] = {
        {.key = "step", .type = LP_STRING, .s = step},
        {.key = "ok", .type = LP_BOOL, .b = ok},
        {.key = "detail", .type = LP_STRING, .s = detail},
    };
    return lineproto_append(b, "poweroff", tags, 4, fields, 3, ts_ns);
}
