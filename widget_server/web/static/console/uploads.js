// Files the operator attaches: sent over REST, they come back as `message` frames.
import { api } from './api.js';
import { scrollToBottom } from './chat.js';
import { currentRec, isCurrent } from './dialog_records.js';
import { $, h } from './dom.js';
import { fmtSize } from './file_links.js';
import { newClientId } from '../protocol/connection.js';
import { notice } from './notice.js';

export async function uploadFiles(files) {
  const r = currentRec();
  if (!r) return;
  for (const file of files) {
    const cid = newClientId();
    const row = h('li', 'msg msg-operator msg-own msg-pending msg-upload');
    row.appendChild(h('div', 'msg-author', 'You'));
    const bubble = h('div', 'msg-bubble');
    bubble.appendChild(h('div', 'msg-text', `Uploading ${file.name} (${fmtSize(file.size)})…`));
    row.appendChild(bubble);
    if (isCurrent(r)) {
      $('chat-messages').appendChild(row);
      scrollToBottom();
    }
    const params = new URLSearchParams({ name: file.name, client_msg_id: cid });
    const res = await api('POST', `/api/dialogs/${encodeURIComponent(r.key)}/files?${params}`, file, {
      raw: true,
      type: file.type || 'application/octet-stream',
    });
    row.remove();
    if (!res.ok) notice(`${file.name} was not sent: ${res.message}`);
  }
}
