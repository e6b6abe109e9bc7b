/* hallgw live hall page: the form that signs in, acknowledges, resolves or
 * approves alerts, makes, extends and expires silences and keeps a
 * window's PC on tonight, and the audit log (see app.js for how the files
 * share their names). */
'use strict';

(function () {
  const H = window.HALLGW;
  const {
    S, t, $, el, icon, nowS, when, whenSec, bytes, isNum, poll, request, getJSON, sessionEnded,
    roleLabel, submitSignIn, windowName, hallById, matcherText, ruleLabel, render,
  } = H;

  const NOTE_MAX_BYTES = 255;
  const AUDIT_SPAN_S = 86400;
  const AUDIT_SHOWN = 300;

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

  Object.assign(H, {
    setError, ALERT_MODES, showEndFields, openDialog, closeDialog, send, submitDialog, openAudit,
    loadAudit, trapFocus,
  });
})();
