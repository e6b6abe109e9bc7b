/* The daily inspection record (巡查记录): `hallgw report`.
 *
 * Its parts, each in its own file:
 * - report_data.c (pure) makes the record's figures from the day's data:
 *   the periods of the schedule, the incidents and equipment alerts of the
 *   alert history, each section's rows folded from the readings;
 * - gateway/report_gather.c reads that data for one local day from the
 *   alert history (the state store, SQLite) and from InfluxDB, asked
 *   through the InfluxQL client of report_query.c;
 * - report_render.c turns a struct report into Markdown, HTML or CSV: pure
 *   functions of the struct (and of the process's time zone, for local
 *   times), so they are tested with hand-built reports; its sections are
 *   written once for the three formats with the writer of report_table.c
 *   (escaping, value formatting, headings, notes, tables);
 * - gateway/report.c is the command line.
 *
 * Times are wall_s (unix seconds); local times are shown in the process's
 * zone, which the command sets from gateway.timezone before anything else.
 * Every string is UTF-8, NUL-terminated, owned by the struct. */
#ifndef HALLGW_REPORT_H
#define HALLGW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alert.h"
#include "config.h"
#include "record.h"

#define REPORT_ID_MAX 65    /* ids are [A-Za-z0-9_.-]{1,64} */
#define REPORT_TEXT_MAX 256 /* names, statuses, free text (longer ones are cut) */

enum report_format { REPORT_MD, REPORT_HTML, REPORT_CSV };

/* Whether a section's data could be read. */
enum report_source {
    REPORT_SRC_OK,         /* read (possibly empty) */
    REPORT_SRC_UNREADABLE, /* the source failed; why says how */
    REPORT_SRC_DISABLED,   /* InfluxDB is not configured (no influx block) */
};

struct report_status {
    enum report_source src;
    char why[REPORT_TEXT_MAX];
};

struct report_hall {
    char id[REPORT_ID_MAX];
    char name[REPORT_TEXT_MAX];
};

/* Section 2: one service window's staffing (不得擅离岗位). */
struct report_window {
    char hall[REPORT_ID_MAX], id[REPORT_ID_MAX];
    char name[REPORT_TEXT_MAX];
    bool has_seat;      /* no seat sensor: nothing is measured */
    bool lunch_duty;    /* expected staffed during breaks too */
    double scheduled_s; /* expected staffed by the schedule, day start to `until` */
    double open_s;      /* of which with a known seat state (InfluxDB "window" points) */
    double staffed_s;   /* of which staffed; the ratio is staffed_s / open_s */
    size_t incidents;   /* unstaffed alerts that fired this day (alert history) */
};

/* An unstaffed alert that fired this day, from the alert history. */
struct report_incident {
    char hall[REPORT_ID_MAX], window[REPORT_ID_MAX];
    char alert_id[ALERT_ID_MAX + 1];
    wall_s start;              /* fired */
    wall_s end;                /* resolved; 0 when not resolved by `until` */
    char by[REPORT_ID_MAX];    /* who acknowledged or resolved it; "" when nobody */
    char note[ALERT_TEXT_MAX]; /* the handling note; "" when none */
};

/* Section 3: one environment device and metric with a threshold rule
 * (整洁、舒适、安全, 通风良好), over the day's opening hours. */
struct report_env {
    char hall[REPORT_ID_MAX], device[REPORT_ID_MAX];
    char metric[REPORT_ID_MAX];
    char rules[REPORT_TEXT_MAX]; /* the rule names, ", " between */
    bool has_above, has_below;   /* out of range: > above or < below */
    double above, below;
    double covered_s; /* opening-hours seconds with a reading in effect */
    double out_s;     /* of which out of range */
    bool has_range;   /* max and min are set */
    double max, min;  /* of the readings in effect during opening hours */
};

/* Section 4: a period in which an equipment's status was not "ok"
 * (设施完好). */
struct report_fault {
    char hall[REPORT_ID_MAX], device[REPORT_ID_MAX];
    char type[REPORT_ID_MAX];     /* the device's type from the config; "" if none */
    char status[REPORT_TEXT_MAX]; /* "paper_out", "offline", ... */
    wall_s start, end;            /* minute resolution */
    bool ongoing;                 /* still not ok at `until` */
};

/* Section 5: one PC's or plug's power-off record of the day
 * (下班后及时切断计算机外接电源), from the InfluxDB "poweroff" measurement. */
struct report_poweroff {
    char hall[REPORT_ID_MAX], device[REPORT_ID_MAX], window[REPORT_ID_MAX];
    char kind[16];   /* "pc" or "plug" */
    size_t records;  /* points of the day; 0: none for this device */
    size_t failures; /* of which ok = false */
    char last_step[REPORT_TEXT_MAX];
    wall_s last_at; /* 0 when no record */
    int last_ok;    /* the last record's ok: 1, 0, or -1 when unknown */
};

