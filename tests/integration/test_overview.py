"""Every hall at a glance: GET /api/v1/overview, its points in InfluxDB
(measurement overview), and the overview page
(overview.html) of a gateway with three halls, looked at in a headless
Chromium (cdp.py): each hall's figures, one click into a hall's live page,
and a manager (an account of role viewer: every role reads the records)
who signs in, downloads yesterday's daily record as HTML and CSV, and opens
last month's assessment (考核) from the live page.

Needs /usr/bin/chromium, like test_web.py."""

import datetime
import glob
import json
import os
import time

import cdp
import harness
from harness import Publisher, Stack, free_port, noon_zone, schedule_around_now, wait_for, wait_port
from test_web import api, click, expect, fill, js_str

TOKEN = "overview-test-token-7c2e"  # http.token_file: acts as an admin
MANAGER_PASSWORD = "manager-pw-5521-qa"
HALLS = [("h1", "政务服务中心 A厅"), ("h2", "政务服务中心 B厅"), ("h3", "政务服务中心 C厅")]
WINDOWS = ["w01", "w02", "w03"]
RULES = """
rules = (
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; severity = "major"; }
);
"""
# Per hall: the seats that are empty, people waiting, the CO2 of its air.
FIGURES = {"h1": ([], 4, 600), "h2": (["w02"], 9, 1400), "h3": (["w01", "w03"], 0, 700)}


def hall_config():
    halls = [{"id": h, "name": name, "windows": [
        {"id": w, "name": "窗口 " + w[1:], "seat": "%s-seat-%s" % (h, w)} for w in WINDOWS]}
        for h, name in HALLS]
    devices = ([{"id": "%s-seat-%s" % (h, w), "hall": h, "kind": "seat"} for h, _ in HALLS for w in WINDOWS]
               + [{"id": h + "-queue", "hall": h, "kind": "queue"} for h, _ in HALLS]
               + [{"id": h + "-env", "hall": h, "kind": "env"} for h, _ in HALLS])
    return halls, devices


def start_gateway(st, http_extra=""):
    zone, offset = noon_zone()
    port = free_port()
    token_file = os.path.join(st.dir, "http.token")
    harness.write_secret(token_file, TOKEN + "\n")
    http = 'http = { listen = "127.0.0.1:%d"; token_file = %s; %s };\n' % (
        port, harness.conf_str(token_file), http_extra)
    halls, devices = hall_config()
    gw = st.hallgw(devices=devices, halls=halls, extra=schedule_around_now(offset) + RULES + http)
    gw.timezone = zone
    gw.write_config()
    gw.start()
    wait_port(port, proc=gw.proc)
    return gw, port, offset


def publish_halls(pub):
    for h, (empty, waiting, co2) in FIGURES.items():
        for w in WINDOWS:
            pub.publish("hall/%s/%s-seat-%s/telemetry" % (h, h, w), json.dumps({"presence": w not in empty}))
        pub.publish("hall/%s/%s-queue/telemetry" % (h, h), json.dumps({"waiting": waiting}))
        pub.publish("hall/%s/%s-env/telemetry" % (h, h), json.dumps({"co2": co2, "temperature": 23}))


def overview_settled(port, token=TOKEN):
    status, ov = api(port, "/api/v1/overview", token=token)
    if status != 200:
        return None
    halls = {h["id"]: h for h in ov["halls"]}
    ok = (halls["h2"]["alerts"]["total"] == 1 and all(
        halls[h]["waiting"] == FIGURES[h][1] and halls[h]["staffed"] == len(WINDOWS) - len(FIGURES[h][0])
        for h in halls))
    return ov if ok else None


