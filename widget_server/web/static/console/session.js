// Logging in and out, and starting the console for an operator.
import { refreshAgendaCount } from './agenda.js';
import { api } from './api.js';
import { renderChat } from './chat.js';
import { S } from './console_state.js';
import { closeCrmRecord } from './crm_record.js';
import { seqs } from './dialog_records.js';
import { $ } from './dom.js';
import { activeFilterCount, readFilterFromUrl, renderFilterControls, renderList, toggleFilters } from './list.js';
import { setMe } from './me.js';
import { hideNotice } from './notice.js';
import { showPage } from './pages.js';
import { startPresence, stopPresence } from './presence.js';
import { renderAlerts } from './reminders.js';
import { connection } from './socket.js';

function resetState() {
  clearTimeout(S.typingIdleTimer);
  clearTimeout(S.refetchTimer);
  S.dialogs.clear();
  seqs.clear();
  S.pending.clear();
  S.actionRefs.clear();
  S.view.clear();
  S.listKeys.clear();
  S.reminders.clear();
  S.canned.clear();
  S.nextCursor = null;
  S.currentKey = null;
  S.details = null;
  S.typingOn = false;
  S.typingSentAt = 0;
  $('dialog-list').replaceChildren();
  $('chat-messages').replaceChildren();
  $('reply-input').value = '';
  renderAlerts();
  renderChat();
  renderList();
}

export function showLogin(message) {
  $('app').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  document.title = 'Log in · Openline console';
  if ($('login-email').value) $('login-password').focus();
  else $('login-email').focus();
}

export function toLogin(message) {
  if (!S.want && !S.me) return;
  const email = S.me && S.me.email ? String(S.me.email) : '';
  if (email && !$('login-email').value) $('login-email').value = email;
  S.want = false;
  connection.stop();
  S.token = null;
  S.me = null;
  resetState();
  hideNotice();
  stopPresence();
  closeCrmRecord();
  showLogin(message);
}

async function loadTeam() {
  const [ops, channels] = await Promise.all([api('GET', '/api/operators'), api('GET', '/api/channels')]);
  if (ops.ok) S.operators = ops.data.items;
  if (channels.ok) S.channels = channels.data.items;
  renderFilterControls();
}

export function startApp(operator) {
  setMe(operator || null);
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('login-error').hidden = true;
  readFilterFromUrl();
  renderFilterControls();
  let open = activeFilterCount() > 0;
  try {
    open = open || localStorage.getItem('openline:console:filters-open') === '1';
  } catch (e) {
    /* ignore */
  }
  toggleFilters(open);
  showPage('inbox');
  renderChat();
  renderList();
  S.want = true;
  connection.start();
  loadTeam();
  refreshAgendaCount();
  startPresence();
}

export async function onLogin(ev) {
  ev.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  const err = $('login-error');
  const btn = $('login-submit');
  if (!email || !password) {
    err.textContent = 'Enter your e-mail and password.';
    err.hidden = false;
    return;
  }
  btn.disabled = true;
  err.hidden = true;
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (res.ok && body) {
      S.token = typeof body.token === 'string' ? body.token : null;
      $('login-password').value = '';
      startApp(body.operator);
      return;
    }
    const msg = body && body.error && body.error.message ? String(body.error.message) : null;
    err.textContent = msg || (res.status === 401 ? 'Wrong e-mail or password.' : `Login failed (HTTP ${res.status}).`);
    err.hidden = false;
    if (res.status === 401) $('login-password').select();
  } catch (e) {
    err.textContent = 'Cannot reach the server. Check your connection and try again.';
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

export async function onLogout() {
  S.want = false;
  connection.stop();
  try {
    await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' });
  } catch (e) {
    /* the cookie may linger; the login form is shown anyway */
  }
  S.token = null;
  S.me = null;
  resetState();
  hideNotice();
  $('login-password').value = '';
  showLogin('');
}

export function wireSession() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
}
