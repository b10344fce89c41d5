// Reminders that fired: shown until dismissed, in every console of the operator.
import { loadAgenda } from './agenda.js';
import { api } from './api.js';
import { openDialogById } from './chat.js';
import { S } from './console_state.js';
import { key } from './dialog_records.js';
import { $, button, h, svgIcon } from './dom.js';
import { ICONS } from './icons.js';
import { notice } from './notice.js';
import { fmtWhen } from './time_format.js';

export function addReminder(r, live) {
  if (!r || r.dismissed_at) return;
  S.reminders.set(key(r.id), r);
  renderAlerts();
  if (live && document.visibilityState !== 'visible') document.title = `Reminder: ${r.text}`;
}

export function renderAlerts() {
  const box = $('alerts');
  box.replaceChildren();
  for (const r of S.reminders.values()) {
    const item = h('div', 'alert');
    item.setAttribute('role', 'alert');
    item.appendChild(svgIcon(ICONS.bell, 'icon alert-icon'));
    const body = h('div', 'alert-body');
    body.appendChild(h('strong', 'alert-title', r.text));
    body.appendChild(h('span', 'alert-when', `Reminder for ${fmtWhen(r.remind_at)}`));
    item.appendChild(body);
    if (r.dialog) {
      item.appendChild(
        button('btn btn-ghost btn-small', `Open chat #${r.dialog.number || r.dialog.id}`, () =>
          openDialogById(r.dialog.id),
        ),
      );
    }
    item.appendChild(button('btn btn-primary btn-small', 'Dismiss', () => dismissReminder(r.id)));
    box.appendChild(item);
  }
}

export async function dismissReminder(id) {
  const res = await api('POST', `/api/reminders/${id}/dismiss`);
  if (!res.ok && res.status !== 404) {
    notice(res.message);
    return;
  }
  S.reminders.delete(key(id));
  renderAlerts();
  if (S.page === 'agenda') loadAgenda();
}
