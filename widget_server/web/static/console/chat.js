// The chat screen: the open dialog's messages, its header and read receipts, and opening a dialog.
import { api } from './api.js';
import { closeCanned, loadCanned } from './canned.js';
import { channelIcon, channelLabel } from './channels.js';
import { markSearchHits, renderSearchCount, searchChat, stepSearch } from './chat_search.js';
import { editPending, focusComposer, PERMANENT_ERRORS, retryPending, stopTyping } from './composer.js';
import { S } from './console_state.js';
import { systemCard } from './contact_card.js';
import { loadDetails, renderDetails } from './details.js';
import { closeStatusMenu, openStatusMenu, setStatus } from './dialog_actions.js';
import { currentRec, isFinished, key, maxVisitorSeq, mergeSummary, seqs } from './dialog_records.js';
import { statusClass, statusLabel } from './dialog_status.js';
import { $, button, h, svgIcon, visible } from './dom.js';
import { fmtSize, httpUrl } from './file_links.js';
import { ICONS } from './icons.js';
import { operatorIdsOf, queueListRender, renderList } from './list.js';
import { isMe } from './me.js';
import { notice } from './notice.js';
import { showPage } from './pages.js';
import { connection, send } from './socket.js';
import { fmtTime, toDate } from './time_format.js';

const AUTHOR_TYPES = new Set(['visitor', 'operator', 'bot', 'system']);
const TYPING_SHOW_MS = 6000; // hide the visitor's typing indicator after this long

export function renderChat() {
  const r = currentRec();
  $('chat-empty').hidden = !!r;
  $('chat').hidden = !r;
  const list = $('chat-messages');
  S.view.clear();
  list.replaceChildren();
  closeStatusMenu();
  closeCanned();
  if (!r) {
    document.body.classList.remove('chat-open');
    renderDetails();
    return;
  }
  renderChatHeader();
  const frag = document.createDocumentFragment();
  const seqs = Array.from(r.msgs.keys()).sort((a, b) => a - b);
  for (const seq of seqs) frag.appendChild(buildMessage(r.msgs.get(seq)));
  for (const p of S.pending.values()) {
    if (p.key !== r.key) continue;
    p.el = null;
    if (p.seq === null) {
      p.el = buildPending(p);
      frag.appendChild(p.el);
    }
  }
  list.appendChild(frag);
  for (const li of list.children) regroup(li);
  renderReceipts();
  renderComposerState();
  markSearchHits();
  scrollToBottom();
}

export function renderChatHeader() {
  const r = currentRec();
  if (!r) return;
  const s = r.summary || {};
  $('chat-number').textContent = `#${s.number !== undefined && s.number !== null ? s.number : '…'}`;
  $('chat-visitor').textContent = (s.visitor && s.visitor.name) || 'Visitor';
  const icon = $('chat-channel');
  icon.replaceChildren(channelIcon(s.channel));
  icon.setAttribute('aria-label', channelLabel(s.channel));
  icon.title = channelLabel(s.channel);
  const st = $('chat-status');
  st.className = `${statusClass(s.status)} status-button`;
  st.textContent = `${statusLabel(s.status)} ▾`;
  const take = $('take-dialog');
  take.hidden = s.status === 'finished';
  take.disabled = s.status === 'in_progress' || !!r.closing;
  take.textContent = s.status === 'in_progress' ? 'In progress ✓' : 'In progress';
  $('chat-line').textContent = (s.line && s.line.name) || (s.line && s.line.id) || '—';
  const names = [s.operator && s.operator.name ? s.operator.name : 'Unassigned'];
  for (const o of s.operators || []) names.push(`+ ${o.name}`);
  $('chat-operator').textContent = names.join(' ');

  const page = $('chat-page');
  page.replaceChildren();
  const url = s.page && typeof s.page.url === 'string' ? s.page.url : '';
  const title = s.page && typeof s.page.title === 'string' ? s.page.title.trim() : '';
  const safe = httpUrl(url);
  if (title) page.appendChild(h('span', 'page-title', title));
  if (url) {
    if (title) page.appendChild(document.createTextNode(' '));
    if (safe) {
      const a = h('a', 'page-url', url);
      a.href = safe;
      a.title = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      page.appendChild(a);
    } else {
      page.appendChild(h('span', 'page-url', url));
    }
  }
  if (!title && !url) page.textContent = '—';
}

