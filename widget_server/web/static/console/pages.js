// The pages of the console (inbox, my tasks, admin) and the tabs between them.
import { loadAdmin } from './admin.js';
import { loadAgenda } from './agenda.js';
import { S } from './console_state.js';
import { $ } from './dom.js';

export function showPage(page) {
  S.page = page;
  $('inbox-view').hidden = page !== 'inbox';
  $('agenda-view').hidden = page !== 'agenda';
  $('admin-view').hidden = page !== 'admin';
  for (const tab of document.querySelectorAll('.view-tab')) {
    if (tab.dataset.view === page) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (page === 'agenda') loadAgenda();
  if (page === 'admin') loadAdmin();
}

export function wirePages() {
  for (const tab of document.querySelectorAll('.view-tab'))
    tab.addEventListener('click', () => showPage(tab.dataset.view));
}
