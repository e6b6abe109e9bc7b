/* hallgw live hall page: the unbound devices panel (the fifth file, run
 * after actions.js).
 *
 * Polls GET api/v1/devices/unbound every 5 s: the Zigbee2MQTT, Tasmota and
 * Shelly devices the gateway has seen on the broker that no device of the
 * config binds. The panel shows only while there are some. An operator
 * picks one, chooses its kind, hall and window, and gets the exact line to
 * add to devices in hallgw.conf, with a copy button. Binding it is that
 * config edit and a reload (SIGHUP): the page changes nothing, the config
 * file stays the one source of truth. The source is pasted as the gateway
 * wrote it (source_literal: a config string, quotes and backslashes
 * escaped); ids are [A-Za-z0-9_.-]. Names are only ever put in the page as
 * text. */
'use strict';

(function () {
  const H = window.HALLGW;
  const POLL_MS = 5000;
  const KINDS = ['seat', 'people', 'queue', 'env', 'equipment', 'plug', 'pc'];
  const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  const U = {
    list: null,   /* the last answer */
    pick: null,   /* the source picked */
    kind: '', hall: '', window: '',
    id: '', idEdited: false,
    timer: 0,
  };

  async function load() {
    const { getJSON, needSignIn } = H;
    clearTimeout(U.timer);
    if (!needSignIn()) {
      try {
        const a = await getJSON('api/v1/devices/unbound');
        U.list = a && Array.isArray(a.devices) ? a : null;
      } catch (e) {
        /* the main poll shows a lost gateway; keep the last list */
      }
    } else {
      U.list = null;
    }
    render();
    U.timer = setTimeout(load, POLL_MS);
  }

  function halls() {
    const st = H.S.state;
    return st && Array.isArray(st.halls) ? st.halls : [];
  }

  function picked() {
    return U.list && U.pick ? U.list.devices.find((d) => d.source === U.pick) : null;
  }

  /* A default id: the kind and the window ("seat-w13"), else the kind and
   * the name's id characters. */
  function defaultId(d) {
    if (U.window) return (U.kind || 'device') + '-' + U.window;
    const slug = String(d.name).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
    return ((U.kind || 'device') + '-' + slug).slice(0, 64);
  }

  function configLine(d) {
    if (!d || !U.kind || !U.hall || !ID_RE.test(U.id) || !d.source_literal) return '';
    return '{ id = "' + U.id + '"; hall = "' + U.hall + '"; kind = "' + U.kind + '"; ' +
      (U.window ? 'window = "' + U.window + '"; ' : '') + 'source = ' + d.source_literal + '; },';
  }

  function select(id, label, options, value) {
    const { el } = H;
    const s = el('select', { id });
    for (const [v, text] of options) s.append(el('option', { value: v, text, selected: v === value }));
    return el('div', { class: 'field ub-field' }, el('label', { for: id, text: label }), s);
  }

  function form(d) {
    const { el, t } = H;
    const hs = halls();
    if (!U.hall && hs.length === 1) U.hall = hs[0].id;
    const h = hs.find((x) => x.id === U.hall);
    const wins = h && Array.isArray(h.windows) ? h.windows : [];
    if (U.window && !wins.some((w) => w.id === U.window)) U.window = '';
    if (!U.idEdited) U.id = defaultId(d);
    const line = configLine(d);
    const box = el('div', { class: 'ub-form', id: 'ub-form' },
      el('p', { class: 'ub-picked', text: t('ubPicked', d.source) }),
      el('div', { class: 'ub-fields' },
        select('ub-kind', t('ubKind'), [['', '—']].concat(KINDS.map((k) => [k, t('ubKind_' + k)])), U.kind),
        select('ub-hall', t('ubHall'), [['', '—']].concat(hs.map((x) => [x.id, x.name ? x.name + ' (' + x.id + ')' : x.id])), U.hall),
        select('ub-window', t('ubWindow'), [['', t('ubNoWindow')]].concat(wins.map((w) => [w.id, (w.name || w.id) + ' (' + w.id + ')'])), U.window),
        el('div', { class: 'field ub-field' }, el('label', { for: 'ub-id', text: t('ubId') }),
          el('input', { id: 'ub-id', type: 'text', maxlength: 64, value: U.id, spellcheck: 'false' }))),
      line ? el('pre', { class: 'ub-line', id: 'ub-line', text: line }) :
        el('p', { class: 'muted', id: 'ub-line-missing', text: ID_RE.test(U.id) ? t('ubChoose') : t('ubBadId') }),
      line ? el('div', { class: 'ub-buttons' },
        el('button', { type: 'button', class: 'btn btn-primary', id: 'ub-copy', text: t('ubCopy') }),
        el('span', { class: 'ub-copied muted', id: 'ub-copied', 'aria-live': 'polite' })) : null,
      el('p', { class: 'hint', text: t('ubHowTo') }));
    return box;
  }

  /* force: a choice was just made; otherwise (a poll, the language) the
   * panel is not rebuilt under a field someone is using. */
  function render(force) {
    const { $, el, t, when } = H;
    const panel = $('p-unbound');
    const body = $('unbound');
    const devs = U.list ? U.list.devices : [];
    panel.hidden = devs.length === 0;
    $('unbound-count').textContent = devs.length ? String(devs.length) : '';
    if (!devs.length) {
      body.replaceChildren();
      return;
    }
    if (U.pick && !picked()) U.pick = null; /* bound meanwhile, or evicted */
    const active = document.activeElement;
    if (force !== true && active && body.contains(active) && /^(SELECT|INPUT)$/.test(active.tagName)) return;
    const rows = devs.map((d) => el('tr', { 'data-source': d.source, class: d.source === U.pick ? 'ub-selected' : null },
      el('td', { text: t('ubFamily_' + d.family) }),
      el('td', { class: 'ub-name', text: d.name }),
      el('td', { text: d.model || '—' }),
      el('td', { class: 'ub-desc', text: [d.description, d.sample].filter((x) => x).join(' · ') || '—' }),
      el('td', { class: 'num', text: typeof d.last_seen === 'number' ? when(d.last_seen) : '—' }),
      el('td', {}, el('button', { type: 'button', class: 'btn ub-pick', 'data-source': d.source, text: t('ubPick') }))));
    const table = el('div', { class: 'table-wrap' }, el('table', { class: 'grid-table compact ub-table' },
      el('thead', {}, el('tr', {},
        el('th', { text: t('ubColFamily') }), el('th', { text: t('ubColName') }), el('th', { text: t('ubColModel') }),
        el('th', { text: t('ubColSeen') }), el('th', { text: t('ubColLast') }), el('th', {}))),
      el('tbody', {}, rows)));
    const d = picked();
    body.replaceChildren(el('p', { class: 'hint', text: t('ubIntro') }), table, d ? form(d) : '');
  }

  async function copy() {
    const { $, t } = H;
    const text = $('ub-line') ? $('ub-line').textContent : '';
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      /* not a secure context: select the line for Ctrl+C */
      const r = document.createRange();
      r.selectNodeContents($('ub-line'));
      const s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
    }
    if ($('ub-copied')) $('ub-copied').textContent = ok ? t('ubCopied') : t('ubSelected');
  }

  function start() {
    const { $ } = H;
    const body = $('unbound');
    body.addEventListener('click', (ev) => {
      const b = ev.target.closest('button');
      if (!b) return;
      if (b.classList.contains('ub-pick')) {
        U.pick = b.dataset.source;
        U.idEdited = false;
        render(true);
      } else if (b.id === 'ub-copy') {
        copy();
      }
    });
    body.addEventListener('change', (ev) => {
      const id = ev.target.id;
      if (id === 'ub-kind') U.kind = ev.target.value;
      else if (id === 'ub-hall') U.hall = ev.target.value;
      else if (id === 'ub-window') U.window = ev.target.value;
      else if (id === 'ub-id') { U.id = ev.target.value.trim(); U.idEdited = true; }
      else return;
      render(true);
    });
    body.addEventListener('input', (ev) => {
      if (ev.target.id !== 'ub-id') return;
      U.id = ev.target.value.trim();
      U.idEdited = true;
    });
    $('lang-switch').addEventListener('click', () => render(true));
    load();
  }

  document.addEventListener('DOMContentLoaded', start);
})();
