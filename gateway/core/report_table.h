/* Private to the report's rendering (report_table.c, report_render.c): a
 * writer of headings, notes, key-value lists and tables that knows the three
 * formats, so each section of the report is written once. Nothing else may
 * include this header.
 *
 * md and html: headings in Chinese with the English in smaller type, "-" for
 * an empty or unknown value. csv (RFC 4180, CRLF): no headings or notes; a
 * block per table whose first row is the header and whose rows start with the
 * table's section name and the hall id; machine-readable values (ISO 8601
 * times, whole seconds, ratios as 0..1). */
#ifndef HALLGW_REPORT_TABLE_H
#define HALLGW_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* A column of a table. */
struct report_col {
    const char *zh, *en; /* md, html */
    const char *csv;     /* csv header */
    bool num;            /* right-aligned */
    char only;           /* 0: every format; 'c': csv only; 't': md and html only */
};

struct report_writer {
    const struct report *r;
    enum report_format f;
    FILE *out;
    bool show_hall; /* md, html: a hall column when several halls are reported */
    /* the table being written */
    const char *section; /* csv: the first field of each row */
    const struct report_col *cols;
    size_t n_cols, cell;
};

/* html: the page's start, up to <body>: its title ("title label — the
 * halls' names"), the print style (A4) and style (may be NULL) after it.
 * Nothing in md and csv. */
void report_page_begin(struct report_writer *w, const char *title, const char *label,
                       const char *style);
/* html: closes the page. Then, in every format: 0, or -EIO when the output
 * could not be written. */
int report_page_end(struct report_writer *w);

/* A local time of r: "HH:MM:SS" on the report's day, else "YYYY-MM-DD HH:MM". */
void report_local_time(const struct report *r, wall_s t, char *buf, size_t size);
/* ISO 8601 with the zone's offset: 2026-01-05T09:00:00+08:00. */
void report_iso_time(wall_s t, char *buf, size_t size);
/* The name of hall id in r; id itself when r has no such hall. */
const char *report_hall_name(const struct report *r, const char *id);

/* ---- headings and remarks (nothing in csv) ------------------------------- */

/* A heading of level 2 or 3 ("二、窗口在岗情况" and "Window staffing") and the
 * regulation it checks (rule, may be NULL). Level 2 opens an html <section>,
 * on a new printed page when new_page. */
void report_heading(struct report_writer *w, int level, const char *zh, const char *en,
                    const char *rule, bool new_page);
/* Closes the html <section> of the last level 2 heading. */
void report_section_end(struct report_writer *w);
/* A remark: no rows, or why the data is missing (detail, escaped; may be
 * NULL); warn marks it as a problem. */
void report_note(struct report_writer *w, const char *zh, const char *en, const char *detail,
                 bool warn);
/* The remark for a source that could not be read or is not configured;
 * nothing when it was read. */
void report_status_note(struct report_writer *w, const struct report_status *st);
/* One line of a key-value list (md) or of a <table class="kv"> (html, whose
 * <table> the caller opens and closes); value is escaped. */
void report_kv(struct report_writer *w, const char *zh, const char *en, const char *value);

/* ---- tables -------------------------------------------------------------- */

/* Whether to write a table of n rows whose data was readable or not: always
 * in csv (the header row says which columns a block has); in md and html
 * only with rows of readable data, and with a remark zh en when there are
 * none. */
bool report_table_wanted(struct report_writer *w, bool readable, size_t n, const char *zh,
                         const char *en);
/* Starts a table (csv: a block whose rows start with section) with a hall
 * column first in csv, and in md and html when w->show_hall. cols must
 * outlive the table. */
void report_table_begin(struct report_writer *w, const char *section, const struct report_col *cols,
                        size_t n);
/* Starts a row, with the hall cell where there is one (csv: the id; md,
 * html: its name). Then one report_cell_*() per column, in order, then
 * report_row_end(). */
void report_row_begin(struct report_writer *w, const char *hall);
void report_row_end(struct report_writer *w);
void report_table_end(struct report_writer *w);

/* ---- cells: each fills the next column (passed over when the column is not
 * shown in this format) ----------------------------------------------------- */

/* Text; "" or NULL is shown as "-" (md, html) and left empty (csv). */
void report_cell_text(struct report_writer *w, const char *s);
/* A Chinese label and the English (or machine) value: md/html
 * "已确认 acknowledged", csv "acknowledged". Without zh, like a text cell. */
void report_cell_label(struct report_writer *w, const char *zh, const char *value);
/* A number already formatted (shown); csv gets csv (machine form) when not
 * NULL, never formula-guarded. */
void report_cell_num(struct report_writer *w, const char *shown, const char *csv);
/* Seconds: minutes with one decimal (md, html), whole seconds (csv); "-" and
 * empty when not known. */
void report_cell_minutes(struct report_writer *w, double s, bool known);
/* Seconds as a duration ("1h05m"; csv whole seconds); "-" and empty when not
 * known. */
void report_cell_duration(struct report_writer *w, double s, bool known);
/* A unix time: report_local_time() (md, html), report_iso_time() (csv);
 * "-" and empty when t is 0. */
void report_cell_time(struct report_writer *w, wall_s t);
/* The age of `at` at `until` as a duration, "(超期 overdue)" when over
 * max_age_s (0: no limit); "-" and empty when at is 0. */
void report_cell_age(struct report_writer *w, double at, double until, double max_age_s);
/* The ratio part / whole: report_format_ratio() (md, html), 0..1 with four
 * decimals, at most 1 (csv); "-" and empty when not known or whole is 0. */
void report_cell_ratio(struct report_writer *w, double part, double whole, bool known);
/* A value as %g; "-" and empty when not known. */
void report_cell_value(struct report_writer *w, double v, bool known);
void report_cell_count(struct report_writer *w, size_t n);
/* A count; "-" and empty when not known (its source could not be read). */
void report_cell_count_known(struct report_writer *w, size_t n, bool known);

#endif
