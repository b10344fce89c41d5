// The details panel: the dialog's visitor, operators, linked records, agenda, and deleting it.
import { refreshAgendaCount } from './agenda.js';
import { api } from './api.js';
import { openDialogById } from './chat.js';
import { S } from './console_state.js';
import { openCrmRecord } from './crm_record.js';
import { closeCurrent, dialogAction } from './dialog_actions.js';
import { currentRec, key } from './dialog_records.js';
import { $, button, h } from './dom.js';
import { httpUrl } from './file_links.js';
import { operatorIdsOf } from './list.js';
import { notice } from './notice.js';
import { fmtWhen, localToIso } from './time_format.js';

export function queueDetails() {
  clearTimeout(S.detailsTimer);
  S.detailsTimer = setTimeout(loadDetails, 250);
}

export async function loadDetails() {
  const r = currentRec();
  if (!r) return;
  const k = r.key;
  const res = await api('GET', `/api/dialogs/${encodeURIComponent(k)}`);
  if (S.currentKey !== k) return;
  if (!res.ok) {
    if (res.status === 403) notice('This chat is no longer on your lines.');
    return;
  }
  S.details = res.data;
  renderDetails();
}

function fact(id, value) {
  const dd = $(id);
  dd.replaceChildren();
  if (value === null || value === undefined || value === '') {
    dd.appendChild(h('span', 'fact-missing', '—'));
  } else if (value instanceof Node) {
    dd.appendChild(value);
  } else {
    dd.textContent = String(value);
  }
}

// The dialog's own client or lead in the CRM (from a form, or linked by hand): a button that opens its card.
function clientRecord(c) {
  const box = h('span', 'client-records');
  if (c.contact)
    box.appendChild(
      button('link-button record-open', `Client #${c.contact.id}${c.contact.name ? `: ${c.contact.name}` : ''}`, () =>
        openRecord('contact', c.contact.id),
      ),
    );
  if (c.lead)
    box.appendChild(
      button('link-button record-open', `Lead #${c.lead.id}: ${c.lead.title}`, () => openRecord('lead', c.lead.id)),
    );
  return box.children.length ? box : null;
}

export function renderDetails() {
  const aside = $('details');
  const d = S.details;
  const r = currentRec();
  aside.hidden = !r || !S.detailsOpen;
  $('inbox-view').classList.toggle('with-details', !aside.hidden);
  $('details-toggle').setAttribute('aria-expanded', String(!aside.hidden));
  if (!r || !d) return;
  fact('d-client-name', d.client.name);
  fact('d-client-company', d.client.company);
  fact('d-client-email', d.client.email);
  fact('d-client-phone', d.client.phone);
  fact('d-client-record', clientRecord(d.client));
  const p = d.channel.profile || {};
  $('d-channel-title').textContent = `Channel: ${d.channel.label}`;
  const url = httpUrl(p.page_url);
  if (url) {
    const a = h('a', 'page-url', p.page_title || p.page_url);
    a.href = url;
    a.title = p.page_url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    fact('d-page', a);
  } else {
    fact('d-page', p.page_title || p.page_url);
  }
  fact('d-browser', p.browser);
  fact('d-language', p.language);
  fact('d-location', p.location);
  renderOperators(d.dialog);
  renderLinks(d);
  renderDialogAgenda(d);
  $('delete-dialog').hidden = !(d.can && d.can.delete);
  $('delete-confirm').hidden = true;
}

function renderOperators(s) {
  const list = $('d-operators');
  list.replaceChildren();
  if (s.operator) {
    const li = h('li');
    li.appendChild(h('span', 'person', s.operator.name));
    li.appendChild(h('span', 'tag', 'responsible'));
    list.appendChild(li);
  } else {
    list.appendChild(h('li', 'fact-missing', 'Nobody yet: the chat waits in the queue.'));
  }
  for (const o of s.operators || []) {
    const li = h('li');
    li.appendChild(h('span', 'person', o.name));
    li.appendChild(
      button('link-button', 'Remove', () =>
        dialogAction('assign', 'remove the operator', { operator_id: o.id, mode: 'remove' }),
      ),
    );
    list.appendChild(li);
  }
  const select = $('assign-operator');
  const chosen = select.value;
  select.replaceChildren();
  const on = operatorIdsOf(s);
  for (const o of S.operators) {
    if (o.is_active === false) continue;
    const opt = h(
      'option',
      null,
      `${o.name}${S.me && key(o.id) === key(S.me.id) ? ' (you)' : ''}${on.has(key(o.id)) ? ' ✓' : ''}`,
    );
    opt.value = String(o.id);
    select.appendChild(opt);
  }
  if (chosen) select.value = chosen;
}

