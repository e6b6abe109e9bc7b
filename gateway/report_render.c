/* The daily inspection record as Markdown, HTML or CSV: pure functions of a
 * struct report (local times in the process's zone).
 *
 * Each section is written once, through a small table writer that knows the
 * three formats: headings in Chinese with the English in smaller type (md,
 * html), or a block per section whose first row is the header (csv, RFC 4180
 * with CRLF, machine-readable values: ISO 8601 times, ratios as 0..1). */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* ---- escaping and formatting --------------------------------------------------- */

void report_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

void report_md_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '\r':
            if (s[1] == '\n')
                s++;
            fputs("<br>", out);
            break;
        case '\n':
            fputs("<br>", out);
            break;
        case '\\':
        case '|':
        case '`':
        case '*':
        case '[':
        case ']':
            fputc('\\', out);
            fputc(*s, out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void csv_field(FILE *out, const char *s, bool guard)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    bool formula = guard && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                             s[0] == '\t' || s[0] == '\r');
    bool quote =
        formula || strpbrk(s, ",\"\r\n") != NULL || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void report_csv_text(FILE *out, const char *s)
{
    csv_field(out, s, true);
}

void report_format_ratio(double part, double whole, char *buf, size_t size)
{
    if (!(whole > 0)) {
        snprintf(buf, size, "-");
        return;
    }
    double pct = 100.0 * part / whole;
    if (pct > 100.0)
        pct = 100.0;
    if (pct < 0)
        pct = 0;
    snprintf(buf, size, "%.1f%%", pct);
}

void report_format_minutes(double s, char *buf, size_t size)
{
    snprintf(buf, size, "%.1f", s / 60.0);
}

void report_format_duration(double s, char *buf, size_t size)
{
    long long t = llround(s < 0 ? 0 : s);
    if (t < 60)
        snprintf(buf, size, "%llds", t);
    else if (t < 3600)
        snprintf(buf, size, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, size, "%lldh%02lldm", t / 3600, t % 3600 / 60);
    else
        snprintf(buf, size, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}

int report_format_parse(const char *s)
{
    if (strcmp(s, "md") == 0 || strcmp(s, "markdown") == 0)
        return REPORT_MD;
    if (strcmp(s, "html") == 0)
        return REPORT_HTML;
    if (strcmp(s, "csv") == 0)
        return REPORT_CSV;
    return -1;
}

/* A local time: "HH:MM:SS" on the report's day, else "YYYY-MM-DD HH:MM". */
static void fmt_local(const struct report *r, double t, char *buf, size_t size)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, t >= r->day_start && t < r->day_end ? "%H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

/* ISO 8601 with the zone's offset: 2026-01-05T09:00:00+08:00. */
static void fmt_iso(double t, char *buf, size_t size)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    char z[8];
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof(z), "%z", &tm); /* +0800 */
    size_t l = strlen(buf);
    if (strlen(z) == 5)
        snprintf(buf + l, size - l, "%.3s:%.2s", z, z + 3);
}

static const char *transition_zh(const char *t)
{
    if (strcmp(t, "firing") == 0)
        return "告警";
    if (strcmp(t, "acknowledged") == 0)
        return "已确认";
    if (strcmp(t, "resolved") == 0)
        return "已解除";
    return "";
}

static const char *severity_zh(const char *s)
{
    if (strcmp(s, "info") == 0)
        return "提示";
    if (strcmp(s, "warning") == 0)
        return "警告";
    if (strcmp(s, "major") == 0)
        return "重要";
    if (strcmp(s, "critical") == 0)
        return "严重";
    return "";
}

static const char *hall_name(const struct report *r, const char *id)
{
    for (size_t i = 0; i < r->n_halls; i++) {
        if (strcmp(r->halls[i].id, id) == 0)
            return r->halls[i].name;
    }
    return id;
}

/* ---- the writer ------------------------------------------------------------------ */

struct col {
    const char *zh, *en; /* md, html */
    const char *csv;     /* csv header */
    bool num;            /* right-aligned */
    char only;           /* 0: every format; 'c': csv only; 't': md and html only */
};

struct w {
    const struct report *r;
    enum report_format f;
    FILE *out;
    bool show_hall; /* md, html: a hall column when several halls are reported */
    /* the table being written */
    const char *section; /* csv: the first field of each row */
    const struct col *cols;
    size_t n_cols, cell;
    bool in_table;
};

static void esc(struct w *w, const char *s)
{
    if (w->f == REPORT_HTML)
        report_html_escape(w->out, s);
    else if (w->f == REPORT_MD)
        report_md_escape(w->out, s);
    else
        report_csv_text(w->out, s);
}

/* A section heading: "二、窗口在岗情况" with "Window staffing" in smaller type,
 * and the regulation it checks. */
