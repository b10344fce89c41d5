// The list screen: the dialogs of the filter (kept in the URL), live changes judged against it, paging.
import { api } from './api.js';
import { channelIcon, channelLabel } from './channels.js';
import { openDialog } from './chat.js';
import { S } from './console_state.js';
import { isCurrent, key, mergeSummary } from './dialog_records.js';
import { OPEN_STATUSES, statusClass, statusLabel } from './dialog_status.js';
import { $, h, visible } from './dom.js';
import { notice } from './notice.js';
import { fmtTime, stamp, toDate } from './time_format.js';

const FILTER_KEYS = ['channel', 'type', 'operator', 'status'];
const PAGE_SIZE = 50;
const REFETCH_MS = 800; // a live change the browser cannot judge (a search): ask the server again, shortly

// The filter lives in the URL (?type=unassigned&status=new&q=...), so a reload or a shared link shows the
// same list. It has the server's meaning (domain/inbox_filter.py): facets AND-ed, values of a facet OR-ed,
// no status = the open chats.
export function readFilterFromUrl() {
  const params = new URLSearchParams(location.search);
  const f = { channel: [], type: [], operator: [], status: [], q: '' };
  for (const name of FILTER_KEYS) {
    for (const value of params.getAll(name)) {
      for (const part of value.split(',')) if (part.trim()) f[name].push(part.trim());
    }
  }
  f.q = (params.get('q') || '').slice(0, 200);
  S.filter = f;
}

function filterParams(f) {
  const params = new URLSearchParams();
  for (const name of FILTER_KEYS) for (const value of f[name]) params.append(name, value);
  if (f.q.trim()) params.set('q', f.q.trim());
  return params;
}