function renderLinks(d) {
  const list = $('d-links');
  list.replaceChildren();
  if (!d.links.length) list.appendChild(h('li', 'fact-missing', 'Not linked to a lead, client or order.'));
  for (const link of d.links) {
    const li = h('li', 'link-row');
    li.appendChild(button('link-button record-open', link.title, () => openRecord(link.entity_type, link.entity_id)));
    li.appendChild(button('link-button muted', 'Unlink', () => unlink(link.id)));
    list.appendChild(li);
  }
  const type = $('link-type');
  const chosen = type.value;
  type.replaceChildren();
  for (const t of d.link_types || []) {
    const opt = h('option', null, t.label);
    opt.value = t.type;
    type.appendChild(opt);
  }
  if (chosen && [...type.options].some((o) => o.value === chosen)) type.value = chosen;
}

function renderDialogAgenda(d) {
  const list = $('d-agenda');
  list.replaceChildren();
  const item = (cls, kind, text) => {
    const li = h('li', cls);
    li.appendChild(h('span', 'tag', kind));
    li.appendChild(h('span', null, text));
    return li;
  };
  for (const t of d.tasks)
    list.appendChild(item(t.done ? 'done' : '', 'Task', `${t.title}${t.due_at ? ` · due ${fmtWhen(t.due_at)}` : ''}`));
  for (const e of d.events) list.appendChild(item('', 'Event', `${e.title} · ${fmtWhen(e.starts_at)}`));
  for (const r of d.reminders)
    list.appendChild(item(r.fired_at ? 'done' : '', 'Reminder', `${r.text} · ${fmtWhen(r.remind_at)}`));
  if (!list.children.length) list.appendChild(h('li', 'fact-missing', 'Nothing planned for this chat.'));
}

let linkSearchTimer = 0;

let linkSearchToken = 0;

export function searchRecords() {
  clearTimeout(linkSearchTimer);
  linkSearchTimer = setTimeout(async () => {
    const type = $('link-type').value;
    const q = $('link-query').value.trim();
    const token = ++linkSearchToken;
    const path = { order: '/api/orders', lead: '/api/leads', contact: '/api/contacts' }[type];
    const out = $('link-results');
    if (!path) return;
    const res = await api('GET', `${path}?q=${encodeURIComponent(q)}&limit=8`);
    if (token !== linkSearchToken) return;
    out.replaceChildren();
    if (!res.ok) {
      out.appendChild(h('li', 'fact-missing', res.message));
      return;
    }
    const items = res.data.items || [];
    if (!items.length) out.appendChild(h('li', 'fact-missing', 'Nothing found.'));
    for (const item of items) {
      const li = h('li', 'link-row');
      li.appendChild(h('span', 'record-title', recordTitle(type, item)));
      li.appendChild(button('btn btn-ghost btn-small', 'Link', () => link(type, item.id)));
      out.appendChild(li);
    }
  }, 200);
}

function recordTitle(type, item) {
  if (type === 'order')
    return `Order #${item.id}: ${item.title}${item.customer_name ? ` (${item.customer_name})` : ''}`;
  const name =
    item.name || [item.first_name, item.last_name].filter(Boolean).join(' ') || item.title || item.email || '';
  return `${type === 'lead' ? 'Lead' : 'Contact'} #${item.id}${name ? `: ${name}` : ''}`;
}

async function link(type, id) {
  const r = currentRec();
  if (!r) return;
  const res = await api('POST', `/api/dialogs/${encodeURIComponent(r.key)}/links`, {
    entity_type: type,
    entity_id: id,
  });
  if (!res.ok) {
    notice(`Could not link: ${res.message}`);
    return;
  }
  $('link-results').replaceChildren();
  $('link-query').value = '';
  loadDetails();
}

async function unlink(linkId) {
  const r = currentRec();
  if (!r) return;
  const res = await api('DELETE', `/api/dialogs/${encodeURIComponent(r.key)}/links/${linkId}`);
  if (!res.ok) notice(`Could not unlink: ${res.message}`);
  loadDetails();
}

export async function createOrder(ev) {
  ev.preventDefault();
  const title = $('order-title').value.trim();
  if (!title) return;
  const raw = $('order-amount').value.trim().replace(',', '.');
  const body = { title };
  if (raw) {
    const amount = Number(raw);
    if (!(amount >= 0)) {
      notice('The amount must be a number, like 25.99.');
      return;
    }
    body.amount_minor = Math.round(amount * 100);
  }
  const res = await api('POST', '/api/orders', body);
  if (!res.ok) {
    notice(`Could not create the order: ${res.message}`);
    return;
  }
  $('order-title').value = '';
  $('order-amount').value = '';
  await link('order', res.data.id);
}

