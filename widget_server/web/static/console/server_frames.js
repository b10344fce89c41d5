// What each frame from the server changes (docs/protocol.md, "Server → operator").
import {
  buildMessage,
  confirmElement,
  hideTyping,
  joinDialog,
  maybeSendSeen,
  nearBottom,
  placeMessage,
  renderChat,
  renderChatHeader,
  renderComposerState,
  renderReceipts,
  scrollToBottom,
  showTyping,
  updatePendingElement,
} from './chat.js';
import { S } from './console_state.js';
import { queueDetails, renderDetails } from './details.js';
import {
  countVisitorBetween,
  currentRec,
  isCurrent,
  isFinished,
  key,
  mergeSummary,
  rec,
  seqs,
  summaryFromMessage,
} from './dialog_records.js';
import { fetchList, judgeMembership, queueListRender } from './list.js';
import { isMe, setMe } from './me.js';
import { notice } from './notice.js';
import { addReminder } from './reminders.js';
import { toLogin } from './session.js';

export function handleFrame(f) {
  switch (f.type) {
    case 'ready':
      onReady(f);
      break;
    case 'dialog':
      onDialog(f.dialog);
      break;
    case 'joined':
      onJoined(f);
      break;
    case 'message':
      ingest(f, true);
      break;
    case 'typing':
      onTyping(f);
      break;
    case 'seen':
      onSeen(f);
      break;
    case 'ack':
      onAck(f);
      break;
    case 'dialog_deleted':
      onDeleted(f);
      break;
    case 'reminder':
      if (f.reminder) addReminder(f.reminder, true);
      break;
    case 'error':
      onError(f);
      break;
    default:
      break;
  }
}

function onReady(f) {
  if (f.operator) setMe(f.operator);
  if (Array.isArray(f.line_ids)) S.lineIds = f.line_ids.map(String);

  const list = Array.isArray(f.dialogs) ? f.dialogs : [];
  for (const s of list) mergeSummary(s);
  for (const r of Array.isArray(f.reminders) ? f.reminders : []) addReminder(r, false);

  const cur = currentRec();
  if (cur) {
    renderChatHeader();
    joinDialog(cur);
  }
  // The list is the filter's: ask the server again (it missed nothing, but we may have).
  fetchList();
  renderComposerState();
  renderReceipts();
}

function onDialog(s) {
  const r = mergeSummary(s);
  if (!r) return;
  judgeMembership(r);
  if (isCurrent(r)) {
    renderChatHeader();
    renderComposerState();
    renderReceipts();
    if (isFinished(r)) hideTyping();
    queueDetails();
  }
  queueListRender();
}

function onJoined(f) {
  const s = f.dialog;
  if (!s) return;
  const r = rec(s.id);
  const messages = Array.isArray(f.messages) ? f.messages.slice() : [];
  messages.sort((a, b) => a.seq - b.seq);
  const firstLoad = !r.loaded;
  if (!r.loaded) {
    r.loaded = true;
    // History may be shortened by the server: start counting from the first message it sent.
    const first = messages.length ? messages[0].seq : (s.last_seq || 0) + 1;
    seqs.start(s.id, Math.max(0, first - 1));
  }
  for (const m of messages) {
    if (m.dialog_id === undefined || m.dialog_id === null) m.dialog_id = s.id;
    ingest(m, false);
  }
  mergeSummary(s);
  if (isCurrent(r)) {
    renderChatHeader();
    renderComposerState();
    renderReceipts();
    if (firstLoad) scrollToBottom();
    maybeSendSeen();
  }
  queueListRender();
}

export function ingest(m, live) {
  if (!m || m.dialog_id === undefined || m.dialog_id === null || typeof m.seq !== 'number') return;
  const r = rec(m.dialog_id);
  if (!seqs.accept(m.dialog_id, m.seq)) return; // never render a seq twice
  const p = matchPending(r, m);
  r.msgs.set(m.seq, m);
  if (live) {
    summaryFromMessage(r, m);
    judgeMembership(r);
  }
  if (p) p.seq = m.seq;

  if (isCurrent(r)) {
    const stick = nearBottom() || !!p;
    if (p && p.el && p.el.isConnected) {
      confirmElement(p.el, m);
      p.el = null;
    } else {
      placeMessage(buildMessage(m));
    }
    if (m.author && m.author.type === 'visitor') hideTyping();
    if (stick) scrollToBottom();
    if (live) maybeSendSeen();
    if (live && m.kind !== 'text' && m.kind !== 'note') queueDetails();
  } else if (p && p.el) {
    p.el.remove();
    p.el = null;
  }
  if (live) queueListRender();
}

