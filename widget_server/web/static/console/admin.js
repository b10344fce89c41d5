// The admin page: operators, lines, canned replies and the audit log.
import { api } from './api.js';
import { S } from './console_state.js';
import { $, button, h } from './dom.js';
import { isAdmin } from './me.js';
import { notice } from './notice.js';
import { fmtWhen } from './time_format.js';

let adminLines = [];

export async function loadAdmin() {
  if (!isAdmin()) return;
  const [ops, lines, audit] = await Promise.all([
    api('GET', '/api/operators'),
    api('GET', '/api/lines'),
    api('GET', '/api/audit?limit=50'),
  ]);
  adminLines = lines.ok ? lines.data.items : [];
  if (ops.ok) S.operators = ops.data.items;
  renderAdminOperators();
  renderAdminLines();
  const select = $('canned-line');
  const chosen = select.value;
  select.replaceChildren();
  for (const l of adminLines) {
    const opt = h('option', null, l.name);
    opt.value = l.id;
    select.appendChild(opt);
  }
  if (chosen) select.value = chosen;
  loadAdminCanned();
  const tbody = $('admin-audit').tBodies[0];
  tbody.replaceChildren();
  for (const e of audit.ok ? audit.data.items : []) {
    const tr = h('tr');
    tr.appendChild(h('td', null, fmtWhen(e.created_at)));
    tr.appendChild(h('td', null, e.actor.email));
    tr.appendChild(h('td', null, `${e.action} ${e.entity.type} ${e.entity.id}`));
    tr.appendChild(h('td', null, auditDetails(e.action, e.details || {})));
    tbody.appendChild(tr);
  }
  if (!tbody.children.length) {
    const tr = h('tr');
    const td = h('td', 'fact-missing', 'Nothing recorded so far.');
    td.colSpan = 4;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
}

// One line of plain text per audit entry (docs/api.md lists the actions); unknown ones show their data.
function auditDetails(action, d) {
  const list = (xs) => (Array.isArray(xs) && xs.length ? xs.join(', ') : 'none');
  switch (action) {
    case 'dialog.delete':
      return `chat #${d.number}, ${d.messages} entries, ${d.files} files, line ${d.line_id}`;
    case 'operator.create':
      return `${d.email} (${d.role}), lines: ${list(d.line_ids)}`;
    case 'operator.rename':
    case 'operator.role':
      return `${d.from} → ${d.to}`;
    case 'operator.disable':
    case 'operator.enable':
      return String(d.email || '');
    case 'operator.lines':
      return `added: ${list(d.added)}; removed: ${list(d.removed)}`;
    case 'operator.password':
      return `new password for ${d.email}`;
    case 'line.create':
      return `${d.name}, origins: ${list(d.allowed_origins)}`;
    case 'line.update':
      return `changed: ${list(Object.keys(d.changed || {}))}`;
    case 'canned.delete':
      return `/${d.shortcut} on line ${d.line_id}`;
    default:
      return JSON.stringify(d);
  }
}

function linePicks(container, chosen) {
  container.replaceChildren();
  for (const l of adminLines) {
    const label = h('label', 'pick');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = l.id;
    input.checked = chosen.includes(l.id);
    label.appendChild(input);
    label.appendChild(document.createTextNode(` ${l.name}`));
    container.appendChild(label);
  }
}

export function checkedValues(container) {
  return [...container.querySelectorAll('input[type=checkbox]:checked')].map((i) => i.value);
}

// A row's Save button: PATCH what the row holds now, then show the page as the server has it.
function saveCell(path, read, savedName) {
  const td = h('td');
  const save = button('btn btn-ghost btn-small', 'Save', async () => {
    const body = read();
    const res = await api('PATCH', path, body);
    notice(res.ok ? `${savedName(body)} saved.` : res.message);
    if (res.ok) loadAdmin();
  });
  td.appendChild(save);
  return td;
}

function renderAdminOperators() {
  const tbody = $('admin-operators').tBodies[0];
  tbody.replaceChildren();
  for (const o of S.operators) {
    const tr = h('tr');
    tr.appendChild(h('td', null, o.name));
    tr.appendChild(h('td', null, o.email));
    const role = document.createElement('select');
    for (const value of ['operator', 'admin']) {
      const opt = h('option', null, value === 'admin' ? 'Admin' : 'Operator');
      opt.value = value;
      role.appendChild(opt);
    }
    role.value = o.role;
    role.setAttribute('aria-label', `Role of ${o.name}`);
    const roleTd = h('td');
    roleTd.appendChild(role);
    tr.appendChild(roleTd);
    const active = document.createElement('input');
    active.type = 'checkbox';
    active.checked = o.is_active;
    active.setAttribute('aria-label', `${o.name} can log in`);
    const activeTd = h('td');
    activeTd.appendChild(active);
    tr.appendChild(activeTd);
    const picksTd = h('td');
    const picks = h('div', 'picks');
    linePicks(picks, o.line_ids || []);
    picksTd.appendChild(picks);
    tr.appendChild(picksTd);
    tr.appendChild(
      saveCell(
        `/api/operators/${o.id}`,
        () => ({
          role: role.value,
          is_active: active.checked,
          line_ids: checkedValues(picks),
        }),
        () => o.name,
      ),
    );
    tbody.appendChild(tr);
  }
  linePicks($('operator-create').querySelector('.line-picks'), []);
  const legend = h('legend', null, 'Lines');
  $('operator-create').querySelector('.line-picks').prepend(legend);
}

function renderAdminLines() {
  const tbody = $('admin-lines').tBodies[0];
  tbody.replaceChildren();
  for (const l of adminLines) {
    const tr = h('tr');
    const name = document.createElement('input');
    name.value = l.name;
    name.setAttribute('aria-label', 'Line name');
    const origins = document.createElement('input');
    origins.value = (l.allowed_origins || []).join(', ');
    origins.setAttribute('aria-label', 'Allowed sites');
    const language = document.createElement('input');
    language.value = l.language;
    language.className = 'narrow';
    language.setAttribute('aria-label', 'Language');
    const greeting = document.createElement('input');
    greeting.value = l.greeting || '';
    greeting.setAttribute('aria-label', 'Greeting');
    for (const [cell, input] of [
      [h('td'), name],
      [h('td', 'mono', l.id), null],
      [h('td'), language],
      [h('td'), origins],
      [h('td'), greeting],
    ]) {
      if (input) cell.appendChild(input);
      tr.appendChild(cell);
    }
    tr.appendChild(
      saveCell(
        `/api/lines/${encodeURIComponent(l.id)}`,
        () => ({
          name: name.value.trim(),
          language: language.value.trim(),
          greeting: greeting.value,
          allowed_origins: origins.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }),
        (body) => body.name,
      ),
    );
    tbody.appendChild(tr);
  }
}

export async function loadAdminCanned() {
  const line = $('canned-line').value;
  const tbody = $('admin-canned').tBodies[0];
  tbody.replaceChildren();
  if (!line) return;
  const res = await api('GET', `/api/lines/${encodeURIComponent(line)}/canned`);
  const items = res.ok ? res.data.items : [];
  S.canned.set(line, items);
  for (const c of items) {
    const tr = h('tr');
    const shortcut = document.createElement('input');
    shortcut.value = `/${c.shortcut}`;
    shortcut.className = 'narrow mono';
    shortcut.setAttribute('aria-label', 'Shortcut');
    const title = document.createElement('input');
    title.value = c.title;
    title.setAttribute('aria-label', 'Title');
    const text = document.createElement('textarea');
    text.value = c.text;
    text.rows = 2;
    text.setAttribute('aria-label', 'Text');
    for (const input of [shortcut, title, text]) {
      const td = h('td');
      td.appendChild(input);
      tr.appendChild(td);
    }
    const td = h('td', 'actions');
    td.appendChild(
      button('btn btn-ghost btn-small', 'Save', async () => {
        const r = await api('PATCH', `/api/canned/${c.id}`, {
          shortcut: shortcut.value,
          title: title.value,
          text: text.value,
        });
        notice(r.ok ? 'Canned reply saved.' : r.message);
        loadAdminCanned();
      }),
    );
    td.appendChild(
      button('btn btn-ghost btn-small', 'Delete', async () => {
        const r = await api('DELETE', `/api/canned/${c.id}`);
        if (!r.ok) notice(r.message);
        loadAdminCanned();
      }),
    );
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  if (!items.length) {
    const tr = h('tr');
    const td = h('td', 'fact-missing', 'No canned replies on this line yet.');
    td.colSpan = 4;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
}

export async function adminCreate(ev, path, build, after) {
  ev.preventDefault();
  const form = ev.target;
  const body = build(form);
  const res = await api('POST', typeof path === 'function' ? path() : path, body);
  if (!res.ok) {
    notice(res.message);
    return;
  }
  form.reset();
  notice('Saved.');
  after();
}

export function wireAdmin() {
  $('canned-line').addEventListener('change', loadAdminCanned);
  $('operator-create').addEventListener('submit', (ev) =>
    adminCreate(
      ev,
      '/api/operators',
      (f) => ({
        email: f.elements.email.value.trim(),
        name: f.elements.name.value.trim(),
        password: f.elements.password.value,
        role: f.elements.role.value,
        line_ids: checkedValues(f.querySelector('.line-picks')),
      }),
      loadAdmin,
    ),
  );
  $('line-create').addEventListener('submit', (ev) =>
    adminCreate(
      ev,
      '/api/lines',
      (f) => ({
        name: f.elements.name.value.trim(),
        allowed_origins: f.elements.allowed_origins.value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        language: f.elements.language.value.trim() || 'en',
        greeting: f.elements.greeting.value,
      }),
      loadAdmin,
    ),
  );
  $('canned-create').addEventListener('submit', (ev) =>
    adminCreate(
      ev,
      () => `/api/lines/${encodeURIComponent($('canned-line').value)}/canned`,
      (f) => ({ shortcut: f.elements.shortcut.value, title: f.elements.title.value, text: f.elements.text.value }),
      loadAdminCanned,
    ),
  );
}