// The linked record's card, in the panel. Orders are ours; leads and contacts come from the CRM.
async function openRecord(type, id) {
  if (type === 'lead' || type === 'contact') {
    openCrmRecord(type, id); // the CRM's own card, with its timeline and chats
    return;
  }
  const card = $('record-card');
  const path = { order: `/api/orders/${id}`, lead: `/api/leads/${id}`, contact: `/api/contacts/${id}` }[type];
  if (!path) return;
  const res = await api('GET', path);
  card.replaceChildren();
  card.hidden = false;
  const close = button('link-button record-close', 'Close', () => {
    card.hidden = true;
  });
  if (!res.ok) {
    card.appendChild(h('p', 'fact-missing', res.message));
    card.appendChild(close);
    return;
  }
  const item = res.data;
  card.appendChild(h('h4', 'record-heading', recordTitle(type, item)));
  const dl = h('dl', 'facts');
  const rows = [];
  if (type === 'order') {
    const amount =
      item.amount_minor === null || item.amount_minor === undefined
        ? null
        : `${(item.amount_minor / 100).toFixed(2)}${item.currency ? ` ${item.currency}` : ''}`;
    rows.push(
      ['Status', item.status],
      ['Amount', amount],
      ['Customer', item.customer_name],
      ['Created', fmtWhen(item.created_at)],
    );
  } else {
    for (const name of ['name', 'email', 'phone', 'status', 'source'])
      if (item[name]) rows.push([name[0].toUpperCase() + name.slice(1), item[name]]);
  }
  for (const [label, value] of rows) {
    const div = h('div');
    div.appendChild(h('dt', null, label));
    div.appendChild(h('dd', null, value === null || value === undefined || value === '' ? '—' : String(value)));
    dl.appendChild(div);
  }
  card.appendChild(dl);
  const chats = item.dialog_ids || [];
  if (chats.length) {
    const p = h('p', 'record-chats', 'Chats: ');
    for (const dialogId of chats) p.appendChild(button('link-button', `#${dialogId}`, () => openDialogById(dialogId)));
    card.appendChild(p);
  }
  card.appendChild(close);
}

export function openAgendaForm(id) {
  for (const form of ['task-form', 'event-form', 'reminder-form']) $(form).hidden = form !== id || !$(form).hidden;
  const form = $(id);
  if (!form.hidden) {
    const first = form.querySelector('input');
    if (first) first.focus();
    if (id === 'reminder-form' && !form.elements.remind_at.value) {
      const soon = new Date(Date.now() + 60 * 60 * 1000);
      soon.setSeconds(0, 0);
      form.elements.remind_at.value = new Date(soon.getTime() - soon.getTimezoneOffset() * 60000)
        .toISOString()
        .slice(0, 16);
    }
  }
}

export async function submitAgenda(ev, path, build) {
  ev.preventDefault();
  const r = currentRec();
  const form = ev.target;
  if (!r) return;
  const body = build(form.elements);
  if (!body) return;
  body.dialog_id = Number(r.key);
  const res = await api('POST', path, body);
  if (!res.ok) {
    notice(res.message);
    return;
  }
  form.reset();
  form.hidden = true;
  loadDetails();
  refreshAgendaCount();
}

export async function deleteCurrent() {
  const r = currentRec();
  if (!r) return;
  $('delete-confirm').hidden = true;
  const res = await api('DELETE', `/api/dialogs/${encodeURIComponent(r.key)}`);
  if (!res.ok) notice(`Could not delete the chat: ${res.message}`);
  // The `dialog_deleted` frame clears it from the screen, here and on every colleague's console.
}

export function askDelete() {
  const r = currentRec();
  if (!r || !r.summary) return;
  $('delete-confirm-text').textContent =
    `Delete chat #${r.summary.number} with all its messages, notes and files? This cannot be undone.`;
  $('delete-confirm').hidden = false;
  $('delete-no').focus();
}

export function wireDetails() {
  $('assign-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const mode = ev.submitter && ev.submitter.value ? ev.submitter.value : 'transfer';
    const id = Number($('assign-operator').value);
    if (id)
      dialogAction('assign', mode === 'add' ? 'add the operator' : 'reassign the chat', { operator_id: id, mode });
  });
  $('link-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('link-query').addEventListener('input', searchRecords);
  $('link-query').addEventListener('focus', searchRecords);
  $('link-type').addEventListener('change', searchRecords);
  $('order-form').addEventListener('submit', createOrder);
  for (const b of document.querySelectorAll('[data-open-form]'))
    b.addEventListener('click', () => openAgendaForm(b.dataset.openForm));
  $('task-form').addEventListener('submit', (ev) =>
    submitAgenda(ev, '/api/tasks', (f) => ({ title: f.title.value, due_at: localToIso(f.due_at.value) })),
  );
  $('event-form').addEventListener('submit', (ev) =>
    submitAgenda(ev, '/api/events', (f) => {
      const starts = localToIso(f.starts_at.value);
      if (!starts) return null;
      return { title: f.title.value, starts_at: starts, ends_at: localToIso(f.ends_at.value) };
    }),
  );
  $('reminder-form').addEventListener('submit', (ev) =>
    submitAgenda(ev, '/api/reminders', (f) => {
      const at = localToIso(f.remind_at.value);
      return at ? { text: f.text.value, remind_at: at } : null;
    }),
  );
  $('finish-dialog').addEventListener('click', closeCurrent);
  $('leave-dialog').addEventListener('click', () => dialogAction('leave', 'leave the chat'));
  $('delete-dialog').addEventListener('click', askDelete);
  $('delete-no').addEventListener('click', () => {
    $('delete-confirm').hidden = true;
  });
  $('delete-yes').addEventListener('click', deleteCurrent);
}