export function renderComposerState() {
  const r = currentRec();
  const finished = isFinished(r);
  const note = S.mode === 'note';
  const blocked = !r || (finished && !note); // notes can still be written into a finished chat
  $('reply-input').disabled = blocked;
  $('reply-send').disabled = blocked;
  $('reply-send').textContent = note ? 'Add note' : 'Send';
  $('attach-button').disabled = !r || finished || note;
  $('canned-button').disabled = blocked;
  $('reply-input').placeholder = note
    ? 'A note for your colleagues: the visitor never sees it.'
    : 'Write a reply…  (Enter to send, Shift+Enter for a new line, / for canned replies)';
  $('chat-finished').hidden = !finished;
  $('reply-form').classList.toggle('is-disabled', blocked);
  $('reply-form').classList.toggle('is-note', note);
  const finish = $('finish-dialog');
  finish.disabled = !r || finished || !!(r && r.closing);
  finish.textContent = r && r.closing ? 'Finishing…' : 'Finish chat';
  $('leave-dialog').disabled = !r || finished || !amOnDialog(r);
}

function amOnDialog(r) {
  if (!r || !r.summary || !S.me) return false;
  return operatorIdsOf(r.summary).has(key(S.me.id));
}

function messageType(m) {
  if (m.kind === 'system' || m.kind === 'internal') return 'system';
  if (m.kind === 'note') return 'note';
  const t = m.author && m.author.type;
  return AUTHOR_TYPES.has(t) ? t : 'system';
}

function authorName(m, type) {
  if (type === 'operator' || type === 'note') return isMe(m.author) ? 'You' : (m.author && m.author.name) || 'Operator';
  if (type === 'bot') return (m.author && m.author.name) || 'Bot';
  if (type === 'visitor') {
    const r = S.dialogs.get(key(m.dialog_id));
    return (r && r.summary && r.summary.visitor && r.summary.visitor.name) || (m.author && m.author.name) || 'Visitor';
  }
  return '';
}

function buildFile(file) {
  const box = h('div', 'msg-file');
  const url = httpUrl(file.url);
  if (file.is_image && url) {
    const a = h('a', 'msg-image-link');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    const img = document.createElement('img');
    img.className = 'msg-image';
    img.src = url;
    img.alt = file.name || 'Image';
    img.loading = 'lazy';
    a.appendChild(img);
    box.appendChild(a);
  }
  const link = h(url ? 'a' : 'span', 'msg-file-link');
  link.appendChild(svgIcon(ICONS.clip, 'icon msg-file-icon'));
  link.appendChild(h('span', 'msg-file-name', file.name || 'file'));
  link.appendChild(h('span', 'msg-file-size', fmtSize(file.size)));
  if (url) {
    link.href = url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.setAttribute('download', file.name || '');
  }
  box.appendChild(link);
  return box;
}

export function buildMessage(m) {
  const type = messageType(m);
  const li = h('li', `msg msg-${type}`);
  li.dataset.seq = String(m.seq);
  if (m.kind === 'internal') li.classList.add('msg-internal');
  if (type !== 'system') li.dataset.author = `${type}:${authorName(m, type)}`;
  if (type === 'system') {
    li.appendChild(h('span', 'msg-text', m.text || m.code || ''));
    const card = systemCard(m);
    if (card) {
      li.classList.add('msg-has-card');
      li.appendChild(card);
    }
    const t = h('time', 'msg-time', fmtTime(m.created_at, true));
    if (toDate(m.created_at)) t.dateTime = m.created_at;
    li.appendChild(t);
  } else {
    const label = type === 'note' ? `Note · ${authorName(m, type)}` : authorName(m, type);
    li.appendChild(h('div', 'msg-author', label));
    const bubble = h('div', 'msg-bubble');
    if (m.kind === 'file' && m.file) bubble.appendChild(buildFile(m.file));
    else bubble.appendChild(h('div', 'msg-text', m.text || ''));
    li.appendChild(bubble);
    li.appendChild(buildMeta(m.created_at, type === 'operator'));
  }
  if ((type === 'operator' || type === 'note') && isMe(m.author)) li.classList.add('msg-own');
  S.view.set(m.seq, li);
  return li;
}