static void heading(struct w *w, int level, const char *zh, const char *en, const char *rule,
                    bool new_page)
{
    if (w->f == REPORT_CSV)
        return;
    if (w->f == REPORT_MD) {
        fprintf(w->out, "%.*s %s <small>%s</small>\n\n", level, "######", zh, en);
        if (rule)
            fprintf(w->out, "> %s\n\n", rule);
        return;
    }
    if (level == 2)
        fprintf(w->out, "<section%s>\n", new_page ? " class=\"page\"" : "");
    fprintf(w->out, "<h%d>%s <span class=\"en\">%s</span></h%d>\n", level, zh, en, level);
    if (rule)
        fprintf(w->out, "<p class=\"rule\">%s</p>\n", rule);
}

static void section_end(struct w *w)
{
    if (w->f == REPORT_HTML)
        fputs("</section>\n", w->out);
}

/* A remark: no rows, or why the data is missing. */
static void note(struct w *w, const char *zh, const char *en, const char *detail, bool warn)
{
    if (w->f == REPORT_CSV)
        return;
    if (w->f == REPORT_MD) {
        fprintf(w->out, "%s%s %s", warn ? "**⚠** " : "", zh, en);
        if (detail && *detail) {
            fputs(": ", w->out);
            report_md_escape(w->out, detail);
        }
        fputs("\n\n", w->out);
        return;
    }
    fprintf(w->out, "<p class=\"%s\">%s <span class=\"en\">%s</span>", warn ? "warn" : "none", zh,
            en);
    if (detail && *detail) {
        fputs(": ", w->out);
        report_html_escape(w->out, detail);
    }
    fputs("</p>\n", w->out);
}

static void status_note(struct w *w, const struct report_status *st)
{
    if (st->src == REPORT_SRC_UNREADABLE)
        note(w, "数据无法读取", "The data could not be read", st->why, true);
    else if (st->src == REPORT_SRC_DISABLED)
        note(w, "未配置 InfluxDB", "InfluxDB is not configured", NULL, true);
}

static const struct col hall_col = {"大厅", "Hall", "hall", false, 0};

static bool shown_in(const struct col *c, enum report_format f)
{
    return !c->only || (c->only == 'c') == (f == REPORT_CSV);
}

static void header_cell(struct w *w, const struct col *c, bool first)
{
    if (!shown_in(c, w->f))
        return;
    if (w->f == REPORT_MD) {
        fprintf(w->out, "%s %s %s |", first ? "|" : "", c->zh, c->en);
    } else if (w->f == REPORT_HTML) {
        fprintf(w->out, "<th%s>%s<br><span class=\"en\">%s</span></th>",
                c->num ? " class=\"num\"" : "", c->zh, c->en);
    } else {
        fputc(',', w->out);
        fputs(c->csv, w->out);
    }
}

static void table_begin(struct w *w, const char *section, const struct col *cols, size_t n)
{
    bool hall = w->f == REPORT_CSV || w->show_hall;
    w->section = section;
    w->cols = cols;
    w->n_cols = n;
    w->in_table = true;
    if (w->f == REPORT_CSV) {
        fputs("section", w->out);
    } else if (w->f == REPORT_HTML) {
        fputs("<table>\n<thead><tr>", w->out);
    }
    if (hall)
        header_cell(w, &hall_col, true);
    for (size_t i = 0; i < n; i++)
        header_cell(w, &cols[i], i == 0 && !hall);
    if (w->f == REPORT_MD) {
        fputs("\n", w->out);
        if (hall)
            fputs("|---|", w->out);
        for (size_t i = 0; i < n; i++) {
            if (shown_in(&cols[i], w->f))
                fprintf(w->out, "%s%s|", i == 0 && !hall ? "|" : "", cols[i].num ? "---:" : "---");
        }
        fputs("\n", w->out);
    } else if (w->f == REPORT_HTML) {
        fputs("</tr></thead>\n<tbody>\n", w->out);
    } else {
        fputs("\r\n", w->out);
    }
}

/* True (and the cell is passed over) when the current column is not shown
 * in this format. */
static bool skip(struct w *w)
{
    if (w->cell < w->n_cols && !shown_in(&w->cols[w->cell], w->f)) {
        w->cell++;
        return true;
    }
    return false;
}

static void cell_open(struct w *w)
{
    bool num = w->cell < w->n_cols && w->cols[w->cell].num;
    if (w->f == REPORT_MD)
        fputs(" ", w->out);
    else if (w->f == REPORT_HTML)
        fputs(num ? "<td class=\"num\">" : "<td>", w->out);
    else
        fputc(',', w->out);
}

static void cell_close(struct w *w)
{
    if (w->f == REPORT_MD)
        fputs(" |", w->out);
    else if (w->f == REPORT_HTML)
        fputs("</td>", w->out);
    w->cell++;
}

