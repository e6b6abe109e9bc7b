"""The built-in live hall page, served by hallgw from the files built into it, looked
at in a real headless Chromium (driven over the DevTools protocol, cdp.py):
what a hall supervisor sees on the wall screen and on a phone, the
acknowledgement they make from it after signing in, what each role's
account may do from the page (and is refused when it tries the rest), a
silence made, extended and expired from the page (a webhook hears nothing
while it lasts), and a window's PC kept on tonight from the page, which the
nightly power-off run then skips.

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
from harness import (BUILD_DIR, SOURCE_DIR, Publisher, Stack, Subscriber, free_port, local_hms, log,
                     noon_zone, schedule_around_now, wait_for, wait_port)

TOKEN = "web-test-token-3f9a1c"  # http.token_file: acts as an admin
LINA_PASSWORD = "lina-pw-8841-xk"
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
  { name = "netcfg-changed"; type = "baseline"; kind = "pc"; metric = "net_fp"; severity = "major"; },
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


def api(port, path, token=None, body=None, cookie=None):
    """(status, decoded JSON) of a request to the gateway's HTTP API."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode() if body is not None else None,
                                 method="POST" if body is not None else "GET")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if cookie:
        req.add_header("Cookie", cookie)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
    except (OSError, ValueError):
        return None, None


def active_alert(port, alert_id, token=None):
    status, body = api(port, "/api/v1/alerts", token=token)
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


def start_gateway(st, http_extra="", windows=WINDOWS, extra=""):
    zone, offset = noon_zone()
    port = free_port()
    token_file = os.path.join(st.dir, "http.token")
    harness.write_secret(token_file, TOKEN + "\n")
    http = 'http = { listen = "127.0.0.1:%d"; token_file = %s; %s };\n' % (
        port, harness.conf_str(token_file), http_extra)
    gw = st.hallgw(devices=DEVICES, halls=halls(windows), extra=schedule_around_now(offset) + RULES + http + extra)
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
        gw.add_account("lina", "operator", LINA_PASSWORD)
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

            # Signed out (reads are open here) the page shows the hall but no
            # button that changes anything; the header offers to sign in.
            expect(page, "document.querySelectorAll('#alerts button[data-action]').length", 0)
            expect(page, "document.getElementById('sign-in').hidden", False)
            expect(page, "document.getElementById('who').hidden", True)

            # Sign in: a wrong password is refused on the form.
            click(page, "#sign-in")
            page.wait_js("the sign-in form", "!document.getElementById('dlg-overlay').hidden")
            expect(page, "document.getElementById('ack-dialog').dataset.mode", "signin")
            fill(page, "signin-name", "lina")
            fill(page, "signin-password", "not-the-password")
            click(page, "#ack-submit")
            page.wait_js("the refusal", "!document.getElementById('ack-error').hidden")
            expect_text(page, "#ack-error", "账号或密码错误")
            expect(page, "document.getElementById('signin-password').value", "")
            expect(page, "document.getElementById('who').hidden", True)
            fill(page, "signin-password", LINA_PASSWORD)
            click(page, "#ack-submit")
            page.wait_js("signed in", "document.getElementById('who-name').textContent === 'lina'")
            expect(page, "document.getElementById('who-role').textContent", "值班人员")
            expect(page, "document.getElementById('dlg-overlay').hidden", True)

            # Acknowledge from the page: no name to type, the account's is recorded.
            page.wait_js("the acknowledge button", "!!document.querySelector("
                         "'[data-alert-id=\"unstaffed:w02\"] button[data-action=ack]')")
            click(page, '[data-alert-id="unstaffed:w02"] button[data-action=ack]')
            page.wait_js("the form", "!document.getElementById('dlg-overlay').hidden")
            expect(page, "document.getElementById('ack-dialog').dataset.mode", "ack")
            expect(page, "document.getElementById('ack-by')", None)
            expect_text(page, "#ack-as", "lina")
            fill(page, "ack-note", "电话联系，3 分钟内回岗")
            click(page, "#ack-submit")
            page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
            a = wait_for("the alert acknowledged in the API",
                         lambda: (lambda a: a if a and a["state"] == "acknowledged" else None)(
                             active_alert(port, "unstaffed:w02")), timeout=10)
            assert a["acked_by"] == "lina" and a["note"] == "电话联系，3 分钟内回岗", a
            page.wait_js("the page to show it acknowledged",
                         "document.querySelector('[data-alert-id=\"unstaffed:w02\"]')?.dataset.state === 'acknowledged'")
            expect_text(page, '[data-alert-id="unstaffed:w02"]', "lina")
            page.wait_js("the patrol record", "document.getElementById('record').textContent.includes('lina')")
            # A second form can be left without sending anything.
            click(page, '[data-alert-id="co2-high:env-2"] button[data-action=ack]')
            page.wait_js("the second form", "!document.getElementById('dlg-overlay').hidden")
            click(page, "#ack-cancel")
            expect(page, "document.getElementById('dlg-overlay').hidden", True)
            assert active_alert(port, "co2-high:env-2")["state"] == "firing"

            # No console errors, no exceptions (but the refused password above).
            page.pump(2.5)
            errors = page.errors(ignore=["/api/v1/session"])
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


