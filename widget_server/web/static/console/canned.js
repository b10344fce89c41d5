// Canned replies: the menu under the composer and `/shortcut` typing.
import { api } from './api.js';
import { submitReply } from './composer.js';
import { S } from './console_state.js';
import { currentRec } from './dialog_records.js';
import { $, h } from './dom.js';

export async function loadCanned(r) {
  const line = r && r.summary && r.summary.line ? r.summary.line.id : null;
  if (!line || S.canned.has(line)) return;
  const res = await api('GET', `/api/lines/${encodeURIComponent(line)}/canned`);
  if (res.ok) S.canned.set(line, res.data.items || []);
}

function cannedForCurrent() {
  const r = currentRec();
  const line = r && r.summary && r.summary.line ? r.summary.line.id : null;
  return (line && S.canned.get(line)) || [];
}

// "/word" right before the caret, at the start or after a space: the canned-reply shortcut being typed.
function shortcutAtCaret() {
  const input = $('reply-input');
  const before = input.value.slice(0, input.selectionStart);
  const m = /(^|\s)\/([\w-]*)$/.exec(before);
  return m ? { word: m[2].toLowerCase(), start: before.length - m[2].length - 1 } : null;
}

export function updateCanned(forceAll) {
  const token = shortcutAtCaret();
  if (!forceAll && !token) {
    closeCanned();
    return;
  }
  const word = token ? token.word : '';
  const all = cannedForCurrent();
  S.cannedItems = all.filter((c) => !word || c.shortcut.startsWith(word) || c.title.toLowerCase().includes(word));
  S.cannedActive = 0;
  renderCanned(all.length === 0);
}

function renderCanned(none) {
  const menu = $('canned-menu');
  menu.replaceChildren();
  if (!S.cannedItems.length) {
    menu.appendChild(
      h('li', 'menu-empty', none ? 'This line has no canned replies yet.' : 'No canned reply starts like that.'),
    );
  }
  S.cannedItems.forEach((c, i) => {
    const li = h('li', 'canned-item');
    li.setAttribute('role', 'option');
    li.id = `canned-${c.id}`;
    li.setAttribute('aria-selected', String(i === S.cannedActive));
    li.appendChild(h('span', 'canned-shortcut', `/${c.shortcut}`));
    li.appendChild(h('span', 'canned-title', c.title));
    li.appendChild(h('span', 'canned-text', c.text));
    li.addEventListener('mousedown', (ev) => {
      ev.preventDefault(); // keep the caret in the textarea
      insertCanned(c);
    });
    menu.appendChild(li);
  });
  menu.hidden = false;
  $('reply-input').setAttribute(
    'aria-activedescendant',
    S.cannedItems[S.cannedActive] ? `canned-${S.cannedItems[S.cannedActive].id}` : '',
  );
}

export function closeCanned() {
  $('canned-menu').hidden = true;
  S.cannedItems = [];
  $('reply-input').removeAttribute('aria-activedescendant');
}

function insertCanned(c) {
  const input = $('reply-input');
  const token = shortcutAtCaret();
  const start = token ? token.start : input.selectionStart;
  const end = input.selectionStart;
  input.value = input.value.slice(0, start) + c.text + input.value.slice(end);
  const caret = start + c.text.length;
  input.setSelectionRange(caret, caret);
  closeCanned();
  input.focus();
}

export function onComposerKey(ev) {
  const menu = $('canned-menu');
  if (!menu.hidden && S.cannedItems.length) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const n = S.cannedItems.length;
      S.cannedActive = (S.cannedActive + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      renderCanned(false);
      return;
    }
    if (ev.key === 'Enter' || ev.key === 'Tab') {
      ev.preventDefault();
      insertCanned(S.cannedItems[S.cannedActive]);
      return;
    }
  }
  if (!menu.hidden && ev.key === 'Escape') {
    ev.preventDefault();
    closeCanned();
    return;
  }
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    submitReply();
  }
}
