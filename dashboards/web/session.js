/* hallgw live hall page and overview: requests to the gateway, the session
 * of the signed-in account and what its role may do, signing in and out (see
 * app.js for how the files share their names; overview.js gives it the same
 * S, clearData, poll and render). */
'use strict';

(function () {
  const H = window.HALLGW;
  const { S, t, $, clearData, poll } = H;

  const FETCH_TIMEOUT_MS = 5000;
  /* Device kinds whose alerts are for the role it (gateway/core/roles.c). */
  const IT_KINDS = ['pc', 'plug', 'equipment'];

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

  /* ---- the account's role ------------------------------------------------- */

  const roleLabel = (r) => (t('role_' + r) === 'role_' + r ? String(r || '—') : t('role_' + r));

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

  /* ---- signing in and out ------------------------------------------------- */

  /* Asks to sign in, unless a form is open already. */
  function askSignIn() {
    const { openDialog } = H; /* from the files run after this one */
    if (!S.dialog) openDialog('signin', null);
  }

  async function submitSignIn(d) {
    const { setError, send, closeDialog } = H; /* from the files run after this one */
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

  async function signOut() {
    const { closeDialog, render } = H; /* from the files run after this one */
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

  Object.assign(H, {
    request, getJSON, setMe, loadSession, needSignIn, sessionEnded, roleLabel, may, handlerRole, askSignIn,
    submitSignIn, signOut,
  });
})();
