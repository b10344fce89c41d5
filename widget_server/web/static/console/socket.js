// The console's end of the protocol client (../protocol/connection.js): its URL, `auth`, what a close means.
import { createConnection } from '../protocol/connection.js';
import { hideTyping, renderComposerState, renderReceipts } from './chat.js';
import { failInFlight } from './composer.js';
import { S } from './console_state.js';
import { $ } from './dom.js';
import { handleFrame } from './server_frames.js';
import { toLogin } from './session.js';

export const SESSION_ENDED = 'Your session has ended. Please log in again.';

function setConn(kind, text) {
  const el = $('conn-status');
  el.className = `conn conn-${kind}`;
  $('conn-text').textContent = text;
}

// What was tied to the socket: the typing we announced, the actions waiting for their ack.
function socketGone() {
  S.typingOn = false;
  hideTyping();
  for (const r of S.dialogs.values()) r.closing = false;
  S.actionRefs.clear();
  renderComposerState();
  renderReceipts();
}

async function checkSession() {
  const headers = { Accept: 'application/json' };
  if (S.token) headers.Authorization = `Bearer ${S.token}`;
  try {
    const res = await fetch('/api/me', { credentials: 'same-origin', headers });
    if (res.status === 401) {
      toLogin(SESSION_ENDED);
      return false;
    }
  } catch (e) {
    /* network trouble: keep retrying */
  }
  return true;
}

export const connection = createConnection({
  url: () => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/operator`,
  // The session cookie is enough; a token from /api/login (kept in memory) goes in the first frame, never the URL.
  hello: () => (S.token ? { type: 'auth', token: S.token } : null),
  readyType: 'ready',
  onFrame: handleFrame,
  onState(state, attempt, delay) {
    if (state === 'connecting') setConn('connecting', attempt ? 'Reconnecting…' : 'Connecting…');
    else if (state === 'ready') setConn('online', 'Connected');
    else setConn('offline', `Disconnected, retrying in ${Math.max(1, Math.round(delay / 1000))} s`);
  },
  onClose(code, wasReady) {
    socketGone();
    if (code === 4401) {
      toLogin(SESSION_ENDED);
      return 'stop';
    }
    // An admin changed this account (role, lines): connect again at once to get what it may see now.
    if (code === 4001) return 'now';
    if (code === 1009) failInFlight('Message too large for the server.');
    if (wasReady) return undefined;
    // A refused handshake (e.g. an expired cookie) only shows as 1006: ask the server who we are.
    return checkSession().then((ok) => (ok ? undefined : 'stop'));
  },
  pingMs: 25000,
  answerMs: 10000, // an operator should learn soon that the console is cut off
});

export const send = (frame) => connection.send(frame);
