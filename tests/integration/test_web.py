"""The built-in live hall page, served by hallgw from the files built into it, looked
at in a real headless Chromium (driven over the DevTools protocol, cdp.py):
what a hall supervisor sees on the wall screen and on a phone, and the
acknowledgement they make from it.

Needs /usr/bin/chromium (Debian's chromium package); without it the test
fails, it does not skip. Screenshots go to $HALLGW_BUILD_DIR/test-artifacts/;
with HALLGW_UPDATE_SCREENSHOTS=1 the wall-screen one is also copied to
docs/screenshots/live-hall.png."""

import json
import os
import shutil
import time
import urllib.error
import urllib.request

import cdp
import harness
from harness import (BUILD_DIR, SOURCE_DIR, Publisher, Stack, free_port, log, noon_zone,
                     schedule_around_now, wait_for, wait_port)

TOKEN = "web-test-token-3f9a1c"
HALL_NAME = "政务服务大厅一楼"
# Window names as a hall writes them: Chinese, with spaces.
WINDOWS = [
    ("w01", "综合受理 1"), ("w02", "综合受理 2"), ("w03", "社保医保"), ("w04", "不动产登记"),
    ("w05", "税务办理"), ("w06", "公积金"), ("w07", "出入境"), ("w08", "咨询投诉"),
]
# A name with markup characters, which must be shown as text, never interpreted.
MARKUP_NAME = "咨询 <b>&amp;</b> 投诉"


def halls(windows=WINDOWS):
    return [{"id": "h1", "name": HALL_NAME, "windows": [
        dict({"id": wid, "name": name, "seat": "seat-" + wid},
             **({"pc": "pc-" + wid, "plug": "plug-" + wid} if wid in ("w01", "w02", "w03", "w04") else {}),
             **({"lunch_duty": True} if wid == "w06" else {}))
        for wid, name in windows]}]
DEVICES = ([{"id": "seat-" + wid, "hall": "h1", "kind": "seat"} for wid, _ in WINDOWS]
           + [{"id": "pc-" + w, "hall": "h1", "kind": "pc"} for w in ("w01", "w02", "w03", "w04")]
           + [{"id": "plug-" + w, "hall": "h1", "kind": "plug"} for w in ("w01", "w02", "w03", "w04")]
           + [{"id": "queue", "hall": "h1", "kind": "queue"},
              {"id": "env-1", "hall": "h1", "kind": "env"},
              {"id": "env-2", "hall": "h1", "kind": "env"},
              {"id": "printer-1", "hall": "h1", "kind": "equipment", "type": "printer"},
              {"id": "kiosk-1", "hall": "h1", "kind": "equipment", "type": "ticket_kiosk"}])
RULES = """
rules = (
  { name = "unstaffed"; type = "unstaffed"; for = "1s"; severity = "warning"; },
  { name = "co2-high"; type = "threshold"; kind = "env"; metric = "co2"; above = 1000.0;
    clear_at = 900.0; severity = "warning"; },
  { name = "temperature-high"; type = "threshold"; kind = "env"; metric = "temperature"; above = 28.0;
    clear_at = 27.0; severity = "warning"; },
  { name = "temperature-low"; type = "threshold"; kind = "env"; metric = "temperature"; below = 18.0;
    clear_at = 19.0; severity = "warning"; },
  { name = "av-scan-overdue"; type = "max_age"; kind = "pc"; metric = "av_last_scan"; max_age = "7d";
    severity = "major"; },
  { name = "av-signatures-old"; type = "max_age"; kind = "pc"; metric = "av_sig_updated"; max_age = "3d";
    severity = "major"; },
  { name = "equipment-fault"; type = "equipment_status"; kind = "equipment"; severity = "major"; }
);
"""
ARTIFACTS = os.path.join(BUILD_DIR, "test-artifacts")


