// The operator who is logged in.
import { S } from './console_state.js';
import { key } from './dialog_records.js';
import { $ } from './dom.js';
import { showPage } from './pages.js';

export function isMe(author) {
  if (!S.me || !author) return false;
  if (author.id !== undefined && author.id !== null) return key(author.id) === key(S.me.id);
  return !!author.name && author.name === S.me.name;
}

export function isAdmin() {
  return !!(S.me && S.me.role === 'admin');
}

export function setMe(op) {
  S.me = op;
  $('operator-name').textContent = op && op.name ? op.name : '';
  $('admin-tab').hidden = !isAdmin();
  if (!isAdmin() && S.page === 'admin') showPage('inbox'); // an admin made an operator while on the page
}