/* Section 6: one PC's antivirus state at the end of the day (定期进行病毒检测)
 * and its USB storage events (禁止泄露、外借专业数据信息). */
struct report_pc {
    char hall[REPORT_ID_MAX], device[REPORT_ID_MAX], window[REPORT_ID_MAX];
    wall_s last_scan;      /* av_last_scan, unix s, last value before `until`; 0: none */
    wall_s sig_updated;    /* av_sig_updated, likewise */
    double scan_max_age_s; /* from the max_age rule on av_last_scan; 0 when none */
    double sig_max_age_s;  /* from the max_age rule on av_sig_updated; 0 when none */
    double av_threats;     /* last av_threats reported; -1 when none */
    size_t threat_events;  /* threat_detected events this day */
    size_t usb_events;     /* usb_storage_inserted events this day */
};

/* A PC event of the day (threat_detected, usb_storage_inserted). */
struct report_event {
    char hall[REPORT_ID_MAX], device[REPORT_ID_MAX];
    char type[REPORT_ID_MAX];
    wall_s at;
    char detail[REPORT_TEXT_MAX]; /* "SanDisk Cruzer, serial 123", "Eicar: /tmp/x" */
};

struct report {
    char gateway_id[REPORT_ID_MAX];
    char timezone[REPORT_TEXT_MAX];
    char date[16];             /* YYYY-MM-DD */
    wall_s day_start, day_end; /* the local day [00:00, 24:00) */
    wall_s until;              /* min(day_end, generated_at) */
    wall_s generated_at;
    char opening_hours[REPORT_TEXT_MAX]; /* "09:00-12:00, 13:00-17:00"; "" when closed */

    struct report_hall *halls; /* the halls reported on */
    size_t n_halls;

    struct report_status store; /* the alert history: incidents, equipment alerts, section 7 */
    struct report_status staffing, environment, equipment, poweroff, av; /* InfluxDB */

    struct report_window *windows;
    size_t n_windows;
    struct report_incident *incidents;
    size_t n_incidents;
    struct report_env *env;
    size_t n_env;
    struct report_fault *faults;
    size_t n_faults;
    struct record_alert *equipment_alerts; /* alert transitions of equipment */
    size_t n_equipment_alerts;
    struct report_poweroff *poweroffs; /* empty with poweroff.src OK: no records that day */
    size_t n_poweroffs;
    struct report_pc *pcs;
    size_t n_pcs;
    struct report_event *events;
    size_t n_events;
    struct record_alert *alerts; /* section 7: every transition of the day, oldest first */
    size_t n_alerts;
    /* section 8, from the store too: what people did (the audit log, sign-ins
     * counted apart) and the silences in force at some time of the day */
    struct record_audit *actions;
    size_t n_actions;
    size_t sign_ins, sign_ins_failed;
    struct record_silence *silences;
    size_t n_silences;
    /* private: the arrays' room (report_data.c) */
    struct {
        size_t windows, incidents, env, faults, equipment_alerts, poweroffs, pcs, events;
    } caps;
};

/* ---- data (report_data.c: pure; gateway/report_gather.c reads the sources) */

/* Fills *out for the local day `day` (days since 1970-01-01 of a local date)
 * of the halls of cfg (only hall_id when not NULL; it must exist), reported
 * up to min(end of day, now). The process's zone must already be the
 * gateway's (setenv TZ, tzset). Each source that fails is noted in its
 * sections' status, not returned: the report is still whole. Returns 0, or
 * -EIO when nothing at all could be read (the alert history and InfluxDB
 * both failed or are absent: *out is still filled and must be freed),
 * -ENOMEM. http_global_init() must have been called. (report_gather.c) */
int report_gather(const struct config *cfg, const char *hall_id, int32_t day, wall_s now,
                  struct report *out);
void report_free(struct report *r); /* the arrays; NULL does nothing */

/* The local date of t, as days since 1970-01-01. */
int32_t report_local_day(wall_s t);
/* Local midnight of `day` and of the day after, as unix seconds (a DST day
 * is 23 or 25 hours long). */
void report_day_bounds(int32_t day, wall_s *start, wall_s *end);

/* Starts *r (which it clears) for the local day `day` up to min(end of day,
 * now): date, bounds, opening hours, the halls (hall_id alone when not
 * NULL) and their windows with the time each is expected staffed. Returns 0
 * or -ENOMEM. */
int report_begin(struct report *r, const struct config *cfg, const char *hall_id, int32_t day,
                 wall_s now);

void report_set_status(struct report_status *st, enum report_source src, const char *why);

/* True when hall is one of r's halls. */
bool report_hall_reported(const struct report *r, const char *hall);

struct report_period {
    wall_s from, to;
};
#define REPORT_PERIODS_MAX 48