function writeFilterToUrl() {
  const params = filterParams(S.filter);
  const qs = params.toString();
  const url = `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

export function activeFilterCount() {
  return FILTER_KEYS.reduce((n, name) => n + (S.filter[name].length ? 1 : 0), 0);
}

export function operatorIdsOf(s) {
  const ids = new Set();
  if (s.operator && s.operator.id !== undefined && s.operator.id !== null) ids.add(key(s.operator.id));
  for (const o of s.operators || []) ids.add(key(o.id));
  return ids;
}

// The structured facets, judged here for live changes; the search words only the server can judge.
function matchesFilter(s) {
  const f = S.filter;
  if (f.channel.length && !f.channel.includes(s.channel || 'website')) return false;
  const statuses = f.status.includes('all')
    ? []
    : f.status.length
      ? f.status.flatMap((x) => (x === 'open' ? OPEN_STATUSES : [x]))
      : OPEN_STATUSES;
  if (statuses.length && !statuses.includes(s.status)) return false;
  const ops = operatorIdsOf(s);
  if (f.operator.length && !f.operator.some((id) => ops.has(key(id)))) return false;
  if (f.type.length) {
    const kinds = { unassigned: ops.size === 0, mine: !!(S.me && ops.has(key(S.me.id))), unanswered: !!s.unanswered };
    if (!f.type.some((t) => kinds[t])) return false;
  }
  return true;
}

// A live change to a dialog: in the list or out of it.
export function judgeMembership(r) {
  if (!r.summary) return;
  if (!matchesFilter(r.summary)) {
    // The chat on screen stays in the list until another is opened, so it does not vanish under the cursor.
    if (!isCurrent(r)) S.listKeys.delete(r.key);
    return;
  }
  if (!S.filter.q.trim()) {
    S.listKeys.add(r.key);
  } else if (!S.listKeys.has(r.key)) {
    scheduleRefetch(); // it may or may not hold the words: the index knows
  }
}

function scheduleRefetch() {
  clearTimeout(S.refetchTimer);
  S.refetchTimer = setTimeout(() => fetchList(), REFETCH_MS);
}

export async function fetchList(more) {
  if (!S.me) return;
  const token = ++S.listToken;
  const params = filterParams(S.filter);
  params.set('limit', String(PAGE_SIZE));
  if (more && S.nextCursor) params.set('cursor', S.nextCursor);
  $('dialog-list').setAttribute('aria-busy', 'true');
  const res = await api('GET', `/api/dialogs?${params}`);
  if (token !== S.listToken) return; // a newer request is on its way
  $('dialog-list').removeAttribute('aria-busy');
  if (!res.ok) {
    if (res.status !== 401) notice(`The list could not be loaded: ${res.message}`);
    return;
  }
  if (!more) S.listKeys.clear();
  for (const s of res.data.items || []) {
    const r = mergeSummary(s);
    if (r) S.listKeys.add(r.key);
  }
  S.nextCursor = res.data.next_cursor || null;
  renderList();
}

export function applyFilter() {
  writeFilterToUrl();
  S.nextCursor = null;
  renderFilterControls();
  fetchList();
}

export function readFilterControls() {
  const form = $('filters');
  const f = { channel: [], type: [], operator: [], status: [], q: $('list-search').value };
  for (const input of form.querySelectorAll('input[type=checkbox]:checked')) {
    if (f[input.name]) f[input.name].push(input.value);
  }
  S.filter = f;
}

export function renderFilterControls() {
  const channels = $('filter-channel');
  for (const old of channels.querySelectorAll('label')) old.remove();
  for (const c of S.channels) {
    const label = h('label', 'filter-option');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'channel';
    input.value = c.id;
    label.appendChild(input);
    const icon = h('span', 'channel-icon channel-icon-small');
    icon.appendChild(channelIcon(c.id));
    label.appendChild(icon);
    label.appendChild(document.createTextNode(` ${c.label}`));
    channels.appendChild(label);
  }
  const ops = $('filter-operator');
  for (const old of ops.querySelectorAll('label, p')) old.remove();
  for (const o of S.operators) {
    if (o.is_active === false) continue;
    const label = h('label', 'filter-option');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.name = 'operator';
    input.value = String(o.id);
    label.appendChild(input);
    label.appendChild(document.createTextNode(` ${o.name}${S.me && key(o.id) === key(S.me.id) ? ' (you)' : ''}`));
    ops.appendChild(label);
  }
  if (!S.operators.length) ops.appendChild(h('p', 'form-hint', 'No colleagues on your lines yet.'));
  for (const input of $('filters').querySelectorAll('input[type=checkbox]')) {
    input.checked = (S.filter[input.name] || []).includes(input.value);
  }
  $('list-search').value = S.filter.q;
  const n = activeFilterCount();
  const badge = $('filters-active');
  badge.textContent = String(n);
  badge.hidden = !n;
}

export function toggleFilters(open) {
  const form = $('filters');
  const show = open === undefined ? form.hidden : open;
  form.hidden = !show;
  $('filters-toggle').setAttribute('aria-expanded', String(show));
  try {
    localStorage.setItem('openline:console:filters-open', show ? '1' : '0');
  } catch (e) {
    /* private mode: not remembered */
  }
}

export function queueListRender() {
  if (S.listRenderQueued) return;
  S.listRenderQueued = true;
  requestAnimationFrame(() => {
    S.listRenderQueued = false;
    renderList();
  });
}

function shownUnread(r) {
  if (isCurrent(r) && visible() && r.loaded) return 0;
  return r.summary ? r.summary.unread || 0 : 0;
}

export function renderList() {
  S.listRenderQueued = false;
  const list = $('dialog-list');
  const active = document.activeElement;
  const focusKey = active && list.contains(active) && active.dataset ? active.dataset.dialogId : null;

  const items = [];
  for (const k of S.listKeys) {
    const r = S.dialogs.get(k);
    if (r && r.summary) items.push(r);
  }
  items.sort((a, b) => {
    const d = stamp(b.summary.updated_at || b.summary.created_at) - stamp(a.summary.updated_at || a.summary.created_at);
    if (d) return d;
    return (Number(b.summary.number) || 0) - (Number(a.summary.number) || 0);
  });

  const frag = document.createDocumentFragment();
  let unreadTotal = 0;
  for (const r of items) {
    const unread = shownUnread(r);
    unreadTotal += unread;
    frag.appendChild(buildItem(r, unread));
  }
  list.replaceChildren(frag);
  const filtered = activeFilterCount() || S.filter.q.trim();
  const empty = $('dialog-empty');
  empty.hidden = items.length > 0;
  empty.textContent = filtered
    ? 'No chats match these filters.'
    : 'No open chats right now. New conversations appear here as visitors write in.';
  $('dialog-count').textContent = `${items.length}${S.nextCursor ? '+' : ''}`;
  $('load-more').hidden = !S.nextCursor;
  document.title = unreadTotal ? `(${unreadTotal}) Openline console` : 'Openline console';

  if (focusKey) {
    const again = list.querySelector(`.dialog-item[data-dialog-id="${CSS.escape(focusKey)}"]`);
    if (again) again.focus();
  }
}

function buildItem(r, unread) {
  const s = r.summary;
  const li = h('li', 'dialog-entry');
  const btn = h('button', 'dialog-item');
  btn.type = 'button';
  btn.dataset.dialogId = r.key;
  if (isCurrent(r)) {
    btn.classList.add('is-active');
    btn.setAttribute('aria-current', 'true');
  }
  if (unread) btn.classList.add('is-unread');
  if (s.status === 'finished') btn.classList.add('is-finished');

  const top = h('span', 'dialog-row');
  const icon = h('span', 'channel-icon channel-icon-small');
  icon.title = channelLabel(s.channel);
  icon.appendChild(channelIcon(s.channel));
  top.appendChild(icon);
  top.appendChild(h('span', 'dialog-visitor', (s.visitor && s.visitor.name) || 'Visitor'));
  top.appendChild(h('span', 'dialog-number', `#${s.number !== undefined && s.number !== null ? s.number : '?'}`));
  const lm = s.last_message || null;
  const when = document.createElement('time');
  when.className = 'dialog-time';
  const whenIso = (lm && lm.created_at) || s.updated_at || s.created_at || '';
  if (toDate(whenIso)) when.dateTime = whenIso;
  when.textContent = fmtTime(whenIso, false);
  top.appendChild(when);
  btn.appendChild(top);

  const mid = h('span', 'dialog-row');
  const wrap = h('span', 'dialog-preview-wrap');
  const who = previewAuthor(lm, s);
  if (who) wrap.appendChild(h('span', 'dialog-preview-author', `${who}: `));
  const text =
    lm && lm.text ? (lm.kind === 'file' ? `File: ${lm.text}` : String(lm.text).slice(0, 300)) : 'No messages yet';
  wrap.appendChild(h('span', 'dialog-preview', text));
  mid.appendChild(wrap);
  const badge = h('span', 'dialog-unread', String(unread));
  badge.hidden = !unread;
  mid.appendChild(badge);
  if (unread) mid.appendChild(h('span', 'sr-only', unread === 1 ? ' unread message' : ' unread messages'));
  btn.appendChild(mid);

  const bottom = h('span', 'dialog-row dialog-row-meta');
  const op = s.operator && s.operator.name ? s.operator.name : 'Unassigned';
  bottom.appendChild(h('span', 'dialog-line', `${(s.line && s.line.name) || ''} · ${op}`));
  if (s.unanswered && s.status !== 'finished') bottom.appendChild(h('span', 'dialog-waiting', 'Unanswered'));
  bottom.appendChild(h('span', `dialog-status ${statusClass(s.status)}`, statusLabel(s.status)));
  btn.appendChild(bottom);

  li.appendChild(btn);
  return li;
}

