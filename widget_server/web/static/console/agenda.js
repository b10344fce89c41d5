// The "My tasks" page: tasks, events and reminders.
import { api } from './api.js';
import { openDialogById } from './chat.js';
import { $, button, h } from './dom.js';
import { notice } from './notice.js';
import { dismissReminder } from './reminders.js';
import { fmtWhen, stamp } from './time_format.js';

export async function refreshAgendaCount() {
  const res = await api('GET', '/api/tasks');
  if (!res.ok) return;
  const n = (res.data.items || []).length;
  const badge = $('agenda-count');
  badge.textContent = String(n);
  badge.hidden = !n;
}

function dialogButton(dialog) {
  if (!dialog) return null;
  return button('link-button', `Chat #${dialog.number || dialog.id}`, () => openDialogById(dialog.id));
}

// A list of the page: its rows, or a line that says there is nothing.
function fillList(el, rows, emptyText) {
  el.replaceChildren(...rows);
  if (!rows.length) el.appendChild(h('li', 'row fact-missing', emptyText));
}

const whenCell = (iso) => h('span', 'row-when', fmtWhen(iso));

function row(cls, parts) {
  const li = h('li', `row ${cls || ''}`);
  for (const part of parts) if (part) li.appendChild(typeof part === 'string' ? h('span', null, part) : part);
  return li;
}

export async function loadAgenda() {
  const done = $('agenda-show-done').checked;
  const [tasks, events, reminders] = await Promise.all([
    api('GET', `/api/tasks${done ? '?done=all' : ''}`),
    api('GET', '/api/events'),
    api('GET', '/api/reminders'),
  ]);
  const taskRows = (tasks.ok ? tasks.data.items : []).map((t) => {
    const check = document.createElement('input');
    check.type = 'checkbox';
    check.checked = t.done;
    check.setAttribute('aria-label', `Done: ${t.title}`);
    check.addEventListener('change', async () => {
      const res = await api('PATCH', `/api/tasks/${t.id}`, { done: check.checked });
      if (!res.ok) notice(res.message);
      loadAgenda();
      refreshAgendaCount();
    });
    const due = t.due_at ? `due ${fmtWhen(t.due_at)}` : '';
    return row(t.done ? 'done' : '', [check, h('span', 'row-title', t.title), due, dialogButton(t.dialog)]);
  });
  fillList($('agenda-tasks'), taskRows, 'No open tasks. Create one from a chat.');
  const soon = Date.now() - 24 * 3600 * 1000;
  const eventRows = (events.ok ? events.data.items : [])
    .filter((e) => stamp(e.starts_at) >= soon)
    .map((e) => {
      const until = e.ends_at ? `until ${fmtWhen(e.ends_at)}` : '';
      return row('', [whenCell(e.starts_at), h('span', 'row-title', e.title), until, dialogButton(e.dialog)]);
    });
  fillList($('agenda-events'), eventRows, 'Nothing in the calendar.');
  const reminderRows = (reminders.ok ? reminders.data.items : []).map((r) =>
    row(r.fired_at ? 'fired' : '', [
      whenCell(r.remind_at),
      h('span', 'row-title', r.text),
      r.fired_at ? h('span', 'tag', 'due') : '',
      dialogButton(r.dialog),
      button('link-button', r.fired_at ? 'Dismiss' : 'Cancel', () => dismissReminder(r.id)),
    ]),
  );
  fillList($('agenda-reminders'), reminderRows, 'No reminders.');
}

export function wireAgenda() {
  $('agenda-show-done').addEventListener('change', loadAgenda);
}