def api(port, path, token=None, body=None):
    """(status, decoded JSON) of a request to the gateway's HTTP API."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode() if body is not None else None,
                                 method="POST" if body is not None else "GET")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
    except (OSError, ValueError):
        return None, None


def active_alert(port, alert_id):
    status, body = api(port, "/api/v1/alerts")
    if status != 200:
        return None
    return next((a for a in body.get("active", []) if a["id"] == alert_id), None)


def publish_hall(pub):
    now = time.time()
    for wid, _ in WINDOWS:
        pub.publish("hall/h1/seat-%s/telemetry" % wid, json.dumps({"presence": wid != "w05"}))
    pub.publish("hall/h1/queue/telemetry", json.dumps({"waiting": 7, "longest_wait_s": 540}))
    pub.publish("hall/h1/env-1/telemetry", json.dumps(
        {"temperature": 24.5, "humidity": 48, "co2": 640, "pm25": 12, "noise_db": 55, "illuminance": 480}))
    pub.publish("hall/h1/env-2/telemetry", json.dumps(
        {"temperature": 26.1, "humidity": 57, "co2": 1350, "pm25": 21, "noise_db": 61, "illuminance": 390}))
    pub.publish("hall/h1/printer-1/telemetry", json.dumps({"status": "ok"}))
    pub.publish("hall/h1/kiosk-1/telemetry", json.dumps({"status": "paper_out", "fault": "取号机缺纸"}))
    for i, w in enumerate(("w01", "w02", "w03", "w04")):
        pub.publish("hall/h1/plug-%s/telemetry" % w, json.dumps({"on": True, "power_w": 38.0 + i}))
        pub.publish("hall/h1/pc-%s/telemetry" % w, json.dumps({
            "power": "on", "av_realtime": True, "av_threats": 0, "usb_storage": False,
            # w03's last scan is 10 days old: over the 7-day rule.
            "av_last_scan": now - (10 if w == "w03" else 1 + i) * 86400,
            "av_sig_updated": now - 3600}))


def start_gateway(st, http_extra="", windows=WINDOWS):
    zone, offset = noon_zone()
    port = free_port()
    token_file = os.path.join(st.dir, "http.token")
    harness.write_secret(token_file, TOKEN + "\n")
    http = 'http = { listen = "127.0.0.1:%d"; token_file = %s; %s };\n' % (
        port, harness.conf_str(token_file), http_extra)
    gw = st.hallgw(devices=DEVICES, halls=halls(windows), extra=schedule_around_now(offset) + RULES + http)
    gw.timezone = zone
    gw.write_config()
    gw.start()
    wait_port(port, proc=gw.proc)
    return gw, port


def js_str(s):
    return json.dumps(s, ensure_ascii=False)


def click(page, selector):
    page.evaluate("(() => { const e = document.querySelector(%s); if (!e) throw new Error('no ' + %s); "
                  "e.click(); })()" % (js_str(selector), js_str(selector)))


def fill(page, element_id, value):
    page.evaluate("(() => { const e = document.getElementById(%s); e.value = %s; "
                  "e.dispatchEvent(new Event('input', {bubbles: true})); })()"
                  % (js_str(element_id), js_str(value)))


def expect(page, expression, want):
    got = page.evaluate(expression)
    assert got == want, "%s: got %r, want %r" % (expression, got, want)


def expect_text(page, selector, part):
    text = page.evaluate("document.querySelector(%s)?.textContent" % js_str(selector))
    assert text and part in text, "%s: %r does not hold %r" % (selector, text, part)


def overflowing(page):
    """Elements whose content is wider than their box, and horizontal page overflow."""
    return page.evaluate("""(() => {
        const out = [];
        if (document.documentElement.scrollWidth > innerWidth + 1)
            out.push('page ' + document.documentElement.scrollWidth + ' > ' + innerWidth);
        for (const e of document.querySelectorAll('.tile, .tile-state, .alert, .card, .metric, .plug-item, .hall-head, .top'))
            if (e.scrollWidth > e.clientWidth + 1) out.push(e.className + ' ' + e.scrollWidth + ' > ' + e.clientWidth);
        return out;
    })()""")


def test_live_page_shows_the_hall_and_acknowledges_an_alert():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium (scripts/deps.sh test does)"
                             % cdp.CHROMIUM)
    with Stack("web") as st:
        gw, port = start_gateway(st)
        pub = Publisher(st.mqtt)
        publish_hall(pub)
        # The API reflects the telemetry before the page is opened.
        wait_for("the state API to show the hall", lambda: (lambda s: s[0] == 200 and any(
            d["id"] == "pc-w03" and d.get("values", {}).get("av_last_scan")
            for d in s[1]["halls"][0]["devices"]))(api(port, "/api/v1/state")), timeout=15)

        with cdp.Browser(lang="zh-CN") as browser:
            page = browser.page()
            page.viewport(1920, 1080)
            page.navigate("http://127.0.0.1:%d/" % port)

            # The windows, with their names exactly as configured.
            page.wait_js("the window tiles", "document.querySelectorAll('.tile').length === %d" % len(WINDOWS))
            names = page.evaluate("[...document.querySelectorAll('.tile .tile-name')].map(e => e.textContent)")
            assert names == [n for _, n in WINDOWS], names
            expect(page, "document.querySelector('.hall-name').textContent", HALL_NAME)
            expect(page, "document.documentElement.lang", "zh-CN")
            expect(page, "document.querySelector('.tile[data-window=w05]').dataset.state", "unstaffed")
            expect(page, "document.querySelector('.tile[data-window=w01]').dataset.state", "staffed")

            # Environment against the thresholds, equipment, PC compliance.
            page.wait_js("CO2 of env-2 over its limit",
                         "document.querySelector('[data-device=\"env-2\"] [data-metric=co2]')?.dataset.level === 'over'")
            expect(page, "document.querySelector('[data-device=\"env-1\"] [data-metric=co2]').dataset.level", "normal")
            expect(page, "document.querySelector('tr[data-device=\"kiosk-1\"]').dataset.status", "paper_out")
            expect_text(page, 'tr[data-device="kiosk-1"]', "取号机缺纸")
            expect(page, "document.querySelector('tr[data-device=\"pc-w03\"] [data-col=scan]').dataset.bad", "true")
            expect(page, "document.querySelector('tr[data-device=\"pc-w01\"] [data-col=scan]').dataset.bad", None)
            expect_text(page, 'li.plug-item[data-device="plug-w02"]', "39 W")
            expect_text(page, "#poweroff", "—")

            # A seat empties: the tile turns to the unstaffed alert state.
            pub.publish("hall/h1/seat-w02/telemetry", json.dumps({"presence": False}))
            page.wait_js("w02 unstaffed with a firing alert",
                         "(e => e && e.dataset.state === 'unstaffed' && e.dataset.alert === 'firing')"
                         "(document.querySelector('.tile[data-window=w02]'))", timeout=10)
            page.wait_js("the alert in the list", "!!document.querySelector('[data-alert-id=\"unstaffed:w02\"]')")
            # With how long it has been empty, as a running timer (m:ss).
            page.wait_js("the unstaffed timer", "/^\\d+:\\d\\d$/.test("
                         "document.querySelector('.tile[data-window=w02] .dur')?.textContent || '')")

            # Acknowledge it from the page: a wrong token is refused and asked again.
            click(page, '[data-alert-id="unstaffed:w02"] button[data-action=ack]')
            page.wait_js("the form", "!document.getElementById('dlg-overlay').hidden")
            assert not page.evaluate("document.getElementById('ack-token-field').hidden"), "no token asked"
            fill(page, "ack-by", "李娜")
            fill(page, "ack-note", "电话联系，3 分钟内回岗")
            fill(page, "ack-token", "not-the-token")
            click(page, "#ack-submit")
            page.wait_js("the refusal", "!document.getElementById('ack-error').hidden")
            expect(page, "document.getElementById('ack-token-field').hidden", False)
            assert active_alert(port, "unstaffed:w02")["state"] == "firing"
            fill(page, "ack-token", TOKEN)
            click(page, "#ack-submit")
            page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
            a = wait_for("the alert acknowledged in the API",
                         lambda: (lambda a: a if a and a["state"] == "acknowledged" else None)(
                             active_alert(port, "unstaffed:w02")), timeout=10)
            assert a["acked_by"] == "李娜" and a["note"] == "电话联系，3 分钟内回岗", a
            page.wait_js("the page to show it acknowledged",
                         "document.querySelector('[data-alert-id=\"unstaffed:w02\"]')?.dataset.state === 'acknowledged'")
            expect_text(page, '[data-alert-id="unstaffed:w02"]', "李娜")
            # The token is kept for the session: the next form does not ask again.
            expect(page, "sessionStorage.getItem('hallgw.token')", TOKEN)
            click(page, '[data-alert-id="co2-high:env-2"] button[data-action=ack]')
            page.wait_js("the second form", "!document.getElementById('dlg-overlay').hidden")
            expect(page, "document.getElementById('ack-token-field').hidden", True)
            expect(page, "document.getElementById('ack-by').value", "李娜")
            click(page, "#ack-cancel")
            expect(page, "document.getElementById('dlg-overlay').hidden", True)

            # No console errors, no exceptions (but the refused token above).
            page.pump(2.5)
            errors = page.errors(ignore=["/ack?hall=h1"])
            assert not errors, errors

            # Screenshots: wall screen and phone, nothing overflowing.
            assert not overflowing(page), overflowing(page)
            shot = page.screenshot(os.path.join(ARTIFACTS, "web-1920.png"))
            page.viewport(390, 844, mobile=True, scale=2)
            page.pump(1.0)
            assert not overflowing(page), overflowing(page)
            page.screenshot(os.path.join(ARTIFACTS, "web-390.png"))
            page.screenshot(os.path.join(ARTIFACTS, "web-390-full.png"), full_page=True)
            log("screenshots in", ARTIFACTS)
            if os.environ.get("HALLGW_UPDATE_SCREENSHOTS") == "1":
                dest = os.path.join(SOURCE_DIR, "docs", "screenshots", "live-hall.png")
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(shot, dest)
                log("updated", dest)

            # English, chosen with the switch, remembered across a reload.
            page.viewport(1920, 1080)
            click(page, "#lang-switch")
            expect(page, "document.documentElement.lang", "en")
            page.navigate("http://127.0.0.1:%d/" % port)
            page.wait_js("English after a reload",
                         "document.querySelector('.tile[data-window=w02] .state-text')?.textContent === 'Unstaffed'")
            expect(page, "localStorage.getItem('hallgw.lang')", "en")

            # The gateway goes away: the page says so and keeps the last data.
            gw.stop()
            page.wait_js("the connection-lost banner", "!document.getElementById('banner-conn').hidden", timeout=10)
            expect_text(page, "#banner-conn", "Connection lost")
            expect(page, "document.querySelectorAll('.tile').length", len(WINDOWS))
        pub.close()


def test_page_asks_for_the_token_when_reads_need_one():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium (scripts/deps.sh test does)"
                             % cdp.CHROMIUM)
    with Stack("web-token") as st:
        windows = WINDOWS[:-1] + [("w08", MARKUP_NAME)]
        gw, port = start_gateway(st, http_extra="open_reads = false;", windows=windows)
        assert api(port, "/api/v1/state")[0] == 401
        with cdp.Browser(lang="en-US") as browser:
            page = browser.page()
            page.viewport(1920, 1080)
            page.navigate("http://127.0.0.1:%d/" % port)
            page.wait_js("the token banner", "!document.getElementById('banner-token').hidden")
            expect(page, "document.documentElement.lang", "en")
            expect(page, "document.querySelectorAll('.tile').length", 0)
            click(page, "#token-open")
            page.wait_js("the token form", "!document.getElementById('dlg-overlay').hidden")
            expect(page, "document.getElementById('ack-by-field').hidden", True)
            fill(page, "ack-token", TOKEN)
            click(page, "#ack-submit")
            page.wait_js("the hall", "document.querySelectorAll('.tile').length === %d" % len(WINDOWS))
            expect(page, "document.getElementById('banner-token').hidden", True)
            expect(page, "document.querySelector('.tile[data-window=w08] .tile-name').textContent", MARKUP_NAME)
            expect(page, "document.querySelectorAll('.tile b').length", 0)
            page.pump(2.5)
            # Only the first, tokenless polls were refused.
            errors = page.errors(ignore=["401 (Unauthorized)"])
            assert not errors, errors


if __name__ == "__main__":
    harness.run([test_live_page_shows_the_hall_and_acknowledges_an_alert,
                 test_page_asks_for_the_token_when_reads_need_one])
