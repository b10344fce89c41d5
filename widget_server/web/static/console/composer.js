// The composer: replies and notes (kept until acknowledged, retried, edited back), typing, the mode.
import { frameFits, newClientId } from '../protocol/connection.js';
import { closeCanned, onComposerKey, updateCanned } from './canned.js';
import { buildPending, placeMessage, renderComposerState, scrollToBottom, updatePendingElement } from './chat.js';
import { S } from './console_state.js';
import { currentRec, isFinished } from './dialog_records.js';
import { $ } from './dom.js';
import { notice } from './notice.js';
import { connection, send } from './socket.js';
import { uploadFiles } from './uploads.js';

const TYPING_SEND_EVERY_MS = 2000; // send `typing` at most this often
const TYPING_IDLE_MS = 4000; // stop "typing" after this long without input
export const PERMANENT_ERRORS = new Set(['too_long', 'invalid', 'forbidden', 'dialog_closed', 'no_dialog']);

export function focusComposer() {
  const input = $('reply-input');
  if (!input.disabled) input.focus();
}

export function submitReply() {
  const r = currentRec();
  const input = $('reply-input');
  const kind = S.mode === 'note' ? 'note' : 'text';
  if (!r || (isFinished(r) && kind !== 'note')) return;
  const text = input.value.trim();
  if (!text) return;
  const cid = newClientId();
  const frame = { type: kind === 'note' ? 'note' : 'send', dialog_id: r.id, client_msg_id: cid, text };
  if (!frameFits(frame)) {
    notice('This message is too long. Please shorten it.');
    return;
  }
  const p = { cid, kind, dialogId: r.id, key: r.key, text, status: 'sending', seq: null, el: null, error: '' };
  S.pending.set(cid, p);
  input.value = '';
  closeCanned();
  stopTyping();
  p.el = buildPending(p);
  placeMessage(p.el);
  scrollToBottom();
  transmit(p);
}

// Kept by the connection until acknowledged, and sent again after a reconnect with the same client_msg_id.
export function transmit(p) {
  connection.deliver({
    type: p.kind === 'note' ? 'note' : 'send',
    dialog_id: p.dialogId,
    client_msg_id: p.cid,
    text: p.text,
  });
}

// Take a failed message back into the composer and drop it from the conversation.
export function editPending(p) {
  S.pending.delete(p.cid);
  if (p.el) p.el.remove();
  p.el = null;
  setMode(p.kind === 'note' ? 'note' : 'reply');
  const input = $('reply-input');
  if (!input.disabled) {
    input.value = p.text;
    input.focus();
  }
}

export function retryPending(p) {
  p.status = 'sending';
  p.error = '';
  p.errorCode = '';
  if (p.el) updatePendingElement(p);
  transmit(p);
}

export function failInFlight(reason) {
  for (const p of S.pending.values()) {
    if (p.status === 'sending' && p.seq === null) {
      p.status = 'failed';
      p.error = reason;
      p.errorCode = 'too_big';
      if (p.el) updatePendingElement(p);
    }
  }
  notice(reason);
}

export function setMode(mode) {
  S.mode = mode === 'note' ? 'note' : 'reply';
  for (const radio of document.querySelectorAll('input[name=mode]')) radio.checked = radio.value === S.mode;
  renderComposerState();
}

export function onInput() {
  updateCanned();
  const r = currentRec();
  const input = $('reply-input');
  if (!r || isFinished(r) || S.mode === 'note') return; // a note is nothing the visitor should see coming
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (now - S.typingSentAt >= TYPING_SEND_EVERY_MS) {
    if (send({ type: 'typing', dialog_id: r.id, active: true })) {
      S.typingSentAt = now;
      S.typingOn = true;
      S.typingDialogId = r.id;
    }
  }
  clearTimeout(S.typingIdleTimer);
  S.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(S.typingIdleTimer);
  if (S.typingOn) {
    send({ type: 'typing', dialog_id: S.typingDialogId, active: false });
    S.typingOn = false;
  }
}

export function wireComposer() {
  $('reply-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitReply();
  });
  for (const radio of document.querySelectorAll('input[name=mode]')) {
    radio.addEventListener('change', () => {
      setMode(radio.value);
      stopTyping();
      focusComposer();
    });
  }
  const input = $('reply-input');
  input.addEventListener('input', onInput);
  input.addEventListener('blur', stopTyping);
  input.addEventListener('keydown', onComposerKey);
  $('canned-button').addEventListener('click', () => {
    if (!$('canned-menu').hidden) {
      closeCanned();
      return;
    }
    input.focus();
    updateCanned(true);
  });
  $('attach-button').addEventListener('click', () => $('attach-input').click());
  $('attach-input').addEventListener('change', () => {
    const files = [...$('attach-input').files];
    $('attach-input').value = '';
    uploadFiles(files);
  });
}