/* Starts a row, with the hall cell where there is one. */
static void row_begin(struct w *w, const char *hall)
{
    w->cell = 0;
    if (w->f == REPORT_MD)
        fputs("|", w->out);
    else if (w->f == REPORT_HTML)
        fputs("<tr>", w->out);
    else
        fputs(w->section, w->out);
    if (w->f == REPORT_CSV) {
        fputc(',', w->out);
        csv_field(w->out, hall, true);
    } else if (w->show_hall) {
        fputs(w->f == REPORT_MD ? " " : "<td>", w->out);
        esc(w, hall_name(w->r, hall));
        fputs(w->f == REPORT_MD ? " |" : "</td>", w->out);
    }
}

static void row_end(struct w *w)
{
    if (w->f == REPORT_MD)
        fputs("\n", w->out);
    else if (w->f == REPORT_HTML)
        fputs("</tr>\n", w->out);
    else
        fputs("\r\n", w->out);
}

static void table_end(struct w *w)
{
    if (w->f == REPORT_MD)
        fputs("\n", w->out);
    else if (w->f == REPORT_HTML)
        fputs("</tbody>\n</table>\n", w->out);
    else
        fputs("\r\n", w->out); /* a blank line between blocks */
    w->in_table = false;
}

/* A text cell; "" is shown as "-" (md, html) and left empty (csv). */
static void c_text(struct w *w, const char *s)
{
    if (skip(w))
        return;
    cell_open(w);
    if (w->f == REPORT_CSV)
        csv_field(w->out, s, true);
    else
        esc(w, s && *s ? s : "-");
    cell_close(w);
}

/* A cell with a Chinese label and the English (or machine) value: md/html
 * "已确认 acknowledged", csv "acknowledged". */
static void c_label(struct w *w, const char *zh, const char *value)
{
    if (skip(w))
        return;
    cell_open(w);
    if (w->f == REPORT_CSV) {
        csv_field(w->out, value, true);
    } else if (zh && *zh) {
        fputs(zh, w->out);
        fputs(" ", w->out);
        if (w->f == REPORT_HTML)
            fputs("<span class=\"en\">", w->out);
        esc(w, value);
        if (w->f == REPORT_HTML)
            fputs("</span>", w->out);
    } else {
        esc(w, value && *value ? value : "-");
    }
    cell_close(w);
}

/* A number already formatted; csv gets csv (machine form) when not NULL. */
static void c_num(struct w *w, const char *shown, const char *csv)
{
    if (skip(w))
        return;
    cell_open(w);
    if (w->f == REPORT_CSV)
        csv_field(w->out, csv ? csv : shown, false);
    else
        esc(w, shown && *shown ? shown : "-");
    cell_close(w);
}

/* Seconds: minutes with one decimal (md, html), whole seconds (csv). */
static void c_minutes(struct w *w, double s, bool known)
{
    char buf[32] = "", raw[32] = "";
    if (known) {
        report_format_minutes(s, buf, sizeof(buf));
        snprintf(raw, sizeof(raw), "%.0f", s);
    }
    c_num(w, known ? buf : "-", raw);
}

static void c_time(struct w *w, double t)
{
    char shown[32] = "", iso[40] = "";
    if (t > 0) {
        fmt_local(w->r, t, shown, sizeof(shown));
        fmt_iso(t, iso, sizeof(iso));
    }
    c_num(w, t > 0 ? shown : "-", iso);
}

static void c_duration(struct w *w, double s, bool known)
{
    char shown[32] = "", raw[32] = "";
    if (known) {
        report_format_duration(s, shown, sizeof(shown));
        snprintf(raw, sizeof(raw), "%.0f", s);
    }
    c_num(w, known ? shown : "-", raw);
}

static void c_value(struct w *w, double v, bool known)
{
    char buf[32] = "";
    if (known)
        snprintf(buf, sizeof(buf), "%g", v);
    c_num(w, known ? buf : "-", buf);
}

static void c_count(struct w *w, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", n);
    c_num(w, buf, buf);
}

/* ---- the sections ---------------------------------------------------------------- */

static void kv(struct w *w, const char *zh, const char *en, const char *value, bool escape)
{
    if (w->f == REPORT_MD) {
        fprintf(w->out, "- **%s** <small>%s</small>: ", zh, en);
        if (escape)
            report_md_escape(w->out, value);
        else
            fputs(value, w->out);
        fputs("\n", w->out);
    } else {
        fprintf(w->out, "<tr><th>%s <span class=\"en\">%s</span></th><td>", zh, en);
        if (escape)
            report_html_escape(w->out, value);
        else
            fputs(value, w->out);
        fputs("</td></tr>\n", w->out);
    }
}

