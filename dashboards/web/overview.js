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
  const H = window.HALLGW; /* page.js; session.js adds to it after this file */
  const { pickLang, switchLang, t, $, el } = H;

  const POLL_MS = 2000;
  const SEVERITIES = ['critical', 'major', 'warning', 'info'];

  const S = {
    lang: pickLang(),
    ov: null,        /* last api/v1/overview answer */
    me: { signed_in: false, open_reads: true }, /* last api/v1/session answer */
    meKnown: false,  /* whether me has been read from the gateway */
    dialog: null,    /* none here: signing in is the form on the page */
    conn: 'init',    /* 'init' | 'ok' | 'lost' | 'auth' */
    lastOkMs: 0,
    skew: 0,
    timer: 0,
    recordDate: '',  /* YYYY-MM-DD chosen for the records; '' = yesterday */
  };

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

  /* ---- the gateway (requests and the session: session.js) ---------------- */

  /* Signed out where reads need an account: no hall stays shown. */
  function clearData() {
    S.ov = null;
  }

  async function poll() {
    const { loadSession, needSignIn, getJSON, sessionEnded } = H; /* session.js */
    clearTimeout(S.timer);
    try {
      if (!S.meKnown) await loadSession();
      if (needSignIn()) {
        S.conn = 'auth';
        clearData();
        render();
        return; /* the sign-in form starts polling again */
      }
      const ov = await getJSON('api/v1/overview');
      if (!ov || !Array.isArray(ov.halls)) throw new Error('bad overview');
      S.ov = ov;
      if (isNum(ov.time)) S.skew = ov.time - Date.now() / 1000;
      S.lastOkMs = Date.now();
      S.conn = 'ok';
    } catch (e) {
      if (e && e.status === 401) {
        await sessionEnded();
        if (needSignIn()) {
          S.conn = 'auth';
          render();
          return;
        }
      } else {
        S.conn = 'lost';
      }
    }
    render();
    S.timer = setTimeout(poll, POLL_MS);
  }

  async function signIn(ev) {
    const { request, setMe } = H; /* session.js */
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
      setMe(await request('POST', 'api/v1/session', { name, password }));
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
    const signedIn = S.me.signed_in;
    $('who').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    if (signedIn) {
      $('who-name').textContent = S.me.name || '';
      $('who-role').textContent = H.roleLabel(S.me.role);
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
      switchLang();
      render();
    });
    $('signin').addEventListener('submit', signIn);
    $('sign-out').addEventListener('click', H.signOut);
    $('record-date').addEventListener('change', (ev) => {
      S.recordDate = /^\d{4}-\d{2}-\d{2}$/.test(ev.target.value) ? ev.target.value : '';
      renderRecords();
    });
    render();
    poll();
    setInterval(() => { $('clock').textContent = S.ov ? hms(nowS()) : ''; }, 1000);
  }

  Object.assign(H, { S, clearData, poll, render });
  document.addEventListener('DOMContentLoaded', start);
})();
