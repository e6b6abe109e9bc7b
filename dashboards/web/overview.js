/* hallgw: every hall of the gateway at a glance (overview.html).
 *
 * Polls GET api/v1/overview every 2 s, like the live page polls the state,
 * and shows one card per hall: open or closed, the open windows staffed,
 * the people waiting, the active alerts by severity and tonight's
 * power-off. A card is a link to the hall's live page (./?hall=<id>).
 * Below, each hall's daily record (巡查记录) of a chosen day, yesterday
 * unless changed, as HTML and CSV (api/v1/reports/daily).
 *
 * Reads follow the live page's rules: where http.open_reads is off the page
 * asks for an account first (POST api/v1/session: an HttpOnly cookie the
 * page never sees). Names from the API are put in the page as text only. */
'use strict';

(function () {
  const POLL_MS = 2000;
  const FETCH_TIMEOUT_MS = 5000;
  const KEY_LANG = 'hallgw.lang';
  const SEVERITIES = ['critical', 'major', 'warning', 'info'];

  function savedLang() {
    try { return window.localStorage.getItem(KEY_LANG); } catch (e) { return null; }
  }

  function pickLang() {
    const saved = savedLang();
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

  const S = {
    lang: pickLang(),
    ov: null,        /* last api/v1/overview answer */
    me: null,        /* last api/v1/session answer */
    conn: 'init',    /* 'init' | 'ok' | 'lost' | 'auth' */
    lastOkMs: 0,
    skew: 0,
    timer: 0,
    recordDate: '',  /* YYYY-MM-DD chosen for the records; '' = yesterday */
  };

  function t(key, ...args) {
    const dict = window.HALLGW_I18N[S.lang];
    let v = dict[key];
    if (v === undefined) v = window.HALLGW_I18N.en[key];
    if (v === undefined) return key;
    return typeof v === 'function' ? v(...args) : v;
  }

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const k of Object.keys(props || {})) {
      const v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
    return e;
  }

  /* ---- time, in the gateway's zone ------------------------------------- */

  const nowS = () => Date.now() / 1000 + S.skew;

  function parts(ts, opts) {
    const tz = S.ov && S.ov.timezone ? S.ov.timezone : undefined;
    let f;
    try {
      f = new Intl.DateTimeFormat(t('locale'), Object.assign({ hourCycle: 'h23', timeZone: tz }, opts));
    } catch (e) {
      f = new Intl.DateTimeFormat(t('locale'), Object.assign({ hourCycle: 'h23' }, opts));
    }
    const p = {};
    for (const x of f.formatToParts(ts * 1000)) p[x.type] = x.value;
    return p;
  }

  const hms = (ts) => { const p = parts(ts, { hour: '2-digit', minute: '2-digit', second: '2-digit' }); return p.hour + ':' + p.minute + ':' + p.second; };
  const hm = (ts) => hms(ts).slice(0, 5);
  const ymd = (ts) => { const p = parts(ts, { year: 'numeric', month: '2-digit', day: '2-digit' }); return p.year + '-' + p.month + '-' + p.day; };
  const isNum = (v) => typeof v === 'number' && isFinite(v);

  /* ---- the gateway ------------------------------------------------------ */

  async function request(method, url, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && S.me && S.me.csrf) headers['X-CSRF-Token'] = S.me.csrf;
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

  const needSignIn = () => S.me && !S.me.signed_in && !S.me.open_reads;

  async function poll() {
    clearTimeout(S.timer);
    try {
      if (!S.me) S.me = await request('GET', 'api/v1/session');
      if (needSignIn()) {
        S.conn = 'auth';
        S.ov = null;
        render();
        return; /* the sign-in form starts polling again */
      }
      const ov = await request('GET', 'api/v1/overview');
      if (!ov || !Array.isArray(ov.halls)) throw new Error('bad overview');
      S.ov = ov;
      if (isNum(ov.time)) S.skew = ov.time - Date.now() / 1000;
      S.lastOkMs = Date.now();
      S.conn = 'ok';
    } catch (e) {
      if (e && e.status === 401) {
        S.me = { signed_in: false, open_reads: false };
        S.conn = 'auth';
        S.ov = null;
        render();
        return;
      }
      S.conn = 'lost';
    }
    render();
    S.timer = setTimeout(poll, POLL_MS);
  }

  async function signIn(ev) {
    ev.preventDefault();
    const name = $('signin-name').value.trim();
    const password = $('signin-password').value;
    const err = $('signin-error');
    err.hidden = true;
    if (!name || !password) {
      err.textContent = t(!name ? 'errName' : 'errPassword');
      err.hidden = false;
      return;
    }
    try {
      S.me = await request('POST', 'api/v1/session', { name, password });
    } catch (e) {
      $('signin-password').value = '';
      err.textContent = e.status === 401 || e.status === 400 ? t('errSignIn') :
        e.status === 429 ? t('errTooMany') : e.status === 0 ? t('errSend') : t('errServer', e.message);
      err.hidden = false;
      return;
    }
    $('signin-password').value = '';
    poll();
  }

  async function signOut() {
    try {
      S.me = await request('DELETE', 'api/v1/session');
    } catch (e) {
      S.me = null;
    }
    S.ov = null;
    poll();
  }

  /* ---- rendering ----------------------------------------------------------- */

  function worst(a) {
    for (const s of SEVERITIES) if (a && a[s] > 0) return s;
    return 'none';
  }

  function hallCard(h) {
    const a = h.alerts || {};
    const po = h.poweroff;
    const sched = h.state === 'open' ? 'schedOpen' : h.state === 'break' ? 'schedBreak' : 'schedClosed';
    const poStatus = !po ? 'none' : po.status;
    const poText = !po ? t('ovPoNone') :
      (po.status === 'all_off' ? t('poAllOff') : po.status === 'running' ? t('poRunning') : t('poSomeFailed')) +
      ' · ' + po.date + ' · ' + t('ovPoCounts', po.done, po.failed, po.pending);
    return el('a', {
      class: 'ov-hall', href: './?hall=' + encodeURIComponent(h.id), 'data-hall': h.id,
      'data-state': h.state, 'data-worst': worst(a), title: t('ovHallLink', h.name),
    },
    el('h2', null, el('span', { class: 'ov-name', text: h.name }),
      el('span', { class: 'chip sched-' + h.state, 'data-field': 'state', text: t(sched) })),
    el('dl', { class: 'ov-figures' },
      el('div', null, el('dt', { text: t('ovWindowsLabel') }),
        el('dd', { 'data-field': 'staffed', text: t('ovWindows', h.staffed, h.open) })),
      el('div', null, el('dt', { text: t('ovWaitingLabel') }),
        el('dd', { 'data-field': 'waiting', text: isNum(h.waiting) ? String(Math.round(h.waiting)) : '—' })),
      el('div', null, el('dt', { text: t('ovAlertsLabel') }),
        el('dd', { 'data-field': 'alerts', text: String(a.total || 0) }))),
    el('div', { class: 'ov-sev' },
      a.total ? SEVERITIES.filter((s) => a[s] > 0).map((s) =>
        el('span', { 'data-sev': s, text: t('sev_' + s) + ' ' + a[s] })) :
        el('span', { 'data-sev': 'none', text: t('noAlertsShort') }),
      a.unacknowledged ? el('span', { 'data-sev': 'unacked', text: t('ovUnacked', a.unacknowledged) }) : null),
    el('div', { class: 'ov-po', 'data-field': 'poweroff', 'data-status': poStatus },
      t('ovPoweroff') + ': ' + poText));
  }

  function yesterday() {
    const [y, m, d] = ymd(nowS()).split('-').map(Number);
    const x = new Date(Date.UTC(y, m - 1, d - 1));
    return x.toISOString().slice(0, 10);
  }

  function renderRecords() {
    const ov = S.ov;
    $('records').hidden = !ov || !ov.halls.length;
    if (!ov) return;
    const date = S.recordDate || yesterday();
    const input = $('record-date');
    if (document.activeElement !== input) input.value = date;
    input.max = ymd(nowS());
    $('record-list').replaceChildren(...ov.halls.map((h) => {
      const q = 'api/v1/reports/daily?date=' + date + '&hall=' + encodeURIComponent(h.id) + '&format=';
      return el('li', { 'data-hall': h.id }, el('span', { text: h.name + ' · ' + date }),
        el('a', { class: 'lang', href: q + 'html', download: 'hallgw-' + date + '-' + h.id + '.html', 'data-format': 'html', text: t('recordOpen') }),
        el('a', { class: 'lang', href: q + 'csv', download: 'hallgw-' + date + '-' + h.id + '.csv', 'data-format': 'csv', text: t('recordCsv') }));
    }));
  }

  function render() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('ovTitle') + ' · hallgw';
    for (const n of document.querySelectorAll('[data-i18n]')) n.textContent = t(n.dataset.i18n);
    $('lang-switch').textContent = t('switchTo');
    $('lang-switch').title = t('switchLabel');
    const ov = S.ov;
    $('gw-id').textContent = ov ? ov.gateway : '';
    const chip = $('sched-chip');
    chip.hidden = !ov;
    if (ov) {
      const s = ov.schedule.state;
      chip.className = 'chip sched-' + s;
      chip.textContent = t(s === 'open' ? 'schedOpen' : s === 'break' ? 'schedBreak' : 'schedClosed') +
        (isNum(ov.schedule.next_transition) ? ' · ' + t('until', hm(ov.schedule.next_transition)) : '');
    }
    $('last-update').textContent = S.lastOkMs ? hms(S.lastOkMs / 1000 + S.skew) : t('never');
    const signedIn = S.me && S.me.signed_in;
    $('who').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    if (signedIn) {
      $('who-name').textContent = S.me.name || '';
      const rk = 'role_' + S.me.role;
      $('who-role').textContent = t(rk) === rk ? String(S.me.role || '') : t(rk);
    }
    $('signin').hidden = S.conn !== 'auth';
    const lost = S.conn === 'lost';
    $('banner-conn').hidden = !lost;
    if (lost) $('banner-conn').textContent = t('connLost', S.lastOkMs ? hms(S.lastOkMs / 1000 + S.skew) : '');
    document.body.classList.toggle('stale', lost || S.conn === 'auth');
    $('main').setAttribute('aria-busy', ov ? 'false' : 'true');
    $('halls').replaceChildren(...(ov ? (ov.halls.length ? ov.halls.map(hallCard) :
      [el('p', { class: 'muted', text: t('ovNoHalls') })]) : []));
    renderRecords();
  }

  function start() {
    $('lang-switch').addEventListener('click', () => {
      S.lang = S.lang === 'zh' ? 'en' : 'zh';
      try { window.localStorage.setItem(KEY_LANG, S.lang); } catch (e) { /* denied */ }
      render();
    });
    $('signin').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', signOut);
    $('record-date').addEventListener('change', (ev) => {
      S.recordDate = /^\d{4}-\d{2}-\d{2}$/.test(ev.target.value) ? ev.target.value : '';
      renderRecords();
    });
    render();
    poll();
    setInterval(() => { $('clock').textContent = S.ov ? hms(nowS()) : ''; }, 1000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