/* The stretches of [from, to) in which the hall is open (window false) or a
 * window with lunch_duty is expected staffed (window true), adjacent ones
 * merged; at most max. Returns how many. */
size_t report_periods(const struct config_schedule *s, wall_s from, wall_s to, bool window,
                      bool lunch_duty, struct report_period *out, size_t max);

/* From r->alerts (the day's alert history): the unstaffed incidents, with
 * who handled them and how, each window's count of them, and the alerts of
 * equipment. Returns 0 or -ENOMEM. */
int report_sort_history(struct report *r, const struct config *cfg);

/* Section 3. True when a threshold rule gives d's readings a limit here. */
bool report_env_rule_covers(const struct config_rule *rule, const struct config_device *d);
/* Starts the row of d's metric with the tightest limits of the rules that
 * cover it; false when none sets a limit (no row). */
bool report_env_begin(struct report_env *e, const struct config *cfg, const struct config_device *d,
                      const char *metric);
/* What one opening period's readings say (the gatherer's questions). */
struct report_env_period {
    wall_s from;             /* the period's start */
    double out_s, covered_s; /* seconds out of range, with a reading in effect */
    bool has_hi_lo;          /* the period's highest and lowest reading */
    double hi, lo;
    wall_s first_at; /* the first reading in the period; its end when none */
    bool has_before; /* the reading in effect at the start */
    double before;
};
void report_env_add(struct report_env *e, const struct report_env_period *p);
/* Adds the row to r unless the device never measured the metric. */
int report_env_push(struct report *r, const struct report_env *e);

/* Section 4: an equipment's status over the day, step by step. */
struct report_fault_scan {
    const struct config_device *d;
    char status[REPORT_TEXT_MAX]; /* the status in effect; "" unknown */
    wall_s since;
};
bool report_status_ok(const char *s); /* "ok" or unknown */
void report_fault_scan_begin(struct report_fault_scan *fs, const struct config_device *d,
                             const char *status, wall_s since);
/* The status became status at `at`: a period that was not ok is a fault. */
int report_fault_step(struct report *r, struct report_fault_scan *fs, const char *status,
                      wall_s at);
/* The end of the day: a status still not ok is an ongoing fault. */
int report_fault_end(struct report *r, struct report_fault_scan *fs, wall_s until);

/* Section 5: a PC's or plug's record, and each power-off step of it (ok: 1,
 * 0, or -1 unknown; at 0 when unknown). */
struct report_poweroff *report_poweroff_add(struct report *r, const struct config_device *d);
void report_poweroff_step(struct report_poweroff *p, const char *step, int ok, wall_s at);

/* Section 6: a PC's row (its limits from the max_age rules) and its events. */
struct report_pc *report_pc_add(struct report *r, const struct config *cfg,
                                const struct config_device *d);
struct report_event *report_event_add(struct report *r, const struct config_device *d);

/* ---- rendering (report_render.c, report_table.c) ------------------------- */

/* Writes r in format f to out. Returns 0, or -EIO when out reports a write
 * error. */
int report_render(const struct report *r, enum report_format f, FILE *out);

/* "md", "markdown", "html", "csv"; -1 when unknown. */
int report_format_parse(const char *s);

/* Text escaped for HTML element content and attribute values (& < > " '). */
void report_html_escape(FILE *out, const char *s);
/* Text escaped for a Markdown table cell: markup characters backslashed, &
 * < > as entities, line breaks as <br>. */
void report_md_escape(FILE *out, const char *s);
/* One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF
 * or starts or ends with a space, quotes doubled. Text that a spreadsheet
 * would run as a formula (starting with = + - @ or a tab) gets a leading
 * apostrophe, inside the quotes. */
void report_csv_text(FILE *out, const char *s);

/* part / whole as a percentage with one decimal ("87.5%"), or "-" when whole
 * is 0 (nothing measured). */
void report_format_ratio(double part, double whole, char *buf, size_t size);
/* Seconds as minutes with one decimal ("472.5"). */
void report_format_minutes(double s, char *buf, size_t size);
/* A duration: "45s", "12m", "1h05m", "2d03h". */
void report_format_duration(double s, char *buf, size_t size);

/* ---- command line (report.c) --------------------------------------------- */

/* hallgw report: returns the process exit code. argv[0] is "report". */
int report_cli(int argc, char **argv, const char *default_config);

/* hallgw report --deliveries: the daily record's deliveries from the state
 * store, of local day `day` (0: the last 7 days up to now), as a table on
 * out. Returns the exit code: 0, or 1 when the store cannot be read.
 * (report_deliveries.c) */
int report_deliveries_print(const struct config *cfg, int32_t day, wall_s now, FILE *out);

/* "YYYY-MM-DD", "today" or "yesterday" (local dates at now) as a day for
 * report_gather(). 0, or -EINVAL. (report.c) */
int report_parse_day(const char *s, wall_s now, int32_t *day);

#endif