def test_the_overview_api_counts_each_hall():
    with Stack("overview-api") as st:
        gw, port, _ = start_gateway(st, "open_reads = false;")
        pub = Publisher(st.mqtt)
        publish_halls(pub)
        # Reads need an account, as for the state.
        assert api(port, "/api/v1/overview")[0] == 401
        ov = wait_for("the overview of three halls", lambda: overview_settled(port), timeout=20)
        assert ov["gateway"] == gw.gateway_id
        assert ov["schedule"]["state"] == "open"
        assert [(h["id"], h["name"]) for h in ov["halls"]] == HALLS
        for h in ov["halls"]:
            empty, waiting, _ = FIGURES[h["id"]]
            assert h["state"] == "open"
            assert (h["windows"], h["open"]) == (3, 3), h
            assert (h["staffed"], h["unstaffed"], h["unknown"]) == (3 - len(empty), len(empty), 0), h
            assert h["waiting"] == waiting, h
            assert h["poweroff"] is None, h
        alerts = {h["id"]: h["alerts"] for h in ov["halls"]}
        assert alerts["h2"] == {"total": 1, "unacknowledged": 1, "critical": 0, "major": 1,
                                "warning": 0, "info": 0}, alerts
        assert alerts["h1"]["total"] == 0 and alerts["h3"]["total"] == 0, alerts
        # The same figures go to InfluxDB with the gateway's counters, tagged
        # by gateway and hall: a central store's view of every hall.
        def points():
            rows = st.influx.rows('SELECT last("staffed") AS "staffed", last("waiting") AS "waiting", '
                                  'last("alerts_major") AS "major", last("windows_open") AS "open" '
                                  'FROM "overview" GROUP BY "gateway", "hall"')
            got = {r["hall"]: (r["gateway"], r["staffed"], r["waiting"], r["major"], r["open"]) for r in rows}
            want = {h: (gw.gateway_id, 3 - len(e), w, 1 if h == "h2" else 0, 3)
                    for h, (e, w, _) in FIGURES.items()}
            return got if got == want else None
        wait_for("each hall's overview point", points, timeout=20)
        # Acknowledged, it still counts, no longer as unacknowledged.
        _, active = api(port, "/api/v1/alerts", token=TOKEN)
        alert = active["active"][0]
        status, _ = api(port, "/api/v1/alerts/%s/ack?hall=h2" % alert["id"], token=TOKEN, body={"note": "通风"})
        assert status == 200
        wait_for("the acknowledgement in the overview", lambda: (lambda o: o[0] == 200 and [
            h["alerts"] for h in o[1]["halls"] if h["id"] == "h2"][0]["unacknowledged"] == 0)(
            api(port, "/api/v1/overview", token=TOKEN)), timeout=10)
        # A hall's air clears: its alert is gone from the overview.
        pub.publish("hall/h2/h2-env/telemetry", json.dumps({"co2": 700}))
        wait_for("the alert resolved in the overview", lambda: (lambda o: o[0] == 200 and [
            h["alerts"] for h in o[1]["halls"] if h["id"] == "h2"][0]["total"] == 0)(
            api(port, "/api/v1/overview", token=TOKEN)), timeout=10)
        pub.close()
        assert gw.stop() == 0


def test_the_overview_page_shows_every_hall_and_opens_one():
    with Stack("overview-page") as st:
        gw, port, _ = start_gateway(st)
        pub = Publisher(st.mqtt)
        publish_halls(pub)
        wait_for("the overview of three halls", lambda: overview_settled(port), timeout=20)
        with cdp.Browser(lang="zh-CN") as browser:
            page = browser.page()
            page.viewport(1920, 1080)
            page.navigate("http://127.0.0.1:%d/overview" % port)
            page.wait_js("three hall cards", "document.querySelectorAll('.ov-hall').length === 3")
            cards = page.evaluate("""[...document.querySelectorAll('.ov-hall')].map(c => ({
                hall: c.dataset.hall, name: c.querySelector('.ov-name').textContent,
                state: c.dataset.state, worst: c.dataset.worst,
                staffed: c.querySelector('[data-field=staffed]').textContent,
                waiting: c.querySelector('[data-field=waiting]').textContent,
                alerts: c.querySelector('[data-field=alerts]').textContent,
                sev: [...c.querySelectorAll('.ov-sev span')].map(s => s.textContent),
                po: c.querySelector('[data-field=poweroff]').textContent}))""")
            assert [(c["hall"], c["name"]) for c in cards] == HALLS, cards
            by = {c["hall"]: c for c in cards}
            assert by["h1"]["staffed"] == "3 / 3" and by["h2"]["staffed"] == "2 / 3" \
                and by["h3"]["staffed"] == "1 / 3", cards
            assert [by[h]["waiting"] for h in ("h1", "h2", "h3")] == ["4", "9", "0"], cards
            assert [by[h]["alerts"] for h in ("h1", "h2", "h3")] == ["0", "1", "0"], cards
            assert by["h2"]["worst"] == "major" and "严重 1" in by["h2"]["sev"], cards
            assert by["h1"]["sev"] == ["无告警"], cards
            assert all(c["state"] == "open" for c in cards) and all("尚未执行" in c["po"] for c in cards), cards
            expect(page, "document.querySelector('.ov-hall .chip').textContent", "办公中")
            # Live: a seat empties in h1 and the card follows without a reload.
            pub.publish("hall/h1/h1-seat-w01/telemetry", json.dumps({"presence": False}))
            page.wait_js("h1's card to follow", "document.querySelector('.ov-hall[data-hall=h1] "
                         "[data-field=staffed]').textContent === '2 / 3'")
            # English.
            click(page, "#lang-switch")
            page.wait_js("English", "document.querySelector('.ov-hall[data-hall=h2] .ov-sev span')"
                         ".textContent === 'Major 1'")
            expect(page, "document.querySelector('h1 [data-i18n=ovTitle]').textContent", "All halls")
            page.screenshot(os.path.join(harness.BUILD_DIR, "test-artifacts", "overview-1920.png"))
            # One click opens hall B's live page, with that hall alone.
            click(page, ".ov-hall[data-hall=h2]")
            page.wait_js("the live page of h2", "location.pathname === '/' && location.search === '?hall=h2' && "
                         "document.querySelectorAll('.tile').length === 3")
            expect(page, "[...document.querySelectorAll('.hall-name')].map(e => e.textContent)", [HALLS[1][1]])
            page.wait_js("h2's alert alone", "document.querySelectorAll('[data-alert-id]').length === 1")
            expect(page, "document.querySelector('.tile[data-window=w02]').dataset.state", "unstaffed")
            expect(page, "document.getElementById('overview-link').getAttribute('href')", "overview.html")
            errors = page.errors()
            assert not errors, errors
        pub.close()
        assert gw.stop() == 0


