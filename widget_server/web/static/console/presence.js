// The operator's presence (online, away, offline) and chat limit in the top bar, with the chats they hold.
import { api } from './api.js';
import { $ } from './dom.js';

let timer = 0;

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
  const res = await api('PATCH', '/api/me/presence', change);
  if (res.ok) showPresence(res.data);
  else $('presence-load').textContent = `not saved: ${res.message}`;
}

// On failure the console shows the connection state; the next round tries again.
async function refresh() {
  const res = await api('GET', '/api/me');
  if (res.ok) showPresence(res.data.presence);
}

export function startPresence() {
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 30000); // the active chat count moves as dialogs are taken and closed
}

export function stopPresence() {
  clearInterval(timer);
  $('presence').hidden = true;
}

export function wirePresence() {
  $('presence-status').addEventListener('change', (e) => savePresence({ status: e.target.value }));
  $('presence-limit').addEventListener('change', (e) => {
    const n = Number(e.target.value);
    if (Number.isInteger(n) && n >= 1 && n <= 100) savePresence({ chat_limit: n });
  });
}
