/* The periodic assessment (考核) of a week or a month: the daily record's
 * figures (struct report, report_data.c) of each day of the period added up
 * per window and per hall, with the same definitions, plus the waiting time
 * of the queue systems, which the daily record does not show.
 *
 * Pure: the days' reports and the queue readings are handed in by
 * gateway/report_period_gather.c; report_period_render.c writes the result
 * in Markdown, HTML (with inline SVG charts) or CSV. Times are wall_s; local
 * dates are days since 1970-01-01 (report_local_day()). */
#ifndef HALLGW_REPORT_PERIOD_H
#define HALLGW_REPORT_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "report.h"

#define PERIOD_DAYS_MAX 31
#define PERIOD_WAIT_MAX                                                                            \
    262144 /* (value, seconds) runs kept per queue; more are counted, not kept */
#define PERIOD_LOOKBACK_S 900.0 /* a queue reading this old at opening is still in effect */

enum period_kind { PERIOD_WEEK, PERIOD_MONTH };

/* The waiting time of one queue source over the period's opening hours: the
 * queue system's longest_wait_s, a reading holding until the next one, as
 * runs of (value, seconds). */
struct period_wait_run {
    double value, s;
};
struct period_wait {
    struct period_wait_run *runs;
    size_t n, cap;
    size_t dropped;   /* runs not kept (PERIOD_WAIT_MAX): p90 is then of the kept ones */
    double covered_s; /* seconds with a reading in effect */
    double sum;       /* of value * seconds: mean = sum / covered_s */
    double max;       /* the highest reading in effect; valid when covered_s > 0 */
};

/* One reading of a queue. */
struct period_reading {
    wall_s at;
    double value;
};

/* Adds one stretch [from, to) of opening hours: readings[] are those at
 * from <= at < to, oldest first; has_before/before the last reading in the
 * PERIOD_LOOKBACK_S before from. Each reading holds until the next one or
 * the end of the stretch; the one before holds from `from` to the first
 * one. Returns 0 or -ENOMEM. */
int period_wait_add(struct period_wait *w, wall_s from, wall_s to, bool has_before, double before,
                    const struct period_reading *readings, size_t n);
/* The time-weighted quantile q (0 < q <= 1): the smallest value v such that
 * the seconds with a value <= v are at least q of the covered seconds.
 * Sorts the runs. False when nothing was covered. */
bool period_wait_quantile(struct period_wait *w, double q, double *out);
void period_wait_free(struct period_wait *w);

/* One window's figures over the period. */
struct period_window {
    char hall[REPORT_ID_MAX], id[REPORT_ID_MAX];
    char name[REPORT_TEXT_MAX];
    char queue[REPORT_ID_MAX]; /* its own queue device; "" when none (the hall's) */
    char pc[REPORT_ID_MAX];    /* its PC; "" when none */
    bool has_seat;
    double scheduled_s, open_s, staffed_s; /* sums of the daily record's */
    size_t incidents;                      /* unstaffed alerts fired */
    double day_open_s[PERIOD_DAYS_MAX], day_staffed_s[PERIOD_DAYS_MAX];
    bool day_known[PERIOD_DAYS_MAX]; /* the day's staffing was read */
    struct period_wait wait;
    /* PC compliance, from the record's section 6 at the end of each open day */
    size_t pc_days;           /* open days with a PC row */
    size_t pc_days_ok;        /* of which scan and signatures within max_age, no threat event */
    size_t scan_overdue_days; /* scan older than its max_age (or never) */
    size_t sig_old_days;      /* signatures older than their max_age (or never) */
    size_t threat_events, usb_events;
    size_t net_changes, net_approved; /* baseline alerts of the PC fired; of which approved
                                       * (resolved by a person: only an approval does) */
    /* power-off, from the record's section 5 */
    size_t nights;    /* days with power-off records for the window's PC or plug */
    size_t nights_ok; /* of which with no failed record */
};

/* One hall's figures. */
struct period_hall {
    char id[REPORT_ID_MAX];
    struct period_wait wait; /* the hall's queue devices that belong to no window */
    bool has_queue;
};

