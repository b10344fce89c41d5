// The cards some system messages carry in `data`: the contact a form gave (and where it went in the CRM), a rating.
import { openCrmRecord } from './crm_record.js';
import { h } from './dom.js';

const FIELD_LABELS = { name: 'Name', email: 'E-mail', phone: 'Phone' };

function recordLink(crm) {
  const label = `${crm.type === 'contact' ? 'Contact' : 'Lead'} #${crm.id}`;
  const btn = h('button', 'link-button crm-open', crm.created ? `${label} (new)` : label);
  btn.type = 'button';
  btn.dataset.crmType = crm.type;
  btn.dataset.crmId = String(crm.id);
  btn.addEventListener('click', () => openCrmRecord(crm.type, crm.id));
  return btn;
}

export function systemCard(m) {
  const d = m && m.data;
  if (!d) return null;
  if (m.code === 'dialog_rated') {
    const box = h('div', `rating-card rating-${d.rating === 'good' ? 'good' : 'bad'}`);
    box.appendChild(h('span', 'rating-mark', d.rating === 'good' ? '✓ Good' : '✗ Bad'));
    if (d.comment) box.appendChild(h('q', 'rating-comment', d.comment));
    return box;
  }
  if (m.code !== 'contact_card' || !d.contact) return null;
  const card = h('div', 'contact-card');
  card.setAttribute('aria-label', 'Contact card');
  const dl = h('dl', 'contact-fields');
  for (const key of ['name', 'email', 'phone']) {
    if (!d.contact[key]) continue;
    const row = h('div', 'contact-field');
    row.appendChild(h('dt', null, FIELD_LABELS[key]));
    row.appendChild(h('dd', `contact-${key}`, d.contact[key]));
    dl.appendChild(row);
  }
  card.appendChild(dl);
  if (d.crm) {
    const foot = h('div', 'contact-crm');
    foot.appendChild(recordLink(d.crm));
    if (d.crm.filled && d.crm.filled.length && !d.crm.created) {
      foot.appendChild(h('span', 'contact-note', `filled: ${d.crm.filled.join(', ')}`));
    }
    if (d.crm.conflicts && d.crm.conflicts.length) {
      const ids = d.crm.conflicts.map((c) => `#${c.id} (${c.field})`).join(', ');
      foot.appendChild(h('span', 'contact-note contact-conflict', `also matches contact ${ids}`));
    }
    card.appendChild(foot);
  }
  return card;
}
