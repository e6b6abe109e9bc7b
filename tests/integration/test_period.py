"""The periodic assessment (考核) end to end: hallgw-sim --month writes
November 2026 of a 12-window hall into the real InfluxDB; hallgw report
--period month and GET /api/v1/reports/period give the staffed share,
unstaffed time, waiting time (mean, p90, max) and environment compliance
that this test computes itself from the raw points read back from InfluxDB,
with the definitions of docs/report.md; the HTML of a week holds the charts,
shows the holiday closed and is well formed; the CSV parses."""

import calendar
import csv
import datetime
import io
import json
import math
import os
import subprocess
import time

import harness
from harness import BUILD_DIR, Stack
from test_report import TagChecker

SIM = os.path.join(BUILD_DIR, "hallgw-sim")
HALLGW = os.path.join(BUILD_DIR, "hallgw")
ZONE = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai, no DST
YEAR, MONTH = 2026, 11
HOLIDAY = datetime.date(2026, 11, 2)  # a Monday off
MAKEUP = datetime.date(2026, 11, 7)   # a Saturday worked (调休)
SCHEDULE = """
schedule = { weekdays = ["mon","tue","wed","thu","fri"]; open = "09:00"; close = "17:00";
  breaks = ( { from = "12:00"; to = "13:00"; } );
  holidays = ["2026-11-02"]; workdays = ["2026-11-07"]; };
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    severity = "warning"; when = "open"; }
);
"""
LOOKBACK_S = 900


def stretches():
    """The month's opening stretches [from, to) in unix seconds."""
    out = []
    for d in range(1, calendar.monthrange(YEAR, MONTH)[1] + 1):
        day = datetime.date(YEAR, MONTH, d)
        if day == HOLIDAY or (day.weekday() >= 5 and day != MAKEUP):
            continue
        for a, b in ((9, 12), (13, 17)):
            t0 = datetime.datetime(YEAR, MONTH, d, a, tzinfo=ZONE).timestamp()
            t1 = datetime.datetime(YEAR, MONTH, d, b, tzinfo=ZONE).timestamp()
            out.append((int(t0), int(t1)))
    return out