// Our own message coming back: by client_msg_id when the server echoes it, else same text from us.
function matchPending(r, m) {
  if (m.client_msg_id) {
    const p = S.pending.get(m.client_msg_id);
    return p && p.seq === null ? p : null;
  }
  if (!m.author || m.author.type !== 'operator' || !isMe(m.author)) return null;
  for (const p of S.pending.values()) {
    if (p.key === r.key && p.seq === null && p.status === 'sending' && p.text === m.text) return p;
  }
  return null;
}

function onTyping(f) {
  if (f.from !== 'visitor') return;
  const r = currentRec();
  if (!r || key(f.dialog_id) !== r.key) return;
  if (f.active === false) hideTyping();
  else showTyping();
}

function onSeen(f) {
  const r = S.dialogs.get(key(f.dialog_id));
  if (!r || !r.summary || typeof f.seq !== 'number') return;
  const s = r.summary;
  if (f.by === 'visitor') {
    s.visitor_seen_seq = Math.max(s.visitor_seen_seq || 0, f.seq);
    if (isCurrent(r)) renderReceipts();
  } else if (f.by === 'operator' && f.seq > (s.operator_seen_seq || 0)) {
    // Read in another tab (or by a colleague): the unread count goes down here too.
    s.operator_seen_seq = f.seq;
    if (r.loaded && seqs.upTo(r.id) >= (s.last_seq || 0)) s.unread = countVisitorBetween(r, f.seq, s.last_seq || 0);
    else if (f.seq >= (s.last_seq || 0)) s.unread = 0;
    queueListRender();
  }
}

function onAck(f) {
  const p = f.ref ? S.pending.get(f.ref) : null;
  if (p) {
    S.pending.delete(f.ref);
    const r = rec(p.dialogId);
    if (typeof f.seq === 'number' && p.seq !== f.seq) {
      if (seqs.accept(r.id, f.seq)) {
        const m = {
          type: 'message',
          dialog_id: p.dialogId,
          seq: f.seq,
          kind: p.kind,
          author: { type: 'operator', id: S.me ? S.me.id : null, name: S.me ? S.me.name : '' },
          text: p.text,
          client_msg_id: p.cid,
          created_at: new Date().toISOString(),
        };
        r.msgs.set(m.seq, m);
        summaryFromMessage(r, m);
        if (isCurrent(r)) {
          if (p.el && p.el.isConnected) confirmElement(p.el, m);
          else placeMessage(buildMessage(m));
        }
      } else if (p.el) {
        p.el.remove(); // already shown from its `message` frame
      }
      p.seq = f.seq;
    }
    p.el = null;
    if (isCurrent(r)) renderReceipts();
    queueListRender();
    return;
  }
  const action = settleAction(f.ref);
  if (action && action.what === 'leave') notice('You left the chat. It stays with the line.');
}

// A dialog action's answer came (ack or error): it is no longer waited for. Returns the action, if it was one.
function settleAction(ref) {
  const action = ref ? S.actionRefs.get(ref) : null;
  if (!action) return null;
  S.actionRefs.delete(ref);
  const r = S.dialogs.get(action.key);
  if (r) r.closing = false;
  renderComposerState();
  return action;
}

function onError(f) {
  const code = f.code || 'error';
  const text = f.message ? String(f.message) : code;
  if (code === 'unauthenticated') {
    toLogin('Your session has ended. Please log in again.');
    return;
  }
  if (f.ref && S.pending.has(f.ref)) {
    const p = S.pending.get(f.ref);
    p.status = 'failed';
    p.error = text;
    p.errorCode = code;
    if (p.el) updatePendingElement(p);
    notice(`${p.kind === 'note' ? 'Note' : 'Message'} not sent: ${text}`);
    return;
  }
  const action = settleAction(f.ref);
  notice(action ? `Could not ${action.label}: ${text}` : text);
}

function onDeleted(f) {
  const k = key(f.dialog_id);
  const r = S.dialogs.get(k);
  const number = r && r.summary ? r.summary.number : null;
  S.dialogs.delete(k);
  seqs.forget(k);
  S.listKeys.delete(k);
  if (S.currentKey === k) {
    S.currentKey = null;
    S.details = null;
    renderChat();
    renderDetails();
    notice(`Chat${number ? ` #${number}` : ''} was deleted.`);
  }
  queueListRender();
}