def sign_in(page, name, password):
    """Signs in on the page's form (open already) and waits for the hall."""
    page.wait_js("the sign-in form", "!document.getElementById('dlg-overlay').hidden && "
                 "document.getElementById('ack-dialog').dataset.mode === 'signin'")
    fill(page, "signin-name", name)
    fill(page, "signin-password", password)
    click(page, "#ack-submit")
    page.wait_js("%s signed in" % name, "document.getElementById('who-name').textContent === %s" % js_str(name))
    page.wait_js("the hall for %s" % name, "document.querySelectorAll('.tile').length === %d" % len(WINDOWS))
    page.wait_js("the alerts for %s" % name, "!!document.querySelector('[data-alert-id]')")


def sign_out(page):
    click(page, "#sign-out")
    page.wait_js("the sign-in form after signing out", "!document.getElementById('dlg-overlay').hidden && "
                 "document.getElementById('ack-dialog').dataset.mode === 'signin'")


def actions(page, alert_id):
    """The change buttons on an alert of the list."""
    return page.evaluate("[...document.querySelectorAll(%s)].map(b => b.dataset.action)"
                         % js_str('[data-alert-id="%s"] button[data-action]' % alert_id))


def act(page, alert_id, action, note):
    """Clicks an alert's button, writes the note and sends the form."""
    click(page, '[data-alert-id="%s"] button[data-action=%s]' % (alert_id, action))
    page.wait_js("the %s form" % action, "!document.getElementById('dlg-overlay').hidden && "
                 "document.getElementById('ack-dialog').dataset.mode === %s" % js_str(action))
    fill(page, "ack-note", note)
    click(page, "#ack-submit")
    page.wait_js("the %s form to close" % action, "document.getElementById('dlg-overlay').hidden")


def forced(page, method, path, body=None):
    """[status, error] of a request made by hand from the page's JavaScript,
    with the browser's session cookie and the session's CSRF token: what the
    account can do by going around the page's buttons."""
    return page.evaluate("""(async () => {
        const me = await (await fetch('api/v1/session')).json();
        const r = await fetch(%s, {method: %s, body: %s,
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf || ''}});
        return [r.status, (await r.json()).error || ''];
    })()""" % (js_str(path), js_str(method), js_str(json.dumps(body)) if body is not None else "undefined"),
        await_promise=True)


def session_cookie(page, port):
    """The page's session cookie (HttpOnly: read over the DevTools protocol)."""
    cookies = page.send("Network.getCookies", {"urls": ["http://127.0.0.1:%d/" % port]})["cookies"]
    return next("%s=%s" % (c["name"], c["value"]) for c in cookies if c["name"] == "hallgw_session")


