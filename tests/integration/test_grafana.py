"""The Grafana dashboards (dashboards/grafana/) against what hallgw really
writes.

A real mosquitto and influxd, two gateways (gw-test with hall h1, gw-test-2
with hall h2, as a centre's store is fed) with the simulator's halls and
devices, the default rules and a schedule open around now, and `hallgw-sim`
replaying a compressed stretch of each hall's day. Then every panel target, templating query
and annotation of every dashboard is run verbatim against influxd, with
Grafana's macros substituted as Grafana would ($timeFilter, $__interval,
${__to:date:seconds}, the template variables, a panel's relative time,
now/M included), and
must answer without error and with data. Only the panels in MAY_BE_EMPTY may
come back empty, and their descriptions must say so.

Two views are run: the dashboards as they open (last 24 hours, 1m intervals,
"All" selected) and zoomed in (last 15 minutes, the data source's minimum
interval of 10s, one hall, window and device). The first cannot show rates:
the simulated traffic spans seconds, so a rate over 1m buckets needs two of
them; the second must show everything.

Static checks beside: the provisioning files, unique panel ids, gridPos, the
data source uid on every panel, target, variable and annotation, every
variable used is defined, and the environment thresholds are the ones of
config/rules.default.conf."""

import calendar
import glob
import json
import os
import re
import subprocess
import time

import harness
from harness import (BUILD_DIR, SOURCE_DIR, Publisher, Stack, noon_zone, schedule_around_now,
                     wait_for)

GRAFANA_DIR = os.path.join(SOURCE_DIR, "dashboards", "grafana")
DASHBOARD_DIR = os.path.join(GRAFANA_DIR, "dashboards")
SIM = os.path.join(BUILD_DIR, "hallgw-sim")
DS = {"type": "influxdb", "uid": "hallgw-influx"}
HALL = "h1"
WINDOWS = 6
GATEWAY_ID = "gw-test"
# The second gateway of the same store, with its own hall.
HALL_2, GATEWAY_ID_2 = "h2", "gw-test-2"

# (dashboard file, panel title): the panels that may return nothing on a
# working installation fed by the simulator.
MAY_BE_EMPTY = {
    # Until power-off enforcement reports to the measurement poweroff.
    ("it-compliance.json", "Power-off after hours / 下班关机"),
    ("it-compliance.json", "Power-off failures / 关机失败"),
    ("all-sites.json", "Power-off / 下班断电"),
}
# What a user would pick for each variable in the zoomed view; the variable's
# own query must offer it. env-3 is the test's sensor that measures every
# environment field (the simulator's each measure some).
PREFERRED = {"hall": [HALL], "window": ["w01"], "device": ["env-3", "pc-w01"],
             "gateway": [GATEWAY_ID]}
BUILTIN_VARS = {"timeFilter", "__interval", "__interval_ms", "interval", "__from", "__to",
                "__range", "__range_s", "__range_ms", "__rate_interval"}
DASHBOARD_FILES = ["hall-overview.json", "environment.json", "it-compliance.json", "alerts.json",
                   "gateway-health.json", "all-sites.json"]

