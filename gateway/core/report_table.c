/* The report's three formats: escaping, value formatting, and the writer of
 * headings, notes and tables that the sections of report_render.c share. */
#include "report_table.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* ---- escaping and formatting --------------------------------------------------- */

/* What a character is written as; NULL: itself. */
typedef const char *const escape_table[256];

static escape_table html_escapes = {
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

static escape_table md_escapes = {
    ['&'] = "&amp;", ['<'] = "&lt;",  ['>'] = "&gt;", ['\r'] = "<br>",
    ['\n'] = "<br>", ['\\'] = "\\\\", ['|'] = "\\|",  ['`'] = "\\`",
    ['*'] = "\\*",   ['['] = "\\[",   [']'] = "\\]",
};

/* s through a table; a replaced CR followed by LF is one line break. */
static void escape(FILE *out, const char *s, escape_table with)
{
    for (; s && *s; s++) {
        const char *e = with[(unsigned char)*s];
        if (!e) {
            fputc(*s, out);
            continue;
        }
        if (s[0] == '\r' && s[1] == '\n')
            s++;
        fputs(e, out);
    }
}

void report_html_escape(FILE *out, const char *s)
{
    escape(out, s, html_escapes);
}

void report_md_escape(FILE *out, const char *s)
{
    escape(out, s, md_escapes);
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

void report_local_time(const struct report *r, wall_s t, char *buf, size_t size)
{
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, size, t >= r->day_start && t < r->day_end ? "%H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

void report_iso_time(wall_s t, char *buf, size_t size)
{
    time_t tt = (time_t)wall_whole(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    char z[8];
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof(z), "%z", &tm); /* +0800 */
    size_t l = strlen(buf);
    if (strlen(z) == 5)
        snprintf(buf + l, size - l, "%.3s:%.2s", z, z + 3);
}

const char *report_hall_name(const struct report *r, const char *id)
{
    for (size_t i = 0; i < r->n_halls; i++) {
        if (strcmp(r->halls[i].id, id) == 0)
            return r->halls[i].name;
    }
    return id;
}

/* ---- the writer ------------------------------------------------------------------ */

/* How a format writes text, rows and cells. */
struct format {
    void (*text)(FILE *out, const char *s); /* escaped or quoted */
    const char *row_open;                   /* NULL: the table's section (csv) */
    const char *cell_open, *num_cell_open, *cell_close;
    const char *row_close, *table_close;
};

static const struct format formats[] = {
    [REPORT_MD] = {report_md_escape, "|", " ", " ", " |", "\n", "\n"},
    [REPORT_HTML] = {report_html_escape, "<tr>", "<td>", "<td class=\"num\">", "</td>", "</tr>\n",
                     "</tbody>\n</table>\n"},
    [REPORT_CSV] = {report_csv_text, NULL, ",", ",", "", "\r\n",
                    "\r\n" /* a blank line between blocks */},
};

static const struct format *format(const struct report_writer *w)
{
    return &formats[w->f];
}

static void esc(struct report_writer *w, const char *s)
{
    format(w)->text(w->out, s);
}

void report_heading(struct report_writer *w, int level, const char *zh, const char *en,
                    const char *rule, bool new_page)
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

void report_section_end(struct report_writer *w)
{
    if (w->f == REPORT_HTML)
        fputs("</section>\n", w->out);
}

void report_note(struct report_writer *w, const char *zh, const char *en, const char *detail,
                 bool warn)
{
    if (w->f == REPORT_CSV)
        return;
    if (w->f == REPORT_MD)
        fprintf(w->out, "%s%s %s", warn ? "**⚠** " : "", zh, en);
    else
        fprintf(w->out, "<p class=\"%s\">%s <span class=\"en\">%s</span>", warn ? "warn" : "none",
                zh, en);
    if (detail && *detail) {
        fputs(": ", w->out);
        esc(w, detail);
    }
    fputs(w->f == REPORT_MD ? "\n\n" : "</p>\n", w->out);
}

void report_status_note(struct report_writer *w, const struct report_status *st)
{
    if (st->src == REPORT_SRC_UNREADABLE)
        report_note(w, "数据无法读取", "The data could not be read", st->why, true);
    else if (st->src == REPORT_SRC_DISABLED)
        report_note(w, "未配置 InfluxDB", "InfluxDB is not configured", NULL, true);
}

void report_kv(struct report_writer *w, const char *zh, const char *en, const char *value)
{
    if (w->f == REPORT_MD)
        fprintf(w->out, "- **%s** <small>%s</small>: ", zh, en);
    else
        fprintf(w->out, "<tr><th>%s <span class=\"en\">%s</span></th><td>", zh, en);
    esc(w, value);
    fputs(w->f == REPORT_MD ? "\n" : "</td></tr>\n", w->out);
}

bool report_table_wanted(struct report_writer *w, bool readable, size_t n, const char *zh,
                         const char *en)
{
    if (w->f == REPORT_CSV)
        return true;
    if (!readable)
        return false;
    if (n == 0) {
        report_note(w, zh, en, NULL, false);
        return false;
    }
    return true;
}

static const struct report_col hall_col = {"大厅", "Hall", "hall", false, 0};

static bool shown_in(const struct report_col *c, enum report_format f)
{
    return !c->only || (c->only == 'c') == (f == REPORT_CSV);
}

static void header_cell(struct report_writer *w, const struct report_col *c, bool first)
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

void report_table_begin(struct report_writer *w, const char *section, const struct report_col *cols,
                        size_t n)
{
    bool hall = w->f == REPORT_CSV || w->show_hall;
    w->section = section;
    w->cols = cols;
    w->n_cols = n;
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

void report_row_begin(struct report_writer *w, const char *hall)
{
    const struct format *m = format(w);
    w->cell = 0;
    fputs(m->row_open ? m->row_open : w->section, w->out);
    if (w->f == REPORT_CSV || w->show_hall) {
        fputs(m->cell_open, w->out);
        esc(w, w->f == REPORT_CSV ? hall : report_hall_name(w->r, hall));
        fputs(m->cell_close, w->out);
    }
}

void report_row_end(struct report_writer *w)
{
    fputs(format(w)->row_close, w->out);
}

void report_table_end(struct report_writer *w)
{
    fputs(format(w)->table_close, w->out);
}

/* Opens the current column's cell: false (and the column is passed over)
 * when it is not shown in this format. */
static bool cell_open(struct report_writer *w)
{
    const struct report_col *c = w->cell < w->n_cols ? &w->cols[w->cell] : NULL;
    if (c && !shown_in(c, w->f)) {
        w->cell++;
        return false;
    }
    fputs(c && c->num ? format(w)->num_cell_open : format(w)->cell_open, w->out);
    return true;
}

static void cell_close(struct report_writer *w)
{
    fputs(format(w)->cell_close, w->out);
    w->cell++;
}

void report_cell_text(struct report_writer *w, const char *s)
{
    if (!cell_open(w))
        return;
    esc(w, w->f == REPORT_CSV || (s && *s) ? s : "-");
    cell_close(w);
}

void report_cell_label(struct report_writer *w, const char *zh, const char *value)
{
    if (!cell_open(w))
        return;
    if (w->f == REPORT_CSV) {
        esc(w, value);
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

void report_cell_num(struct report_writer *w, const char *shown, const char *csv)
{
    if (!cell_open(w))
        return;
    if (w->f == REPORT_CSV)
        csv_field(w->out, csv ? csv : shown, false);
    else
        esc(w, shown && *shown ? shown : "-");
    cell_close(w);
}

/* Seconds formatted by fmt (md, html), whole seconds (csv). */
static void cell_seconds(struct report_writer *w, double s, bool known,
                         void (*fmt)(double, char *, size_t))
{
    char shown[32] = "", raw[32] = "";
    if (known) {
        fmt(s, shown, sizeof(shown));
        snprintf(raw, sizeof(raw), "%.0f", s);
    }
    report_cell_num(w, known ? shown : "-", raw);
}

void report_cell_minutes(struct report_writer *w, double s, bool known)
{
    cell_seconds(w, s, known, report_format_minutes);
}

void report_cell_duration(struct report_writer *w, double s, bool known)
{
    cell_seconds(w, s, known, report_format_duration);
}

void report_cell_time(struct report_writer *w, wall_s t)
{
    char shown[32] = "", iso[40] = "";
    if (t > 0) {
        report_local_time(w->r, t, shown, sizeof(shown));
        report_iso_time(t, iso, sizeof(iso));
    }
    report_cell_num(w, t > 0 ? shown : "-", iso);
}

void report_cell_age(struct report_writer *w, double at, double until, double max_age_s)
{
    char shown[64] = "", raw[32] = "";
    if (at > 0) {
        char d[32];
        report_format_duration(until - at, d, sizeof(d));
        bool over = max_age_s > 0 && until - at > max_age_s;
        snprintf(shown, sizeof(shown), "%s%s", d, over ? " (超期 overdue)" : "");
        snprintf(raw, sizeof(raw), "%.0f", until - at);
    }
    report_cell_num(w, at > 0 ? shown : "-", raw);
}

void report_cell_value(struct report_writer *w, double v, bool known)
{
    char buf[32] = "";
    if (known)
        snprintf(buf, sizeof(buf), "%g", v);
    report_cell_num(w, known ? buf : "-", buf);
}

void report_cell_count(struct report_writer *w, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", n);
    report_cell_num(w, buf, buf);
}

void report_cell_count_known(struct report_writer *w, size_t n, bool known)
{
    if (known)
        report_cell_count(w, n);
    else
        report_cell_num(w, "-", "");
}

void report_cell_ratio(struct report_writer *w, double part, double whole, bool known)
{
    char shown[16], raw[32] = "";
    report_format_ratio(part, known ? whole : 0, shown, sizeof(shown));
    if (known && whole > 0)
        snprintf(raw, sizeof(raw), "%.4f", fmin(1.0, part / whole));
    report_cell_num(w, shown, raw);
}

/* ---- the page ------------------------------------------------------------------ */

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

void report_page_begin(struct report_writer *w, const char *title, const char *label,
                       const char *style)
{
    if (w->f != REPORT_HTML)
        return;
    fputs(html_head, w->out);
    fprintf(w->out, "<title>%s %s — ", title, label);
    for (size_t i = 0; i < w->r->n_halls; i++) {
        if (i)
            fputs(", ", w->out);
        report_html_escape(w->out, w->r->halls[i].name);
    }
    fputs("</title>\n", w->out);
    fputs(html_style, w->out);
    if (style)
        fputs(style, w->out);
    fputs("</head>\n<body>\n", w->out);
}

int report_page_end(struct report_writer *w)
{
    if (w->f == REPORT_HTML)
        fputs("</body>\n</html>\n", w->out);
    if (fflush(w->out) != 0 || ferror(w->out))
        return -EIO;
    return 0;
}