static void write_header(struct w *w)
{
    const struct report *r = w->r;
    char gen[40], until[40], iso_gen[40], iso_until[40];
    time_t g = (time_t)floor(r->generated_at);
    struct tm tm;
    localtime_r(&g, &tm);
    strftime(gen, sizeof(gen), "%Y-%m-%d %H:%M:%S", &tm);
    fmt_local(r, r->until, until, sizeof(until));
    fmt_iso(r->generated_at, iso_gen, sizeof(iso_gen));
    fmt_iso(r->until, iso_until, sizeof(iso_until));

    if (w->f == REPORT_CSV) {
        fputs("section,hall,hall_name,date,gateway,timezone,opening_hours,generated_at,until\r\n",
              w->out);
        for (size_t i = 0; i < r->n_halls; i++) {
            fputs("header,", w->out);
            report_csv_text(w->out, r->halls[i].id);
            fputc(',', w->out);
            report_csv_text(w->out, r->halls[i].name);
            fprintf(w->out, ",%s,", r->date);
            report_csv_text(w->out, r->gateway_id);
            fputc(',', w->out);
            report_csv_text(w->out, r->timezone);
            fputc(',', w->out);
            report_csv_text(w->out, r->opening_hours);
            fprintf(w->out, ",%s,%s\r\n", iso_gen, iso_until);
        }
        fputs("\r\n", w->out);
        return;
    }
    static const char *const wd_zh[] = {"星期日", "星期一", "星期二", "星期三",
                                        "星期四", "星期五", "星期六"};
    time_t d0 = (time_t)r->day_start;
    localtime_r(&d0, &tm);
    char date[64];
    snprintf(date, sizeof(date), "%s %s", r->date, wd_zh[tm.tm_wday % 7]);

    if (w->f == REPORT_MD) {
        fputs("# 服务窗口巡查记录 <small>Daily inspection record</small>\n\n", w->out);
    } else {
        fputs("<header>\n<h1>服务窗口巡查记录 <span class=\"en\">Daily inspection "
              "record</span></h1>\n",
              w->out);
    }
    heading(w, 2, "一、基本信息", "General", NULL, false);
    if (w->f == REPORT_HTML)
        fputs("<table class=\"kv\">\n", w->out);
    char halls[1024] = "";
    size_t l = 0;
    for (size_t i = 0; i < r->n_halls && l < sizeof(halls); i++)
        l += (size_t)snprintf(halls + l, sizeof(halls) - l, "%s%s (%s)", i ? "; " : "",
                              r->halls[i].name, r->halls[i].id);
    kv(w, "大厅", "Hall", halls, true);
    kv(w, "日期", "Date", date, true);
    kv(w, "开放时间", "Opening hours", r->opening_hours[0] ? r->opening_hours : "闭厅 closed",
       true);
    kv(w, "网关", "Gateway", r->gateway_id, true);
    kv(w, "时区", "Time zone", r->timezone, true);
    kv(w, "生成时间", "Generated at", gen, true);
    if (r->until < r->day_end) {
        char s[96];
        snprintf(s, sizeof(s), "%s (当日未结束 the day is not over)", until);
        kv(w, "统计截至", "Reported up to", s, true);
    }
    fputs(w->f == REPORT_HTML ? "</table>\n" : "\n", w->out);
    section_end(w);
    if (w->f == REPORT_HTML)
        fputs("</header>\n", w->out);
}

/* csv: every section's status, so a program can tell "none" from "unknown". */
static void write_csv_status(struct w *w)
{
    const struct report *r = w->r;
    static const char *const src_name[] = {"ok", "unreadable", "disabled"};
    const struct {
        const char *section, *source;
        const struct report_status *st;
    } v[] = {
        {"alerts", "sqlite", &r->store},
        {"windows", "influxdb", &r->staffing},
        {"environment", "influxdb", &r->environment},
        {"faults", "influxdb", &r->equipment},
        {"poweroff", "influxdb", &r->poweroff},
        {"av", "influxdb", &r->av},
    };
    fputs("section,data,source,status,detail\r\n", w->out);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        fprintf(w->out, "status,%s,%s,%s,", v[i].section, v[i].source, src_name[v[i].st->src]);
        report_csv_text(w->out, v[i].st->why);
        fputs("\r\n", w->out);
    }
    fputs("\r\n", w->out);
}

static const struct report_window *find_window(const struct report *r, const char *hall,
                                               const char *id)
{
    for (size_t i = 0; i < r->n_windows; i++) {
        if (strcmp(r->windows[i].hall, hall) == 0 && strcmp(r->windows[i].id, id) == 0)
            return &r->windows[i];
    }
    return NULL;
}