function buildMeta(iso, withStatus) {
  const meta = h('div', 'msg-meta');
  const t = h('time', 'msg-time', fmtTime(iso, true));
  if (toDate(iso)) t.dateTime = iso;
  meta.appendChild(t);
  if (withStatus) meta.appendChild(h('span', 'msg-status'));
  return meta;
}

export function buildPending(p) {
  const note = p.kind === 'note';
  const li = h('li', `msg ${note ? 'msg-note' : 'msg-operator'} msg-own msg-pending`);
  li.dataset.clientMsgId = p.cid;
  li.dataset.author = `${note ? 'note' : 'operator'}:You`;
  li.appendChild(h('div', 'msg-author', note ? 'Note · You' : 'You'));
  const bubble = h('div', 'msg-bubble');
  bubble.appendChild(h('div', 'msg-text', p.text));
  li.appendChild(bubble);
  li.appendChild(buildMeta('', true));
  updatePendingElement(p, li);
  return li;
}

export function updatePendingElement(p, el) {
  const li = el || p.el;
  if (!li) return;
  li.classList.toggle('msg-failed', p.status === 'failed');
  const meta = li.querySelector('.msg-meta');
  const status = meta.querySelector('.msg-status');
  for (const old of meta.querySelectorAll('.link-button')) old.remove();
  if (p.status === 'failed') {
    status.textContent = p.error ? `Not sent: ${p.error}` : 'Not sent';
    if (!PERMANENT_ERRORS.has(p.errorCode)) {
      meta.appendChild(button('msg-retry link-button', 'Retry', () => retryPending(p)));
    }
    meta.appendChild(button('msg-edit link-button', 'Edit', () => editPending(p)));
  } else {
    status.textContent = connection.ready ? 'Sending…' : 'Waiting for connection…';
  }
}

export function confirmElement(li, m) {
  li.classList.remove('msg-pending', 'msg-failed');
  delete li.dataset.clientMsgId;
  li.dataset.seq = String(m.seq);
  const oldMeta = li.querySelector('.msg-meta');
  const meta = buildMeta(m.created_at, messageType(m) === 'operator');
  if (oldMeta) oldMeta.replaceWith(meta);
  else li.appendChild(meta);
  S.view.set(m.seq, li);
  const next = li.nextElementSibling;
  li.remove();
  if (next) regroup(next);
  placeMessage(li);
  renderReceipts();
}

// Insert by seq; pending messages (no seq) stay at the end.
export function placeMessage(li) {
  const list = $('chat-messages');
  const seq = li.dataset.seq === undefined ? Infinity : Number(li.dataset.seq);
  let ref = null;
  let c = list.lastElementChild;
  while (c) {
    const cs = c.dataset.seq;
    if (cs === undefined ? seq !== Infinity : Number(cs) > seq) {
      ref = c;
      c = c.previousElementSibling;
    } else {
      break;
    }
  }
  list.insertBefore(li, ref);
  regroup(li);
  if (li.nextElementSibling) regroup(li.nextElementSibling);
}

// Consecutive messages by the same author show the author's name once.
function regroup(li) {
  const prev = li.previousElementSibling;
  const same = !!(prev && li.dataset.author && prev.dataset.author === li.dataset.author);
  li.classList.toggle('msg-grouped', same);
}

export function renderReceipts() {
  const r = currentRec();
  if (!r) return;
  const seenUpTo = r.summary ? r.summary.visitor_seen_seq || 0 : 0;
  for (const [seq, li] of S.view) {
    if (!li.classList.contains('msg-operator')) continue;
    const st = li.querySelector('.msg-status');
    if (!st) continue;
    const seen = seq <= seenUpTo;
    st.textContent = seen ? 'Seen' : 'Sent';
    li.classList.toggle('is-seen', seen);
  }
  for (const p of S.pending.values()) {
    if (p.key === r.key && p.el && p.status === 'sending') updatePendingElement(p);
  }
}

