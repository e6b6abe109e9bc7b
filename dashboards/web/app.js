/* hallgw live hall page.
 *
 * Polls GET api/v1/state, api/v1/alerts and api/v1/silences every 2 s
 * (relative URLs, so the page also works behind a reverse proxy under a
 * sub-path), renders the windows, environment, equipment, PCs, alerts,
 * silences and the power-off result; acknowledges, resolves or approves
 * alerts with POST api/v1/alerts/<id>/ack|approve; makes, extends and
 * expires silences (api/v1/silences[/<id>]); keeps a window's PC on tonight
 * and takes that back (api/v1/overrides[/<device>]).
 *
 * Who uses the page is an account of the gateway, signed in with name and
 * password (POST api/v1/session): the session is an HttpOnly cookie the
 * page never sees, and every change sends the session's CSRF token, which
 * is kept in memory only. The buttons follow the account's role; the
 * gateway decides, the page only leaves out what it would refuse.
 *
 * No framework and no build step: the DOM is rebuilt from the last answer on
 * every poll; durations and the clock tick once a second in between. Names
 * from the API are only ever put in the page as text (never as HTML). Times
 * are shown in the gateway's time zone, measured on the gateway's clock. */
'use strict';

(function () {
  const POLL_MS = 2000;
  const HISTORY_MS = 30000;
  const FETCH_TIMEOUT_MS = 5000;
  const KEY_LANG = 'hallgw.lang';
  const NOTE_MAX_BYTES = 255;
  const AUDIT_SPAN_S = 86400;
  const AUDIT_SHOWN = 300;
  /* Device kinds whose alerts are for the role it (gateway/core/roles.c). */
  const IT_KINDS = ['pc', 'plug', 'equipment'];
  const SEV_RANK = { critical: 4, major: 3, warning: 2, info: 1 };
  /* metric, unit, decimals */
  const ENV_METRICS = [
    ['temperature', '°C', 1], ['humidity', '%', 0], ['co2', 'ppm', 0], ['pm25', 'µg/m³', 0],
    ['noise_db', 'dB', 0], ['illuminance', 'lx', 0], ['tvoc', 'ppb', 0],
  ];
  const STATE_TEXT = {
    staffed: 'stStaffed', unstaffed: 'stUnstaffed', unknown: 'stUnknown',
    closed: 'stClosed', break: 'stBreak', duty: 'stDuty',
  };
  const STATE_ICON = {
    staffed: 'check', unstaffed: 'alert', unknown: 'question',
    closed: 'lock', break: 'cup', duty: 'clock',
  };
  /* Small inline icons (trusted constants; CSP allows inline SVG elements). */
  const ICONS = {
    check: '<path d="M4 12.5l5 5L20 6.5"/>',
    alert: '<path d="M12 3.5L2.5 20h19z"/><path d="M12 10v4.5M12 17.2v.3"/>',
    question: '<circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.6 2.6 0 1 1 3.6 2.4c-.7.3-1.1.9-1.1 1.6v.5M12 17v.3"/>',
    lock: '<rect x="5" y="10.5" width="14" height="10" rx="2"/><path d="M8 10.5V8a4 4 0 0 1 8 0v2.5"/>',
    cup: '<path d="M4 9h13v5a5 5 0 0 1-5 5H9a5 5 0 0 1-5-5z"/><path d="M17 10.5h1.5a2.5 2.5 0 0 1 0 5H17M8 3.5v2.5M12 3.5v2.5"/>',
    clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3.5 2"/>',
    bell: '<path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z"/><path d="M10 20.5a2 2 0 0 0 4 0"/>',
    info: '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.3"/>',
    minus: '<path d="M6 12h12"/>',
    plug: '<path d="M9 3v5M15 3v5M6.5 8h11v3a5.5 5.5 0 0 1-11 0zM12 16.5V21"/>',
    pc: '<rect x="3" y="4" width="18" height="12" rx="1.5"/><path d="M8 20h8M12 16v4"/>',
    mute: '<path d="M8.7 3.3A6 6 0 0 1 18 8.5v2.5M18 16H4.5L6 14v-3a6 6 0 0 1 .5-2.4"/>' +
      '<path d="M10 20.5a2 2 0 0 0 4 0M3 3l18 18"/>',
    wrench: '<path d="M14.7 6.3a1 1 0 0 0 0 1.4l1.6 1.6a1 1 0 0 0 1.4 0l3.8-3.8a6 6 0 0 1-7.9 7.9' +
      'l-6.9 6.9a2.1 2.1 0 0 1-3-3l6.9-6.9a6 6 0 0 1 7.9-7.9z"/>',
    moon: '<path d="M12 3a6 6 0 0 0 9 9 9 9 0 1 1-9-9z"/>',
  };
  const SEV_ICON = { critical: 'alert', major: 'alert', warning: 'bell', info: 'info' };

  /* ---- storage (may be unavailable: private windows, file://) ---------- */

  function storage(kind) {
    let s = null;
    try {
      s = window[kind];
      s.getItem('x');
    } catch (e) {
      s = null;
    }
    return {
      get: (k) => { try { return s ? s.getItem(k) : null; } catch (e) { return null; } },
      set: (k, v) => { try { if (s) s.setItem(k, v); } catch (e) { /* full or denied */ } },
      del: (k) => { try { if (s) s.removeItem(k); } catch (e) { /* denied */ } },
    };
  }
  const local = storage('localStorage');

  /* ---- state ------------------------------------------------------------- */

  const S = {
    lang: pickLang(),
    state: null,      /* last /api/v1/state answer */
    alerts: [],       /* last /api/v1/alerts "active" list */
    silences: [],     /* last /api/v1/silences list: in force now or later */
    lastOkMs: 0,      /* Date.now() of the last good poll */
    skew: 0,          /* gateway clock minus this browser's, in s */
    conn: 'init',     /* 'init' | 'ok' | 'lost' | 'auth' */
    me: { signed_in: false, open_reads: true }, /* last api/v1/session answer */
    meKnown: false,   /* whether me has been read from the gateway */
    history: null,
    historyOk: true,
    historyAtMs: 0,
    pollSeq: 0,
    pollTimer: 0,
    dialog: null,
    seenEmpty: new Map(), /* hall/window -> when this page first saw the seat empty */
  };

  function pickLang() {
    const saved = local.get(KEY_LANG);
    if (saved === 'zh' || saved === 'en') return saved;
    const langs = navigator.languages && navigator.languages.length ?
      navigator.languages : [navigator.language || ''];
    for (const l of langs) {
      const x = String(l).toLowerCase();
      if (x.startsWith('zh')) return 'zh';
      if (x.startsWith('en')) return 'en';
    }
    return 'en';
  }

  function t(key, ...args) {
    const dict = window.HALLGW_I18N[S.lang];
    let v = dict[key];
    if (v === undefined) v = window.HALLGW_I18N.en[key];
    if (v === undefined) return key;
    return typeof v === 'function' ? v(...args) : v;
  }

  /* ---- DOM helpers ------------------------------------------------------- */

  const $ = (id) => document.getElementById(id);

  /* el('div', {class: 'x', text: 'y', 'data-z': 1}, child, [children], 'text') */
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props) {
      for (const k of Object.keys(props)) {
        const v = props[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(e, kids);
    return e;
  }

  function append(e, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(e, k);
      else e.append(k instanceof Node ? k : String(k));
    }
  }

  function icon(name, cls) {
    const s = el('span', { class: 'icon' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true' });
    s.innerHTML = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" ' +
      'stroke-linecap="round" stroke-linejoin="round">' + (ICONS[name] || '') + '</svg>';
    return s;
  }

  /* ---- formatting -------------------------------------------------------- */

  const fmtCache = new Map();

  function dtf(opts) {
    const tz = S.state && S.state.timezone ? S.state.timezone : '';
    const key = S.lang + '|' + tz + '|' + JSON.stringify(opts);
    let f = fmtCache.get(key);
    if (!f) {
      const o = Object.assign({ hourCycle: 'h23' }, opts);
      try {
        f = new Intl.DateTimeFormat(t('locale'), tz ? Object.assign({ timeZone: tz }, o) : o);
      } catch (e) { /* a zone this browser does not know: its own zone */
        f = new Intl.DateTimeFormat(t('locale'), o);
      }
      fmtCache.set(key, f);
    }
    return f;
  }

  const nowS = () => Date.now() / 1000 + S.skew;
  const hm = (ts) => dtf({ hour: '2-digit', minute: '2-digit' }).format(ts * 1000);
  const hms = (ts) => dtf({ hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(ts * 1000);

  function ymd(ts) {
    const parts = dtf({ year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(ts * 1000);
    const p = {};
    for (const x of parts) p[x.type] = x.value;
    return p.year + '-' + p.month + '-' + p.day;
  }

  /* A time of day, with the date when it is not today. */
  function when(ts) {
    if (ymd(ts) === ymd(nowS())) return hm(ts);
    return ymd(ts).slice(5) + ' ' + hm(ts);
  }

  /* The same to the second, for the audit log. */
  function whenSec(ts) {
    if (ymd(ts) === ymd(nowS())) return hms(ts);
    return ymd(ts).slice(5) + ' ' + hms(ts);
  }

  function dur(s) {
    s = Math.max(0, Math.floor(s));
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    const m = Math.floor(s % 3600 / 60), sec = s % 60;
    return t('dur', d, h, m, sec);
  }

  /* A running timer: "4:07", "1:04:07". */
  function clockDur(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    const pad = (x) => String(x).padStart(2, '0');
    return h ? h + ':' + pad(m) + ':' + pad(sec) : m + ':' + pad(sec);
  }

  /* Whole minutes, for waits: "< 1 min", "8 min", "1 h 5 min". */
  function durMin(s) {
    if (s < 60) return t('lessThanMin');
    const m = Math.floor(s / 60);
    return m < 60 ? t('minutes', m) : dur(m * 60);
  }

  function num(v, decimals) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return v.toLocaleString(t('locale'), {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: false,
    });
  }

  function bytes(s) {
    return new TextEncoder().encode(s).length;
  }

  const isNum = (v) => typeof v === 'number' && isFinite(v);

  /* ---- network ----------------------------------------------------------- */

  /* The JSON answer of a request to the gateway (null when it has none).
   * Throws an Error with .status (0: no answer) and the gateway's own
   * explanation as its message. Changes carry the session's CSRF token. */
  async function request(method, url, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && S.me.csrf) headers['X-CSRF-Token'] = S.me.csrf;
    try {
      let r;
      try {
        r = await fetch(url, {
          method, cache: 'no-store', credentials: 'same-origin', headers, signal: ctl.signal,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw Object.assign(new Error('no answer'), { status: 0 });
      }
      let data = null;
      try { data = await r.json(); } catch (e) { data = null; }
      if (!r.ok) {
        const msg = data && typeof data.error === 'string' ? data.error : 'HTTP ' + r.status;
        throw Object.assign(new Error(msg), { status: r.status });
      }
      return data;
    } finally {
      clearTimeout(timer);
    }
  }

  const getJSON = (url) => request('GET', url);

  function setMe(m) {
    S.me = m && typeof m === 'object' ? m : { signed_in: false, open_reads: false };
    S.meKnown = true;
  }

  /* Who is signed in (a stale cookie reads as signed out). */
  async function loadSession() {
    try {
      setMe(await request('GET', 'api/v1/session'));
    } catch (e) {
      /* The gateway does not answer: the poll says so and asks again. */
    }
  }

  /* Reads need an account and none is signed in: nothing to show. */
  const needSignIn = () => S.meKnown && !S.me.signed_in && !S.me.open_reads;

  /* The session ended (expired, signed out elsewhere, the account disabled):
   * forget its cookie, and ask to sign in again when reads need it. */
  async function sessionEnded() {
    try {
      setMe(await request('DELETE', 'api/v1/session'));
    } catch (e) {
      setMe({ signed_in: false, open_reads: false });
    }
    if (needSignIn()) clearData();
  }

  async function poll() {
    clearTimeout(S.pollTimer);
    const seq = ++S.pollSeq;
    if (!S.meKnown) await loadSession();
    if (seq !== S.pollSeq) return;
    if (needSignIn()) {
      /* No polling until someone signs in: every read would be refused. */
      S.conn = 'auth';
      clearData();
      render();
      askSignIn();
      return;
    }
    try {
      /* The silences are a side dish: when they cannot be read the last
       * ones known stay shown. */
      const [st, al, si] = await Promise.all([getJSON('api/v1/state'), getJSON('api/v1/alerts'),
        getJSON('api/v1/silences').catch(() => null)]);
      if (seq !== S.pollSeq) return;
      if (!st || typeof st !== 'object' || !Array.isArray(st.halls)) throw new Error('bad state');
      S.state = st;
      S.alerts = al && Array.isArray(al.active) ? al.active : [];
      if (si && Array.isArray(si.silences)) S.silences = si.silences;
      if (isNum(st.time)) S.skew = st.time - Date.now() / 1000;
      S.lastOkMs = Date.now();
      S.conn = 'ok';
    } catch (e) {
      if (seq !== S.pollSeq) return;
      if (e && e.status === 401) {
        await sessionEnded();
        if (seq !== S.pollSeq) return;
        if (needSignIn()) {
          S.conn = 'auth';
          render();
          askSignIn();
          return;
        }
      } else {
        S.conn = 'lost';
      }
    }
    render();
    if (S.conn === 'ok' && Date.now() - S.historyAtMs >= HISTORY_MS) loadHistory();
    S.pollTimer = setTimeout(poll, POLL_MS);
  }

  async function loadHistory() {
    S.historyAtMs = Date.now();
    try {
      const h = await getJSON('api/v1/alerts?history=1&date=' + ymd(nowS()));
      S.history = h && Array.isArray(h.history) ? h.history : [];
      S.historyOk = true;
    } catch (e) {
      S.historyOk = false;
    }
    if (S.state) renderRecord();
  }

  /* ---- model helpers ----------------------------------------------------- */

  const collator = new Intl.Collator(undefined, { numeric: true });

  /* Devices of a kind in every hall, in hall order, then by id. */
  function devicesOf(kind) {
    const out = [];
    for (const h of S.state.halls) {
      const ds = (h.devices || []).filter((d) => d.kind === kind)
        .sort((a, b) => collator.compare(a.id, b.id));
      for (const d of ds) out.push({ hall: h, dev: d });
    }
    return out;
  }

  function findDevice(hall, id) {
    if (!id) return null;
    return (hall.devices || []).find((d) => d.id === id) || null;
  }

  function windowName(hall, id) {
    if (!id) return '';
    const w = (hall.windows || []).find((x) => x.id === id);
    return w ? (w.name || w.id) : id;
  }

  function hallById(id) {
    return S.state.halls.find((h) => h.id === id) || null;
  }

  const silenceById = (id) => S.silences.find((x) => x.id === id) || null;
  const overrideOf = (device) => (device && (S.state.overrides || []).find((o) => o.device === device)) || null;

  /* The window of a hall a device belongs to ('' when none). */
  function windowOfDevice(hall, id) {
    const d = findDevice(hall, id);
    if (d && d.window) return d.window;
    const w = (hall.windows || []).find((x) => [x.pc, x.plug, x.seat, x.queue].includes(id));
    return w ? w.id : '';
  }

  /* The maintenance silences in force now over window w of hall h: those
   * naming the window, or a device of the window. */
  function maintenanceOf(h, w) {
    const now = nowS();
    return S.silences.filter((s) => s.maintenance && s.starts <= now && now < s.ends &&
      (!s.hall || s.hall === h.id) &&
      (s.window ? s.window === w.id : !!s.device && windowOfDevice(h, s.device) === w.id));
  }

  /* What a silence matches, as words: "Device env-2", "Rule CO₂ too high". */
  function matcherParts(s) {
    const hall = s.hall ? hallById(s.hall) : null;
    const out = [];
    if (s.hall) out.push([t('mHall'), hall ? hall.name || hall.id : s.hall]);
    if (s.window) {
      const h = hall || S.state.halls.find((x) => (x.windows || []).some((w) => w.id === s.window));
      out.push([t('mWindow'), h ? windowName(h, s.window) : s.window]);
    }
    if (s.device) out.push([t('mDevice'), s.device]);
    if (s.rule) out.push([t('mRule'), ruleLabel(s)]);
    if (s.severity) out.push([t('mSeverity'), t('sev_' + s.severity)]);
    return out;
  }

  const matcherText = (s) => matcherParts(s).map(([k, v]) => k + ' ' + v).join(' · ');

  const multiHall = () => S.state.halls.length > 1;
  const sched = () => (S.state.schedule && S.state.schedule.state) || 'open';
  const vals = (d) => (d && d.values && typeof d.values === 'object' ? d.values : {});

  /* staffed | unstaffed | unknown | closed | break | duty */
  function windowState(w) {
    if (w.open) {
      if (w.staffed === true) return w.lunch_duty && sched() === 'break' ? 'duty' : 'staffed';
      if (w.staffed === false) return 'unstaffed';
      return 'unknown';
    }
    return sched() === 'break' ? 'break' : 'closed';
  }

  function worstAlert(list) {
    let worst = null;
    for (const a of list) {
      if (!worst || (SEV_RANK[a.severity] || 0) > (SEV_RANK[worst.severity] || 0)) worst = a;
    }
    return worst;
  }

  function alertsByWindow() {
    const m = new Map();
    for (const a of S.alerts) {
      if (!a.window) continue;
      const k = a.hall + '/' + a.window;
      if (!m.has(k)) m.set(k, []);
      m.get(k).push(a);
    }
    return m;
  }

  function ruleLabel(a) {
    const k = 'rule_' + String(a.rule || '').replace(/-/g, '_');
    const v = t(k);
    return v === k ? a.rule : v;
  }

  function kindMatches(k, kind) {
    if (k === undefined || k === null || k === '') return true;
    return Array.isArray(k) ? k.includes(kind) : k === kind;
  }

  /* Judges a reading against state.thresholds: the worst of normal, near
   * (within 10% of a limit, on the good side) and over. */
  function judge(kind, metric, v) {
    let level = 'normal', lo = null, hi = null;
    for (const th of S.state.thresholds || []) {
      if (th.metric !== metric || !kindMatches(th.kinds !== undefined ? th.kinds : th.kind, kind)) continue;
      let lv = 'normal';
      if (isNum(th.above)) {
        hi = hi === null ? th.above : Math.min(hi, th.above);
        if (v > th.above) lv = 'over';
        else if (v >= th.above - Math.abs(th.above) * 0.1) lv = 'near';
      } else if (isNum(th.below)) {
        lo = lo === null ? th.below : Math.max(lo, th.below);
        if (v < th.below) lv = 'over';
        else if (v <= th.below + Math.abs(th.below) * 0.1) lv = 'near';
      }
      if (lv === 'over' || (lv === 'near' && level === 'normal')) level = lv;
    }
    let range = '';
    if (lo !== null && hi !== null) range = lo + '–' + hi;
    else if (hi !== null) range = '≤ ' + hi;
    else if (lo !== null) range = '≥ ' + lo;
    return { level, range };
  }

  function maxAgeFor(metric) {
    const r = (S.state.max_ages || []).find((x) => x.metric === metric && isNum(x.max_age_s));
    return r ? r.max_age_s : null;
  }

  function availBadge(d) {
    const a = d.availability || 'unknown';
    const key = a === 'online' ? 'online' : a === 'offline' ? 'offline' : 'unknownAvail';
    return el('span', { class: 'avail av-' + a, 'data-availability': a },
      el('span', { class: 'dot', 'aria-hidden': 'true' }), t(key));
  }

  /* ---- rendering --------------------------------------------------------- */

  function applyStatic() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('pageTitle') + ' · hallgw';
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    const sw = $('lang-switch');
    sw.textContent = t('switchTo');
    sw.setAttribute('aria-label', t('switchLabel'));
    sw.lang = S.lang === 'zh' ? 'en' : 'zh-CN';
  }

  function render() {
    applyStatic();
    renderHeader();
    renderWho();
    renderBanners();
    if (!S.state) return;
    $('main').setAttribute('aria-busy', 'false');
    renderFloor();
    renderAlerts();
    renderSilences();
    renderEnv();
    renderEquipment();
    renderPcs();
    renderPoweroff();
    renderRecord();
    tick();
  }

  function renderHeader() {
    const st = S.state;
    $('gw-id').textContent = st && st.gateway ? st.gateway : '';
    const chip = $('sched-chip');
    if (st && st.schedule) {
      const s = st.schedule.state;
      const key = s === 'open' ? 'schedOpen' : s === 'break' ? 'schedBreak' : 'schedClosed';
      const next = isNum(st.schedule.next_transition) && st.schedule.next_transition > 0 ?
        ' · ' + t('until', when(st.schedule.next_transition)) : '';
      chip.className = 'chip sched-' + s;
      chip.dataset.schedule = s;
      chip.replaceChildren(icon(s === 'open' ? 'check' : s === 'break' ? 'cup' : 'lock'),
        el('span', { text: t(key) + next }));
      chip.hidden = false;
    } else {
      chip.hidden = true;
    }
    const ac = $('alerts-chip');
    if (st) {
      const firing = S.alerts.filter((a) => a.state === 'firing');
      const worst = worstAlert(firing.length ? firing : S.alerts);
      ac.className = 'chip alerts-chip' + (worst ? ' sev-' + worst.severity : ' none');
      ac.replaceChildren(icon(worst ? SEV_ICON[worst.severity] || 'bell' : 'check'),
        el('span', { text: S.alerts.length ? t('alertsCount', S.alerts.length) : t('noAlertsShort') }));
      ac.hidden = false;
    } else {
      ac.hidden = true;
    }
  }

  const roleLabel = (r) => (t('role_' + r) === 'role_' + r ? String(r || '—') : t('role_' + r));

  /* The signed-in account and its role, with sign-out; sign-in otherwise. */
  function renderWho() {
    const me = S.me;
    const signed = !!me.signed_in;
    const who = $('who');
    who.hidden = !signed;
    who.dataset.role = signed ? me.role : '';
    $('who-name').textContent = signed ? me.name : '';
    $('who-role').textContent = signed ? roleLabel(me.role) : '';
    $('sign-out').hidden = !signed;
    $('sign-in').hidden = signed || !S.meKnown;
    $('audit-open').hidden = !may('audit');
  }

  /* What the signed-in account's role allows (gateway/core/roles.c): the
   * gateway decides; the page leaves out the buttons it would refuse. */
  function may(action, a) {
    const role = S.me.signed_in ? S.me.role : '';
    if (role === 'admin') return true;
    switch (action) {
    case 'handle': /* acknowledge or resolve alert a */
      return IT_KINDS.includes(a.kind) ? role === 'it' : role === 'operator';
    case 'approve': /* a baseline's new value */
      return role === 'it' && may('handle', a);
    case 'silence': /* make, extend or expire a silence */
    case 'override': /* keep a window's PC on tonight, or take that back */
      return role === 'operator' || role === 'it';
    default: /* 'audit' */
      return false;
    }
  }

  /* The role that handles alert a, for the reason shown instead of buttons. */
  const handlerRole = (a) => (IT_KINDS.includes(a.kind) ? 'it' : 'operator');

  /* Signed out where reads need an account: nothing of the hall stays shown. */
  function clearData() {
    if (!S.state) return;
    S.state = null;
    S.alerts = [];
    S.history = null;
    S.historyAtMs = 0;
    S.silences = [];
    for (const id of ['floor', 'env', 'equip', 'poweroff', 'record', 'alerts', 'silences', 'pcs']) $(id).replaceChildren();
    for (const id of ['alerts-count', 'silences-count', 'pcs-count', 'pcs-rule', 'gw-id', 'clock']) $(id).textContent = '';
    $('p-silences').hidden = true;
    $('main').setAttribute('aria-busy', 'true');
  }

  function renderBanners() {
    const lost = S.conn === 'lost';
    const b = $('banner-conn');
    b.hidden = !lost;
    if (lost) b.replaceChildren(icon('alert'), el('span', { text: t('connLost', S.lastOkMs ? hms(S.lastOkMs / 1000 + S.skew) : '') }));
    const m = $('banner-mqtt');
    m.hidden = !(S.conn === 'ok' && S.state && S.state.mqtt_connected === false);
    if (!m.hidden) m.replaceChildren(icon('alert'), el('span', { text: t('mqttLost') }));
    $('banner-signin').hidden = S.conn !== 'auth';
    document.body.classList.toggle('stale', lost || S.conn === 'auth');
    $('last-update').textContent = S.lastOkMs ? hms(S.lastOkMs / 1000 + S.skew) : t('never');
  }

  function hallWaiting(h) {
    const queues = (h.devices || []).filter((d) => d.kind === 'queue' && isNum(vals(d).waiting));
    const hallLevel = queues.filter((d) => !d.window);
    const use = hallLevel.length ? hallLevel : queues;
    if (!use.length) return null;
    return use.reduce((n, d) => n + vals(d).waiting, 0);
  }

  function renderFloor() {
    const byWin = alertsByWindow();
    const halls = S.state.halls.map((h) => {
      const wins = h.windows || [];
      const open = wins.filter((w) => w.open);
      const staffed = open.filter((w) => w.staffed === true);
      const waiting = hallWaiting(h);
      const summary = [];
      if (open.length) summary.push(el('span', { text: t('staffedOf', staffed.length, open.length) }));
      if (waiting !== null) summary.push(el('span', { text: t('hallWaiting', num(waiting, 0)) }));
      return el('div', { class: 'hall', 'data-hall': h.id },
        el('div', { class: 'hall-head' },
          el('h3', { class: 'hall-name', text: h.name || h.id }),
          el('div', { class: 'hall-summary' }, summary)),
        wins.length ?
          el('div', { class: 'tiles' }, wins.map((w) => tile(h, w, byWin.get(h.id + '/' + w.id) || []))) :
          el('p', { class: 'muted', text: t('noWindows') }));
    });
    $('floor').replaceChildren(...halls);
  }

  /* When the window's seat emptied: the state's "since", else the pending
   * time of its unstaffed alert, else when this page first saw it empty. */
  function unstaffedSince(h, w, alerts) {
    const key = h.id + '/' + w.id;
    if (isNum(w.since)) return w.since;
    const a = alerts.find((x) => x.type === 'unstaffed' || x.rule === 'unstaffed');
    if (a && isNum(a.pending_since)) return a.pending_since;
    if (!S.seenEmpty.has(key)) S.seenEmpty.set(key, nowS());
    return S.seenEmpty.get(key);
  }

  function tile(h, w, alerts) {
    const state = windowState(w);
    const since = state === 'unstaffed' ? unstaffedSince(h, w, alerts) : null;
    if (state !== 'unstaffed') S.seenEmpty.delete(h.id + '/' + w.id);
    const name = w.name || w.id;
    const worst = worstAlert(alerts);
    const firing = alerts.some((a) => a.state === 'firing');
    const inBreak = sched() === 'break';
    const queueShown = w.open && (isNum(w.waiting) || isNum(w.longest_wait_s));
    const pc = findDevice(h, w.pc);
    const plug = findDevice(h, w.plug);

    const foot = [];
    const closed = sched() === 'closed';
    if (w.lunch_duty && inBreak && state !== 'duty') {
      foot.push(el('span', { class: 'duty-tag active', text: t('lunchDuty') }));
    }
    if (pc) {
      const on = vals(pc).power === 'on' && pc.availability !== 'offline';
      foot.push(el('span', { class: 'dev ' + (on ? (closed ? 'on late' : 'on') : 'off'), title: t('pc') + ' ' + pc.id },
        icon('pc'), on ? t('pcOn') : t('pcOff')));
    }
    if (plug) {
      const v = vals(plug);
      const on = v.on === true;
      foot.push(el('span', { class: 'dev ' + (on ? (closed ? 'on late' : 'on') : 'off'), title: t('plug') + ' ' + plug.id },
        icon('plug'), on && isNum(v.power_w) ? num(v.power_w, 0) + ' W' :
          on ? t('plugOn') : v.on === false ? t('plugOff') : '—'));
    }
    if (alerts.length) {
      foot.push(el('span', { class: 'tile-alerts sev-' + worst.severity },
        icon(SEV_ICON[worst.severity] || 'bell'), t('tileAlerts', alerts.length)));
    }

    /* Repairs going on, and the window's PC (or plug) kept on tonight. */
    const notes = maintenanceOf(h, w).map((s) => el('div', {
      class: 'tile-maint', 'data-silence': s.id, title: t('maintTitle', s.comment, when(s.ends), s.created_by || '—'),
    }, icon('wrench'), el('span', { text: t('maintNote', s.comment) })));
    for (const o of [w.pc, w.plug].map(overrideOf).filter(Boolean)) {
      notes.push(el('div', { class: 'tile-ov', 'data-override': o.device, title: o.device + ': ' + o.reason },
        icon('moon'),
        el('div', { class: 'ov-text' }, t('keptOn', when(o.until), o.by || '—'), el('q', { text: o.reason })),
        may('override') ? el('button', {
          type: 'button', class: 'tile-btn', 'data-action': 'unoverride', 'data-device': o.device, text: t('ovRemove'),
        }) : null));
    }
    if (w.pc && !overrideOf(w.pc) && may('override')) {
      notes.push(el('button', { type: 'button', class: 'tile-btn', 'data-action': 'override', text: t('keepOn') }));
    }

    return el('article', {
      class: 'tile s-' + state + (worst ? ' has-alert' : '') + (firing ? ' firing' : ''),
      'data-hall': h.id, 'data-window': w.id, 'data-state': state,
      'data-alert': alerts.length ? (firing ? 'firing' : 'acknowledged') : null,
      'data-severity': worst ? worst.severity : null,
    },
      el('div', { class: 'tile-head' },
        el('span', { class: 'tile-name', text: name, title: name }),
        w.lunch_duty && !inBreak ? el('span', {
          class: 'duty-mark', role: 'img', title: t('lunchDuty'), 'aria-label': t('lunchDuty'),
        }, icon('clock')) : null),
      el('div', { class: 'tile-state' },
        icon(STATE_ICON[state]),
        el('span', { class: 'state-text', text: t(STATE_TEXT[state]) }),
        since !== null ?
          el('span', { class: 'dur', 'data-since': since, 'data-clock': '' }, clockDur(nowS() - since)) : null),
      el('div', { class: 'tile-queue' + (queueShown ? '' : ' empty') },
        queueShown ? [
          el('span', { class: 'q' },
            el('span', { class: 'q-num', text: isNum(w.waiting) ? num(w.waiting, 0) : '—' }),
            el('span', { class: 'q-label', text: t('waiting') })),
          !(w.waiting > 0) && !(w.longest_wait_s > 0) ? null : el('span', { class: 'q' },
            el('span', { class: 'q-label', text: t('longest') }),
            el('span', { class: 'q-num small', text: isNum(w.longest_wait_s) ? durMin(w.longest_wait_s) : '—' })),
        ] : null),
      notes.length ? el('div', { class: 'tile-notes' }, notes) : null,
      foot.length ? el('div', { class: 'tile-foot' }, foot) : null);
  }

  function renderAlerts() {
    const list = S.alerts.slice().sort((a, b) =>
      (a.state === 'firing' ? 0 : 1) - (b.state === 'firing' ? 0 : 1) ||
      (SEV_RANK[b.severity] || 0) - (SEV_RANK[a.severity] || 0) ||
      (a.firing_since || 0) - (b.firing_since || 0));
    $('alerts-count').textContent = list.length ? '(' + list.length + ')' : '';
    if (!list.length) {
      $('alerts').replaceChildren(el('div', { class: 'all-clear' }, icon('check'),
        el('span', { text: t('noAlerts') })));
      return;
    }
    $('alerts').replaceChildren(el('ul', { class: 'alert-list' }, list.map(alertItem)));
  }

  function alertItem(a) {
    const hall = hallById(a.hall);
    const where = [];
    if (hall && multiHall()) where.push(hall.name || hall.id);
    if (a.window && hall) where.push(windowName(hall, a.window));
    else if (a.window) where.push(a.window);
    if (a.device) where.push(a.device);
    const since = a.firing_since || a.pending_since;
    const acked = a.state === 'acknowledged';
    const sev = a.severity || 'info';
    const sil = a.silenced_by ? silenceById(a.silenced_by) : null;

    return el('li', {
      class: 'alert sev-' + sev + ' st-' + a.state + (a.silenced_by ? ' silenced' : ''),
      'data-alert-id': a.id, 'data-hall': a.hall, 'data-state': a.state, 'data-severity': sev,
      'data-silenced-by': a.silenced_by || null,
    },
      el('div', { class: 'a-sev' }, icon(SEV_ICON[sev] || 'bell'), el('span', { text: t('sev_' + sev) })),
      el('div', { class: 'a-main' },
        el('div', { class: 'a-title' },
          el('span', { class: 'a-rule', text: ruleLabel(a) }),
          where.length ? el('span', { class: 'a-where', text: where.join(' · ') }) : null),
        a.summary ? el('div', { class: 'a-summary', text: a.summary }) : null,
        el('div', { class: 'a-meta' },
          isNum(since) ? el('span', { class: 'a-since', 'data-since-alert': since },
            t('since', when(since), dur(nowS() - since))) : null,
          el('span', { class: 'a-state' }, acked ? t('stAcked') : t('stFiring')),
          a.silenced_by ? el('span', {
            class: 'a-silenced', 'data-silence': a.silenced_by,
            title: sil ? t('silenceTitle', sil.comment, when(sil.ends)) : null,
          }, icon('mute'), t('silenced')) : null),
        acked ? el('div', { class: 'a-ack' }, icon('check'),
          el('span', { text: t('ackedBy', a.acked_by || '—', isNum(a.acked_at) ? when(a.acked_at) : '—') }),
          a.note ? el('q', { text: a.note }) : null) : null,
        a.manual_resolve ? el('div', { class: 'a-manual', text: t('needsResolve') }) : null,
        sil ? el('div', { class: 'a-silence' },
          el('span', { text: t('silencedUntil', when(sil.ends), sil.created_by || '—') }),
          sil.comment ? el('q', { text: sil.comment }) : null) : null),
      alertActions(a, acked));
  }

  /* The buttons the signed-in account may use on alert a; for a role that
   * may change things but not this alert, the reason instead. */
  function alertActions(a, acked) {
    const baseline = a.type === 'baseline';
    const btn = (action, primary) => el('button', {
      type: 'button', class: 'btn' + (primary ? ' btn-primary' : ''), 'data-action': action, text: t(action),
    });
    /* Any role that silences may silence any alert. */
    const silence = may('silence') && !a.silenced_by ? btn('silence', false) : null;
    if (!may('handle', a)) {
      const role = S.me.signed_in ? S.me.role : '';
      const reason = role === 'operator' || role === 'it' ? t('forRole', roleLabel(handlerRole(a))) : null;
      return reason || silence ? el('div', { class: 'a-actions' },
        reason ? el('span', { class: 'a-role', 'data-reason': 'role', text: reason }) : null, silence) : null;
    }
    return el('div', { class: 'a-actions' },
      baseline && may('approve', a) ? btn('approve', true) : null,
      !acked ? btn('ack', !baseline) : null,
      a.manual_resolve && !baseline ? btn('resolve', false) : null,
      silence);
  }

  /* The silences in force now or later: what they match, until when, why
   * and by whom; extend and expire for the roles that may. Hidden when
   * there are none. */
  function renderSilences() {
    const now = nowS();
    const list = S.silences.filter((x) => isNum(x.ends) && x.ends > now)
      .sort((a, b) => (a.starts || 0) - (b.starts || 0) || a.ends - b.ends);
    $('p-silences').hidden = !list.length;
    $('silences-count').textContent = list.length ? '(' + list.length + ')' : '';
    const btn = (action) => el('button', { type: 'button', class: 'btn btn-small', 'data-action': action, text: t(action) });
    $('silences').replaceChildren(...(list.length ? [el('ul', { class: 'silence-list' }, list.map((x) => {
      const later = x.starts > now;
      return el('li', {
        class: 'silence' + (x.maintenance ? ' maint' : ''), 'data-silence-id': x.id,
        'data-maintenance': x.maintenance ? 'true' : 'false',
      },
        el('div', { class: 's-main' },
          el('div', { class: 's-match' }, icon(x.maintenance ? 'wrench' : 'mute'),
            matcherParts(x).map(([k, v]) => el('span', { class: 's-m' }, el('small', { text: k }), ' ', el('b', { text: v }))),
            x.maintenance ? el('span', { class: 's-tag', text: t('maintTag') }) : null),
          el('div', { class: 's-meta' },
            el('span', { class: 's-until', text: later ? t('fromTo', when(x.starts), when(x.ends)) : t('until', when(x.ends)) }),
            el('span', { class: 's-by', text: t('silenceBy', x.created_by || '—') })),
          x.comment ? el('q', { class: 's-comment', text: x.comment }) : null),
        may('silence') ? el('div', { class: 's-actions' }, btn('extend'), btn('expire')) : null);
    }))] : []));
  }

  function renderEnv() {
    const envs = devicesOf('env');
    if (!envs.length) {
      $('env').replaceChildren(el('p', { class: 'muted', text: t('noEnv') }));
      return;
    }
    $('env').replaceChildren(el('div', { class: 'env-grid' }, envs.map(({ hall, dev }) => {
      const v = vals(dev);
      const offline = dev.availability === 'offline';
      const place = [];
      if (multiHall()) place.push(hall.name || hall.id);
      if (dev.window) place.push(windowName(hall, dev.window));
      const metrics = ENV_METRICS.filter(([m]) => isNum(v[m])).map(([m, unit, dec]) => {
        const j = judge(dev.kind, m, v[m]);
        const note = j.level === 'over' ? [icon('alert'), t('lvOver')] :
          j.level === 'near' ? [icon('minus'), t('lvNear')] : j.range ? [j.range] : [];
        return el('div', { class: 'metric lv-' + j.level, 'data-metric': m, 'data-level': j.level },
          el('span', { class: 'm-label', text: t('m_' + m) }),
          el('span', { class: 'm-value' }, num(v[m], dec), el('small', { text: unit })),
          el('span', { class: 'm-note' }, note));
      });
      return el('article', { class: 'card env-card' + (offline ? ' offline' : ''), 'data-device': dev.id },
        el('header', { class: 'card-head' },
          el('span', { class: 'card-title', text: dev.id }),
          place.length ? el('span', { class: 'muted', text: place.join(' · ') }) : null,
          availBadge(dev)),
        metrics.length ? el('div', { class: 'metrics' }, metrics) : el('p', { class: 'muted', text: '—' }));
    })));
  }

  function renderEquipment() {
    const eq = devicesOf('equipment');
    const plugs = devicesOf('plug');
    const closed = sched() === 'closed';
    const winCell = (hall, d) => el('td', { text: d.window ? windowName(hall, d.window) : (multiHall() ? hall.name || hall.id : '—') });

    const eqTable = eq.length ? el('table', { class: 'grid-table' },
      el('thead', null, el('tr', null, ['colDevice', 'colWindow', 'colStatus', 'colFault'].map((k) => el('th', { scope: 'col', text: t(k) })))),
      el('tbody', null, eq.map(({ hall, dev }) => {
        const v = vals(dev);
        const status = dev.availability === 'offline' ? 'offline' : (typeof v.status === 'string' ? v.status : '');
        const ok = status === 'ok';
        const label = status ? (t('eq_' + status) === 'eq_' + status ? status : t('eq_' + status)) : '—';
        return el('tr', {
          'data-device': dev.id, 'data-status': status || null,
          title: isNum(dev.last_seen_age_s) ? t('seenAgo', dur(dev.last_seen_age_s)) : null,
        },
          el('th', { scope: 'row', text: dev.id }),
          winCell(hall, dev),
          el('td', { class: status ? (ok ? 'good' : 'bad') : '' }, status ? icon(ok ? 'check' : 'alert') : null, label),
          el('td', { class: 'fault' + (v.fault ? ' bad-text' : ' muted'), text: v.fault ? String(v.fault) : '—' }));
      }))) : el('p', { class: 'muted', text: t('noEquipment') });

    const plugList = plugs.length ? el('ul', { class: 'plug-list' }, plugs.map(({ hall, dev }) => {
      const v = vals(dev);
      const on = v.on === true, off = v.on === false;
      const offline = dev.availability === 'offline';
      const late = on && closed;
      const name = dev.window ? windowName(hall, dev.window) : dev.id;
      return el('li', {
        class: 'plug-item' + (late ? ' warn' : on ? ' on' : ''), 'data-device': dev.id,
        'data-on': on ? 'true' : off ? 'false' : null, title: dev.id,
      },
        el('span', { class: 'plug-name', text: name }),
        offline ? availBadge(dev) : el('span', { class: 'plug-state' },
          on && isNum(v.power_w) && !late ? null : icon(on ? (late ? 'alert' : 'check') : off ? 'minus' : 'question'),
          on && isNum(v.power_w) ? el('b', { text: num(v.power_w, 0) + ' W' }) :
            on ? t('plugOn') : off ? t('plugOff') : '—'),
        late ? el('small', { class: 'plug-note', text: t('onAfterHours') }) : null);
    })) : el('p', { class: 'muted', text: t('noPlugs') });

    $('equip').replaceChildren(
      el('h3', { class: 'sub-head', text: t('equipmentSub') }), el('div', { class: 'table-wrap' }, eqTable),
      el('h3', { class: 'sub-head', text: t('plugsSub') }), plugList);
  }

  function truthyUsb(u) {
    if (u === true) return true;
    if (isNum(u)) return u > 0;
    if (typeof u === 'string') return u !== '' && !/^(0|false|none|no|off)$/i.test(u);
    return false;
  }

  function renderPcs() {
    const pcs = devicesOf('pc');
    const scanMax = maxAgeFor('av_last_scan');
    const sigMax = maxAgeFor('av_sig_updated');
    $('pcs-rule').textContent = scanMax !== null && sigMax !== null ?
      t('pcsRule', t('days', num(scanMax / 86400, 0)), t('days', num(sigMax / 86400, 0))) : '';
    if (!pcs.length) {
      $('pcs-count').textContent = '';
      $('pcs').replaceChildren(el('p', { class: 'muted', text: t('noPcs') }));
      return;
    }
    const now = nowS();
    const rows = pcs.map(({ hall, dev }) => {
      const v = vals(dev);
      const scanAge = isNum(v.av_last_scan) ? (now - v.av_last_scan) / 86400 : null;
      const sigAge = isNum(v.av_sig_updated) ? (now - v.av_sig_updated) / 86400 : null;
      const bad = {
        scan: scanAge !== null && scanMax !== null && scanAge * 86400 > scanMax,
        sig: sigAge !== null && sigMax !== null && sigAge * 86400 > sigMax,
        threats: isNum(v.av_threats) && v.av_threats > 0,
        realtime: v.av_realtime === false,
        usb: truthyUsb(v.usb_storage),
      };
      const problems = Object.values(bad).filter(Boolean).length;
      return { hall, dev, v, scanAge, sigAge, bad, problems };
    });
    rows.sort((a, b) => b.problems - a.problems);
    const nBad = rows.filter((r) => r.problems).length;
    const count = $('pcs-count');
    count.textContent = t('pcsCount', rows.length, nBad);
    count.classList.toggle('bad', nBad > 0);

    const cell = (isBad, content, key) => el('td', {
      class: 'num' + (isBad ? ' bad' : ''), 'data-col': key, 'data-bad': isBad ? 'true' : null,
    }, isBad ? icon('alert') : null, content);

    const table = el('table', { class: 'grid-table pc-table' },
      el('thead', null, el('tr', null,
        ['colPc', 'colPcPower', 'colScan', 'colSig', 'colThreats', 'colRealtime', 'colUsb'].map((k) =>
          el('th', { scope: 'col', text: t(k) })))),
      el('tbody', null, rows.map((r) => {
        const on = r.v.power === 'on' && r.dev.availability !== 'offline';
        const place = r.dev.window ? windowName(r.hall, r.dev.window) : (multiHall() ? r.hall.name || r.hall.id : '');
        return el('tr', { 'data-device': r.dev.id, 'data-problems': r.problems },
          el('th', { scope: 'row', title: place ? r.dev.id + ' · ' + place : r.dev.id },
            el('span', { class: 'pc-id', text: r.dev.id }),
            place ? el('span', { class: 'muted pc-place', text: place }) : null),
          el('td', { class: on ? 'good' : 'muted', 'data-col': 'power', title: t(r.dev.availability === 'online' ? 'online' :
            r.dev.availability === 'offline' ? 'offline' : 'unknownAvail') },
            icon(on ? 'check' : 'minus'), on ? t('pcOn') : r.dev.availability === 'offline' ? t('offline') : t('pcOff')),
          cell(r.bad.scan, r.scanAge === null ? '—' : num(r.scanAge, 1), 'scan'),
          cell(r.bad.sig, r.sigAge === null ? '—' : num(r.sigAge, 1), 'sig'),
          cell(r.bad.threats, isNum(r.v.av_threats) ? num(r.v.av_threats, 0) : '—', 'threats'),
          cell(r.bad.realtime, r.v.av_realtime === true ? t('rtOn') : r.v.av_realtime === false ? t('rtOff') : '—', 'realtime'),
          cell(r.bad.usb, r.v.usb_storage === undefined ? '—' : r.bad.usb ?
            t('usbIn') + (typeof r.v.usb_storage === 'string' ? ' ' + r.v.usb_storage : '') : t('usbNone'), 'usb'));
      })));
    $('pcs').replaceChildren(el('div', { class: 'table-wrap' }, table));
  }

  /* The last power-off run: {date, trigger, started, running, dry_run,
   * pcs: [{device, window, state, ok, detail}], plugs: [...]}. Devices that
   * are not done (ok false, or still pending) are listed first; anything of
   * another shape is shown as delivered. */
  function renderPoweroff() {
    const p = S.state.poweroff;
    const box = $('poweroff');
    if (p === null || p === undefined) {
      box.replaceChildren(el('div', { class: 'none' },
        el('span', { class: 'dash', text: '—' }), el('span', { class: 'muted', text: t('poweroffNone') })));
      return;
    }
    if (typeof p !== 'object' || (!Array.isArray(p.pcs) && !Array.isArray(p.plugs))) {
      box.replaceChildren(valueView(p, 0));
      return;
    }
    const items = [];
    for (const [list, kind] of [[p.pcs || [], 'pc'], [p.plugs || [], 'plug']]) {
      for (const x of list) items.push(Object.assign({ kind }, x));
    }
    const bad = items.filter((x) => x.ok === false);
    const pending = items.filter((x) => x.ok !== true && x.ok !== false);
    const good = items.filter((x) => x.ok === true);
    const head = [p.date, t('po_trigger_' + p.trigger) === 'po_trigger_' + p.trigger ? p.trigger : t('po_trigger_' + p.trigger)];
    if (isNum(p.started)) head.push(t('poStarted', when(p.started)));
    const status = p.running ? 'running' : bad.length ? 'bad' : pending.length ? 'running' : 'good';
    const placeOf = (x) => {
      const hall = hallById(x.hall);
      return x.window && hall ? windowName(hall, x.window) : '';
    };
    const stateText = (x) => {
      const k = 'po_' + x.kind + '_' + x.state;
      return t(k) === k ? String(x.state || '—') : t(k);
    };
    box.replaceChildren(
      el('div', { class: 'po-head po-' + status, 'data-poweroff': status },
        icon(status === 'good' ? 'check' : status === 'bad' ? 'alert' : 'clock'),
        el('strong', { text: t(status === 'good' ? 'poAllOff' : status === 'bad' ? 'poSomeFailed' : 'poRunning') }),
        el('span', { class: 'muted', text: head.filter(Boolean).join(' · ') }),
        p.dry_run ? el('span', { class: 'po-dry', text: t('poDryRun') }) : null),
      el('div', { class: 'po-counts' },
        el('span', { class: 'good' }, icon('check'), t('poOk', good.length)),
        bad.length ? el('span', { class: 'bad' }, icon('alert'), t('poFailed', bad.length)) : null,
        pending.length ? el('span', null, icon('clock'), t('poPending', pending.length)) : null),
      bad.length || pending.length ? el('ul', { class: 'po-list' }, bad.concat(pending).map((x) =>
        el('li', { class: x.ok === false ? 'bad' : '', 'data-device': x.device },
          icon(x.kind === 'pc' ? 'pc' : 'plug'),
          el('strong', { text: x.device }),
          placeOf(x) ? el('span', { class: 'muted', text: placeOf(x) }) : null,
          el('span', { class: 'po-state', text: stateText(x) }),
          x.detail ? el('span', { class: 'po-detail', text: x.detail }) : null))) : null);
  }

  function scalar(k, v) {
    if (isNum(v) && v > 1e9 && /(^|_)(at|ts|time|since|started|finished|until)$/.test(k)) return when(v);
    if (typeof v === 'boolean') return v ? '✓' : '✗';
    if (v === null || v === undefined || v === '') return '—';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  function valueView(v, depth) {
    if (Array.isArray(v)) {
      if (!v.length) return el('span', { class: 'muted', text: '—' });
      if (v.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
        const cols = [];
        for (const x of v) for (const k of Object.keys(x)) if (!cols.includes(k) && cols.length < 6) cols.push(k);
        return el('div', { class: 'table-wrap' }, el('table', { class: 'grid-table compact' },
          el('thead', null, el('tr', null, cols.map((c) => el('th', { scope: 'col', text: c })))),
          el('tbody', null, v.slice(0, 100).map((x) => el('tr', null, cols.map((c) =>
            el('td', { class: /fail|error|still|on$/i.test(String(x[c])) ? 'bad-text' : '', text: scalar(c, x[c]) })))))));
      }
      return el('span', { text: v.map((x) => scalar('', x)).join(', ') });
    }
    if (v && typeof v === 'object' && depth < 3) {
      return el('dl', { class: 'kv' }, Object.keys(v).map((k) => [
        el('dt', { text: k.replace(/_/g, ' ') }), el('dd', null, typeof v[k] === 'object' && v[k] !== null ? valueView(v[k], depth + 1) : scalar(k, v[k]))]));
    }
    return el('span', { text: scalar('', v) });
  }

  function renderRecord() {
    const box = $('record');
    if (!S.historyOk) {
      box.replaceChildren(el('p', { class: 'muted', text: t('recordUnavailable') }));
      return;
    }
    const rows = (S.history || []).filter((r) => r.by && (r.transition === 'acknowledged' || r.transition === 'resolved'))
      .sort((a, b) => (b.at || 0) - (a.at || 0)).slice(0, 30);
    if (!rows.length) {
      box.replaceChildren(el('p', { class: 'muted', text: S.history ? t('recordNone') : '—' }));
      return;
    }
    box.replaceChildren(el('ul', { class: 'record-list' }, rows.map((r) => {
      const hall = hallById(r.hall);
      const where = [];
      if (hall && r.window) where.push(windowName(hall, r.window));
      if (r.device) where.push(r.device);
      return el('li', { class: 'rec tr-' + r.transition },
        el('time', { text: isNum(r.at) ? hm(r.at) : '—' }),
        el('div', null,
          el('div', null, el('strong', { text: r.by || '—' }), ' ', t('tr_' + r.transition), ' · ',
            ruleLabel(r), where.length ? ' · ' + where.join(' · ') : ''),
          r.note ? el('q', { text: r.note }) : null));
    })));
  }

  /* Once a second between polls: clock and running durations. */
  function tick() {
    if (S.state) {
      /* The clock always runs; durations only while the data is fresh. */
      $('clock').textContent = hms(nowS());
      if (S.conn !== 'ok') return;
      const now = nowS();
      for (const n of document.querySelectorAll('[data-since]')) {
        const s = now - Number(n.dataset.since);
        n.textContent = 'clock' in n.dataset ? clockDur(s) : dur(s);
      }
      for (const n of document.querySelectorAll('[data-since-alert]')) {
        const s = Number(n.dataset.sinceAlert);
        n.textContent = t('since', when(s), dur(now - s));
      }
    }
  }

  /* ---- the sign-in / acknowledge / resolve / approve form, the audit log -- */

  function setError(msg, focusId) {
    const e = $('ack-error');
    e.textContent = msg;
    e.hidden = !msg;
    if (focusId) $(focusId).focus();
  }

  const DLG_TITLE = {
    signin: 'signInTitle', ack: 'dlgAck', resolve: 'dlgResolve', approve: 'dlgApprove',
    silence: 'dlgSilence', extend: 'dlgExtend', expire: 'dlgExpire', override: 'dlgOverride',
    unoverride: 'dlgUnoverride',
  };
  const DLG_SUBMIT = {
    signin: 'signIn', ack: 'ack', resolve: 'resolve', approve: 'approve', silence: 'silence',
    extend: 'extend', expire: 'expireNow', override: 'keepOnSubmit', unoverride: 'ovRemoveSubmit',
  };
  /* The note field of the modes that have one: label, hint, name in errors. */
  const DLG_NOTE = { ack: 'fNote', resolve: 'fNoteResolve', approve: 'fNoteApprove', silence: 'fComment', override: 'fReason' };
  const DLG_HINT = { ack: 'fNoteHint', resolve: 'fNoteHint', approve: 'fApproveHint', silence: 'fCommentHint', override: 'fReasonHint' };
  const NOTE_NAME = { silence: 'nComment', override: 'nReason' };
  /* The modes whose note may not be empty, with what to say when it is. */
  const NOTE_REQUIRED = { resolve: 'errNote', silence: 'errComment', override: 'errReason' };
  /* What a 404 means, per mode (otherwise the gateway's own words). */
  const DLG_GONE = {
    ack: 'errGone', resolve: 'errGone', approve: 'errGone', silence: 'errGone',
    extend: 'errSilenceGone', expire: 'errSilenceGone', unoverride: 'errOverrideGone',
  };
  const ALERT_MODES = ['ack', 'resolve', 'approve', 'silence'];
  const SILENCE_FOR = ['1h', '2h', '4h'];
  const OVERRIDE_UNTIL = '22:00';

  function showOverlay(which) {
    $('ack-dialog').hidden = which !== 'form';
    $('audit-dialog').hidden = which !== 'audit';
    $('dlg-overlay').hidden = false;
    document.body.classList.add('modal-open');
  }

  /* The line under the form's title: what the form acts on. x is an alert,
   * a silence, or {hall, win, device, ov} for a window's override. */
  function subjectText(mode, x) {
    if (!x) return '';
    if (ALERT_MODES.includes(mode)) return ruleLabel(x) + (x.summary ? ' — ' + x.summary : '');
    if (mode === 'extend' || mode === 'expire') {
      return [matcherText(x), t('until', when(x.ends)), x.comment].filter(Boolean).join(' · ');
    }
    const parts = [windowName(x.hall, x.win.id), t(x.device === x.win.plug ? 'plug' : 'pc') + ' ' + x.device];
    if (x.ov) parts.push(t('keptOn', when(x.ov.until), x.ov.by || '—'), x.ov.reason);
    return parts.join(' · ');
  }

  /* A silence's matchers, from alert a: its device (else its hall and
   * window) and its rule are ticked; its window and severity may be added. */
  function fillMatchers(a) {
    const hall = hallById(a.hall);
    const box = $('sil-match');
    box.replaceChildren();
    const add = (key, value, text, on) => {
      if (value) {
        box.append(el('label', { class: 'check' },
          el('input', { type: 'checkbox', 'data-key': key, value, checked: on }), ' ',
          el('small', { text: t('m' + key[0].toUpperCase() + key.slice(1)) }), ' ', el('b', { text })));
      }
    };
    add('hall', a.hall, hall ? hall.name || hall.id : a.hall, !a.device);
    add('window', a.window, hall ? windowName(hall, a.window) : a.window, !a.device);
    add('device', a.device, a.device, true);
    add('rule', a.rule, ruleLabel(a), true);
    add('severity', a.severity, t('sev_' + a.severity), false);
  }

  /* How long a silence lasts: hours from now, until the schedule's next
   * change, until a time of day, or another duration. */
  function fillDurations() {
    const opts = SILENCE_FOR.map((v) => el('option', { value: v, text: t('forHours', parseInt(v, 10)) }));
    const sc = S.state && S.state.schedule;
    if (sc && isNum(sc.next_transition) && sc.next_transition > nowS() + 60) {
      opts.push(el('option', {
        value: 'next', 'data-ends': Math.floor(sc.next_transition),
        text: t('forNext_' + (sc.state === 'break' || sc.state === 'closed' ? sc.state : 'open'), when(sc.next_transition)),
      }));
    }
    opts.push(el('option', { value: 'until', text: t('forUntil') }), el('option', { value: 'custom', text: t('forCustom') }));
    $('sil-for').replaceChildren(...opts);
    $('sil-for').value = SILENCE_FOR[0];
  }

  /* Shows the time or duration field the chosen end needs. */
  function showEndFields() {
    const mode = S.dialog ? S.dialog.mode : '';
    const timed = mode === 'silence' || mode === 'extend';
    const v = $('sil-for').value;
    $('sil-until-field').hidden = !(mode === 'override' || (timed && v === 'until'));
    $('sil-custom-field').hidden = !(timed && v === 'custom');
  }

  /* mode: 'signin'; 'ack' | 'resolve' | 'approve' | 'silence' of an alert;
   * 'extend' | 'expire' of a silence; 'override' | 'unoverride' of a
   * window's PC ({hall, win, device, ov}). */
  function openDialog(mode, target) {
    const prev = S.dialog;
    S.dialog = { mode, target, busy: false, returnFocus: prev ? prev.returnFocus : document.activeElement };
    const signin = mode === 'signin';
    const timed = mode === 'silence' || mode === 'extend';
    $('ack-title').textContent = t(DLG_TITLE[mode]);
    const info = $('ack-alert');
    info.hidden = !target;
    info.textContent = subjectText(mode, target);
    $('ack-dialog').dataset.mode = mode;
    const as = $('ack-as');
    as.hidden = signin;
    as.textContent = signin ? '' : t('asWho', S.me.name || '—', roleLabel(S.me.role));
    $('signin-name-field').hidden = !signin;
    $('signin-password-field').hidden = !signin;
    $('ack-note-field').hidden = !DLG_NOTE[mode];
    if (DLG_NOTE[mode]) {
      $('ack-note-label').textContent = t(DLG_NOTE[mode]);
      $('ack-note-hint').textContent = t(DLG_HINT[mode]);
    }
    $('ack-note').required = !!NOTE_REQUIRED[mode];
    $('ack-note').value = '';
    $('sil-match-field').hidden = mode !== 'silence';
    if (mode === 'silence') fillMatchers(target);
    $('sil-for-field').hidden = !timed;
    if (timed) {
      fillDurations();
      $('sil-for-label').textContent = t(mode === 'extend' ? 'fNewEnd' : 'fFor');
    }
    $('sil-until-label').textContent = t(mode === 'override' ? 'fKeepUntil' : 'fUntil');
    $('sil-until').value = mode === 'override' ? OVERRIDE_UNTIL : '';
    $('sil-custom').value = '';
    $('sil-maint-field').hidden = mode !== 'silence';
    $('sil-maint').checked = false;
    $('signin-password').value = '';
    const submit = $('ack-submit');
    submit.disabled = false;
    submit.textContent = t(DLG_SUBMIT[mode]);
    submit.classList.toggle('btn-danger', mode === 'expire' || mode === 'unoverride');
    setError('');
    showEndFields();
    showOverlay('form');
    const first = signin ? (!$('signin-name').value ? $('signin-name') : $('signin-password')) :
      timed ? $('sil-for') : mode === 'override' ? $('sil-until') :
        DLG_NOTE[mode] ? $('ack-note') : $('ack-cancel');
    first.focus();
  }

  /* Asks to sign in, unless a form is open already. */
  function askSignIn() {
    if (!S.dialog) openDialog('signin', null);
  }

  function closeDialog() {
    const d = S.dialog;
    S.dialog = null;
    $('dlg-overlay').hidden = true;
    document.body.classList.remove('modal-open');
    if (d && d.returnFocus && document.contains(d.returnFocus)) d.returnFocus.focus();
  }

  /* Runs a change from the form: the button says "Sending…" meanwhile.
   * The answer, or the error thrown (null when the form closed meanwhile). */
  async function send(d, method, url, body) {
    const submit = $('ack-submit');
    const label = submit.textContent;
    d.busy = true;
    submit.disabled = true;
    submit.textContent = t('sending');
    setError('');
    let out;
    try {
      out = { ok: true, data: await request(method, url, body) };
    } catch (e) {
      out = { ok: false, status: e.status, msg: e.message };
    }
    d.busy = false;
    submit.disabled = false;
    submit.textContent = label;
    return S.dialog === d ? out : null;
  }

  async function submitSignIn(d) {
    const name = $('signin-name').value.trim();
    const password = $('signin-password').value;
    if (!name) return setError(t('errName'), 'signin-name');
    if (!password) return setError(t('errPassword'), 'signin-password');
    const r = await send(d, 'POST', 'api/v1/session', { name, password });
    if (!r) return;
    if (!r.ok) {
      $('signin-password').value = '';
      if (r.status === 0) return setError(t('errSend'));
      if (r.status === 401 || r.status === 400) return setError(t('errSignIn'), 'signin-password');
      if (r.status === 429) return setError(t('errTooMany'));
      return setError(t('errServer', r.msg));
    }
    setMe(r.data);
    closeDialog();
    S.historyAtMs = 0;
    poll();
  }

  /* The end of a silence chosen on the form, as the API takes it ({"for"}
   * or {"ends"}); null when the field it needs is empty. */
  function chosenEnd() {
    const sel = $('sil-for');
    const v = sel.value;
    if (v === 'until') return $('sil-until').value ? { ends: $('sil-until').value.slice(0, 5) } : null;
    if (v === 'custom') return $('sil-custom').value.trim() ? { for: $('sil-custom').value.trim() } : null;
    if (v === 'next') return { ends: Number(sel.selectedOptions[0].dataset.ends) };
    return { for: v };
  }

  /* The request a form sends: {method, url, body}, or {error, focus}. */
  function changeOf(d, note) {
    const x = d.target;
    const enc = encodeURIComponent;
    switch (d.mode) {
    case 'ack':
    case 'resolve':
    case 'approve':
      return {
        method: 'POST',
        url: 'api/v1/alerts/' + enc(x.id) + (d.mode === 'approve' ? '/approve' : '/ack') + '?hall=' + enc(x.hall || ''),
        body: d.mode === 'approve' ? { note } : { note, resolve: d.mode === 'resolve' },
      };
    case 'silence':
    case 'extend': {
      const body = {};
      if (d.mode === 'silence') {
        for (const c of $('sil-match').querySelectorAll('input:checked')) body[c.dataset.key] = c.value;
        if (!Object.keys(body).length) return { error: 'errMatch' };
      }
      const end = chosenEnd();
      if (!end) return { error: 'errEnd', focus: $('sil-for').value === 'until' ? 'sil-until' : 'sil-custom' };
      Object.assign(body, end);
      if (d.mode === 'extend') return { method: 'POST', url: 'api/v1/silences/' + enc(x.id), body };
      return { method: 'POST', url: 'api/v1/silences', body: Object.assign(body, { comment: note, maintenance: $('sil-maint').checked }) };
    }
    case 'expire':
      return { method: 'DELETE', url: 'api/v1/silences/' + enc(x.id) };
    case 'override': {
      const until = $('sil-until').value.slice(0, 5);
      if (!until) return { error: 'errUntil', focus: 'sil-until' };
      return { method: 'POST', url: 'api/v1/overrides', body: { device: x.device, until, reason: note } };
    }
    default: /* 'unoverride' */
      return { method: 'DELETE', url: 'api/v1/overrides/' + enc(x.device) };
    }
  }

  async function submitAction(d) {
    /* The gateway takes plain text only: the lines of the note become one. */
    const note = $('ack-note').value.replace(/\s+/g, ' ').trim();
    const noteName = t(NOTE_NAME[d.mode] || 'fNote');
    if (NOTE_REQUIRED[d.mode] && !note) return setError(t(NOTE_REQUIRED[d.mode]), 'ack-note');
    if (bytes(note) > NOTE_MAX_BYTES) return setError(t('errTooLong', noteName, NOTE_MAX_BYTES), 'ack-note');
    const c = changeOf(d, note);
    if (c.error) return setError(t(c.error), c.focus);
    const r = await send(d, c.method, c.url, c.body);
    if (!r) return;
    if (!r.ok) {
      if (r.status === 0) return setError(t('errSend'));
      if (r.status === 401) {
        await sessionEnded();
        openDialog('signin', null);
        render();
        return setError(t('errSession'));
      }
      if (r.status === 403) return setError(t('errForbidden', r.msg));
      if (r.status === 404 && DLG_GONE[d.mode]) return setError(t(DLG_GONE[d.mode]));
      if (r.status === 413) return setError(t('errTooLong', noteName, NOTE_MAX_BYTES), 'ack-note');
      return setError(t('errServer', r.msg));
    }
    closeDialog();
    S.historyAtMs = 0;
    poll();
  }

  function submitDialog(ev) {
    ev.preventDefault();
    const d = S.dialog;
    if (!d || d.busy) return;
    if (d.mode === 'signin') submitSignIn(d);
    else submitAction(d);
  }

  async function signOut() {
    try {
      setMe(await request('DELETE', 'api/v1/session'));
    } catch (e) {
      await loadSession();
    }
    if (S.dialog) closeDialog();
    $('signin-name').value = ''; /* the next person types their own */
    if (needSignIn()) clearData();
    render();
    poll();
  }

  /* The audit log of the last day (role admin), newest first. */
  function openAudit() {
    S.dialog = { mode: 'audit', returnFocus: document.activeElement };
    showOverlay('audit');
    $('audit-close').focus();
    loadAudit();
  }

  async function loadAudit() {
    const d = S.dialog;
    const box = $('audit-body');
    box.replaceChildren(el('p', { class: 'muted', text: t('loading') }));
    let rows = null, err = null;
    try {
      rows = await getJSON('api/v1/audit?limit=1000&from=' + Math.floor(nowS() - AUDIT_SPAN_S));
    } catch (e) {
      err = e;
    }
    if (S.dialog !== d) return;
    if (err || !Array.isArray(rows)) {
      box.replaceChildren(el('p', { class: 'dlg-error', text: t('auditUnavailable', err ? err.message : '') }));
      return;
    }
    if (!rows.length) {
      box.replaceChildren(el('p', { class: 'muted', text: t('auditNone') }));
      return;
    }
    const list = rows.slice().reverse().slice(0, AUDIT_SHOWN);
    box.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'grid-table compact audit-table' },
      el('thead', null, el('tr', null, ['colWhen', 'colWho', 'colFrom', 'colWhat', 'colOk'].map((k) =>
        el('th', { scope: 'col', text: t(k) })))),
      el('tbody', null, list.map((x) => {
        const what = (t('act_' + x.action) === 'act_' + x.action ? String(x.action) : t('act_' + x.action)) +
          (x.target && x.target !== x.account ? ' · ' + x.target : '');
        return el('tr', { 'data-account': x.account, 'data-audit': x.action, 'data-ok': x.ok ? 'true' : 'false' },
          el('td', { class: 'num', text: isNum(x.at) ? whenSec(x.at) : '—' }),
          el('th', { scope: 'row', text: x.account || '—' }),
          el('td', { text: x.addr || '—' }),
          el('td', null, el('span', { text: what }), x.detail ? el('q', { text: x.detail }) : null),
          el('td', { class: x.ok ? 'good' : 'bad' }, icon(x.ok ? 'check' : 'alert'), t(x.ok ? 'auditOk' : 'auditRefused')));
      })))));
  }

  function trapFocus(ev) {
    if (!S.dialog) return;
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeDialog();
      return;
    }
    if (ev.key !== 'Tab') return;
    const box = S.dialog.mode === 'audit' ? $('audit-dialog') : $('ack-dialog');
    const items = [...box.querySelectorAll('input, select, textarea, button')]
      .filter((x) => !x.disabled && !x.closest('[hidden]'));
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (ev.shiftKey && document.activeElement === first) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
    }
  }

  /* ---- start --------------------------------------------------------------- */

  function start() {
    $('lang-switch').addEventListener('click', () => {
      S.lang = S.lang === 'zh' ? 'en' : 'zh';
      local.set(KEY_LANG, S.lang);
      render();
      if (S.dialog && S.dialog.mode === 'audit') loadAudit();
      else if (S.dialog) openDialog(S.dialog.mode, S.dialog.target);
    });
    $('alerts').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      const li = b && b.closest('[data-alert-id]');
      if (!li) return;
      /* Window ids are unique per hall only: an alert is its id and hall. */
      const a = S.alerts.find((x) => x.id === li.dataset.alertId && x.hall === li.dataset.hall);
      const mode = b.dataset.action;
      if (a && ALERT_MODES.includes(mode)) openDialog(mode, a);
    });
    $('silences').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      const li = b && b.closest('[data-silence-id]');
      const x = li && silenceById(li.dataset.silenceId);
      if (x && (b.dataset.action === 'extend' || b.dataset.action === 'expire')) openDialog(b.dataset.action, x);
    });
    $('floor').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      const tile = b && b.closest('.tile');
      const h = tile && S.state ? hallById(tile.dataset.hall) : null;
      const w = h && (h.windows || []).find((x) => x.id === tile.dataset.window);
      if (!w) return;
      const ov = b.dataset.action === 'unoverride' ? overrideOf(b.dataset.device) : null;
      if (b.dataset.action === 'override' && w.pc) openDialog('override', { hall: h, win: w, device: w.pc, ov: null });
      else if (ov) openDialog('unoverride', { hall: h, win: w, device: ov.device, ov });
    });
    $('sil-for').addEventListener('change', showEndFields);
    $('signin-open').addEventListener('click', () => openDialog('signin', null));
    $('sign-in').addEventListener('click', () => openDialog('signin', null));
    $('sign-out').addEventListener('click', signOut);
    $('audit-open').addEventListener('click', openAudit);
    $('audit-close').addEventListener('click', closeDialog);
    $('audit-refresh').addEventListener('click', loadAudit);
    $('ack-dialog').addEventListener('submit', submitDialog);
    $('ack-cancel').addEventListener('click', closeDialog);
    $('ack-dialog').addEventListener('input', () => setError(''));
    document.addEventListener('keydown', trapFocus);
    render();
    poll();
    setInterval(tick, 1000);
  }

  start();
})();
