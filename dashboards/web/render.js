/* hallgw live hall page: the hall, its windows, the alerts, the silences
 * and the other panels, rebuilt from the last answer (see app.js for how
 * the files share their names). */
'use strict';

(function () {
  const H = window.HALLGW;
  const {
    S, t, $, el, icon, nowS, hm, hms, when, dur, clockDur, durMin, num, isNum, roleLabel, may,
    handlerRole,
  } = H;

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
  const SEV_ICON = { critical: 'alert', major: 'alert', warning: 'bell', info: 'info' };

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

  Object.assign(H, {
    windowName, hallById, silenceById, overrideOf, matcherText, ruleLabel, render, renderRecord,
    tick,
  });
})();
