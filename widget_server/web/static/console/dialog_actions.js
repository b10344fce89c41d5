// Actions on the open dialog that the server acknowledges by ref: status, close, leave, assign.
import { renderComposerState } from './chat.js';
import { S } from './console_state.js';
import { currentRec, isFinished } from './dialog_records.js';
import { STATUS_TARGETS, statusLabel } from './dialog_status.js';
import { $, button, h } from './dom.js';
import { newClientId } from '../protocol/connection.js';
import { notice } from './notice.js';
import { send } from './socket.js';

// A dialog frame with a ref, acknowledged or refused by `ack` / `error`.
export function dialogAction(what, label, frame) {
  const r = currentRec();
  if (!r) return false;
  const ref = newClientId();
  if (!send(Object.assign({ type: what, dialog_id: r.id, ref }, frame || {}))) {
    notice('Not connected. Try again in a moment.');
    return false;
  }
  S.actionRefs.set(ref, { what, label, key: r.key });
  return true;
}

export function closeCurrent() {
  const r = currentRec();
  if (!r || isFinished(r) || r.closing) return;
  if (dialogAction('close', 'finish the chat')) {
    r.closing = true;
    renderComposerState();
  }
}

export function setStatus(status) {
  closeStatusMenu();
  dialogAction('status', 'change the status', { status });
}

export function openStatusMenu() {
  const r = currentRec();
  if (!r || !r.summary) return;
  const menu = $('status-options');
  menu.replaceChildren();
  const current = r.summary.status;
  for (const target of STATUS_TARGETS[current] || []) {
    const li = h('li');
    li.setAttribute('role', 'none');
    const label = current === 'finished' && target === 'in_progress' ? 'Reopen (in progress)' : statusLabel(target);
    const b = button('menu-item', label, () => setStatus(target));
    b.setAttribute('role', 'menuitem');
    b.dataset.status = target;
    li.appendChild(b);
    menu.appendChild(li);
  }
  menu.hidden = false;
  $('chat-status').setAttribute('aria-expanded', 'true');
  const first = menu.querySelector('button');
  if (first) first.focus();
}

export function closeStatusMenu() {
  $('status-options').hidden = true;
  $('chat-status').setAttribute('aria-expanded', 'false');
}