def test_each_role_does_what_it_may_from_the_page():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium (scripts/deps.sh test does)"
                             % cdp.CHROMIUM)
    co2, scan, unstaffed = "co2-high:env-2", "av-scan-overdue:pc-w03", "unstaffed:w05"
    netcfg = "netcfg-changed:pc-w01"
    fp_a, fp_b = "fp-a-" + "a" * 59, "fp-b-" + "b" * 59
    with Stack("web-roles") as st:
        windows = WINDOWS[:-1] + [("w08", MARKUP_NAME)]
        gw, port = start_gateway(st, http_extra="open_reads = false;", windows=windows)
        passwords = {n: "pw-%s-5519-web" % n for n in ("zhang", "wang", "zhao", "chen")}
        admin = gw.add_account("chen", "admin", passwords["chen"])
        for name, role in (("zhang", "operator"), ("wang", "it"), ("zhao", "viewer")):
            gw.add_account(name, role, passwords[name])
        assert api(port, "/api/v1/state")[0] == 401
        pub = Publisher(st.mqtt)
        publish_hall(pub)
        # pc-w01's network fingerprint is learnt, then changes: a baseline alert.
        pub.publish("hall/h1/pc-w01/telemetry", json.dumps({"power": "on", "net_fp": fp_a}))
        wait_for("the baseline learnt", lambda: "baseline net_fp of pc-w01 learnt" in gw.log_text())
        pub.publish("hall/h1/pc-w01/telemetry", json.dumps({"power": "on", "net_fp": fp_b}))
        wait_for("the hall's alerts firing", lambda: all(
            (active_alert(port, a, admin) or {}).get("state") == "firing"
            for a in (co2, scan, unstaffed, netcfg)), timeout=15)

        with cdp.Browser(lang="en-US") as browser:
            page = browser.page()
            page.viewport(1920, 1080)
            page.navigate("http://127.0.0.1:%d/" % port)
            # Reads need an account: the sign-in form comes first, nothing of the hall.
            page.wait_js("the sign-in form", "!document.getElementById('dlg-overlay').hidden")
            expect(page, "document.getElementById('ack-dialog').dataset.mode", "signin")
            expect(page, "document.getElementById('banner-signin').hidden", False)
            expect(page, "document.documentElement.lang", "en")
            expect(page, "document.querySelectorAll('.tile, [data-alert-id]').length", 0)
            # A wrong password: an error on the form, still nothing shown.
            fill(page, "signin-name", "zhang")
            fill(page, "signin-password", "wrong-password-1")
            click(page, "#ack-submit")
            page.wait_js("the refusal", "!document.getElementById('ack-error').hidden")
            expect_text(page, "#ack-error", "Wrong account name or password")
            expect(page, "document.querySelectorAll('.tile').length", 0)

            # The operator: acknowledges the hall's CO2 alert, not a PC's.
            sign_in(page, "zhang", passwords["zhang"])
            expect(page, "document.getElementById('who-role').textContent", "operator")
            expect(page, "document.getElementById('audit-open').hidden", True)
            expect(page, "document.querySelector('.tile[data-window=w08] .tile-name').textContent", MARKUP_NAME)
            expect(page, "document.querySelectorAll('.tile b').length", 0)
            # Any alert may be silenced by the roles that silence.
            assert actions(page, co2) == ["ack", "silence"], actions(page, co2)
            assert actions(page, scan) == ["silence"] and actions(page, netcfg) == ["silence"], \
                (actions(page, scan), actions(page, netcfg))
            expect_text(page, '[data-alert-id="%s"] [data-reason=role]' % scan, "IT")
            act(page, co2, "ack", "已开窗通风")
            a = active_alert(port, co2, admin)
            assert a["state"] == "acknowledged" and a["acked_by"] == "zhang" and a["note"] == "已开窗通风", a
            page.wait_js("the page to show it acknowledged by zhang", "(e => e && e.dataset.state === "
                         "'acknowledged' && e.textContent.includes('zhang'))(document.querySelector(%s))"
                         % js_str('[data-alert-id="%s"]' % co2))
            status, error = forced(page, "POST", "api/v1/alerts/%s/ack?hall=h1" % scan, {"note": "x"})
            assert status == 403 and "not for your role" in error, (status, error)
            assert active_alert(port, scan, admin)["state"] == "firing"
            # Signing out ends the session: its cookie reads nothing any more.
            cookie = session_cookie(page, port)
            assert api(port, "/api/v1/state", cookie=cookie)[0] == 200
            sign_out(page)
            expect(page, "document.querySelectorAll('.tile, [data-alert-id]').length", 0)
            expect(page, "document.getElementById('who').hidden", True)
            assert page.evaluate("fetch('api/v1/state').then(r => r.status)", await_promise=True) == 401
            assert api(port, "/api/v1/state", cookie=cookie)[0] == 401

            # IT: approves the new network baseline and acknowledges the PC alert.
            sign_in(page, "wang", passwords["wang"])
            expect(page, "document.getElementById('who-role').textContent", "IT")
            assert actions(page, netcfg) == ["approve", "ack", "silence"], actions(page, netcfg)
            assert actions(page, scan) == ["ack", "silence"], actions(page, scan)
            assert actions(page, co2) == ["silence"], actions(page, co2)
            act(page, netcfg, "approve", "更换交换机，已核实")
            assert active_alert(port, netcfg, admin) is None
            page.wait_js("the approved alert gone", "!document.querySelector(%s)"
                         % js_str('[data-alert-id="%s"]' % netcfg))
            act(page, scan, "ack", "已安排今晚全盘扫描")
            a = active_alert(port, scan, admin)
            assert a["state"] == "acknowledged" and a["acked_by"] == "wang", a
            sign_out(page)

            # The viewer: sees the hall, has no buttons, is refused when it tries.
            sign_in(page, "zhao", passwords["zhao"])
            expect(page, "document.getElementById('who-role').textContent", "viewer")
            expect(page, "document.querySelectorAll('#alerts button[data-action], [data-reason]').length", 0)
            expect(page, "document.querySelector('.tile[data-window=w05]').dataset.state", "unstaffed")
            status, error = forced(page, "POST", "api/v1/alerts/%s/ack?hall=h1" % unstaffed, {"note": "x"})
            assert status == 403 and "viewer" in error, (status, error)
            assert active_alert(port, unstaffed, admin)["state"] == "firing"
            sign_out(page)

            # The admin: the audit log on the page, with everyone's doings.
            sign_in(page, "chen", passwords["chen"])
            expect(page, "document.getElementById('audit-open').hidden", False)
            click(page, "#audit-open")
            page.wait_js("the audit log", "document.querySelectorAll('#audit-body tr[data-account]').length > 0")
            shown = page.evaluate("[...document.querySelectorAll('#audit-body tr[data-account]')]"
                                  ".map(r => [r.dataset.account, r.dataset.audit, r.dataset.ok])")
            for row in (["zhang", "sign-in", "false"], ["zhang", "ack", "true"], ["zhang", "ack", "false"],
                        ["wang", "approve", "true"], ["zhao", "ack", "false"], ["zhao", "sign-out", "true"]):
                assert row in shown, (row, shown)
            assert shown[0] == ["chen", "sign-in", "true"], shown[:3]  # newest first
            page.screenshot(os.path.join(ARTIFACTS, "web-audit.png"))
            click(page, "#audit-close")
            expect(page, "document.getElementById('dlg-overlay').hidden", True)

            page.pump(1.0)
            # Only the refusals the test asked for.
            errors = page.errors(ignore=["401 (Unauthorized)", "403 (Forbidden)"])
            assert not errors, errors

        # From Python: the alert history and the audit log name the accounts.
        status, body = api(port, "/api/v1/alerts?history=1", token=admin)
        assert status == 200, status
        done = {(h["alert_id"], h["transition"], h["by"]) for h in body["history"] if h.get("by")}
        for want in ((co2, "acknowledged", "zhang"), (netcfg, "resolved", "wang"),
                     (scan, "acknowledged", "wang")):
            assert want in done, (want, done)
        status, body = api(port, "/api/v1/audit", token=admin)
        assert status == 200, status
        audit = [(e["account"], e["action"], e["target"], e["ok"]) for e in body]
        for want in (("zhang", "sign-in", "zhang", False), ("zhang", "sign-in", "zhang", True),
                     ("zhang", "ack", co2, True), ("zhang", "ack", scan, False),
                     ("zhang", "sign-out", "zhang", True),
                     ("wang", "sign-in", "wang", True), ("wang", "approve", netcfg, True),
                     ("wang", "ack", scan, True), ("wang", "sign-out", "wang", True),
                     ("zhao", "sign-in", "zhao", True), ("zhao", "ack", unstaffed, False),
                     ("zhao", "sign-out", "zhao", True), ("chen", "sign-in", "chen", True)):
            assert want in audit, (want, audit)
        assert {e["addr"] for e in body if e["account"] in ("zhang", "wang", "zhao")} == {"127.0.0.1"}, body
        pub.close()