static void write_staffing(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "二、窗口在岗情况", "Window staffing",
            "不得擅离岗位；不准擅自离岗、缺岗、串岗 — no leaving the post during opening hours",
            false);
    status_note(w, &r->staffing);
    if (r->n_windows == 0 && w->f != REPORT_CSV) {
        note(w, "未配置窗口", "No service windows configured", NULL, false);
    } else {
        static const struct col cols[] = {
            {"窗口", "Window", "window", false, 0},
            {"名称", "Name", "name", false, 0},
            {"应在岗(分)", "Scheduled min", "scheduled_s", true, 0},
            {"开放(分)", "Open min", "open_s", true, 0},
            {"在岗(分)", "Staffed min", "staffed_s", true, 0},
            {"在岗率", "Staffed ratio", "staffed_ratio", true, 0},
            {"离岗次数", "Unstaffed incidents", "unstaffed_incidents", true, 0},
        };
        bool known = r->staffing.src == REPORT_SRC_OK;
        table_begin(w, "windows", cols, sizeof(cols) / sizeof(cols[0]));
        for (size_t i = 0; i < r->n_windows; i++) {
            const struct report_window *win = &r->windows[i];
            bool m = known && win->has_seat;
            row_begin(w, win->hall);
            c_text(w, win->id);
            c_text(w, win->name);
            c_minutes(w, win->scheduled_s, true);
            c_minutes(w, win->open_s, m);
            c_minutes(w, win->staffed_s, m);
            char shown[16], raw[32] = "";
            report_format_ratio(win->staffed_s, m ? win->open_s : 0, shown, sizeof(shown));
            if (m && win->open_s > 0)
                snprintf(raw, sizeof(raw), "%.4f", fmin(1.0, win->staffed_s / win->open_s));
            c_num(w, shown, raw);
            if (r->store.src == REPORT_SRC_OK)
                c_count(w, win->incidents);
            else
                c_num(w, "-", "");
            row_end(w);
        }
        table_end(w);
        if (w->f != REPORT_CSV)
            note(w, "“-”：无座位传感器或无数据；在岗率 = 在岗 ÷ 开放",
                 "\"-\": no seat sensor or no data; staffed ratio = staffed / open", NULL, false);
    }

    heading(w, 3, "离岗记录", "Unstaffed incidents", NULL, false);
    if (r->store.src != REPORT_SRC_OK) {
        note(w, "告警记录无法读取", "The alert history could not be read", r->store.why, true);
        if (w->f != REPORT_CSV)
            return;
    }
    if (r->n_incidents == 0 && w->f != REPORT_CSV) {
        note(w, "无", "None", NULL, false);
        return;
    }
    static const struct col icols[] = {
        {"窗口", "Window", "window", false, 0},   {"开始", "Started", "started", true, 0},
        {"结束", "Ended", "ended", true, 0},      {"时长", "Duration", "duration_s", true, 0},
        {"处理人", "Handled by", "by", false, 0}, {"处理情况", "Note", "note", false, 0},
    };
    table_begin(w, "incidents", icols, sizeof(icols) / sizeof(icols[0]));
    for (size_t i = 0; i < r->n_incidents; i++) {
        const struct report_incident *in = &r->incidents[i];
        const struct report_window *win = find_window(r, in->hall, in->window);
        row_begin(w, in->hall);
        if (w->f == REPORT_CSV || !win || strcmp(win->name, win->id) == 0) {
            c_text(w, in->window);
        } else {
            char both[REPORT_TEXT_MAX + REPORT_ID_MAX + 4];
            snprintf(both, sizeof(both), "%s %s", in->window, win->name);
            c_text(w, both);
        }
        c_time(w, in->start);
        if (in->end > 0)
            c_time(w, in->end);
        else
            c_label(w, "未恢复", "open");
        double end = in->end > 0 ? in->end : r->until;
        c_duration(w, end - in->start, true);
        c_text(w, in->by);
        c_text(w, in->note);
        row_end(w);
    }
    table_end(w);
}

static void write_environment(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "三、环境状况", "Environment",
            "整洁、舒适、安全，通风良好 — clean, comfortable, safe and well ventilated (opening "
            "hours)",
            false);
    status_note(w, &r->environment);
    if (r->environment.src != REPORT_SRC_OK && w->f != REPORT_CSV)
        return;
    if (r->n_env == 0 && w->f != REPORT_CSV) {
        note(w, "开放时间内无环境数据", "No environment readings during opening hours", NULL,
             false);
        return;
    }
    static const struct col cols[] = {
        {"设备", "Device", "device", false, 0},
        {"指标", "Metric", "metric", false, 0},
        {"限值", "Limit", "limit", false, 't'},
        {"", "", "above", true, 'c'},
        {"", "", "below", true, 'c'},
        {"超标(分)", "Out of range min", "out_of_range_s", true, 0},
        {"有数据(分)", "Measured min", "measured_s", true, 0},
        {"最高", "Max", "max", true, 0},
        {"最低", "Min", "min", true, 0},
        {"规则", "Rule", "rules", false, 0},
    };
    table_begin(w, "environment", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_env; i++) {
        const struct report_env *e = &r->env[i];
        char limit[96] = "";
        if (e->has_below && e->has_above)
            snprintf(limit, sizeof(limit), "< %g or > %g", e->below, e->above);
        else if (e->has_above)
            snprintf(limit, sizeof(limit), "> %g", e->above);
        else if (e->has_below)
            snprintf(limit, sizeof(limit), "< %g", e->below);
        row_begin(w, e->hall);
        c_text(w, e->device);
        c_text(w, e->metric);
        c_num(w, limit, limit);
        c_value(w, e->above, e->has_above);
        c_value(w, e->below, e->has_below);
        c_minutes(w, e->out_s, true);
        c_minutes(w, e->covered_s, true);
        c_value(w, e->max, e->has_range);
        c_value(w, e->min, e->has_range);
        c_text(w, e->rules);
        row_end(w);
    }
    table_end(w);
}

