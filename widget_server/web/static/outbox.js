/* The console's Outbox page: lists what Openline e-mailed to visitors, or keeps to e-mail, and why one failed.
 * Reads GET /api/outbox (docs/api.md) with the console's session cookie. Every value goes in as textContent. */
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const state = { status: 'all', selected: null, admin: false, items: [] };
  const LABELS = { pending: 'Waiting', sending: 'Sending', sent: 'Sent', failed: 'Failed', held: 'Held (no SMTP)' };

  async function api(path, options = {}) {
    const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options });
    if (res.status === 401) { $('ob-login').hidden = false; throw new Error('unauthenticated'); }
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function pill(item) {
    const key = item.held ? 'held' : item.status;
    const span = document.createElement('span');
    span.className = `ob-pill ob-pill-${key}`;
    span.textContent = LABELS[key] || key;
    return span;
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  }

  function render(data) {
    $('ob-held').hidden = data.smtp_configured;
    const counts = data.counts || {};
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    for (const el of document.querySelectorAll('[data-count]')) {
      const n = el.dataset.count === 'all' ? total : counts[el.dataset.count] || 0;
      el.textContent = n ? String(n) : '';
    }
    state.items = data.items;
    const rows = $('ob-rows');
    rows.replaceChildren();
    for (const item of data.items) {
      const tr = document.createElement('tr');
      tr.tabIndex = 0;
      tr.dataset.id = item.id;
      tr.setAttribute('aria-selected', String(item.id === state.selected));
      const status = document.createElement('td');
      status.append(pill(item));
      if (item.status === 'failed' && item.last_error) {
        const reason = document.createElement('span');
        reason.className = 'ob-reason';
        reason.textContent = item.last_error;
        status.append(reason);
      }
      tr.append(status, cell(item.to), cell(item.subject), cell(when(item.created_at)));
      tr.addEventListener('click', () => select(item.id));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(item.id); });
      rows.append(tr);
    }
    $('ob-empty').hidden = data.items.length > 0;
  }

  async function load() {
    try {
      render(await api(`/api/outbox?status=${encodeURIComponent(state.status)}&limit=200`));
    } catch (err) { if (err.message !== 'unauthenticated') console.error(err); }
  }

  async function select(id) {
    state.selected = id;
    for (const tr of $('ob-rows').children) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === id));
    const item = await api(`/api/outbox/${id}`);
    $('ob-detail').hidden = false;
    $('ob-subject').textContent = item.subject;
    $('ob-to').textContent = item.to;
    $('ob-kind').textContent = item.kind;
    $('ob-status').replaceChildren(pill(item));
    $('ob-attempts').textContent = String(item.attempts);
    $('ob-error').textContent = item.last_error || '—';
    $('ob-msgid').textContent = item.message_id;
    $('ob-text').textContent = item.text;
    $('ob-retry').hidden = !(state.admin && item.status === 'failed');
  }

  async function retry() {
    if (state.selected == null) return;
    await api(`/api/outbox/${state.selected}/retry`, { method: 'POST' });
    await load();
    await select(state.selected);
  }

  async function start() {
    try {
      const me = await api('/api/me');
      state.admin = me.operator && me.operator.role === 'admin';
    } catch { return; }
    for (const tab of document.querySelectorAll('.ob-tab')) {
      tab.addEventListener('click', () => {
        state.status = tab.dataset.status;
        for (const t of document.querySelectorAll('.ob-tab')) t.setAttribute('aria-pressed', String(t === tab));
        load();
      });
    }
    $('ob-retry').addEventListener('click', retry);
    await load();
    setInterval(load, 10000);
  }

  start();
})();