def points(st, q):
    """[(unix s, value)] of a query's single field, oldest first."""
    rows = st.influx.rows(q)
    return [(r["time"] // 10**9, r["v"]) for r in rows if r["v"] is not None]


def held(pts, a, b, lookback):
    """Runs (value, seconds) over [a, b): each reading holds until the next;
    with lookback, the last reading of the lookback seconds before a holds
    from a to the first one."""
    inside = [(t, v) for t, v in pts if a <= t < b]
    runs = []
    if lookback:
        before = [(t, v) for t, v in pts if a - lookback <= t < a]
        if before:
            runs.append((before[-1][1], (inside[0][0] if inside else b) - a))
    for i, (t, v) in enumerate(inside):
        runs.append((v, (inside[i + 1][0] if i + 1 < len(inside) else b) - t))
    return runs


def p90(runs):
    total = sum(s for _, s in runs)
    acc = 0
    for v, s in sorted(runs):
        acc += s
        if acc >= 0.9 * total - 1e-9:
            return v
    return None


def csv_blocks(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    blocks, header = {}, None
    for row in rows:
        if not row:
            header = None
        elif header is None:
            header = row
        else:
            blocks.setdefault(row[0], []).append(dict(zip(header, row)))
    return blocks


def expected(st):
    """The figures computed here from the raw points."""
    ss = stretches()
    t0, t1 = ss[0][0] - 86400, ss[-1][1] + 86400
    span = "time >= %ds AND time < %ds" % (t0, t1)
    staffing = {}
    for n in range(1, 13):
        w = "w%02d" % n
        pts = points(st, "SELECT staffed_open AS v FROM \"window\" WHERE \"hall\" = 'h1' AND "
                         "\"window\" = '%s' AND %s" % (w, span))
        open_s = staffed_s = 0
        for a, b in ss:
            for v, s in held(pts, a, b, 0):
                open_s += s
                staffed_s += v * s
        staffing[w] = (open_s, staffed_s)
    q = points(st, "SELECT longest_wait_s AS v FROM queue WHERE device = 'queue' AND %s" % span)
    runs = [r for a, b in ss for r in held(q, a, b, LOOKBACK_S) if r[1] > 0]
    covered = sum(s for _, s in runs)
    waiting = (covered, sum(v * s for v, s in runs) / covered, p90(runs), max(v for v, _ in runs))
    env_cov = env_out = 0
    for dev in ("env-1", "env-2"):
        e = points(st, "SELECT co2 AS v FROM env WHERE device = '%s' AND %s" % (dev, span))
        for a, b in ss:
            for v, s in held(e, a, b, LOOKBACK_S):
                env_cov += s
                env_out += s if v > 1000 else 0
    return staffing, waiting, (env_cov, env_out)


def check(blocks, staffing, waiting, env, where):
    rows = {r["window"]: r for r in blocks["staffing"]}
    assert sorted(rows) == sorted(staffing), (where, rows.keys())
    for w, (open_s, staffed_s) in staffing.items():
        r = rows[w]
        assert int(r["open_s"]) == open_s and int(r["staffed_s"]) == staffed_s, (where, w, r, open_s, staffed_s)
        assert int(r["unstaffed_s"]) == open_s - staffed_s, (where, w, r)
        assert abs(float(r["staffed_share"]) - staffed_s / open_s) < 1e-4, (where, w, r)
    # the simulated w07 leaves its seat more often: it shows
    assert float(rows["w07"]["staffed_share"]) < min(float(r["staffed_share"]) for w, r in rows.items() if w != "w07")
    (wq,) = blocks["waiting"]
    covered, mean, q90, top = waiting
    assert int(wq["measured_s"]) == covered, (where, wq, waiting)
    assert abs(float(wq["mean_s"]) - mean) <= 0.05, (where, wq, waiting)
    assert float(wq["p90_s"]) == q90 and float(wq["max_s"]) == top, (where, wq, waiting)
    (co2,) = [r for r in blocks["environment"] if r["metric"] == "co2"]
    assert int(co2["measured_s"]) == env[0] and int(co2["out_of_range_s"]) == env[1], (where, co2, env)
    assert abs(float(co2["compliance"]) - (1 - env[1] / env[0])) < 1e-4, (where, co2, env)
    assert 0 < env[1] < env[0], env  # some CO2 over the limit: the check means something


def test_a_simulated_month_assessed_as_computed_from_the_raw_points():
    with Stack("period") as st:
        hall_conf = subprocess.run([SIM, "--hall", "h1", "--windows", "12", "--print-config"],
                                   check=True, capture_output=True, text=True).stdout
        gw = st.hallgw(http=True)
        with open(gw.conf, encoding="utf-8") as f:
            base = f.read()
        with open(gw.conf, "w", encoding="utf-8") as f:
            f.write(base[:base.index("halls = (")] + hall_conf + SCHEDULE +
                    '\nhttp = { listen = "127.0.0.1:%d"; };\n' % gw.http_port)
        check_conf = subprocess.run([HALLGW, "--check-config", gw.conf], capture_output=True, text=True)
        assert check_conf.returncode == 0, check_conf.stderr

        started = time.monotonic()
        sim = subprocess.run([SIM, "-c", gw.conf, "--month", "2026-11", "--seed", "5"],
                             capture_output=True, text=True, timeout=120)
        harness.log("hallgw-sim --month: %.1f s: %s" % (time.monotonic() - started, sim.stderr.strip()))
        assert sim.returncode == 0, sim.stderr
        assert "month 2026-11 of hall h1" in sim.stderr, sim.stderr
        again = subprocess.run([SIM, "-c", gw.conf, "--month", "2026-13"], capture_output=True, text=True)
        assert again.returncode == 2 and "--month" in again.stderr, again.stderr

        staffing, waiting, env = expected(st)
        gw.start()

        started = time.monotonic()
        r = subprocess.run([HALLGW, "report", "-c", gw.conf, "--period", "month", "--date", "2026-11-10",
                            "--format", "csv"], capture_output=True, text=True, timeout=300)
        harness.log("hallgw report --period month: %.1f s" % (time.monotonic() - started))
        assert r.returncode == 0, r.stderr
        blocks = csv_blocks(r.stdout)
        (head,) = blocks["period"]
        assert head["period"] == "2026-11" and head["first_day"] == "2026-11-01", head
        assert head["open_days"] == str(len(stretches()) // 2) and head["complete"] == "true", head
        days = {d["date"]: d for d in blocks["days"] if d["window"] == "w01"}
        assert days["2026-11-02"]["open_day"] == "false" and days["2026-11-07"]["open_day"] == "true", days
        check(blocks, staffing, waiting, env, "cli")

        status, body = gw.http_get("/api/v1/reports/period?period=month&date=2026-11-10&format=csv",
                                   timeout=300)
        assert status == 200, body
        web = csv_blocks(body.decode("utf-8"))
        check(web, staffing, waiting, env, "api")
        assert web["staffing"] == blocks["staffing"], web["staffing"]

        # The HTML of the week of the holiday (Monday 2 November) and the
        # Saturday worked in its place: the strips show the Monday closed.
        r = subprocess.run([HALLGW, "report", "-c", gw.conf, "--period", "week", "--date", "2026-11-04",
                            "--format", "html"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        page = r.stdout
        assert page.startswith("<!DOCTYPE html>") and "<script" not in page
        assert "2026-W45 (2026-11-02 — 2026-11-08)" in page, page[:3000]
        assert page.count("<svg") == 2 and page.count('class="staffed"') == 12, page[:3000]
        assert page.count("<title>closed</title>") == 12 * 2, page  # Monday and Sunday
        checker = TagChecker()
        checker.feed(page)
        checker.close()
        assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
        assert {"svg", "rect", "table"} <= checker.tags

        # The live page links last month's and last week's assessment.
        status, body = gw.http_get("/")
        assert status == 200 and b'href="api/v1/reports/period?period=month&amp;format=html"' in body, body[:500]
        assert b'href="api/v1/reports/period?period=week&amp;format=html"' in body

        for query, code in (("period=year", 400), ("period=week&date=2999-01-01", 400),
                            ("period=month&hall=nope", 404), ("period=month&format=pdf", 400)):
            status, body = gw.http_get("/api/v1/reports/period?" + query, timeout=60)
            assert status == code and json.loads(body)["error"], (query, status, body)
        r = subprocess.run([HALLGW, "report", "-c", gw.conf, "--period", "year"], capture_output=True, text=True)
        assert r.returncode == 2 and "--period" in r.stderr, r.stderr
        assert gw.stop() == 0


class SilentInflux:
    """An InfluxDB that takes connections and never answers: each query waits
    for the gateway's timeout."""
    db = "hallgw"
    shared = False

    def __init__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def stop(self):
        self.sock.close()


def test_one_assessment_is_made_at_a_time():
    import threading
    import urllib.error
    import urllib.request
    with Stack("period-busy", influx=False) as st:
        st.influx = SilentInflux()
        gw = st.hallgw(http=True)
        gw.start()
        answers = {}

        def get(name):
            url = "http://127.0.0.1:%d/api/v1/reports/period?period=week" % gw.http_port
            try:
                with urllib.request.urlopen(url, timeout=120) as r:
                    answers[name] = (r.status, r.headers, r.read())
            except urllib.error.HTTPError as e:
                answers[name] = (e.code, e.headers, e.read())

        first = threading.Thread(target=get, args=("first",))
        first.start()
        time.sleep(1)  # the first is waiting for InfluxDB
        get("second")
        first.join()
        status, headers, body = answers["second"]
        assert status == 503 and headers["Retry-After"] == "30", (status, dict(headers))
        assert "another assessment" in json.loads(body)["error"], body
        assert answers["first"][0] == 200, answers["first"]
        get("third")  # the first done: made again
        assert answers["third"][0] == 200, answers["third"][:1]


if __name__ == "__main__":
    harness.run([test_a_simulated_month_assessed_as_computed_from_the_raw_points,
                 test_one_assessment_is_made_at_a_time])