static void alert_rows(struct w *w, const char *section, const struct store_history *v, size_t n);

static void write_equipment(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "四、设施设备", "Equipment",
            "设施完好，定期检查保养 — facilities in good order, regularly maintained", true);
    heading(w, 3, "故障时段", "Fault periods (status not ok)", NULL, false);
    status_note(w, &r->equipment);
    if (r->equipment.src == REPORT_SRC_OK || w->f == REPORT_CSV) {
        if (r->n_faults == 0 && w->f != REPORT_CSV) {
            note(w, "无故障", "No faults", NULL, false);
        } else {
            static const struct col cols[] = {
                {"设备", "Device", "device", false, 0}, {"类型", "Type", "type", false, 0},
                {"状态", "Status", "status", false, 0}, {"开始", "Started", "started", true, 0},
                {"结束", "Ended", "ended", true, 0},    {"时长", "Duration", "duration_s", true, 0},
            };
            table_begin(w, "faults", cols, sizeof(cols) / sizeof(cols[0]));
            for (size_t i = 0; i < r->n_faults; i++) {
                const struct report_fault *f = &r->faults[i];
                row_begin(w, f->hall);
                c_text(w, f->device);
                c_text(w, f->type);
                c_text(w, f->status);
                c_time(w, f->start);
                if (f->ongoing)
                    c_label(w, "持续中", "ongoing");
                else
                    c_time(w, f->end);
                c_duration(w, f->end - f->start, true);
                row_end(w);
            }
            table_end(w);
        }
    }
    heading(w, 3, "设备告警", "Equipment alerts", NULL, false);
    if (r->store.src != REPORT_SRC_OK) {
        note(w, "告警记录无法读取", "The alert history could not be read", r->store.why, true);
        if (w->f != REPORT_CSV)
            return;
    }
    if (r->n_equipment_alerts == 0 && w->f != REPORT_CSV) {
        note(w, "无", "None", NULL, false);
        return;
    }
    alert_rows(w, "equipment_alerts", r->equipment_alerts, r->n_equipment_alerts);
}

static void write_poweroff(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "五、下班断电", "Power-off after hours",
            "下班后及时切断计算机外接电源 — cut computers' external power after work", false);
    status_note(w, &r->poweroff);
    if (r->poweroff.src != REPORT_SRC_OK && w->f != REPORT_CSV)
        return;
    if (r->n_poweroffs == 0 && w->f != REPORT_CSV) {
        note(w, "当日无断电记录", "No power-off records for this day", NULL, false);
        return;
    }
    static const struct col cols[] = {
        {"设备", "Device", "device", false, 0}, {"类型", "Kind", "kind", false, 0},
        {"窗口", "Window", "window", false, 0}, {"记录", "Records", "records", true, 0},
        {"失败", "Failed", "failed", true, 0},  {"最后步骤", "Last step", "last_step", false, 0},
        {"时间", "At", "last_at", true, 0},     {"结果", "Result", "result", false, 0},
    };
    table_begin(w, "poweroff", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_poweroffs; i++) {
        const struct report_poweroff *p = &r->poweroffs[i];
        row_begin(w, p->hall);
        c_text(w, p->device);
        c_text(w, p->kind);
        c_text(w, p->window);
        c_count(w, p->records);
        c_count(w, p->failures);
        c_text(w, p->last_step);
        c_time(w, p->last_at);
        if (p->records == 0)
            c_label(w, "无记录", "none");
        else if (p->last_ok == 1)
            c_label(w, "成功", "ok");
        else if (p->last_ok == 0)
            c_label(w, "失败", "failed");
        else
            c_label(w, "未知", "unknown");
        row_end(w);
    }
    table_end(w);
}

static void c_age(struct w *w, double at, double until, double max_age_s)
{
    char shown[64] = "", raw[32] = "";
    if (at > 0) {
        char d[32];
        report_format_duration(until - at, d, sizeof(d));
        bool over = max_age_s > 0 && until - at > max_age_s;
        snprintf(shown, sizeof(shown), "%s%s", d, over ? " (超期 overdue)" : "");
        snprintf(raw, sizeof(raw), "%.0f", until - at);
    }
    c_num(w, at > 0 ? shown : "-", raw);
}