function previewAuthor(lm, s) {
  if (!lm) return '';
  if (lm.author_type === 'operator') {
    if (lm.author_is_me) return 'You';
    if (lm.author_name) return lm.author_name;
    const op = s.operator;
    if (op && S.me && key(op.id) === key(S.me.id)) return 'You';
    return (op && op.name) || 'Operator';
  }
  if (lm.author_type === 'bot') return 'Bot';
  return '';
}

export function wireList() {
  $('filters-toggle').addEventListener('click', () => toggleFilters());
  $('filters').addEventListener('change', () => {
    readFilterControls();
    applyFilter();
  });
  $('filters').addEventListener('submit', (ev) => ev.preventDefault());
  $('filters-reset').addEventListener('click', () => {
    S.filter = { channel: [], type: [], operator: [], status: [], q: S.filter.q };
    applyFilter();
  });
  let searchTimer = 0;
  $('list-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      readFilterControls();
      applyFilter();
    }, 300);
  });
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(searchTimer);
    readFilterControls();
    applyFilter();
  });
  $('load-more').addEventListener('click', () => fetchList(true));
  $('dialog-list').addEventListener('click', (ev) => {
    const item = ev.target.closest('.dialog-item');
    if (item && item.dataset.dialogId) openDialog(item.dataset.dialogId);
  });

  document.addEventListener('visibilitychange', queueListRender);
}
