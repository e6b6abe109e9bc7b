/* hallgw web pages: what the live hall page (index.html) and the overview
 * (overview.html) share, run first and starting the object window.HALLGW
 * that the other files add to (see app.js): browser storage, the language
 * and its texts (i18n.js), and the DOM helpers. t() reads the language from
 * HALLGW.S, the page's state, which the page's own file sets. */
'use strict';

(function () {
  const H = window.HALLGW = {};

  const KEY_LANG = 'hallgw.lang';

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

  /* ---- language ------------------------------------------------------------ */

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

  /* Switches the language of the page and keeps the choice. */
  function switchLang() {
    H.S.lang = H.S.lang === 'zh' ? 'en' : 'zh';
    local.set(KEY_LANG, H.S.lang);
  }

  function t(key, ...args) {
    const dict = window.HALLGW_I18N[H.S.lang];
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

  Object.assign(H, { storage, local, pickLang, switchLang, t, $, el });
})();