static void write_av(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "六、病毒防范与数据安全", "Antivirus and USB storage",
            "定期进行病毒检测；禁止泄露、外借专业数据信息 — regular virus checks; no "
            "leaking or lending data",
            false);
    status_note(w, &r->av);
    if (r->av.src != REPORT_SRC_OK && w->f != REPORT_CSV)
        return;
    if (r->n_pcs == 0 && w->f != REPORT_CSV) {
        note(w, "未配置电脑", "No PCs configured", NULL, false);
        return;
    }
    static const struct col cols[] = {
        {"电脑", "PC", "device", false, 0},
        {"窗口", "Window", "window", false, 0},
        {"最近扫描", "Last scan", "last_scan", true, 0},
        {"距今", "Scan age", "scan_age_s", true, 0},
        {"病毒库更新", "Signatures", "sig_updated", true, 0},
        {"距今", "Signature age", "sig_age_s", true, 0},
        {"威胁", "Threats", "threat_events", true, 0},
        {"", "", "av_threats", true, 'c'},
        {"U盘插入", "USB storage", "usb_events", true, 0},
        {"结论", "Verdict", "verdict", false, 0},
    };
    table_begin(w, "av", cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < r->n_pcs; i++) {
        const struct report_pc *pc = &r->pcs[i];
        row_begin(w, pc->hall);
        c_text(w, pc->device);
        c_text(w, pc->window);
        c_time(w, pc->last_scan);
        c_age(w, pc->last_scan, r->until, pc->scan_max_age_s);
        c_time(w, pc->sig_updated);
        c_age(w, pc->sig_updated, r->until, pc->sig_max_age_s);
        c_count(w, pc->threat_events);
        c_value(w, pc->av_threats, pc->av_threats >= 0);
        c_count(w, pc->usb_events);
        bool scan_over = pc->scan_max_age_s > 0 && pc->last_scan > 0 &&
                         r->until - pc->last_scan > pc->scan_max_age_s;
        bool sig_over = pc->sig_max_age_s > 0 && pc->sig_updated > 0 &&
                        r->until - pc->sig_updated > pc->sig_max_age_s;
        if (pc->last_scan <= 0 && pc->sig_updated <= 0)
            c_label(w, "无数据", "no data");
        else if (pc->threat_events > 0 || pc->av_threats > 0)
            c_label(w, "发现威胁", "threats");
        else if (scan_over || sig_over)
            c_label(w, scan_over ? "扫描超期" : "病毒库过期",
                    scan_over ? "scan overdue" : "signatures old");
        else if (pc->usb_events > 0)
            c_label(w, "U盘插入", "usb storage");
        else
            c_label(w, "合规", "ok");
        row_end(w);
    }
    table_end(w);

    if (r->n_events == 0 && w->f != REPORT_CSV)
        return;
    heading(w, 3, "事件", "Events", NULL, false);
    static const struct col ecols[] = {
        {"时间", "Time", "time", true, 0},
        {"电脑", "PC", "device", false, 0},
        {"类型", "Type", "type", false, 0},
        {"详情", "Detail", "detail", false, 0},
    };
    table_begin(w, "events", ecols, sizeof(ecols) / sizeof(ecols[0]));
    for (size_t i = 0; i < r->n_events; i++) {
        const struct report_event *e = &r->events[i];
        row_begin(w, e->hall);
        c_time(w, e->at);
        c_text(w, e->device);
        c_label(w,
                strcmp(e->type, "usb_storage_inserted") == 0 ? "U盘插入"
                : strcmp(e->type, "threat_detected") == 0    ? "发现威胁"
                                                             : "",
                e->type);
        c_text(w, e->detail);
        row_end(w);
    }
    table_end(w);
}

static void alert_rows(struct w *w, const char *section, const struct store_history *v, size_t n)
{
    static const struct col cols[] = {
        {"时间", "Time", "time", true, 0},
        {"地点", "Place", "place", false, 0},
        {"告警", "Alert", "alert", false, 0},
        {"级别", "Severity", "severity", false, 0},
        {"状态", "Transition", "transition", false, 0},
        {"发现的问题", "Problem", "summary", false, 0},
        {"处理人", "By", "by", false, 0},
        {"处理情况", "Handling", "note", false, 0},
    };
    table_begin(w, section, cols, sizeof(cols) / sizeof(cols[0]));
    for (size_t i = 0; i < n; i++) {
        const struct store_history *h = &v[i];
        char where[REPORT_TEXT_MAX + 2 * REPORT_ID_MAX + 8];
        size_t l = 0;
        where[0] = '\0';
        if (w->f != REPORT_CSV && !w->show_hall)
            l += (size_t)snprintf(where, sizeof(where), "%s", hall_name(w->r, h->hall));
        if (h->window[0])
            l += (size_t)snprintf(where + l, sizeof(where) - l, "%s%s", l ? " / " : "", h->window);
        if (h->device[0] && l < sizeof(where) && strcmp(h->device, h->window) != 0)
            snprintf(where + l, sizeof(where) - l, "%s%s", l ? " / " : "", h->device);
        row_begin(w, h->hall);
        c_time(w, h->at);
        c_text(w, where);
        c_text(w, h->alert_id);
        c_label(w, severity_zh(h->severity), h->severity);
        c_label(w, transition_zh(h->transition), h->transition);
        c_text(w, h->summary);
        c_text(w, h->by);
        c_text(w, h->note);
        row_end(w);
    }
    table_end(w);
}

