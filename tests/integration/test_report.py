"""hallgw report end to end, with a real broker, InfluxDB and gateway: a
window staffed then left, CO2 over its limit, an acknowledgement with a note
over MQTT, a USB stick; then the day's inspection record in Markdown, HTML and
CSV, and what it says when InfluxDB or everything is gone."""

import csv
import html.parser
import io
import json
import os
import subprocess
import time

import harness
from harness import BUILD_DIR, Publisher, Stack, Subscriber, noon_zone, schedule_around_now, wait_for

DEVICES = [
    {"id": "env-1", "hall": "h1", "kind": "env"},
    {"id": "seat-w01", "hall": "h1", "kind": "seat", "source": "zigbee2mqtt:report_seat_w01"},
    {"id": "seat-w02", "hall": "h1", "kind": "seat"},
    {"id": "pc-w01", "hall": "h1", "kind": "pc"},
]
# Foreign topics are global on a shared broker: a name no other test uses.
SEAT_W01 = "zigbee2mqtt/report_seat_w01"
HALLS = [{"id": "h1", "name": "政务服务大厅", "windows": [
    {"id": "w01", "name": "综合受理 1", "seat": "seat-w01", "pc": "pc-w01"},
    {"id": "w02", "name": "<b>综合</b> 2", "seat": "seat-w02"}]}]
RULES = """
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; for = "1s"; severity = "warning"; when = "open"; },
  { name = "unstaffed"; type = "unstaffed"; for = "1s"; severity = "warning"; },
  { name = "usb-storage"; type = "event"; kind = "pc"; event = "usb_storage_inserted";
    severity = "major"; }
);
"""
ACK_BY = "lishifu"  # the account that acknowledges
ACK_NOTE = '已开窗通风, "北侧"'


def transitions(sub, alert_id):
    return [m["state"] for m in sub.json_on("hall/h1/alerts") if m["id"] == alert_id]


def report(gw, *args, conf=None):
    return subprocess.run([os.path.join(BUILD_DIR, "hallgw"), "report", "-c", conf or gw.conf] + list(args),
                          capture_output=True, text=True, timeout=60)


class TagChecker(html.parser.HTMLParser):
    """Checks that every element is closed in order (void elements aside)."""
    VOID = {"meta", "br", "hr", "img", "link", "input", "col"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, self.stack[-3:]))
        else:
            self.stack.pop()


