/* Openline console: contact cards, operator presence and the CRM record card (issue 3).
 *
 * Kept apart from console.js so that the inbox can grow there: console.js calls
 * OpenlineConsoleCrm.start() / stop() around a session and systemCard(message) for system messages.
 * Every server-provided text goes in with textContent.
 */
'use strict';

window.OpenlineConsoleCrm = (() => {
  const $ = (id) => document.getElementById(id);
  const FIELD_LABELS = { name: 'Name', email: 'E-mail', phone: 'Phone' };
  const TIMELINE_KINDS = {
    created: 'Created', filled: 'Filled', kept: 'Not overwritten', dialog_linked: 'Dialog linked',
    conflict: 'Conflict', converted: 'Converted', lead_merged: 'Lead merged',
  };
  let lastFocus = null;

  function h(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new Error((data && data.error && data.error.message) || `HTTP ${res.status}`);
    return data;
  }

  // ---------------------------------------------------------------- contact card in the conversation

  function recordLink(crm) {
    const label = `${crm.type === 'contact' ? 'Contact' : 'Lead'} #${crm.id}`;
    const btn = h('button', 'link-button crm-open', crm.created ? `${label} (new)` : label);
    btn.type = 'button';
    btn.dataset.crmType = crm.type;
    btn.dataset.crmId = String(crm.id);
    btn.addEventListener('click', () => openRecord(crm.type, crm.id));
    return btn;
  }

  function systemCard(m) {
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

  // ---------------------------------------------------------------- the record card (lead or contact)

  function field(dl, label, value) {
    if (value === null || value === undefined || value === '') return;
    const row = h('div', 'crm-row');
    row.appendChild(h('dt', null, label));
    row.appendChild(h('dd', null, value));
    dl.appendChild(row);
  }

  async function openRecord(type, id) {
    const panel = $('crm-panel');
    const body = $('crm-body');
    lastFocus = document.activeElement;
    $('crm-title').textContent = `${type === 'contact' ? 'Contact' : 'Lead'} #${id}`;
    body.replaceChildren(h('p', 'crm-loading', 'Loading…'));
    panel.hidden = false;
    $('crm-close').focus();
    let card;
    try {
      card = await api('GET', `/api/${type === 'contact' ? 'contacts' : 'leads'}/${encodeURIComponent(id)}`);
    } catch (e) {
      body.replaceChildren(h('p', 'crm-error', `Could not load it: ${e.message}`));
      return;
    }
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

  function closeRecord() {
    $('crm-panel').hidden = true;
    if (lastFocus && lastFocus.isConnected) lastFocus.focus();
  }

  // ---------------------------------------------------------------- presence and chat limit

  function showPresence(p) {
    if (!p) return;
    $('presence').hidden = false;
    $('presence-status').value = p.status;
    $('presence-limit').value = String(p.chat_limit);
    $('presence-load').textContent = `${p.active_chats}/${p.chat_limit}`;
    $('presence').dataset.effective = p.effective;
    $('presence-load').title = p.effective === p.status ? '' : `Seen as ${p.effective}`;
  }

  async function savePresence(change) {
    try {
      showPresence(await api('PATCH', '/api/me/presence', change));
    } catch (e) {
      $('presence-load').textContent = `not saved: ${e.message}`;
    }
  }

  async function refresh() {
    try {
      showPresence((await api('GET', '/api/me')).presence);
    } catch (e) {
      /* the console shows the connection state; try again later */
    }
  }

  let timer = 0;
  function start() {
    refresh();
    clearInterval(timer);
    timer = setInterval(refresh, 30000); // the active chat count moves as dialogs are taken and closed
  }

  function stop() {
    clearInterval(timer);
    $('presence').hidden = true;
    $('crm-panel').hidden = true;
  }

  function boot() {
    $('presence-status').addEventListener('change', (e) => savePresence({ status: e.target.value }));
    $('presence-limit').addEventListener('change', (e) => {
      const n = Number(e.target.value);
      if (Number.isInteger(n) && n >= 1 && n <= 100) savePresence({ chat_limit: n });
    });
    $('crm-close').addEventListener('click', closeRecord);
    $('crm-panel').addEventListener('keydown', (e) => {
      if (e.key === 'Escape') closeRecord();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();

  return { start, stop, systemCard, openRecord };
})();