/* An environment metric of a hall over the period's opening hours, all its
 * sensors together. */
struct period_env {
    char hall[REPORT_ID_MAX], metric[REPORT_ID_MAX];
    bool has_above, has_below;
    double above, below;     /* the tightest limits of the sensors' rows */
    double covered_s, out_s; /* compliance = 1 - out_s / covered_s */
    bool has_range;
    double max, min;
};

/* Alerts of one severity in one hall that fired in the period. */
struct period_alerts {
    char hall[REPORT_ID_MAX], severity[16];
    size_t fired;
    size_t acked, resolved;          /* of which acknowledged, resolved (in the period) */
    double ack_sum_s, resolve_sum_s; /* means: sum / count */
};

struct period {
    enum period_kind kind;
    char label[32];            /* "2026-W47" or "2026-11" */
    int32_t first_day, n_days; /* local days */
    wall_s start, end;         /* [first day 00:00, day after the last 00:00) */
    wall_s until;              /* min(end, now) */
    bool current;              /* the period is not over: figures up to now */
    size_t days_done;          /* days gathered (those up to now) */
    size_t open_days;          /* of which with opening hours */
    bool day_open[PERIOD_DAYS_MAX];
    char day_hours[PERIOD_DAYS_MAX][REPORT_TEXT_MAX / 4]; /* "09:00-12:00, ..."; "" closed */
    struct report head; /* the halls, zone, gateway, generated_at (no rows): for rendering */
    /* how the sources went, over all days: the first failure of each is kept */
    struct report_status store, staffing, environment, poweroff, av, waiting;
    size_t days_unread; /* days of which some part could not be read */
    struct period_window *windows;
    size_t n_windows;
    struct period_hall *halls;
    size_t n_halls;
    struct period_env *env;
    size_t n_env, cap_env;
    struct period_alerts *alerts;
    size_t n_alerts, cap_alerts;
    /* private: the period's alert transitions (firing, acknowledged,
     * resolved) until report_period_finish() counts them */
    struct record_alert *trans;
    size_t n_trans, cap_trans;
};

/* The period of `kind` containing local day `day`: Monday to Sunday, or the
 * calendar month. */
void report_period_bounds(enum period_kind kind, int32_t day, int32_t *first, int32_t *n_days);
/* "week" or "month"; -1 when neither. */
int report_period_kind_parse(const char *s);

/* Starts *p (which it clears) for the period of `kind` containing `day`, of
 * the halls of cfg (hall_id alone when not NULL), figures up to now: the
 * windows and halls. The process's zone is the gateway's. Returns 0 or
 * -ENOMEM; *p must be freed either way. */
int report_period_begin(struct period *p, const struct config *cfg, const char *hall_id,
                        enum period_kind kind, int32_t day, wall_s now);
/* Adds one day's record (r->day_start within the period). Returns 0 or
 * -ENOMEM. */
int report_period_add_day(struct period *p, const struct config *cfg, const struct report *r);
/* Counts the alerts by severity from the transitions added. 0 or -ENOMEM. */
int report_period_finish(struct period *p, const struct config *cfg);
void report_period_free(struct period *p); /* NULL does nothing */

/* The window's or hall's waiting source for a queue device d: the window's
 * own struct, or the hall's (NULL when d is not reported on). */
struct period_wait *report_period_wait_of(struct period *p, const struct config_device *d);

/* Writes p in format f (the waiting runs are sorted in place; the figures do
 * not change). 0, or -EIO on a write error. (report_period_render.c) */
int report_period_render(struct period *p, enum report_format f, FILE *out);

/* hallgw report --period (gateway/report_period_gather.c): fills *p from the
 * alert history and InfluxDB, the daily record's gathering for each day up
 * to now. 0, -EIO when nothing could be read (p is still filled), -ENOMEM. */
int report_period_gather(const struct config *cfg, const char *hall_id, enum period_kind kind,
                         int32_t day, wall_s now, struct period *p);

#endif