def csv_blocks(text):
    """The CSV as {section: [row dicts]}, each block read through its header row."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    blocks, header = {}, None
    for row in rows:
        if not row:
            header = None
        elif header is None:
            assert row[0] == "section", row
            header = row
        else:
            blocks.setdefault(row[0], []).append(dict(zip(header, row)))
    return blocks


def md_rows(md, first_cell):
    """Cells of the Markdown table rows whose first cell is first_cell."""
    out = []
    for line in md.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if cells[0] == first_cell:
                out.append(cells)
    return out


def test_report_of_a_day_with_alerts_acks_and_readings():
    with Stack("report") as st:
        zone, offset = noon_zone()
        gw = st.hallgw(devices=DEVICES, halls=HALLS, extra=schedule_around_now(offset) + RULES, http=True)
        gw.timezone = zone
        gw.write_config()
        gw.start()
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset * 3600))
        sub = Subscriber(st.mqtt, "hall/h1/alerts")
        pub = Publisher(st.mqtt)

        # Both windows staffed, CO2 too high.
        pub.publish(SEAT_W01, json.dumps({"occupancy": True}))
        pub.publish("hall/h1/seat-w02/telemetry", json.dumps({"presence": True}))
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 1500, "temperature": 22.5}))
        pub.publish("hall/h1/pc-w01/telemetry", json.dumps(
            {"power": "on", "av_last_scan": time.time() - 2 * 86400, "av_sig_updated": time.time() - 3600}))
        wait_for("co2-high firing", lambda: "firing" in transitions(sub, "co2-high:env-1"), timeout=15)
        # The day needs some length: w01 staffed and CO2 high for 2 s.
        time.sleep(2)
        # w01's clerk leaves; the alert fires after 1s.
        pub.publish(SEAT_W01, json.dumps({"occupancy": False}))
        wait_for("unstaffed:w01 firing", lambda: "firing" in transitions(sub, "unstaffed:w01"), timeout=15)
        gw.add_account(ACK_BY, "operator")
        pub.publish("hall/h1/alerts/co2-high:env-1/ack/" + ACK_BY,
                    json.dumps({"note": ACK_NOTE}, ensure_ascii=False))
        wait_for("co2-high acknowledged", lambda: "acknowledged" in transitions(sub, "co2-high:env-1"))
        pub.publish("hall/h1/pc-w01/event", json.dumps(
            {"type": "usb_storage_inserted", "vendor": "SanDisk", "model": "Cruzer, Blade", "serial": "4C53"}))
        # And w01 empty for 2 s.
        time.sleep(2)
        # Back at the window; the air clears.
        pub.publish(SEAT_W01, json.dumps({"occupancy": True}))
        pub.publish("hall/h1/env-1/telemetry", json.dumps({"co2": 700}))
        wait_for("unstaffed:w01 resolved", lambda: "resolved" in transitions(sub, "unstaffed:w01"))
        wait_for("co2-high resolved", lambda: "resolved" in transitions(sub, "co2-high:env-1"))
        # The window points of all three changes, and the readings, are in InfluxDB.
        wait_for("window points", lambda: len(st.influx.rows(
            "SELECT staffed_open FROM \"window\" WHERE \"window\" = 'w01' AND staffed_open >= 0")) >= 3)
        wait_for("co2 back to 700", lambda: st.influx.rows("SELECT co2 FROM env WHERE co2 = 700"))
        wait_for("usb event", lambda: st.influx.rows("SELECT * FROM event WHERE \"type\" = 'usb_storage_inserted'"))
        # The transitions reach the store a moment after they are published,
        # and today's report reaches up to the last whole second: wait until
        # it has the resolves and the last reading.
        def reported():
            md = report(gw, "--date", today, "--format", "md").stdout
            resolves = sum("resolved" in l for l in md.splitlines()
                           if "co2-high:env-1" in l or "unstaffed:w01" in l)
            return resolves >= 2 and [c for c in md_rows(md, "env-1") if c[1] == "co2" and c[6] == "700"]
        wait_for("the whole day in the report", reported)

        # ---- Markdown
        r = report(gw, "--date", today, "--format", "md")
        assert r.returncode == 0, r.stderr
        md = r.stdout
        assert "# 服务窗口巡查记录" in md and today in md and "政务服务大厅 (h1)" in md, md
        assert "gw-test" in md
        ack_line = [l for l in md.splitlines() if "co2-high:env-1" in l and "acknowledged" in l]
        assert len(ack_line) == 1, md
        assert ACK_BY in ack_line[0] and ACK_NOTE in ack_line[0], ack_line
        for alert_id, states in (("co2-high:env-1", ("firing", "acknowledged", "resolved")),
                                 ("unstaffed:w01", ("firing", "resolved"))):
            for s in states:
                assert any(alert_id in l and s in l for l in md.splitlines()), (alert_id, s, md)
        (w01,) = md_rows(md, "w01")
        opened, staffed, ratio, incidents = float(w01[3]), float(w01[4]), w01[5], w01[6]
        assert opened > 0 and 0 < staffed <= opened, w01  # minutes, one decimal
        assert ratio.endswith("%") and 0 < float(ratio[:-1]) < 100, w01
        assert incidents == "1", w01
        (w02,) = md_rows(md, "w02")
        assert w02[5] == "100.0%" and w02[6] == "0", w02
        assert "&lt;b&gt;综合&lt;/b&gt; 2" in md and "<b>综合</b>" not in md
        # The unstaffed incident, with its end.
        incident = [l for l in md.splitlines() if l.startswith("| w01 综合受理 1 |")]
        assert len(incident) == 1 and "未恢复" not in incident[0], md
        (co2,) = [c for c in md_rows(md, "env-1") if c[1] == "co2"]
        assert co2[2] == "&gt; 1000" and float(co2[3]) > 0 and co2[5] == "1500" and co2[6] == "700", co2
        assert not [c for c in md_rows(md, "env-1") if c[1] == "temperature"], "no rule on temperature"
        (pc,) = md_rows(md, "pc-w01")
        assert pc[7] == "1" and "2d" in pc[3], pc
        assert "SanDisk, Cruzer, Blade, serial 4C53" in md
        assert "No power-off records for this day" in md
        assert "could not be read" not in md, md
        # Section 8: the account's ack over MQTT is among the day's actions.
        acted = [l for l in md.splitlines() if l.startswith("| ") and ACK_BY in l and "| mqtt |" in l]
        assert len(acted) == 1 and "确认" in acted[0] and "完成" in acted[0], (acted, md)
        assert "当日无静默" in md

        # ---- HTML
        r = report(gw, "--date", today, "--format", "html")
        assert r.returncode == 0, r.stderr
        page = r.stdout
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        checker = TagChecker()
        checker.feed(page)
        checker.close()
        assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
        assert {"html", "head", "style", "body", "table", "thead", "tbody", "h1", "h2"} <= checker.tags
        assert "script" not in checker.tags and "b" not in checker.tags
        assert "@page { size: A4" in page
        assert ACK_BY in page and "已开窗通风, &quot;北侧&quot;" in page
        assert "co2-high:env-1" in page and "&lt;b&gt;综合&lt;/b&gt; 2" in page

        # ---- CSV, to a file
        out = os.path.join(st.dir, "report.csv")
        r = report(gw, "--date", today, "--format", "csv", "-o", out)
        assert r.returncode == 0 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
        with open(out, encoding="utf-8", newline="") as f:
            text = f.read()
        assert "\r\n" in text
        blocks = csv_blocks(text)
        assert [s["status"] for s in blocks["status"]] == ["ok"] * 6, blocks["status"]
        (head,) = blocks["header"]
        assert head["hall_name"] == "政务服务大厅" and head["date"] == today and head["gateway"] == "gw-test"
        (act,) = [a for a in blocks["actions"] if a["by"] == ACK_BY]
        assert {a["action"] for a in blocks["actions"] if a["by"] != ACK_BY} == \
            {"account-add", "token-add"}, blocks["actions"]  # the account, made by the test
        assert act["by"] == ACK_BY and act["from"] == "mqtt" and act["action"] == "ack" \
            and act["result"] == "done" and act["target"] == "co2-high:env-1", act
        assert blocks.get("silences", []) == [], blocks.get("silences")
        acks = [a for a in blocks["alerts"] if a["transition"] == "acknowledged"]
        assert len(acks) == 1 and acks[0]["alert"] == "co2-high:env-1", blocks["alerts"]
        assert acks[0]["by"] == ACK_BY and acks[0]["note"] == ACK_NOTE, acks
        win = {w["window"]: w for w in blocks["windows"]}
        assert 0 < float(win["w01"]["staffed_ratio"]) < 1, win
        assert win["w02"]["name"] == "<b>综合</b> 2" and float(win["w02"]["staffed_ratio"]) == 1.0
        assert int(win["w01"]["unstaffed_incidents"]) == 1
        (env,) = [e for e in blocks["environment"] if e["metric"] == "co2"]
        assert float(env["above"]) == 1000 and int(env["out_of_range_s"]) >= 2, env
        (inc,) = blocks["incidents"]
        assert inc["window"] == "w01" and int(inc["duration_s"]) >= 1 and inc["ended"], inc
        (usb,) = blocks["events"]
        assert usb["type"] == "usb_storage_inserted" and usb["detail"] == "SanDisk, Cruzer, Blade, serial 4C53"
        assert blocks["av"][0]["device"] == "pc-w01" and blocks["av"][0]["usb_events"] == "1"
        assert "poweroff" not in blocks and "faults" not in blocks

        # ---- the same record over HTTP, for the page
        status, body = gw.http_get("/api/v1/reports/daily?date=%s&hall=h1&format=csv" % today, timeout=60)
        assert status == 200, body
        web = csv_blocks(body.decode("utf-8"))
        assert web["alerts"] == blocks["alerts"] and web["actions"] == blocks["actions"], web
        status, body = gw.http_get("/api/v1/reports/daily?date=today", timeout=60)
        assert status == 200 and body.decode().startswith("<!DOCTYPE html>") and ACK_BY in body.decode()
        for query, code in (("date=2026-13-01", 400), ("date=2999-01-01", 400), ("hall=nope", 404),
                            ("format=pdf", 400)):
            status, body = gw.http_get("/api/v1/reports/daily?" + query, timeout=60)
            assert status == code and json.loads(body)["error"], (query, status, body)

        # ---- usage errors
        r = report(gw, "--date", today, "--hall", "nope")
        assert r.returncode == 2 and "unknown hall 'nope'" in r.stderr and "h1" in r.stderr, r.stderr
        r = report(gw, "--date", "2026-13-01")
        assert r.returncode == 2 and "--date" in r.stderr, r.stderr
        r = report(gw, "--date", "2999-01-01")
        assert r.returncode == 2 and "future" in r.stderr, r.stderr
        r = report(gw, "--format", "pdf")
        assert r.returncode == 2 and "--format" in r.stderr, r.stderr
        r = subprocess.run([os.path.join(BUILD_DIR, "hallgw"), "report", "--help"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 0 and "EXIT STATUS" in r.stdout and "巡查记录" in r.stdout

        # ---- InfluxDB gone (nothing listens at its address any more): the
        # SQLite parts are still there, each Influx section says so.
        with open(gw.conf, encoding="utf-8") as f:
            conf = f.read()
        gone = conf.replace(st.influx.url, "http://127.0.0.1:%d" % harness.free_port())
        assert gone != conf
        no_influx = os.path.join(st.dir, "no-influx.conf")
        with open(no_influx, "w", encoding="utf-8") as f:
            f.write(gone)
        t0 = time.time()
        r = report(gw, "--date", today, conf=no_influx)
        assert time.time() - t0 < 30
        assert r.returncode == 0, r.stderr
        assert "warning" in r.stderr and "InfluxDB" in r.stderr, r.stderr
        assert r.stdout.count("The data could not be read") == 5, r.stdout
        ack_line = [l for l in r.stdout.splitlines() if "co2-high:env-1" in l and "acknowledged" in l]
        assert len(ack_line) == 1 and ACK_NOTE in ack_line[0], r.stdout
        (w01,) = md_rows(r.stdout, "w01")
        assert w01[4] == "-" and w01[6] == "1", w01

        # ---- nothing readable at all: exit 1.
        gw.stop()
        with open(no_influx, encoding="utf-8") as f:
            conf = f.read().replace(gw.state_dir, os.path.join(st.dir, "no-such-state"))
        broken = os.path.join(st.dir, "broken.conf")
        with open(broken, "w", encoding="utf-8") as f:
            f.write(conf)
        r = report(gw, "--date", today, conf=broken)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "alert history could not be read" in r.stderr and "nothing could be read" in r.stderr
        sub.close()
        pub.close()


if __name__ == "__main__":
    harness.run([test_report_of_a_day_with_alerts_acks_and_readings])