def downloaded(folder, suffix):
    done = [p for p in glob.glob(os.path.join(folder, "*" + suffix)) if not p.endswith(".crdownload")]
    return done[0] if done else None


def test_a_manager_downloads_yesterdays_record_from_the_page():
    with Stack("overview-record") as st:
        gw, port, offset = start_gateway(st, "open_reads = false;")
        gw.add_account("manager", "viewer", MANAGER_PASSWORD)
        pub = Publisher(st.mqtt)
        publish_halls(pub)
        yesterday = (datetime.datetime.utcfromtimestamp(time.time() + offset * 3600)
                     - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        folder = os.path.join(st.dir, "downloads")
        os.makedirs(folder)
        with cdp.Browser(lang="zh-CN") as browser:
            page = browser.page()
            page.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
            page.navigate("http://127.0.0.1:%d/overview.html" % port)
            # Reads need an account: the sign-in form first, nothing of the halls.
            page.wait_js("the sign-in form", "!document.getElementById('signin').hidden")
            expect(page, "document.querySelectorAll('.ov-hall').length", 0)
            fill(page, "signin-name", "manager")
            fill(page, "signin-password", "wrong-password-1")
            click(page, "#signin-submit")
            page.wait_js("the refusal", "!document.getElementById('signin-error').hidden")
            fill(page, "signin-name", "manager")
            fill(page, "signin-password", MANAGER_PASSWORD)
            click(page, "#signin-submit")
            page.wait_js("the halls for the manager", "document.querySelectorAll('.ov-hall').length === 3")
            expect(page, "document.getElementById('who-name').textContent", "manager")
            # The records offered are yesterday's, one per hall.
            expect(page, "document.getElementById('record-date').value", yesterday)
            for fmt, suffix in (("csv", ".csv"), ("html", ".html")):
                click(page, "#record-list li[data-hall=h2] a[data-format=%s]" % fmt)
                path = wait_for("the %s record downloaded" % fmt, lambda: downloaded(folder, suffix), timeout=30)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                assert os.path.basename(path) == "hallgw-%s-h2%s" % (yesterday, suffix), path
                assert HALLS[1][1] in text, text[:500]
                assert yesterday in text, text[:500]
                assert HALLS[0][1] not in text, "the record of h2 names h1"
            # Last month's assessment (考核), from the live page's header link,
            # opened in the same signed-in browser.
            now_local = datetime.datetime.utcfromtimestamp(time.time() + offset * 3600)
            last_month = (now_local.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
            page.navigate("http://127.0.0.1:%d/" % port)
            page.wait_js("the live page's assessment link",
                         "!!document.getElementById('period-month')")
            href = page.evaluate("document.getElementById('period-month').href")
            assert "/api/v1/reports/period?period=month" in href, href
            page.navigate(href, timeout=120)
            page.wait_js("the assessment", "document.body && document.body.innerText.includes('月度考核')")
            text = page.evaluate("document.documentElement.outerHTML")
            assert last_month in text, text[:800]
            assert all(name in text for _, name in HALLS), text[:800]
            assert "<svg" in text, "the assessment has no chart"
            errors = page.errors(ignore=["401 (Unauthorized)"])  # the wrong password
            assert not errors, errors
        pub.close()
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_the_overview_api_counts_each_hall,
                 test_the_overview_page_shows_every_hall_and_opens_one,
                 test_a_manager_downloads_yesterdays_record_from_the_page])