VAR_RE = re.compile(r"\$\{(\w+)(?::([^}]*))?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


# ---------------------------------------------------------------- dashboards


def load_dashboards():
    out = []
    for path in sorted(glob.glob(os.path.join(DASHBOARD_DIR, "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.append((os.path.basename(path), json.load(f)))
    return out


def all_panels(d):
    for p in d.get("panels", []):
        yield p
        for c in p.get("panels", []):  # collapsed rows hold their panels
            yield c


def queries(d):
    """(what, query text, panel or None, target-like dict) of everything that
    runs against InfluxDB: panel targets, query variables, annotations."""
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            yield "variable %s" % v["name"], q, None, v
    for a in d.get("annotations", {}).get("list", []):
        yield "annotation %s" % a.get("name"), a.get("query", ""), None, a
    for p in all_panels(d):
        for t in p.get("targets", []):
            yield "panel %d %r target %s" % (p["id"], p["title"], t.get("refId")), t.get("query", ""), p, t


def var_refs(q):
    return {m.group(1) or m.group(3) or m.group(4) for m in VAR_RE.finditer(q)}


def grafana_regex_escape(v):
    return re.sub(r"([\\^$.*+?()\[\]{}|/])", r"\\\1", v)


def substitute(q, values, time_filter, interval, now_s, range_s):
    """The query as Grafana's InfluxDB data source sends it."""
    def one(m):
        name = m.group(1) or m.group(3) or m.group(4)
        fmt = m.group(2) or ""
        if name == "timeFilter":
            return time_filter
        if name in ("__interval", "interval"):
            return interval
        if name in ("__to", "__from"):
            t = now_s if name == "__to" else now_s - range_s
            return str(int(t)) if fmt == "date:seconds" else str(int(t * 1000))
        if name in ("__range_s",):
            return str(range_s)
        if name not in values:
            raise AssertionError("variable $%s not defined in %r" % (name, q))
        return values[name]
    return VAR_RE.sub(one, q)


def quoted_identifiers(q):
    return set(re.findall(r'"([^"]+)"', re.sub(r"'(?:[^'\\]|\\.)*'", "''", q)))


# ---------------------------------------------------------------- static checks


def test_provisioning_files():
    ds_path = os.path.join(GRAFANA_DIR, "provisioning", "datasources", "hallgw.yaml")
    with open(ds_path, encoding="utf-8") as f:
        ds = f.read()
    body = re.sub(r"#.*", "", ds)
    for pattern in (r"(?m)^apiVersion:\s*1\s*$", r"(?m)^\s*-?\s*type:\s*influxdb\s*$",
                    r"(?m)^\s*uid:\s*%s\s*$" % DS["uid"], r"(?m)^\s*dbName:\s*hallgw\s*$",
                    r"(?m)^\s*version:\s*InfluxQL\s*$", r"(?m)^\s*access:\s*proxy\s*$",
                    r"(?m)^\s*url:\s*\$\{?HALLGW_INFLUX_URL\}?\s*$"):
        assert re.search(pattern, body), "%s: no match for %s" % (ds_path, pattern)
    # The URL's default, which Grafana's provisioning cannot express itself.
    dropin = os.path.join(GRAFANA_DIR, "systemd", "grafana-server.service.d", "hallgw.conf")
    with open(dropin, encoding="utf-8") as f:
        assert re.search(r"(?m)^Environment=HALLGW_INFLUX_URL=http://127\.0\.0\.1:8086$", f.read()), dropin

    dash_path = os.path.join(GRAFANA_DIR, "provisioning", "dashboards", "hallgw.yaml")
    with open(dash_path, encoding="utf-8") as f:
        prov = re.sub(r"#.*", "", f.read())
    assert re.search(r"(?m)^\s*type:\s*file\s*$", prov), dash_path
    m = re.search(r"(?m)^\s*path:\s*(\S+)\s*$", prov)
    assert m, dash_path
    with open(os.path.join(SOURCE_DIR, "docs", "dashboards.md"), encoding="utf-8") as f:
        doc = f.read()
    assert m.group(1) in doc, "docs/dashboards.md does not give the provider path %s" % m.group(1)
    assert "HALLGW_INFLUX_URL" in doc
    try:
        import yaml  # python3-yaml, when installed: the files must also parse
    except ImportError:
        return
    for path in (ds_path, dash_path):
        with open(path, encoding="utf-8") as f:
            doc_y = yaml.safe_load(f)
        assert doc_y["apiVersion"] == 1, path
    with open(ds_path, encoding="utf-8") as f:
        (entry,) = yaml.safe_load(f)["datasources"]
    assert entry["uid"] == DS["uid"] and entry["type"] == DS["type"], entry
    assert entry["jsonData"]["dbName"] == "hallgw" and entry["jsonData"]["version"] == "InfluxQL", entry


def test_dashboards_are_well_formed():
    dashboards = load_dashboards()
    names = [n for n, _ in dashboards]
    assert sorted(names) == sorted(DASHBOARD_FILES), names
    with open(os.path.join(SOURCE_DIR, "docs", "dashboards.md"), encoding="utf-8") as f:
        doc = f.read()
    uids = set()
    for name, d in dashboards:
        where = name
        assert name in doc, "docs/dashboards.md does not describe %s" % name
        assert d["uid"] not in uids, "%s: uid %s used twice" % (where, d["uid"])
        uids.add(d["uid"])
        assert d.get("schemaVersion", 0) >= 36, where
        assert d["time"] == {"from": "now-24h", "to": "now"}, where
        assert d["refresh"] == "30s", where
        assert "hallgw" in d.get("tags", []), where

        variables = [v["name"] for v in d.get("templating", {}).get("list", [])]
        assert len(variables) == len(set(variables)), "%s: variables %s" % (where, variables)
        for i, v in enumerate(d.get("templating", {}).get("list", [])):
            if v["type"] == "query":
                assert v.get("datasource") == DS, "%s: variable %s datasource" % (where, v["name"])
                used = var_refs(v["query"]) - BUILTIN_VARS
                assert used <= set(variables[:i]), \
                    "%s: variable %s uses %s, not defined before it" % (where, v["name"], used)
        for a in d.get("annotations", {}).get("list", []):
            assert a.get("datasource") == DS, "%s: annotation %s datasource" % (where, a.get("name"))
            assert a.get("query") and a.get("target", {}).get("query") == a["query"], \
                "%s: annotation %s: query and target.query differ" % (where, a.get("name"))

        titles = [p.get("title") for p in all_panels(d)]
        assert len(titles) == len(set(titles)), "%s: panel titles repeat: %s" % (where, titles)
        ids, cells = set(), {}
        for p in all_panels(d):
            pw = "%s panel %r" % (where, p.get("title"))
            assert isinstance(p.get("id"), int) and p["id"] not in ids, "%s: id %r" % (pw, p.get("id"))
            ids.add(p["id"])
            g = p.get("gridPos")
            assert g and all(isinstance(g.get(k), int) for k in "hwxy"), "%s: gridPos %r" % (pw, g)
            assert g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["x"] + g["w"] <= 24, pw
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, "%s overlaps %s" % (pw, cells[(x, y)])
                    cells[(x, y)] = p["title"]
            if p.get("type") == "row":
                continue
            assert re.search(r"[\u4e00-\u9fff]", p["title"]) and re.search(r"[A-Za-z]", p["title"]), \
                "%s: title not bilingual" % pw
            assert p.get("datasource") == DS, "%s: datasource %r" % (pw, p.get("datasource"))
            targets = p.get("targets", [])
            assert targets, "%s: no targets" % pw
            refs = [t.get("refId") for t in targets]
            assert len(set(refs)) == len(refs) and all(refs), "%s: refIds %s" % (pw, refs)
            for t in targets:
                assert t.get("datasource") == DS, "%s: target datasource %r" % (pw, t.get("datasource"))
                assert t.get("rawQuery") is True and t.get("query"), "%s: not a raw query" % pw
                assert t.get("resultFormat") in ("time_series", "table"), pw
            if (name, p["title"]) in MAY_BE_EMPTY:
                assert "empty" in p.get("description", ""), \
                    "%s may be empty: its description must say when" % pw
        for what, q, _, _ in queries(d):
            undefined = var_refs(q) - BUILTIN_VARS - set(variables)
            assert not undefined, "%s %s uses undefined variables %s" % (where, what, undefined)
    titles = {(n, p["title"]) for n, d in dashboards for p in all_panels(d)}
    assert MAY_BE_EMPTY <= titles, MAY_BE_EMPTY - titles


def default_rules_text():
    with open(os.path.join(SOURCE_DIR, "config", "rules.default.conf"), encoding="utf-8") as f:
        return f.read()


def test_environment_thresholds_match_default_rules():
    text = re.sub(r"#.*", "", default_rules_text())
    limits = {}
    for block in re.findall(r"\{([^{}]*)\}", text):
        kv = dict(re.findall(r'(\w+)\s*=\s*("[^"]*"|\[[^\]]*\]|[^;]+);', block))
        if kv.get("type") == '"threshold"' and kv.get("kind") == '"env"':
            metric = kv["metric"].strip('"')
            limits.setdefault(metric, set()).update(
                float(kv[k]) for k in ("above", "below") if k in kv)
    assert {"co2", "temperature", "humidity", "pm25", "noise_db", "illuminance"} <= set(limits), limits
    with open(os.path.join(DASHBOARD_DIR, "environment.json"), encoding="utf-8") as f:
        d = json.load(f)
    seen = set()
    for p in all_panels(d):
        if p.get("type") != "timeseries":
            continue
        m = re.search(r'mean\("(\w+)"\) FROM "env"', p["targets"][0]["query"])
        assert m, p["title"]
        metric = m.group(1)
        steps = {s["value"] for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]
                 if s["value"] is not None}
        assert steps == limits.get(metric, set()), \
            "%s: thresholds %s, rules.default.conf says %s" % (p["title"], steps, limits.get(metric))
        mode = p["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"]
        assert "line" in mode, "%s: thresholds not drawn (%s)" % (p["title"], mode)
        seen.add(metric)
    assert seen >= set(limits), "no panel for %s" % (set(limits) - seen)


# ---------------------------------------------------------------- against influxd


def has_values(series):
    for s in series:
        cols = s.get("columns", [])
        for row in s.get("values", []):
            if any(v is not None for c, v in zip(cols, row) if c != "time"):
                return True
    return False


def start_hall(st, gateway_id=GATEWAY_ID, hall=HALL, name="hallgw"):
    """hallgw with the simulator's hall plus one native env sensor that also
    reports noise and illuminance, the default rules (waits shortened) and a
    schedule open now."""
    zone, offset = noon_zone()
    hall_conf = subprocess.run([SIM, "--hall", hall, "--windows", str(WINDOWS), "--print-config"],
                               check=True, capture_output=True, text=True).stdout
    end = hall_conf.rstrip().rindex(");")
    hall_conf = (hall_conf[:end].rstrip() + ',\n  { id = "env-3"; hall = "%s"; kind = "env"; }\n);\n' % hall)
    # The shipped rules, inline (no @include), comments dropped, waits cut to
    # seconds so alerts fire within the test.
    rules = re.sub(r"(?m)^\s*#.*\n", "", default_rules_text())
    rules = re.sub(r'\bfor = "[^"]*"', 'for = "2s"', rules)
    rules = re.sub(r'\bfor_when_waiting = "[^"]*"', 'for_when_waiting = "1s"', rules)
    # Each gateway owns its hall (gateway.halls): one broker carries both.
    gw = st.hallgw(halls=[{"id": "unused"}], name=name, gateway_extra='halls = ["%s"];' % hall)
    gw.gateway_id = gateway_id
    gw.timezone = zone
    gw.write_config()
    with open(gw.conf, encoding="utf-8") as f:
        base = f.read()
    base = base[:base.index("halls = (")]
    with open(gw.conf, "w", encoding="utf-8") as f:
        f.write(base + hall_conf + schedule_around_now(offset) + rules)
    check = subprocess.run([os.path.join(BUILD_DIR, "hallgw"), "--check-config", gw.conf],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    gw.start()
    gw.add_account("wanggong", "it")
    return gw


def alert_rows(st, where):
    return st.influx.rows('SELECT "alert_id", "transition", "by", "note" FROM "alert" WHERE %s' % where)


def feed(st, started):
    """A compressed stretch of the open day from hallgw-sim, then what the
    simulator never sends: noise and illuminance, a threat and a USB stick, a
    changed network fingerprint, and an acknowledged and resolved alert."""
    # Load mode (--rate): 400 reports a second round-robin over the devices,
    # every device reporting every ~0.1s instead of every 10-60s: about two
    # hours' worth of this hall's readings in 15s (--speed only paces the
    # real-time mode). --start puts the simulated clock in the open morning, so seats
    # are staffed; the gateway's schedule is open around the real now.
    n = 6000
    sim = subprocess.run([SIM, "--uri", st.mqtt.uri, "--prefix", st.mqtt.prefix, "--hall", HALL,
                          "--windows", str(WINDOWS),
                          "--rate", "400", "--count", str(n), "--seed", "7", "--start", "10:00"],
                         capture_output=True, text=True, timeout=60)
    assert sim.returncode == 0, sim.stderr
    assert "%d messages published" % n in sim.stderr, sim.stderr
    # The second gateway's hall: a shorter stretch.
    sim = subprocess.run([SIM, "--uri", st.mqtt.uri, "--prefix", st.mqtt.prefix, "--hall", HALL_2,
                          "--windows", str(WINDOWS),
                          "--rate", "400", "--count", "1500", "--seed", "8", "--start", "10:00"],
                         capture_output=True, text=True, timeout=60)
    assert sim.returncode == 0, sim.stderr

    pub = Publisher(st.mqtt)
    send = lambda dev, kind, obj: pub.publish("hall/%s/%s/%s" % (HALL, dev, kind), json.dumps(obj))
    send("pc-w01", "event", {"type": "threat_detected", "signature": "Eicar-Test-Signature",
                             "path": "C:/Users/Public/eicar.com"})
    send("pc-w01", "event", {"type": "usb_storage_inserted", "vendor": "Kingston", "model": "DT",
                             "serial": "0001"})
    send("pc-w01", "telemetry", {"power": "on", "net_fp": "fp-changed"})

    pub.publish("hall/%s/env-3/status" % HALL, "online", retain=True)
    # Illuminance under 300 lx for `for` (2s here): rule illuminance-low, severity info.
    def illuminance_low():
        send("env-3", "telemetry", {"temperature": 22.4, "humidity": 48.0, "co2": 640, "pm25": 12,
                                    "noise_db": 52.5, "illuminance": 180})
        return alert_rows(st, "\"alert_id\" = 'illuminance-low:env-3'")
    wait_for("illuminance-low firing", illuminance_low, timeout=20, interval=0.5)

    wait_for("threat-detected firing", lambda: alert_rows(
        st, "\"alert_id\" = 'threat-detected:pc-w01'"), timeout=15)
    ack = "hall/%s/alerts/threat-detected:pc-w01/ack/wanggong" % HALL
    pub.publish(ack, json.dumps({"note": "隔离文件，全盘扫描中"}, ensure_ascii=False))
    wait_for("acknowledged with by and note", lambda: alert_rows(
        st, "\"alert_id\" = 'threat-detected:pc-w01' AND \"transition\" = 'acknowledged'"), timeout=15)
    # Transitions are stamped in whole seconds: two of one alert within the
    # same second are the same InfluxDB point, and the later one replaces the
    # earlier. A person takes longer than that between ack and resolve.
    time.sleep(1.1)
    pub.publish(ack, json.dumps({"note": "已清除，扫描无威胁", "resolve": True},
                                ensure_ascii=False))
    wait_for("resolved", lambda: alert_rows(
        st, "\"alert_id\" = 'threat-detected:pc-w01' AND \"transition\" = 'resolved'"), timeout=15)
    wait_for("netcfg-changed firing", lambda: alert_rows(
        st, "\"alert_id\" = 'netcfg-changed:pc-w01'"), timeout=15)
    wait_for("usb-storage firing", lambda: alert_rows(
        st, "\"alert_id\" = 'usb-storage:pc-w01'"), timeout=15)
    wait_for("both events stored", lambda: len(st.influx.rows(
        "SELECT \"type\" FROM \"event\" WHERE \"type\" = 'threat_detected' OR "
        "\"type\" = 'usb_storage_inserted'")) >= 2, timeout=15)
    pub.close()
    # Rates need two 10s buckets of the gateway's 1s self-metrics.
    wait_for("25s of gateway self-metrics", lambda: (st.influx.count(
        "gateway", "devices", "WHERE time > %dms" % int(started * 1000)) or 0) >= 25, timeout=40)


def resolve_variables(st, d, view):
    """Values of the dashboard's variables, each from its own query: "All"
    (its allValue) in the default view, PREFERRED when zoomed."""
    values = {}
    for v in d.get("templating", {}).get("list", []):
        if v["type"] != "query":
            continue
        q = substitute(v["query"], values, "time > now() - 24h", "1m", time.time(), 86400)
        offered = {r["value"] for r in st.influx.rows(q)}
        assert offered, "variable %s: %r offers nothing" % (v["name"], q)
        if view == "default" and v.get("includeAll"):
            values[v["name"]] = v.get("allValue") or "(%s)" % "|".join(
                grafana_regex_escape(o) for o in sorted(offered))
            continue
        pick = [p for p in PREFERRED.get(v["name"], []) if p in offered]
        assert pick, "variable %s: %r offers %s, not %s" % (v["name"], q, sorted(offered),
                                                            PREFERRED.get(v["name"]))
        values[v["name"]] = grafana_regex_escape(pick[0])
    return values


def run_view(st, schema, view, range_s, interval):
    """Runs every query of every dashboard as Grafana would in this view;
    returns the failures."""
    failures = []
    now_s = time.time()
    for name, d in load_dashboards():
        values = resolve_variables(st, d, view)
        for what, q, panel, t in queries(d):
            where = "%s %s (%s view)" % (name, what, view)
            span = range_s
            if panel is not None and panel.get("timeFrom") == "now/M":
                # This month so far (in UTC here; Grafana takes the browser's zone).
                t = time.gmtime(now_s)
                span = int(now_s - calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)))
            elif panel is not None and panel.get("timeFrom"):
                m = re.fullmatch(r"(\d+)([smhd])", panel["timeFrom"])
                assert m, "%s: timeFrom %r" % (where, panel["timeFrom"])
                span = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
            sq = substitute(q, values, "time > now() - %ds" % span, interval, now_s, span)
            try:
                series = st.influx.query(sq)
            except Exception as e:  # noqa: BLE001 - InfluxQL errors and HTTP errors alike
                failures.append("%s: %s\n    %s" % (where, e, sq))
                continue
            may_be_empty = panel is not None and (name, panel["title"]) in MAY_BE_EMPTY
            if may_be_empty:
                continue
            # Rates over 1m buckets need traffic spanning two of them.
            if view == "default" and re.search(r"derivative\(|difference\(", sq):
                continue
            if not has_values(series):
                failures.append("%s: no data\n    %s" % (where, sq))
                continue
            # Every quoted name is a field, tag, measurement or alias that exists.
            measurements = set(re.findall(r'FROM "(\w+)"', sq))
            known = set(measurements) | set(re.findall(r'AS "([^"]+)"', sq))
            for m in measurements:
                known |= schema.get(m, set())
            unknown = quoted_identifiers(sq) - known
            if unknown:
                failures.append("%s: unknown names %s\n    %s" % (where, sorted(unknown), sq))
            if "textColumn" in t and panel is None:
                cols = {c for s in series for c in s["columns"]}
                wanted = {t["textColumn"]} | set(filter(None, t.get("tagsColumn", "").split(",")))
                if not wanted <= cols:
                    failures.append("%s: annotation columns %s missing" % (where, wanted - cols))
    return failures


def influx_schema(st):
    schema = {}
    for what in ("SHOW FIELD KEYS", "SHOW TAG KEYS"):
        for s in st.influx.query(what):
            schema.setdefault(s["name"], set()).update(v[0] for v in s["values"])
    return schema


def all_sites_rows(st, title, view):
    """The last row of each series of an all-sites panel's query in a view,
    by its tags (gateway, hall)."""
    d = dict(load_dashboards())["all-sites.json"]
    (panel,) = [p for p in all_panels(d) if p["title"] == title]
    values = resolve_variables(st, d, view)
    span = 120 if panel.get("timeFrom") == "2m" else 86400
    q = substitute(panel["targets"][0]["query"], values, "time > now() - %ds" % span, "10s", time.time(),
                   span)
    return {tuple(s.get("tags", {}).get(k) for k in ("gateway", "hall") if k in s.get("tags", {})):
            dict(zip(s["columns"], s["values"][-1])) for s in st.influx.query(q)}


def test_every_query_returns_data_from_a_simulated_hall():
    with Stack("grafana") as st:
        started = time.time()
        gw = start_hall(st)
        gw2 = start_hall(st, GATEWAY_ID_2, HALL_2, "hallgw2")
        feed(st, started)
        schema = influx_schema(st)
        failures = run_view(st, schema, "default", 86400, "1m")
        failures += run_view(st, schema, "zoomed", 900, "10s")
        assert not failures, "%d queries failed:\n%s" % (len(failures), "\n".join(failures))
        # The all-sites dashboard shows both gateways' halls when all are
        # chosen, and only the first gateway's hall when that one is.
        rows = all_sites_rows(st, "Every hall now / 各大厅现状", "default")
        assert set(rows) == {(GATEWAY_ID, HALL), (GATEWAY_ID_2, HALL_2)}, rows
        assert all(r["windows_open"] == WINDOWS for r in rows.values()), rows
        rows = all_sites_rows(st, "Every hall now / 各大厅现状", "zoomed")
        assert set(rows) == {(GATEWAY_ID, HALL)}, rows
        rows = all_sites_rows(st, "Window staffing this month / 本月窗口在岗考核", "default")
        assert {k[0] for k in rows} == {HALL, HALL_2}, rows
        assert gw2.stop() == 0
        assert gw.stop() == 0


if __name__ == "__main__":
    harness.run([test_provisioning_files, test_dashboards_are_well_formed,
                 test_environment_thresholds_match_default_rules,
                 test_every_query_returns_data_from_a_simulated_hall])