export function nearBottom() {
  const list = $('chat-messages');
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

export function scrollToBottom() {
  const list = $('chat-messages');
  list.scrollTop = list.scrollHeight;
}

export function joinDialog(r) {
  send({ type: 'join', dialog_id: r.id, last_seq: seqs.upTo(r.id) });
}

export function openDialog(k) {
  const r = S.dialogs.get(k);
  if (!r) return;
  showPage('inbox');
  document.body.classList.add('chat-open');
  if (S.currentKey === k) {
    focusComposer();
    return;
  }
  stopTyping();
  hideTyping();
  S.currentKey = k;
  S.search = { q: '', hits: [], index: -1 };
  $('chat-search-input').value = '';
  renderSearchCount();
  S.details = null;
  renderChat();
  renderList();
  joinDialog(r);
  maybeSendSeen();
  focusComposer();
  loadDetails();
  loadCanned(r);
}

// A dialog from a reminder, a task or a record card: it may not be in the list.
export async function openDialogById(id) {
  const k = key(id);
  if (!S.dialogs.get(k) || !S.dialogs.get(k).summary) {
    const res = await api('GET', `/api/dialogs/${encodeURIComponent(k)}`);
    if (!res.ok) {
      notice(`Chat not available: ${res.message}`);
      return;
    }
    mergeSummary(res.data.dialog);
  }
  openDialog(k);
}

export function maybeSendSeen() {
  const r = currentRec();
  if (!r || !r.loaded || !visible() || !connection.ready) return;
  const max = maxVisitorSeq(r);
  const already = Math.max(r.seenSent, r.summary ? r.summary.operator_seen_seq || 0 : 0);
  if (max > already && send({ type: 'seen', dialog_id: r.id, seq: max })) r.seenSent = max;
  if (r.summary && Math.max(r.seenSent, r.summary.operator_seen_seq || 0) >= max) {
    r.summary.operator_seen_seq = Math.max(r.summary.operator_seen_seq || 0, r.seenSent);
    if (r.summary.unread) {
      r.summary.unread = 0;
      queueListRender();
    }
  }
}

export function showTyping() {
  $('chat-typing').hidden = false;
  clearTimeout(S.typingHideTimer);
  S.typingHideTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
}

export function hideTyping() {
  clearTimeout(S.typingHideTimer);
  $('chat-typing').hidden = true;
}

export function wireChat() {
  $('chat-back').addEventListener('click', () => {
    document.body.classList.remove('chat-open');
    const item = document.querySelector(`.dialog-item[data-dialog-id="${CSS.escape(S.currentKey || '')}"]`);
    if (item) item.focus();
  });
  $('chat-status').addEventListener('click', () => {
    if ($('status-options').hidden) openStatusMenu();
    else closeStatusMenu();
  });
  $('status-options').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      closeStatusMenu();
      $('chat-status').focus();
    }
  });
  document.addEventListener('click', (ev) => {
    if (!ev.target.closest('.status-menu')) closeStatusMenu();
    if (!ev.target.closest('.composer')) closeCanned();
  });
  $('take-dialog').addEventListener('click', () => setStatus('in_progress'));
  $('details-toggle').addEventListener('click', () => {
    S.detailsOpen = !S.detailsOpen;
    renderDetails();
    if (S.detailsOpen && !S.details) loadDetails();
  });
  $('chat-search').addEventListener('submit', searchChat);
  $('chat-search-input').addEventListener('search', () => {
    if (!$('chat-search-input').value) searchChat();
  });
  $('chat-search-prev').addEventListener('click', () => stepSearch(-1));
  $('chat-search-next').addEventListener('click', () => stepSearch(1));

  document.addEventListener('visibilitychange', () => {
    if (visible()) maybeSendSeen();
  });
}