static void write_alerts(struct w *w)
{
    const struct report *r = w->r;
    heading(w, 2, "七、巡查告警记录", "Alert record: problems found and handling",
            "巡查时间、地点、内容、发现的问题及处理情况 — time, place, problem, handling", true);
    if (r->store.src != REPORT_SRC_OK) {
        note(w, "告警记录无法读取", "The alert history could not be read", r->store.why, true);
        if (w->f != REPORT_CSV)
            return;
    }
    if (r->n_alerts == 0 && w->f != REPORT_CSV) {
        note(w, "当日无告警", "No alerts this day", NULL, false);
        return;
    }
    alert_rows(w, "alerts", r->alerts, r->n_alerts);
}

static void write_signatures(struct w *w)
{
    if (w->f == REPORT_MD) {
        fputs("---\n\n巡查人 <small>Inspector</small>: ____________　　"
              "负责人 <small>Supervisor</small>: ____________　　"
              "日期 <small>Date</small>: ____________\n",
              w->out);
    } else if (w->f == REPORT_HTML) {
        fputs("<div class=\"sign\"><span>巡查人 <span class=\"en\">Inspector</span></span>"
              "<span>负责人 <span class=\"en\">Supervisor</span></span>"
              "<span>日期 <span class=\"en\">Date</span></span></div>\n",
              w->out);
    }
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

static const char html_style[] =
    "<style>\n"
    "@page { size: A4; margin: 15mm 12mm 15mm 12mm; }\n"
    "html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n"
    "body { font-family: \"Noto Sans CJK SC\", \"Source Han Sans SC\", \"PingFang SC\", "
    "\"Microsoft YaHei\", \"SimSun\", sans-serif; font-size: 10pt; color: #111; "
    "max-width: 190mm; margin: 0 auto; line-height: 1.4; }\n"
    "h1 { font-size: 17pt; text-align: center; margin: 0 0 4mm; }\n"
    "h2 { font-size: 12.5pt; border-bottom: 1.5pt solid #333; padding-bottom: 1mm; "
    "margin: 6mm 0 2mm; break-after: avoid; page-break-after: avoid; }\n"
    "h3 { font-size: 11pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }\n"
    ".en { font-size: 0.78em; font-weight: normal; color: #555; }\n"
    "th .en { display: inline-block; }\n"
    "p.rule { margin: 0 0 2mm; color: #444; font-size: 9pt; }\n"
    "p.warn { border-left: 3pt solid #c00; padding: 1mm 2mm; background: #fff3f3; }\n"
    "p.none { color: #444; }\n"
    "table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; font-size: 9pt; }\n"
    "thead { display: table-header-group; }\n"
    "tr { break-inside: avoid; page-break-inside: avoid; }\n"
    "th, td { border: 0.6pt solid #777; padding: 1mm 1.5mm; vertical-align: top; "
    "text-align: left; }\n"
    "th { background: #eee; font-weight: bold; }\n"
    "td { overflow-wrap: anywhere; }\n"
    ".num { text-align: right; white-space: nowrap; }\n"
    "table.kv th { width: 32%; }\n"
    "section.page { break-before: page; page-break-before: always; }\n"
    ".sign { display: flex; justify-content: space-between; margin-top: 12mm; "
    "break-inside: avoid; page-break-inside: avoid; }\n"
    ".sign > span { flex: 1; border-top: 0.6pt solid #333; margin: 0 4mm; padding-top: 1mm; }\n"
    "@media screen { body { padding: 8mm; } section.page { border-top: 1px dashed #bbb; "
    "margin-top: 10mm; } }\n"
    "</style>\n";

int report_render(const struct report *r, enum report_format f, FILE *out)
{
    struct w w = {.r = r, .f = f, .out = out, .show_hall = r->n_halls > 1};
    if (f == REPORT_HTML) {
        fputs(html_head, out);
        fprintf(out, "<title>服务窗口巡查记录 %s — ", r->date);
        for (size_t i = 0; i < r->n_halls; i++) {
            if (i)
                fputs(", ", out);
            report_html_escape(out, r->halls[i].name);
        }
        fputs("</title>\n", out);
        fputs(html_style, out);
        fputs("</head>\n<body>\n", out);
    }
    write_header(&w);
    if (f == REPORT_CSV)
        write_csv_status(&w);
    write_staffing(&w);
    section_end(&w);
    write_environment(&w);
    section_end(&w);
    write_equipment(&w);
    section_end(&w);
    write_poweroff(&w);
    section_end(&w);
    write_av(&w);
    section_end(&w);
    write_alerts(&w);
    write_signatures(&w);
    section_end(&w);
    if (f == REPORT_HTML)
        fputs("</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}