def choose(page, element_id, value):
    """Picks an option of a <select> (or ticks nothing else): sets it and
    sends the change event the page listens to."""
    page.evaluate("(() => { const e = document.getElementById(%s); e.value = %s; "
                  "if (e.value !== %s) throw new Error('no option ' + %s); "
                  "e.dispatchEvent(new Event('change', {bubbles: true})); })()"
                  % (js_str(element_id), js_str(value), js_str(value), js_str(value)))


def silences(port):
    status, body = api(port, "/api/v1/silences")
    assert status == 200, status
    return body["silences"]


def audit_of(port, token, account):
    """(action, target, ok) of an account's entries on the audit log."""
    status, body = api(port, "/api/v1/audit", token=token)
    assert status == 200, status
    return [(e["action"], e["target"], e["ok"]) for e in body if e["account"] == account]


def test_an_operator_silences_an_alert_from_the_page_and_the_webhook_waits_for_its_end():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium (scripts/deps.sh test does)"
                             % cdp.CHROMIUM)
    from influx_stub import InfluxStub  # a recording HTTP listener: the webhook
    hook = InfluxStub()

    def answer(req):
        req.at = time.time()
        return 200, b"ok"
    hook.answer = answer

    def delivered(alert_id, since=0):
        with hook.lock:
            return [(r, json.loads(r.body)) for r in hook.requests
                    if r.path == "/hook" and r.at >= since and json.loads(r.body)["id"] == alert_id]

    co2, scan = "co2-high:env-2", "av-scan-overdue:pc-w03"
    try:
        with Stack("web-silence") as st:
            notify = ('notify = ( { name = "duty"; type = "webhook"; url = "%s/hook"; '
                      'kinds = ["env"]; } );\n' % hook.url)
            gw, port = start_gateway(st, extra=notify)
            gw.add_account("lina", "operator", LINA_PASSWORD)
            gw.add_account("zhao", "viewer", "pw-zhao-5519-web")
            pub = Publisher(st.mqtt)
            publish_hall(pub)
            # Before any silence, the CO2 alert of env-2 goes to the webhook.
            wait_for("the CO2 alert on the webhook", lambda: delivered(co2), timeout=15)

            with cdp.Browser(lang="zh-CN") as browser:
                page = browser.page()
                page.viewport(1920, 1080)
                page.navigate("http://127.0.0.1:%d/" % port)
                page.wait_js("the window tiles", "document.querySelectorAll('.tile').length === %d" % len(WINDOWS))
                expect(page, "document.getElementById('p-silences').hidden", True)
                click(page, "#sign-in")
                sign_in(page, "lina", LINA_PASSWORD)

                # Silence from the alert: the form matches its device and rule.
                page.wait_js("the silence button", "!!document.querySelector("
                             "'[data-alert-id=\"%s\"] button[data-action=silence]')" % co2)
                click(page, '[data-alert-id="%s"] button[data-action=silence]' % co2)
                page.wait_js("the silence form", "!document.getElementById('dlg-overlay').hidden && "
                             "document.getElementById('ack-dialog').dataset.mode === 'silence'")
                expect(page, "[...document.querySelectorAll('#sil-match input:checked')]"
                       ".map(c => c.dataset.key + '=' + c.value)", ["device=env-2", "rule=co2-high"])
                expect(page, "document.getElementById('sil-maint-field').hidden", False)
                choose(page, "sil-for", "custom")
                expect(page, "document.getElementById('sil-custom-field').hidden", False)
                fill(page, "sil-custom", "15s")
                # The comment is required.
                click(page, "#ack-submit")
                page.wait_js("the missing comment", "!document.getElementById('ack-error').hidden")
                expect_text(page, "#ack-error", "请填写说明")
                assert silences(port) == []
                comment = "新风系统检修，联系李工 13900000000"
                fill(page, "ack-note", comment)
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                made = time.time()
                (sil,) = silences(port)
                assert (sil["device"], sil["rule"], sil["hall"], sil["comment"], sil["created_by"],
                        sil["maintenance"]) == ("env-2", "co2-high", "", comment, "lina", False), sil
                assert made + 10 < sil["ends"] <= made + 15.5, (made, sil)

                # The alert shows as silenced, with the comment; the panel lists it.
                row = '[data-alert-id="%s"]' % co2
                page.wait_js("the silenced badge", "document.querySelector(%s)?.dataset.silencedBy === %s"
                             % (js_str(row), js_str(sil["id"])))
                expect_text(page, row + " .a-silenced", "已静默")
                expect(page, "document.querySelector(%s).title.includes(%s)"
                       % (js_str(row + " .a-silenced"), js_str(comment)), True)
                expect_text(page, row + " .a-silence", comment)
                expect_text(page, row + " .a-silence", "lina")
                expect(page, "document.querySelector(%s)" % js_str(row + " button[data-action=silence]"), None)
                expect(page, "document.getElementById('p-silences').hidden", False)
                expect_text(page, '[data-silence-id="%s"]' % sil["id"], comment)
                expect_text(page, '[data-silence-id="%s"]' % sil["id"], "env-2")
                page.screenshot(os.path.join(ARTIFACTS, "web-silence.png"))

                # While it lasts the alert clears and fires again: the webhook
                # hears neither; after the end it gets the firing alert.
                pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 700}))
                wait_for("the CO2 alert resolved", lambda: active_alert(port, co2) is None, timeout=10)
                pub.publish("hall/h1/env-2/telemetry", json.dumps({"co2": 1400}))
                again = wait_for("the CO2 alert firing again", lambda: active_alert(port, co2), timeout=10)
                assert again["state"] == "firing" and again["silenced_by"] == sil["id"], again
                assert time.time() < sil["ends"], "the silence ended before the alert fired again"
                (req, body), = wait_for("the webhook after the silence", lambda: delivered(co2, made),
                                        timeout=30)
                assert req.at >= sil["ends"] - 0.5, (req.at, sil["ends"])
                assert body["state"] == "firing" and body["transition"] == "firing", body
                page.wait_js("the panel empty after the end", "document.getElementById('p-silences').hidden")
                assert ("silence-add", sil["id"], True) in audit_of(port, TOKEN, "lina")

                # A maintenance silence of pc-w03 from its alert: every alert of
                # the PC, the comment on window w03's card.
                click(page, '[data-alert-id="%s"] button[data-action=silence]' % scan)
                page.wait_js("the second silence form", "!document.getElementById('dlg-overlay').hidden")
                click(page, '#sil-match input[data-key=rule]')
                page.evaluate("document.getElementById('sil-maint').click()")
                repair = "电脑送修，联系王工"
                fill(page, "ack-note", repair)
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                (maint,) = silences(port)
                assert (maint["device"], maint["rule"], maint["maintenance"]) == ("pc-w03", "", True), maint
                assert 3500 < maint["ends"] - time.time() <= 3600, maint
                page.wait_js("the repair on w03's card", "document.querySelector("
                             "'.tile[data-window=w03] .tile-maint')?.textContent.includes(%s)" % js_str(repair))
                expect(page, "document.querySelectorAll('.tile-maint').length", 1)
                assert not overflowing(page), overflowing(page)

                # Extended from the panel...
                item = '[data-silence-id="%s"]' % maint["id"]
                page.wait_js("the silence in the panel", "!!document.querySelector(%s)" % js_str(item))
                click(page, item + " button[data-action=extend]")
                page.wait_js("the extend form", "document.getElementById('ack-dialog').dataset.mode === 'extend'")
                expect_text(page, "#ack-alert", repair)
                choose(page, "sil-for", "4h")
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                (longer,) = silences(port)
                assert longer["ends"] > maint["ends"] + 2.5 * 3600, (maint, longer)
                # ...and expired.
                click(page, item + " button[data-action=expire]")
                page.wait_js("the expire form", "document.getElementById('ack-dialog').dataset.mode === 'expire'")
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                assert silences(port) == []
                page.wait_js("the repair gone from the card", "!document.querySelector('.tile-maint')")
                expect(page, "document.getElementById('p-silences').hidden", True)
                mine = audit_of(port, TOKEN, "lina")
                for action in ("silence-add", "silence-extend", "silence-expire"):
                    assert (action, maint["id"], True) in mine, (action, mine)

                # A viewer sees the silences, and no button to change them.
                code, lunch = api(port, "/api/v1/silences", token=TOKEN,
                                  body={"rule": "unstaffed", "for": "1h", "comment": "午休调整"})
                assert code == 201, (code, lunch)
                # (Reads are open here: signing out leaves the hall shown.)
                click(page, "#sign-out")
                page.wait_js("lina signed out", "document.getElementById('who').hidden")
                click(page, "#sign-in")
                sign_in(page, "zhao", "pw-zhao-5519-web")
                page.wait_js("the silence in the viewer's panel",
                             "!!document.querySelector('[data-silence-id=\"%s\"]')" % lunch["id"])
                page.wait_js("the unstaffed alert silenced", "document.querySelector("
                             "'[data-alert-id=\"unstaffed:w05\"]')?.dataset.silencedBy === %s" % js_str(lunch["id"]))
                expect(page, "document.querySelectorAll('#silences button, #alerts button, .tile button').length", 0)

                page.pump(1.0)
                errors = page.errors()
                assert not errors, errors
            pub.close()
    finally:
        hook.stop()


