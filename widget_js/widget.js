/* Openline chat widget: plain ES2020, no dependencies, no build step.
 *
 *   <script>window.Openline = window.Openline || [];</script>
 *   <script src="https://chat.example/widget.js" data-line="demo" async></script>
 *
 * Speaks the visitor endpoint of docs/protocol.md through the protocol client the console uses too
 * (widget_server/web/static/protocol/): the server serves /widget.js as that client and this file inside one
 * function (widget_server/web/pages.py), so this file is a function's body and may `return`.
 * Everything is drawn in an open Shadow DOM so that the host page's CSS cannot break it, and every text from the
 * server or the visitor goes in through textContent.
 */

// currentScript is only set while this file first runs (and is null for some loaders), so read it now.
const script = document.currentScript || document.querySelector('script[src*="widget.js"][data-line]');
// An object (not an array) means another copy of the widget already runs on this page.
if (!script || (window.Openline && !Array.isArray(window.Openline))) return;

const LINE = script.getAttribute('data-line') || '';
const BASE = script.src.replace(/\/widget\.js(?:[?#].*)?$/, '');
const WS_URL = BASE.replace(/^http/, 'ws') + '/ws/visitor?line=' + encodeURIComponent(LINE);
const KEY = `openline:${LINE}:`;

// An e-mail's link back to a conversation ends in `#openline=<token>` (docs/protocol.md, `hello.link`). It is
// read once and taken out of the address bar, so that a reload, a bookmark or a shared URL does not carry it on.
const LINK = (() => {
  const m = /(?:^#|&)openline=([0-9A-Za-z._-]{1,200})/.exec(location.hash);
  if (!m) return null;
  try { history.replaceState(history.state, '', location.href.replace(/#.*$/, '')); } catch { /* sandboxed */ }
  return m[1];
})();

const PING_MS = 25000;
const ANSWER_MS = 40000; // after a ping: a socket silent for 65 s in all is dead
const TYPING_EVERY_MS = 2000;
const TYPING_IDLE_MS = 5000;
const PEER_TYPING_MS = 6000;
const NOTICE_MS = 6000;
const HISTORY_KEEP = 100;

// The widget's texts in English; the server sends them in the line's language (`welcome.line.strings`, see
// docs/protocol.md), kept for the next page so it starts in that language too. `{name}` fields are filled in.
const TEXTS = {
  open: 'Open chat', close: 'Close chat', message: 'Message', send: 'Send', chat: 'Chat',
  connecting: 'Connecting…', reconnecting: 'Reconnecting…', typing: '{name} is typing…',
  dialog: 'Dialog #{number}', finished: 'The dialog is finished. Write to start a new one.',
  not_sent: 'Not sent.', retry: 'Retry', retry_label: 'Retry sending', unread: 'Unread messages: {count}',
  operator: 'Operator', attach: 'Attach a file', uploading: 'Sending {name}…', transcript: 'Send a copy of the conversation', thanks: 'Thank you!',
  error_too_long: 'This message is too long.',
  error_rate_limited: 'You are sending messages too fast. Please wait a moment.',
  error_internal: 'Something went wrong. Please try again.',
  error_invalid: 'The message could not be sent.',
  error_form_closed: 'This form was already sent.',
  error_too_large: 'This file is too large.',
  error_type_not_allowed: 'Files of this type cannot be sent here.',
  error_type_mismatch: 'This file is not what its name says.',
  error_invalid_link: 'This link has expired. Write to us here and we will answer.',
};
let strings = {};
function t(key, values) {
  const text = typeof strings[key] === 'string' ? strings[key] : TEXTS[key] || key;
  return values ? text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all)) : text;
}

// ---- storage: localStorage may throw (privacy modes, quota); the widget then just works without it ----
const store = {
  get(name, raw) {
    try { const v = localStorage.getItem(KEY + name); return raw ? v : JSON.parse(v); } catch { return null; }
  },
  set(name, value, raw) {
    try { localStorage.setItem(KEY + name, raw ? value : JSON.stringify(value)); } catch { /* ignore */ }
  },
  remove(name) { try { localStorage.removeItem(KEY + name); } catch { /* ignore */ } },
};
strings = store.get('strings') || {};

const state = {
  everConnected: false, attempt: 0,
  token: store.get('token', true),
  link: LINK,          // sent with the first hello only
  lineName: '',
  dialog: null,        // {id, number, status, operator, ...} of the dialog shown
  shown: [],           // messages rendered for state.dialog (history cache and unread count)
  seenUpTo: 0,         // highest seq the visitor has seen (window open and page visible)
  seenSent: 0,         // highest seq reported to the server with `seen`
  pending: new Map(),  // client_msg_id -> {text, el, status: 'pending' | 'acked' | 'failed'}
  isOpen: false, openSent: false, unread: 0, ready: false, readyInfo: null,
  typingSentAt: 0, typingActive: false, typingIdleTimer: 0, peerTypingTimer: 0, noticeTimer: 0,
  forms: new Map(),    // form id -> {spec, el}: the contact forms the server asked us to show
  formRefs: new Map(), // ref of a form.submit / form.dismiss -> form id
};
const listeners = { ready: [], open: [], close: [], message: [], unread: [] };
const seqs = createSeqLedger({ skipsAreNormal: true }); // staff-only entries leave holes in a visitor's sequence
// The highest seq shown of the dialog shown: what `seen`, the saved state and a resume send.
const lastSeq = () => (state.dialog ? seqs.upTo(state.dialog.id) : 0);

// ---- DOM helpers ----
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v);
  }
  el.append(...children); // strings become text nodes, never HTML
  return el;
}

// Icons: one path in a 24x24 box.
function icon(d, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  if (cls) svg.setAttribute('class', cls);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

const chatIcon = () => icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
const clipIcon = () => icon('M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10h-1.5Z', 'ol-clip');
const mailIcon = () => icon('M3 5h18v14H3z M3 6l9 7 9-7');

const CSS = `
:host { all: initial; }
[hidden] { display: none !important; }
* { box-sizing: border-box; }
.ol-root { --a: var(--ol-accent, #2563eb); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
color: #1f2937; }
button { font: inherit; cursor: pointer; }
button:focus-visible, .ol-input:focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }
.ol-launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 58px; height: 58px;
border: 0; border-radius: 50%; background: var(--a); color: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.25);
display: flex; align-items: center; justify-content: center; }
.ol-launcher svg { width: 28px; height: 28px; fill: currentColor; }
.ol-badge { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px;
border-radius: 11px; background: #dc2626; color: #fff; font-size: 12px; font-weight: 700; line-height: 22px; }
.ol-window { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000; width: 370px; height: 560px;
max-height: calc(100vh - 112px); display: flex; flex-direction: column; background: #fff; border-radius: 14px;
box-shadow: 0 12px 40px rgba(0,0,0,.28); overflow: hidden; }
@media (max-width: 480px) { .ol-window { right: 0; bottom: 0; width: 100vw; height: 100%; max-height: none;
border-radius: 0; } .ol-is-open .ol-launcher { display: none; } }
.ol-header { display: flex; align-items: center; gap: 8px; padding: 12px 12px 12px 16px; background: var(--a);
color: #fff; }
.ol-titles { flex: 1; min-width: 0; }
.ol-title { font-size: 16px; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ol-sub { font-size: 12px; opacity: .9; }
.ol-operator:not(:empty)::before { content: " · "; }
.ol-close { width: 34px; height: 34px; border: 0; border-radius: 8px; background: transparent; color: inherit;
font-size: 24px; line-height: 1; }
.ol-close:hover { background: rgba(255,255,255,.15); }
.ol-status { padding: 4px 12px; background: #fef3c7; color: #92400e; font-size: 12px; text-align: center; }
.ol-messages { flex: 1; overflow-y: auto; padding: 14px 12px; display: flex; flex-direction: column; gap: 8px;
background: #f8fafc; }
.ol-message { flex: none; display: flex; flex-direction: column; max-width: 82%; }
.ol-from-visitor { align-self: flex-end; align-items: flex-end; }
.ol-from-operator, .ol-from-bot { align-self: flex-start; align-items: flex-start; }
.ol-from-system { align-self: center; max-width: 92%; text-align: center; color: #6b7280; font-size: 12px; }
.ol-author { margin: 0 4px 2px; color: #6b7280; font-size: 12px; }
.ol-text { padding: 8px 12px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere; }
.ol-from-visitor .ol-text { background: var(--a); color: #fff; border-bottom-right-radius: 4px; }
.ol-from-operator .ol-text, .ol-from-bot .ol-text { background: #fff; border: 1px solid #e5e7eb;
border-bottom-left-radius: 4px; }
.ol-from-system .ol-text { padding: 2px 8px; }
.ol-meta { margin: 2px 4px 0; color: #9ca3af; font-size: 11px; }
.ol-pending { opacity: .6; }
.ol-failed .ol-text { background: #fee2e2; color: #991b1b; }
.ol-fail { margin: 2px 4px 0; color: #b91c1c; font-size: 12px; }
.ol-retry { margin-left: 4px; padding: 0; border: 0; background: none; color: inherit; text-decoration: underline; }
.ol-finished, .ol-notice, .ol-typing { padding: 4px 14px; background: #f8fafc; color: #6b7280; font-size: 12px; }
.ol-finished, .ol-notice { text-align: center; }
.ol-typing { font-style: italic; }
.ol-composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; }
.ol-input { flex: 1; min-height: 40px; max-height: 120px; padding: 9px 12px; border: 1px solid #d1d5db;
border-radius: 10px; font: inherit; color: inherit; resize: none; background: #fff; }
.ol-attach { width: 40px; height: 40px; border: 1px solid #d1d5db; border-radius: 10px; background: #fff;
color: #4b5563; display: flex; align-items: center; justify-content: center; }
.ol-clip { width: 18px; height: 18px; fill: currentColor; flex: none; }
.ol-file-link { display: inline-flex; align-items: center; gap: 4px; color: inherit; }
.ol-attach:disabled { opacity: .5; cursor: default; }
.ol-file { display: flex; flex-direction: column; gap: 4px; }
.ol-file img { display: block; max-width: 220px; max-height: 200px; border-radius: 10px; }
.ol-from-visitor .ol-text a { color: #fff; }
.ol-send { height: 40px; padding: 0 16px; border: 0; border-radius: 10px; background: var(--a); color: #fff;
font-weight: 600; }
.ol-transcript { width: 34px; height: 34px; border: 0; border-radius: 8px; background: transparent; color: inherit;
display: flex; align-items: center; justify-content: center; }
.ol-transcript:hover { background: rgba(255,255,255,.15); }
.ol-transcript svg { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 1.8; }
.ol-forms { flex: none; max-height: 50%; overflow-y: auto; background: #f8fafc; }
.ol-forms:empty { display: none; }
.ol-form { margin: 8px 12px; padding: 12px; border: 1px solid #e5e7eb; border-radius: 12px; background: #fff;
box-shadow: 0 1px 3px rgba(0,0,0,.06); }
.ol-form-title { margin: 0 0 4px; font-weight: 600; }
.ol-form-text { margin: 0 0 8px; color: #6b7280; font-size: 13px; }
.ol-field { margin: 8px 0; }
.ol-field > label, .ol-field legend { display: block; margin-bottom: 3px; font-size: 12px; color: #374151; }
.ol-field fieldset { margin: 0; padding: 0; border: 0; }
.ol-field input[type=text], .ol-field input[type=email], .ol-field input[type=tel], .ol-field textarea {
width: 100%; padding: 7px 10px; border: 1px solid #d1d5db; border-radius: 8px; font: inherit; color: inherit; }
.ol-field textarea { min-height: 56px; resize: vertical; }
.ol-field [aria-invalid=true] { border-color: #dc2626; background: #fef2f2; }
.ol-field-error { margin-top: 3px; color: #b91c1c; font-size: 12px; }
.ol-choices { display: flex; gap: 8px; }
.ol-choice { flex: 1; display: flex; align-items: center; justify-content: center; gap: 6px; padding: 7px;
border: 1px solid #d1d5db; border-radius: 8px; cursor: pointer; }
.ol-choice:has(input:checked) { border-color: var(--a); background: #eff6ff; font-weight: 600; }
.ol-choice:focus-within { outline: 3px solid #93c5fd; outline-offset: 1px; }
.ol-form-actions { display: flex; gap: 8px; margin-top: 10px; }
.ol-form-submit { padding: 7px 14px; border: 0; border-radius: 8px; background: var(--a); color: #fff; font-weight: 600; }
.ol-form-submit:disabled { opacity: .6; }
.ol-form-dismiss { padding: 7px 10px; border: 0; background: none; color: #6b7280; text-decoration: underline; }
.ol-vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

// ---- build the UI ----
let ui;
function mount() {
  const host = h('div', { id: 'openline-widget' });
  // Inline !important beats any page rule (`div { display: none }`, a transform that breaks position: fixed).
  host.style.setProperty('all', 'initial', 'important');
  const color = script.getAttribute('data-color');
  if (color) host.style.setProperty('--ol-accent', color);
  const root = host.attachShadow({ mode: 'open' });

  const u = {};
  u.badgeText = h('span', { class: 'ol-vh', id: 'ol-unread-text' });
  u.badge = h('span', { class: 'ol-badge', 'aria-hidden': 'true', hidden: '' });
  u.launcher = h('button', {
    type: 'button', class: 'ol-launcher', 'aria-label': t('open'), 'aria-expanded': 'false',
    'aria-controls': 'ol-window', 'aria-describedby': 'ol-unread-text',
  }, chatIcon(), u.badge);
  u.title = h('div', { class: 'ol-title', id: 'ol-title', text: t('chat') });
  u.number = h('span', { class: 'ol-dialog-number', hidden: '' });
  u.operator = h('span', { class: 'ol-operator' });
  u.close = h('button', { type: 'button', class: 'ol-close', 'aria-label': t('close'), text: '×' });
  u.transcript = h('button', {
    type: 'button', class: 'ol-transcript', 'aria-label': t('transcript'), title: t('transcript'), hidden: '',
  }, mailIcon());
  u.forms = h('div', { class: 'ol-forms', 'aria-live': 'polite' });
  u.status = h('div', { class: 'ol-status', role: 'status', hidden: '' });
  u.messages = h('div', { class: 'ol-messages', role: 'log', 'aria-live': 'polite', 'aria-labelledby': 'ol-title' });
  u.finished = h('div', { class: 'ol-finished', hidden: '', text: t('finished') });
  u.typing = h('div', { class: 'ol-typing', 'aria-live': 'polite', hidden: '' });
  u.notice = h('div', { class: 'ol-notice', role: 'status', hidden: '' });
  u.input = h('textarea', { class: 'ol-input', id: 'ol-input', rows: '1', autocomplete: 'off' });
  u.send = h('button', { type: 'submit', class: 'ol-send', text: t('send') });
  u.file = h('input', { type: 'file', class: 'ol-vh', tabindex: '-1', 'aria-hidden': 'true' });
  u.attach = h('button', { type: 'button', class: 'ol-attach', 'aria-label': t('attach'), title: t('attach') },
    clipIcon());
  u.form = h('form', { class: 'ol-composer', novalidate: '' },
    (u.label = h('label', { class: 'ol-vh', for: 'ol-input', text: t('message') })), u.attach, u.file, u.input,
    u.send);
  u.window = h('div', { class: 'ol-window', id: 'ol-window', role: 'dialog', 'aria-label': t('chat'), hidden: '' },
    h('div', { class: 'ol-header' }, h('div', { class: 'ol-titles' }, u.title,
      h('div', { class: 'ol-sub' }, u.number, u.operator)), u.transcript, u.close),
    u.status, u.messages, u.forms, u.finished, u.typing, u.notice, u.form);

  u.root = h('div', { class: 'ol-root' }, u.window, u.launcher, u.badgeText);
  root.append(h('style', { text: CSS }), u.root);
  // A site whose CSP forbids inline styles blocks the <style> element; an adopted sheet is not affected.
  try { const sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet]; } catch { /* old */ }
  document.body.append(host);
  ui = u;

  u.launcher.addEventListener('click', () => (state.isOpen ? closeWindow() : openWindow()));
  u.close.addEventListener('click', () => closeWindow(true));
  u.transcript.addEventListener('click', () => sendFrame({ type: 'transcript.request', ref: newClientId() }));
  u.window.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.stopPropagation(); closeWindow(true); }
  });
  u.form.addEventListener('submit', (e) => { e.preventDefault(); submitComposer(); });
  u.input.addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter is a new line; never send in the middle of an IME composition.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    if (u.form.requestSubmit) u.form.requestSubmit(); else submitComposer(); // Safari < 16
  });
  u.input.addEventListener('input', onComposerInput);
  u.attach.addEventListener('click', () => u.file.click());
  u.file.addEventListener('change', () => {
    const files = [...u.file.files];
    u.file.value = '';
    files.forEach(uploadFile);
  });
  document.addEventListener('visibilitychange', () => markSeen());
}

// ---- events API ----
// A failing callback of the host page must not break the widget.
function call(cb, payload) {
  try { cb(payload); } catch (err) { console.error('Openline: a listener failed', err); }
}

function emit(name, payload) { for (const cb of listeners[name]) call(cb, payload); }

function on(name, cb) {
  if (!listeners[name] || typeof cb !== 'function') return console.warn('Openline: unknown event', name);
  listeners[name].push(cb);
  // `ready` is a state: a late subscriber still hears about it.
  if (name === 'ready' && state.ready) setTimeout(() => call(cb, state.readyInfo));
}

function runCommand(cmd) {
  if (!Array.isArray(cmd)) return console.warn('Openline: a command is an array, got', cmd);
  const [name, ...args] = cmd;
  if (name === 'open') openWindow();
  else if (name === 'close') closeWindow();
  else if (name === 'on') on(args[0], args[1]);
  else console.warn('Openline: unknown command', name);
}

// ---- window ----
function openWindow() {
  if (state.isOpen) return;
  state.isOpen = true;
  ui.window.hidden = false;
  ui.root.classList.add('ol-is-open');
  ui.launcher.setAttribute('aria-expanded', 'true');
  ui.input.focus();
  scrollToBottom(true);
  state.openSent = false;
  ensureDialog();
  markSeen(true);
  emit('open');
}

function closeWindow(returnFocus) {
  if (!state.isOpen) return;
  const focusInside = ui.window.contains(ui.window.getRootNode().activeElement);
  state.isOpen = false;
  ui.window.hidden = true;
  ui.root.classList.remove('ol-is-open');
  ui.launcher.setAttribute('aria-expanded', 'false');
  if (returnFocus || focusInside) ui.launcher.focus();
  updateUnread();
  emit('close');
}

// Opening the window starts a dialog (with the greeting) unless one is shown. A finished dialog stays on screen
// with "Write to start a new one": writing starts the next one, as the notice says.
function ensureDialog() {
  if (!state.isOpen || !connection.ready || state.openSent) return;
  if (state.dialog && state.dialog.status === 'finished') return;
  state.openSent = true;
  sendFrame({ type: 'open', ref: newClientId() });
}

function renderHeader() {
  const d = state.dialog;
  ui.title.textContent = state.lineName || t('chat');
  ui.window.setAttribute('aria-label', state.lineName || t('chat'));
  ui.number.hidden = !(d && d.number);
  ui.number.textContent = d && d.number ? t('dialog', { number: d.number }) : '';
  ui.transcript.hidden = !(d && d.id);
  ui.operator.textContent = (d && d.operator && d.operator.name) || '';
  ui.finished.hidden = !(d && d.status === 'finished');
}

// The line's language arrived: the texts drawn before it follow.
function applyStrings(received) {
  strings = received;
  store.set('strings', received);
  ui.launcher.setAttribute('aria-label', t('open'));
  ui.close.setAttribute('aria-label', t('close'));
  ui.transcript.setAttribute('aria-label', t('transcript'));
  ui.transcript.title = t('transcript');
  ui.attach.setAttribute('aria-label', t('attach'));
  ui.attach.title = t('attach');
  ui.label.textContent = t('message');
  ui.send.textContent = t('send');
  ui.finished.textContent = t('finished');
  renderHeader();
  updateUnread();
}

function renderStatus() {
  ui.status.hidden = connection.ready;
  ui.status.textContent = state.everConnected || state.attempt > 1 ? t('reconnecting') : t('connecting');
}

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(state.noticeTimer);
  state.noticeTimer = setTimeout(() => { ui.notice.hidden = true; }, NOTICE_MS);
}

function scrollToBottom(force) {
  const m = ui.messages;
  if (force || m.scrollHeight - m.scrollTop - m.clientHeight < 80) m.scrollTop = m.scrollHeight;
}

// ---- dialog and messages ----
// Switch to another dialog: its messages replace the list, but unsent messages of the visitor stay at the end.
function setDialog(d) {
  if (!state.dialog || state.dialog.id !== d.id) {
    for (const el of [...ui.messages.children]) if (!el.classList.contains('ol-local')) el.remove();
    seqs.clear();
    Object.assign(state, { dialog: { id: d.id }, shown: [], seenUpTo: 0, seenSent: 0 });
    hidePeerTyping();
  }
  Object.assign(state.dialog, d);
  state.seenUpTo = Math.max(state.seenUpTo, d.visitor_seen_seq || 0);
  state.seenSent = Math.max(state.seenSent, d.visitor_seen_seq || 0);
  if (d.status === 'finished') hidePeerTyping();
  renderHeader();
}

function clearDialog() {
  for (const el of [...ui.messages.children]) if (!el.classList.contains('ol-local')) el.remove();
  seqs.clear();
  Object.assign(state, { dialog: null, shown: [], seenUpTo: 0, seenSent: 0 });
  renderHeader();
}

function authorType(m) {
  const t = m.kind === 'system' ? 'system' : m.author && m.author.type;
  return ['visitor', 'operator', 'bot', 'system'].includes(t) ? t : 'operator';
}

function formatTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function buildMessage(type, text, authorName, file) {
  const el = h('div', { class: `ol-message ol-from-${type}` });
  if ((type === 'operator' || type === 'bot') && authorName) el.append(h('div', { class: 'ol-author', text: authorName }));
  el.append(file ? buildFile(file) : h('div', { class: 'ol-text', text }));
  return el;
}

// A file: images as a preview, everything else as a link. Only http(s) links from the server are used.
function buildFile(file) {
  let url = null;
  try { url = new URL(String(file.url)); } catch { url = null; }
  if (url && url.protocol !== 'https:' && url.protocol !== 'http:') url = null;
  const box = h('div', { class: 'ol-text ol-file' });
  const name = String(file.name || 'file');
  if (url && file.is_image) {
    const img = h('img', { alt: name, loading: 'lazy' });
    img.src = url.href;
    const a = h('a', { target: '_blank', rel: 'noopener noreferrer' }, img);
    a.href = url.href;
    box.append(a);
  }
  const link = h(url ? 'a' : 'span', { target: '_blank', rel: 'noopener noreferrer', class: 'ol-file-link' },
    clipIcon(), name);
  if (url) link.href = url.href;
  box.append(link);
  return box;
}

// The visitor attaches a file: sent over HTTP with the visitor's token; it comes back as a `message` frame.
async function uploadFile(file) {
  if (!state.token) return showNotice(t('error_internal'));
  showNotice(t('uploading', { name: file.name }));
  const params = new URLSearchParams({ line: LINE, name: file.name, client_msg_id: newClientId() });
  try {
    const res = await fetch(`${BASE}/api/visitor/files?${params}`, {
      method: 'POST', body: file, mode: 'cors', credentials: 'omit',
      headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': file.type || 'application/octet-stream' },
    });
    if (res.ok) {
      ui.notice.hidden = true;
      return undefined;
    }
    let code = 'internal';
    try { code = (await res.json()).error.code; } catch { /* not JSON */ }
    const known = ['too_large', 'type_not_allowed', 'type_mismatch', 'rate_limited'];
    showNotice(t(known.includes(code) ? `error_${code}` : 'error_internal'));
  } catch {
    showNotice(t('error_internal'));
  }
  return undefined;
}

function setMeta(el, createdAt) {
  if (el.classList.contains('ol-from-system')) return;
  let meta = el.querySelector('.ol-meta');
  if (!meta) el.append((meta = h('div', { class: 'ol-meta' })));
  meta.textContent = formatTime(createdAt);
}

// Render server messages in seq order. `cached` ones come from localStorage and are not news.
function renderMessages(list, cached) {
  let grew = false;
  for (const m of list) {
    if (!m || typeof m.seq !== 'number') continue;
    if (!state.dialog || state.dialog.id !== m.dialog_id) setDialog({ id: m.dialog_id });
    if (m.kind === 'note' || m.kind === 'internal') continue; // staff only: the server never sends them here
    if (!seqs.accept(m.dialog_id, m.seq)) continue; // already shown (resume overlap, second tab...)
    const type = authorType(m);
    const mine = m.client_msg_id && state.pending.get(m.client_msg_id);
    let el;
    if (mine) {
      // Our own message coming back: the pending bubble becomes the stored one, no second copy.
      state.pending.delete(m.client_msg_id);
      el = mine.el;
      el.classList.remove('ol-local', 'ol-pending', 'ol-failed');
      el.querySelector('.ol-fail')?.remove();
    } else {
      el = buildMessage(type, String(m.text ?? ''), m.author && m.author.name, m.kind === 'file' ? m.file : null);
    }
    el.dataset.seq = m.seq;
    setMeta(el, m.created_at);
    // Stored messages stay above the visitor's still-unsent ones.
    ui.messages.insertBefore(el, ui.messages.querySelector('.ol-local'));
    state.shown.push({
      dialog_id: m.dialog_id, seq: m.seq, kind: m.kind, author: m.author, text: m.text,
      client_msg_id: m.client_msg_id || null, created_at: m.created_at, file: m.file || null,
    });
    grew = true;
    if (type === 'operator') hidePeerTyping();
    if (!cached) {
      emit('message', {
        dialog_id: m.dialog_id, seq: m.seq, text: m.text, author_type: type,
        author_name: (m.author && m.author.name) || null, created_at: m.created_at,
      });
    }
  }
  if (!grew) return;
  persist();
  scrollToBottom(!cached && list.some((m) => m && authorType(m) === 'visitor'));
  markSeen();
  updateUnread();
}

// Remember the dialog shown and its last messages, so that the next page of the site shows the conversation at
// once and resumes from where it stopped.
function persist() {
  if (!state.dialog) return;
  const { id, number, status, operator } = state.dialog;
  store.set('state', { dialog_id: id, last_seq: lastSeq() });
  store.set('history', { dialog: { id, number, status, operator }, messages: state.shown.slice(-HISTORY_KEEP) });
}

function restore() {
  const saved = store.get('state');
  if (!saved || typeof saved.dialog_id !== 'number') return;
  const hist = store.get('history');
  if (hist && hist.dialog && hist.dialog.id === saved.dialog_id && Array.isArray(hist.messages)) {
    setDialog(hist.dialog);
    renderMessages(hist.messages.filter((m) => m && m.seq <= saved.last_seq), true);
  } else {
    setDialog({ id: saved.dialog_id }); // nothing to show: resume from 0 fetches the conversation
  }
}

// The visitor has seen what is on screen when the window is open on a visible page.
function markSeen(force) {
  if (!state.isOpen || (!force && document.visibilityState !== 'visible')) return;
  const seq = lastSeq();
  state.seenUpTo = Math.max(state.seenUpTo, seq);
  updateUnread();
  if (connection.ready && state.dialog && seq > state.seenSent) {
    state.seenSent = seq;
    sendFrame({ type: 'seen', seq });
  }
}

function updateUnread() {
  // Until the server said what the visitor has seen, cached messages would all look unread.
  const count = state.isOpen || !state.everConnected ? 0
    : state.shown.filter((m) => ['operator', 'bot'].includes(authorType(m)) && m.seq > state.seenUpTo).length;
  ui.badge.hidden = count === 0;
  ui.badge.textContent = count > 99 ? '99+' : String(count);
  ui.badgeText.textContent = count ? t('unread', { count }) : '';
  if (count !== state.unread) { state.unread = count; emit('unread', count); }
}

// ---- sending ----
function submitComposer() {
  const text = ui.input.value.trim();
  if (!text) return;
  ui.input.value = '';
  autoGrow();
  stopTyping();
  const id = newClientId();
  const el = buildMessage('visitor', text);
  el.classList.add('ol-local', 'ol-pending');
  ui.messages.append(el);
  const entry = { id, text, el, status: 'pending' };
  state.pending.set(id, entry);
  scrollToBottom(true);
  transmit(entry);
  ui.input.focus();
}

function transmit(entry) {
  entry.status = 'pending';
  // Offline, the connection keeps it and sends it after the next welcome.
  if (connection.deliver({ type: 'send', client_msg_id: entry.id, text: entry.text })) return;
  markFailed(entry);
  showNotice(t('error_too_long'));
}

function markFailed(entry) {
  entry.status = 'failed';
  const el = entry.el;
  // A failed message keeps its place in the timeline (later messages go below it) until it is retried.
  el.classList.remove('ol-pending', 'ol-local');
  el.classList.add('ol-failed');
  if (el.querySelector('.ol-fail')) return;
  const retry = h('button', { type: 'button', class: 'ol-retry', text: t('retry'), 'aria-label': t('retry_label') });
  retry.addEventListener('click', () => {
    el.querySelector('.ol-fail')?.remove();
    el.classList.remove('ol-failed');
    el.classList.add('ol-pending', 'ol-local');
    ui.messages.append(el); // a retried message goes to the end, as the server will store it now
    transmit(entry);
    ui.input.focus();
  });
  el.append(h('div', { class: 'ol-fail' }, t('not_sent'), retry));
}

function onAck(f) {
  const entry = state.pending.get(f.ref);
  if (!entry || entry.status === 'acked') return; // `open` acks, or a duplicate ack
  // Stored: keep it in `pending` until its `message` frame comes, which puts it at its place by seq.
  entry.status = 'acked';
  entry.el.classList.remove('ol-pending');
  if (typeof f.seq === 'number') entry.el.dataset.seq = f.seq;
}

// ---- typing ----
function onComposerInput() {
  autoGrow();
  if (!ui.input.value.trim()) return stopTyping();
  // Typing into no dialog or a finished one would only get `no_dialog` errors.
  if (!state.dialog || state.dialog.status === 'finished') return;
  const now = Date.now();
  if (now - state.typingSentAt >= TYPING_EVERY_MS) {
    state.typingSentAt = now;
    state.typingActive = true;
    sendFrame({ type: 'typing', active: true });
  }
  clearTimeout(state.typingIdleTimer);
  state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(state.typingIdleTimer);
  if (!state.typingActive) return;
  state.typingActive = false;
  state.typingSentAt = 0;
  sendFrame({ type: 'typing', active: false });
}

function autoGrow() {
  ui.input.style.height = 'auto';
  ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + 'px';
}

function onPeerTyping(f) {
  if (f.from === 'visitor' || (state.dialog && f.dialog_id && f.dialog_id !== state.dialog.id)) return;
  if (!f.active) return hidePeerTyping();
  ui.typing.textContent = t('typing', { name: f.name || t('operator') });
  ui.typing.hidden = false;
  clearTimeout(state.peerTypingTimer);
  state.peerTypingTimer = setTimeout(hidePeerTyping, PEER_TYPING_MS);
}

function hidePeerTyping() {
  clearTimeout(state.peerTypingTimer);
  if (ui) ui.typing.hidden = true;
}

// ---- connection ----
const sendFrame = (frame) => connection.send(frame);

const connection = createConnection({
  url: () => WS_URL,
  hello: () => ({
    type: 'hello', line: LINE, token: state.token || null,
    page: { url: location.href.slice(0, 2048), title: document.title.slice(0, 300) },
    lang: navigator.language,
    ...(state.dialog ? { resume: { dialog_id: state.dialog.id, last_seq: lastSeq() } } : {}),
    ...(state.link ? { link: state.link } : {}),
  }),
  readyType: 'welcome',
  onFrame: handleFrame,
  onState: (name, attempt) => { state.attempt = attempt; },
  onClose() { hidePeerTyping(); renderStatus(); },
  pingMs: PING_MS,
  answerMs: ANSWER_MS,
});

function handleFrame(f) {
  switch (f.type) {
    case 'welcome': return onWelcome(f);
    case 'message': return renderMessages([f]);
    case 'dialog': if (f.dialog) { setDialog(f.dialog); persist(); } return undefined;
    case 'ack': return f.form_id ? onFormAck(f) : onAck(f);
    case 'form.show': return f.form ? showForm(f.form) : undefined;
    case 'form.done': return removeForm(f.form_id, f.status === 'completed');
    case 'form.error': return onFormError(f);
    case 'typing': return onPeerTyping(f);
    case 'seen': return onSeen(f);
    case 'dialog_deleted':
      if (state.dialog && state.dialog.id === f.dialog_id) { clearDialog(); store.remove('state'); store.remove('history'); }
      return undefined;
    case 'error': return onError(f);
    default: return undefined;
  }
}

function onWelcome(f) {
  state.everConnected = true;
  if (f.visitor && f.visitor.token) {
    state.token = f.visitor.token;
    store.set('token', state.token, true);
  }
  if (f.line && f.line.name) state.lineName = f.line.name;
  if (f.line && f.line.strings && typeof f.line.strings === 'object') applyStrings(f.line.strings);
  // A resumed dialog gets only the missed messages: append them. Otherwise the list is replaced.
  const resumed = f.resumed !== false && f.dialog && state.dialog && f.dialog.id === state.dialog.id;
  if (!resumed) clearDialog();
  if (f.dialog) setDialog(f.dialog);
  else { store.remove('state'); store.remove('history'); }
  renderHeader();
  renderStatus();
  renderMessages(Array.isArray(f.messages) ? f.messages : []);
  state.link = null;
  if (f.opened_by_link) openWindow(); // the visitor came from the e-mail to read and answer
  ensureDialog();
  markSeen();
  updateUnread();
  if (!state.ready) {
    state.ready = true;
    state.readyInfo = {
      line: LINE, line_name: state.lineName, visitor_id: f.visitor ? f.visitor.id : null,
      dialog_id: f.dialog ? f.dialog.id : null, dialog_number: f.dialog ? f.dialog.number : null,
    };
    emit('ready', state.readyInfo);
  }
}

function onSeen(f) {
  if (f.by !== 'visitor' || typeof f.seq !== 'number' || !state.dialog || f.dialog_id !== state.dialog.id) return;
  // The visitor read it in another tab: no unread badge here either.
  state.seenUpTo = Math.max(state.seenUpTo, f.seq);
  state.seenSent = Math.max(state.seenSent, f.seq);
  updateUnread();
}

function onError(f) {
  if (f.code === 'invalid_link') { openWindow(); return showNotice(t('error_invalid_link')); }
  if (f.ref && state.formRefs.has(f.ref)) {
    const id = state.formRefs.get(f.ref);
    state.formRefs.delete(f.ref);
    if (f.code === 'form_closed' || f.code === 'forbidden') removeForm(id, false);
    else setFormBusy(id, false);
  }
  const entry = f.ref && state.pending.get(f.ref);
  if (entry) markFailed(entry);
  const known = ['too_long', 'rate_limited', 'internal', 'invalid', 'form_closed'];
  const text = known.includes(f.code) ? t(`error_${f.code}`) : entry ? t('error_invalid') : null;
  if (text) showNotice(text); // others (invalid_token, forbidden...) are handled by the welcome that follows
}

// ---- contact forms: the server decides when they appear (form.show) and what a bad field needs ----
function fieldId(formId, name) { return `ol-f-${formId}-${name}`; }

function buildField(formId, f, typed) {
  const id = fieldId(formId, f.name);
  const error = h('div', { class: 'ol-field-error', id: `${id}-error`, hidden: '' });
  const wrap = h('div', { class: 'ol-field', 'data-field': f.name });
  if (f.type === 'choice') {
    const choices = h('div', { class: 'ol-choices' });
    for (const o of f.options || []) {
      const input = h('input', { type: 'radio', name: id, value: o.value });
      if ((typed ?? f.value) === o.value) input.checked = true;
      const icon = o.value === 'good' ? '✓' : o.value === 'bad' ? '✗' : '';
      choices.append(h('label', { class: 'ol-choice' }, input, h('span', { 'aria-hidden': 'true', text: icon }), o.label));
    }
    wrap.append(h('fieldset', { 'aria-describedby': error.id }, h('legend', { text: f.label }), choices), error);
    return wrap;
  }
  const input = f.type === 'textarea' ? h('textarea', { id, rows: '2' })
    : h('input', { id, type: ['email', 'tel'].includes(f.type) ? f.type : 'text' });
  input.name = f.name;
  input.value = typed ?? f.value ?? '';
  if (f.max_length) input.maxLength = f.max_length;
  if (f.autocomplete) input.autocomplete = f.autocomplete;
  if (f.required) input.setAttribute('aria-required', 'true');
  input.setAttribute('aria-describedby', error.id);
  wrap.append(h('label', { for: id, text: f.label }), input, error);
  return wrap;
}

function formValues(el) {
  const values = {};
  for (const field of el.querySelectorAll('.ol-field')) {
    const name = field.dataset.field;
    const checked = field.querySelector('input[type=radio]:checked');
    const input = field.querySelector('input:not([type=radio]), textarea');
    if (checked) values[name] = checked.value;
    else if (input) values[name] = input.value;
  }
  return values;
}

// Shown again (reconnect) or grown (the name was given): what the visitor typed stays.
function showForm(spec) {
  const old = state.forms.get(spec.id);
  const typed = old ? formValues(old.el) : {};
  const el = h('form', {
    class: 'ol-form', novalidate: '', 'data-form-id': String(spec.id), 'data-kind': spec.kind,
    'aria-labelledby': `ol-form-title-${spec.id}`,
  }, h('div', { class: 'ol-form-title', id: `ol-form-title-${spec.id}`, text: spec.title || '' }));
  if (spec.text) el.append(h('p', { class: 'ol-form-text', text: spec.text }));
  for (const f of spec.fields || []) el.append(buildField(spec.id, f, typed[f.name]));
  const submit = h('button', { type: 'submit', class: 'ol-form-submit', text: spec.submit || t('send') });
  const dismiss = h('button', { type: 'button', class: 'ol-form-dismiss', text: spec.dismiss || '×' });
  el.append(h('div', { class: 'ol-form-actions' }, submit, dismiss));
  el.addEventListener('submit', (e) => { e.preventDefault(); sendForm(spec.id, 'form.submit'); });
  dismiss.addEventListener('click', () => sendForm(spec.id, 'form.dismiss'));
  // The form takes room from the conversation: keep its last lines in view if they were.
  const m = ui.messages;
  const stick = m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  if (old) old.el.replaceWith(el); else ui.forms.append(el);
  if (stick) m.scrollTop = m.scrollHeight;
  state.forms.set(spec.id, { spec, el });
  const grew = old && old.spec.step !== spec.step;
  if (grew || (!old && state.isOpen && !ui.input.value)) {
    // Focus the first field still empty, so the visitor can go on typing.
    const next = [...el.querySelectorAll('input:not([type=radio]), textarea')].find((i) => !i.value);
    if (next) next.focus();
  }
  el.scrollIntoView({ block: 'nearest' });
}

function sendForm(id, type) {
  const form = state.forms.get(id);
  if (!form) return;
  const ref = newClientId();
  const frame = type === 'form.submit' ? { type, ref, form_id: id, values: formValues(form.el) } : { type, ref, form_id: id };
  if (!sendFrame(frame)) return showNotice(t('reconnecting'));
  state.formRefs.set(ref, id);
  setFormBusy(id, true);
}

function setFormBusy(id, busy) {
  const form = state.forms.get(id);
  if (form) form.el.querySelector('.ol-form-submit').disabled = busy;
}

function onFormAck(f) {
  state.formRefs.delete(f.ref);
  setFormBusy(f.form_id, false);
}

function onFormError(f) {
  state.formRefs.delete(f.ref);
  const form = state.forms.get(f.form_id);
  if (!form) return;
  setFormBusy(f.form_id, false);
  let first = null;
  for (const field of form.el.querySelectorAll('.ol-field')) {
    const message = (f.errors || {})[field.dataset.field];
    const error = field.querySelector('.ol-field-error');
    const input = field.querySelector('input, textarea');
    error.textContent = message || '';
    error.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    if (message && !first) first = input;
  }
  if (first) first.focus();
}

function removeForm(id, thanked) {
  const form = state.forms.get(id);
  if (!form) return;
  const hadFocus = form.el.contains(form.el.getRootNode().activeElement);
  form.el.remove();
  state.forms.delete(id);
  if (thanked) showNotice(t('thanks'));
  if (hadFocus && state.isOpen) ui.input.focus();
}

// ---- start ----
function init() {
  mount();
  restore();
  renderHeader();
  renderStatus();
  // The queue the page filled before we loaded runs first; afterwards push() runs a command at once.
  const queued = Array.isArray(window.Openline) ? window.Openline : [];
  window.Openline = {
    push(...cmds) { cmds.forEach(runCommand); },
    open: openWindow,
    close: () => closeWindow(),
    on,
  };
  queued.forEach(runCommand);
  connection.start(); // at once, not on first open, so that the unread badge works while the window is closed
}

if (document.body) init();
else document.addEventListener('DOMContentLoaded', init, { once: true });
