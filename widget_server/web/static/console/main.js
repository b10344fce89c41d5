/* Openline operator console: the inbox (docs/protocol.md, /ws/operator; docs/api.md).
 *
 * Native ES modules, one per screen or concept, loaded from console.html with no build step. Every
 * server-provided text is inserted with textContent, never as HTML.
 */
import { wireAdmin } from './admin.js';
import { wireAgenda } from './agenda.js';
import { wireChat } from './chat.js';
import { wireComposer } from './composer.js';
import { wireCrmRecord } from './crm_record.js';
import { wireDetails } from './details.js';
import { wireList } from './list.js';
import { wireNotice } from './notice.js';
import { wirePages } from './pages.js';
import { wirePresence } from './presence.js';
import { showLogin, startApp, wireSession } from './session.js';

function wire() {
  wireSession();
  wireNotice();
  wirePages();
  wirePresence();
  wireCrmRecord();
  wireList();
  wireChat();
  wireComposer();
  wireDetails();
  wireAgenda();
  wireAdmin();
}

async function boot() {
  wire();
  let res = null;
  try {
    res = await fetch('/api/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch (e) {
    showLogin('Cannot reach the server. Check your connection and reload the page.');
    return;
  }
  if (res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (body && body.operator) {
      startApp(body.operator);
      return;
    }
  }
  showLogin(res.status === 401 || res.ok ? '' : `The server answered HTTP ${res.status}. Try reloading the page.`);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