def test_an_operator_keeps_a_pc_on_tonight_from_the_page_and_the_power_off_skips_it():
    if not os.path.exists(cdp.CHROMIUM):
        raise AssertionError("%s is missing: install Debian's chromium (scripts/deps.sh test does)"
                             % cdp.CHROMIUM)
    import test_enforcement as enf
    enf.require_agent()
    devices = [{"id": "pc-w01", "hall": "h1", "kind": "pc"}, {"id": "pc-w02", "hall": "h1", "kind": "pc"}]
    hall = [{"id": "h1", "name": HALL_NAME, "windows": [
        {"id": "w01", "name": "综合受理 1", "pc": "pc-w01"}, {"id": "w02", "name": "综合受理 2", "pc": "pc-w02"}]}]
    with Stack("web-override") as st:
        sub = Subscriber(st.mqtt, "hall/h1/pc-w01/cmd", "hall/h1/pc-w02/cmd")
        # The hall closed a minute ago; the nightly power-off is 20 s ahead.
        g = enf.Gateway(st, devices, hall, 'grace = "1s"; verify_within = "20s";', lead_s=20)
        g.gw.add_account("lina", "operator", LINA_PASSWORD)
        agent = enf.Agent(st, st.mqtt, "pc-w02", g.key)
        try:
            with cdp.Browser(lang="en-US") as browser:
                page = browser.page()
                page.viewport(1920, 1080)
                page.navigate("http://127.0.0.1:%d/" % g.port)
                page.wait_js("the window tiles", "document.querySelectorAll('.tile').length === 2")
                expect(page, "document.querySelectorAll('.tile button').length", 0)
                click(page, "#sign-in")
                page.wait_js("the sign-in form", "!document.getElementById('dlg-overlay').hidden")
                fill(page, "signin-name", "lina")
                fill(page, "signin-password", LINA_PASSWORD)
                click(page, "#ack-submit")
                page.wait_js("lina signed in", "document.getElementById('who-name').textContent === 'lina'")

                # Keep window 1's PC on tonight: until an hour from now.
                tile = ".tile[data-window=w01]"
                page.wait_js("the keep-on button", "document.querySelector(%s)?.textContent === 'Keep on tonight'"
                             % js_str(tile + " button[data-action=override]"))
                click(page, tile + " button[data-action=override]")
                page.wait_js("the keep-on form", "!document.getElementById('dlg-overlay').hidden && "
                             "document.getElementById('ack-dialog').dataset.mode === 'override'")
                expect_text(page, "#ack-alert", "pc-w01")
                until = local_hms(g.offset, 3600)[:5]
                fill(page, "sil-until", until)
                click(page, "#ack-submit")
                page.wait_js("the missing reason", "!document.getElementById('ack-error').hidden")
                expect_text(page, "#ack-error", "Enter the reason")
                reason = "年底加班 year-end overtime"
                fill(page, "ack-note", reason)
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                assert time.time() < g.poweroff_at, "the override came after the power-off"
                code, body = enf.http("GET", g.api + "/overrides")
                (ov,) = body["overrides"]
                assert (ov["device"], ov["by"], ov["reason"]) == ("pc-w01", "lina", reason), ov
                assert 3500 < ov["until"] - time.time() <= 3600, ov
                page.wait_js("the override on the card", "document.querySelector(%s)?.textContent.includes('lina')"
                             % js_str(tile + " .tile-ov[data-override=pc-w01]"))
                expect_text(page, tile + " .tile-ov", reason)
                expect_text(page, tile + " .tile-ov", "Kept on until " + until)
                expect(page, "document.querySelector(%s)" % js_str(tile + " button[data-action=override]"), None)
                expect(page, "!!document.querySelector('.tile[data-window=w02] button[data-action=override]')", True)
                assert not overflowing(page), overflowing(page)
                page.screenshot(os.path.join(ARTIFACTS, "web-override.png"))

                # The nightly run skips it, naming the operator and the reason,
                # and powers off the other PC.
                wait_for("the run with pc-w01 skipped", lambda: "skipped" in g.step_names("pc-w01"),
                         timeout=40)
                skipped = g.steps("pc-w01")[0]
                assert skipped["ok"] and skipped["detail"].startswith("override until"), skipped
                assert "lina" in skipped["detail"] and reason in skipped["detail"], skipped
                cmd = wait_for("the poweroff of pc-w02", lambda: sub.json_on("hall/h1/pc-w02/cmd"), timeout=15)[0]
                assert cmd["action"] == "poweroff", cmd
                wait_for("pc-w02's command in the run", lambda: "command" in g.step_names("pc-w02"), timeout=10)
                assert g.steps("pc-w02")[0]["date"] == skipped["date"], g.steps("pc-w02")
                assert sub.json_on("hall/h1/pc-w01/cmd") == [], "commanded under an override"

                # Removed from the page: gone from the API and from the card.
                click(page, tile + " button[data-action=unoverride]")
                page.wait_js("the remove form", "document.getElementById('ack-dialog').dataset.mode === 'unoverride'")
                expect_text(page, "#ack-alert", reason)
                click(page, "#ack-submit")
                page.wait_js("the form to close", "document.getElementById('dlg-overlay').hidden")
                assert enf.http("GET", g.api + "/overrides")[1]["overrides"] == []
                page.wait_js("the card without it", "!document.querySelector('.tile-ov') && "
                             "!!document.querySelector(%s)" % js_str(tile + " button[data-action=override]"))
                code, audit = enf.http("GET", g.api + "/audit", token=enf.TOKEN)
                done = [(e["action"], e["target"], e["ok"]) for e in audit if e["account"] == "lina"]
                for want in (("override-add", "pc-w01", True), ("override-remove", "pc-w01", True)):
                    assert want in done, (want, done)

                page.pump(1.0)
                errors = page.errors(ignore=["400 (Bad Request)"])
                assert not errors, errors
        finally:
            agent.stop()
            sub.close()


if __name__ == "__main__":
    harness.run([test_live_page_shows_the_hall_and_acknowledges_an_alert,
                 test_each_role_does_what_it_may_from_the_page,
                 test_an_operator_silences_an_alert_from_the_page_and_the_webhook_waits_for_its_end,
                 test_an_operator_keeps_a_pc_on_tonight_from_the_page_and_the_power_off_skips_it])
