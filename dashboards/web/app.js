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
 * are shown in the gateway's time zone, measured on the gateway's clock.
 *
 * The script is six files, run in this order (index.html, defer) and
 * sharing the object window.HALLGW: page.js (storage, the language and
 * the DOM helpers, shared with overview.html), app.js (the state,
 * formatting helpers, polling and start-up), session.js (requests to
 * the gateway, the session and its CSRF token, what a role may do, signing
 * in and out), render.js (the hall, its windows, the alerts and the other
 * panels), actions.js (the form that changes things, and the audit log)
 * and devices.js (the unbound devices panel).
 * A file takes what the files before it define when it is run, and what a
 * later file defines when the function that needs it runs; start() runs on
 * DOMContentLoaded, which comes after all the deferred scripts. */
'use strict';

(function () {
  const H = window.HALLGW; /* page.js */
  const { pickLang, switchLang, t, $, el } = H;

  const POLL_MS = 2000;
  const HISTORY_MS = 30000;
  /* One hall of several (overview.html links here with ?hall=<id>). */
  const ONLY_HALL = new URLSearchParams(window.location.search).get('hall') || '';
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

  /* ---- polling ------------------------------------------------------------ */

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

  async function poll() {
    const {
      loadSession, needSignIn, render, askSignIn, getJSON, sessionEnded,
    } = H; /* from the files run after this one */
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
      if (ONLY_HALL) { /* ?hall=<id>, from the overview: that hall alone */
        st.halls = st.halls.filter((h) => h.id === ONLY_HALL);
        S.alerts = S.alerts.filter((a) => a.hall === ONLY_HALL);
      }
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
    const { getJSON, renderRecord } = H; /* from the files run after this one */
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

  /* ---- start --------------------------------------------------------------- */

  function start() {
    const {
      render, tick, openDialog, loadAudit, ALERT_MODES, silenceById, hallById, overrideOf,
      showEndFields, signOut, openAudit, closeDialog, submitDialog, setError, trapFocus,
    } = H; /* from the files run after this one */
    $('lang-switch').addEventListener('click', () => {
      switchLang();
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
    if (ONLY_HALL) { /* the way back to every hall */
      const back = el('a', { class: 'lang', id: 'overview-link', href: 'overview.html', 'data-i18n': 'ovAllHalls' });
      $('gw-id').parentNode.parentNode.prepend(back);
    }
    render();
    poll();
    setInterval(tick, 1000);
  }

  Object.assign(H, {
    S, t, $, el, icon, nowS, hm, hms, when, whenSec, dur, clockDur, durMin, num, bytes, isNum,
    clearData, poll,
  });
  document.addEventListener('DOMContentLoaded', start);
})();
