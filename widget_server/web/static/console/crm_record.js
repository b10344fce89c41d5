// The CRM screen: the card of a lead or a contact, with its fields, its dialogs and its timeline.
import { api } from './api.js';
import { $, h } from './dom.js';

const TIMELINE_KINDS = {
  created: 'Created',
  filled: 'Filled',
  kept: 'Not overwritten',
  dialog_linked: 'Dialog linked',
  conflict: 'Conflict',
  converted: 'Converted',
  lead_merged: 'Lead merged',
};
let lastFocus = null;

function field(dl, label, value) {
  if (value === null || value === undefined || value === '') return;
  const row = h('div', 'crm-row');
  row.appendChild(h('dt', null, label));
  row.appendChild(h('dd', null, value));
  dl.appendChild(row);
}

export async function openCrmRecord(type, id) {
  const panel = $('crm-panel');
  const body = $('crm-body');
  lastFocus = document.activeElement;
  $('crm-title').textContent = `${type === 'contact' ? 'Contact' : 'Lead'} #${id}`;
  body.replaceChildren(h('p', 'crm-loading', 'Loading…'));
  panel.hidden = false;
  $('crm-close').focus();
  const res = await api('GET', `/api/${type === 'contact' ? 'contacts' : 'leads'}/${encodeURIComponent(id)}`);
  if (!res.ok) {
    body.replaceChildren(h('p', 'crm-error', `Could not load it: ${res.message}`));
    return;
  }
  const card = res.data;
  const rec = card.lead || card.contact;
  body.replaceChildren();
  if (card.lead) $('crm-title').textContent = rec.title || `Lead #${id}`;
  else $('crm-title').textContent = rec.name || rec.email || `Contact #${id}`;
  const dl = h('dl', 'crm-fields');
  field(dl, 'Name', rec.name);
  field(dl, 'E-mail', rec.email);
  field(dl, 'Phone', rec.phone);
  if (card.lead) {
    field(dl, 'Status', rec.status);
    field(dl, 'Source', rec.source === 'website_chat' ? 'Website chat' : rec.source);
    field(dl, 'Line', rec.line_id);
    field(dl, 'Page', rec.page_url);
    if (rec.contact_id) field(dl, 'Merged into', `Contact #${rec.contact_id}`);
  }
  body.appendChild(dl);
  if (card.dialogs && card.dialogs.length) {
    body.appendChild(h('h3', 'crm-sub', 'Dialogs'));
    const ul = h('ul', 'crm-dialogs');
    for (const d of card.dialogs) ul.appendChild(h('li', null, `#${d.number} · ${d.status}`));
    body.appendChild(ul);
  }
  body.appendChild(h('h3', 'crm-sub', 'Timeline'));
  const ol = h('ol', 'crm-timeline');
  for (const e of card.timeline || []) {
    const li = h('li', `crm-event crm-event-${TIMELINE_KINDS[e.kind] ? e.kind : 'other'}`);
    const t = h('time', 'crm-time', new Date(e.created_at).toLocaleString());
    t.dateTime = e.created_at;
    li.appendChild(h('span', 'crm-kind', TIMELINE_KINDS[e.kind] || e.kind));
    li.appendChild(t);
    li.appendChild(h('p', 'crm-text', e.text));
    ol.appendChild(li);
  }
  body.appendChild(ol);
}

export function closeCrmRecord() {
  $('crm-panel').hidden = true;
  if (lastFocus && lastFocus.isConnected) lastFocus.focus();
}

export function wireCrmRecord() {
  $('crm-close').addEventListener('click', closeCrmRecord);
  $('crm-panel').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeCrmRecord();
  });
}
