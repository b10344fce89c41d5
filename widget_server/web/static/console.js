/* Openline operator console: the inbox.
 *
 * Speaks the operator WebSocket protocol (docs/protocol.md, /ws/operator) and the REST API (docs/api.md).
 * Every server-provided text is inserted with textContent, never as HTML.
 *
 * Sections: constants and state; helpers; dialog records; the socket and its frames; the list and its filters
 * (state in the URL); the chat (messages, composer with notes, canned replies and files, search in the chat);
 * the details panel and its actions; reminders; the "My tasks" page; the admin page; session and boot.
 */
'use strict';

(() => {
  // ---------------------------------------------------------------- constants

  const STATUS_LABELS = { new: 'New', in_progress: 'In progress', waiting: 'Waiting for client', finished: 'Finished' };
  const OPEN_STATUSES = ['new', 'in_progress', 'waiting'];
  // The status menu, as domain/dialog_state.py allows it (the server checks again).
  const STATUS_TARGETS = {
    new: ['in_progress', 'finished'],
    in_progress: ['waiting', 'finished'],
    waiting: ['in_progress', 'finished'],
    finished: ['in_progress'],
  };
  const AUTHOR_TYPES = new Set(['visitor', 'operator', 'bot', 'system']);
  const FILTER_KEYS = ['channel', 'type', 'operator', 'status'];
  const PAGE_SIZE = 50;

  const TYPING_SEND_EVERY_MS = 2000; // send `typing` at most this often
  const TYPING_IDLE_MS = 4000; // stop "typing" after this long without input
  const TYPING_SHOW_MS = 6000; // hide the visitor's typing indicator after this long
  const PING_EVERY_MS = 25000;
  const PONG_TIMEOUT_MS = 10000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const MAX_FRAME_BYTES = 16 * 1024; // server default; larger frames close the socket (1009)
  const NOTICE_MS = 8000;
  const REFETCH_MS = 800; // a live change the browser cannot judge (a search): ask the server again, shortly
  const PERMANENT_ERRORS = new Set(['too_long', 'invalid', 'forbidden', 'dialog_closed', 'no_dialog']);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // Channel icons: path data drawn in a 24x24 box. Connectors add theirs here.
  const CHANNEL_ICONS = {
    website:
      'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm6.9 6h-3a15.7 15.7 0 0 0-1.4-3.6A8 8 0 0 1 18.9 8ZM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4ZM4.3 14a8.2 8.2 0 0 1 0-4h3.4a16.5 16.5 0 0 0 0 4H4.3Zm.8 2h3a15.7 15.7 0 0 0 1.4 3.6A8 8 0 0 1 5.1 16Zm3-8h-3a8 8 0 0 1 4.3-3.6C8.3 5.6 7.8 6.8 8.1 8ZM12 20c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4Zm2.3-6H9.7a14.7 14.7 0 0 1 0-4h4.6a14.7 14.7 0 0 1 0 4Zm.3 5.6c.6-1.1 1.1-2.3 1.4-3.6h3a8 8 0 0 1-4.4 3.6Zm1.7-5.6a16.5 16.5 0 0 0 0-4h3.4a8.2 8.2 0 0 1 0 4h-3.4Z',
  };
  const CHANNEL_LABELS = { website: 'Website' };
  const ICONS = {
    clip: 'M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10h-1.5Z',
    bell: 'M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.8V3.5a1.5 1.5 0 0 0-3 0v.7A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z',
  };

  // ---------------------------------------------------------------- state

  const S = {
    token: null, // from /api/login, memory only
    me: null, // {id, name, email, role}
    want: false, // do we want a connection (logged in)
    ws: null,
    ready: false, // `ready` received on the current socket
    attempt: 0,
    reconnectTimer: 0,
    pingTimer: 0,
    pongTimer: 0,
    dialogs: new Map(), // key(id) -> record
    currentKey: null,
    view: new Map(), // seq -> <li> of the open dialog
    pending: new Map(), // client_msg_id -> pending send (reply or note)
    actionRefs: new Map(), // ref -> {what, key}: close, status, leave, assign
    typingSentAt: 0,
    typingOn: false,
    typingDialogId: null,
    typingIdleTimer: 0,
    typingHideTimer: 0,
    noticeTimer: 0,
    listRenderQueued: false,
    // the list
    filter: { channel: [], type: [], operator: [], status: [], q: '' },
    listKeys: new Set(), // dialogs the server listed for the filter, plus live ones that match it
    nextCursor: null,
    listToken: 0, // answers to older list requests are ignored
    refetchTimer: 0,
    channels: [{ id: 'website', label: 'Website' }],
    operators: [], // colleagues (admins: everyone)
    lineIds: [],
    // the chat
    mode: 'reply', // or 'note'
    canned: new Map(), // line id -> [reply]
    cannedItems: [],
    cannedActive: 0,
    search: { q: '', hits: [], index: -1 },
    details: null,
    detailsTimer: 0,
    detailsOpen: true,
    reminders: new Map(), // id -> fired reminder not dismissed
    page: 'inbox',
  };

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);
  const key = (id) => String(id);

  function h(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function button(cls, text, onClick) {
    const b = h('button', cls, text);
    b.type = 'button';
    if (onClick) b.addEventListener('click', onClick);
    return b;
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      try {
        return window.crypto.randomUUID();
      } catch (e) {
        /* not a secure context: fall through */
      }
    }
    const b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  function toDate(iso) {
    if (!iso) return null;
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(iso, withDate) {
    const d = toDate(iso);
    if (!d) return '';
    const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (d.toDateString() === new Date().toDateString()) return time;
    const date = d.toLocaleDateString([], { month: 'short', day: 'numeric' });
    return withDate ? `${date}, ${time}` : date;
  }

  function fmtWhen(iso) {
    const d = toDate(iso);
    return d ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
  }

  function fmtSize(n) {
    if (!(n >= 0)) return '';
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function stamp(iso) {
    const d = toDate(iso);
    return d ? d.getTime() : 0;
  }

  // A datetime-local input's value (local time, no zone) as an ISO instant.
  function localToIso(value) {
    if (!value) return null;
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }

  function httpUrl(raw) {
    if (typeof raw !== 'string' || !raw) return null;
    try {
      const u = new URL(raw, location.href);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function isMe(author) {
    if (!S.me || !author) return false;
    if (author.id !== undefined && author.id !== null) return key(author.id) === key(S.me.id);
    return !!author.name && author.name === S.me.name;
  }

  function isAdmin() {
    return !!(S.me && S.me.role === 'admin');
  }

  function visible() {
    return document.visibilityState === 'visible';
  }

  function statusLabel(status) {
    return STATUS_LABELS[status] || (status ? String(status) : '');
  }

  function statusClass(status) {
    return `status status-${STATUS_LABELS[status] ? status : 'other'}`;
  }

  function svgIcon(d, cls) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', cls);
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
    return svg;
  }

  function channelIcon(channel) {
    return svgIcon(CHANNEL_ICONS[channel] || CHANNEL_ICONS.website, 'channel-svg');
  }

  function channelLabel(channel) {
    const found = S.channels.find((c) => c.id === channel);
    return (found && found.label) || CHANNEL_LABELS[channel] || channel || 'Website';
  }

  // JSON over fetch with the session cookie. Resolves to {ok, status, data, message}; never throws.
  async function api(method, path, body, extra) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined && body !== null && !(extra && extra.raw)) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    } else if (extra && extra.raw) {
      opts.body = body;
      opts.headers['Content-Type'] = extra.type || 'application/octet-stream';
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      return { ok: false, status: 0, data: null, message: 'Cannot reach the server.' };
    }
    let data = null;
    if (res.status !== 204) {
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
    }
    if (res.status === 401) toLogin('Your session has ended. Please log in again.');
    const message = data && data.error && data.error.message ? String(data.error.message) : `HTTP ${res.status}`;
    return { ok: res.ok, status: res.status, data, message, code: data && data.error ? data.error.code : null };
  }

  // ---------------------------------------------------------------- records

  function rec(id) {
    const k = key(id);
    let r = S.dialogs.get(k);
    if (!r) {
      r = {
        id, // as the server sent it
        key: k,
        summary: null,
        msgs: new Map(), // seq -> message
        loaded: false, // history received through `joined`
        contig: 0, // highest seq with nothing missing below it (sent as join.last_seq)
        seenSent: 0,
        closing: false,
      };
      S.dialogs.set(k, r);
    }
    return r;
  }

  function currentRec() {
    return S.currentKey === null ? null : S.dialogs.get(S.currentKey) || null;
  }

  function isCurrent(r) {
    return r && S.currentKey === r.key;
  }

  function advanceContig(r) {
    if (!r.loaded) return;
    while (r.msgs.has(r.contig + 1)) r.contig += 1;
  }

  function maxVisitorSeq(r) {
    let max = 0;
    for (const m of r.msgs.values()) {
      if (m.author && m.author.type === 'visitor' && m.seq > max) max = m.seq;
    }
    return max;
  }

  function countVisitorBetween(r, after, upto) {
    let n = 0;
    for (const m of r.msgs.values()) {
      if (m.seq > after && m.seq <= upto && m.author && m.author.type === 'visitor' && isWritten(m)) n += 1;
    }
    return n;
  }

  function isWritten(m) {
    return m.kind === 'text' || m.kind === 'file' || !m.kind;
  }

  function isFinished(r) {
    return !!(r && r.summary && r.summary.status === 'finished');
  }

  // Merge a dialog summary from the server with what we know locally.
  function mergeSummary(s) {
    if (!s || s.id === undefined || s.id === null) return null;
    const r = rec(s.id);
    const old = r.summary;
    const n = Object.assign({}, s);
    n.last_seq = n.last_seq || 0;
    n.operator_seen_seq = Math.max(n.operator_seen_seq || 0, r.seenSent);
    if (old) {
      n.visitor_seen_seq = Math.max(n.visitor_seen_seq || 0, old.visitor_seen_seq || 0);
      if ((old.last_seq || 0) > n.last_seq) {
        // We already saw later messages than this summary knows about.
        n.last_seq = old.last_seq;
        n.last_message = old.last_message;
        n.unanswered = old.unanswered;
        if (stamp(old.updated_at) > stamp(n.updated_at)) n.updated_at = old.updated_at;
        n.unread = old.unread;
      }
    }
    if (r.loaded && r.contig >= n.last_seq) {
      n.unread = countVisitorBetween(r, n.operator_seen_seq, n.last_seq);
    } else if (r.seenSent && r.seenSent >= n.last_seq) {
      n.unread = 0;
    }
    n.unread = Math.max(0, Number(n.unread) || 0);
    r.summary = n;
    return r;
  }

  function summaryFromMessage(r, m) {
    const s = r.summary;
    if (!s || m.seq <= (s.last_seq || 0)) return;
    s.last_seq = m.seq;
    if (stamp(m.created_at) > stamp(s.updated_at)) s.updated_at = m.created_at;
    if (!isWritten(m)) return; // the list previews written messages only, like the server
    s.last_message = {
      text: m.text,
      kind: m.kind,
      author_type: m.author ? m.author.type : 'system',
      author_name: m.author ? m.author.name : null,
      author_is_me: m.author ? isMe(m.author) : false,
      created_at: m.created_at,
    };
    const from = m.author && m.author.type;
    // Whose turn it is, as the server keeps it (dialogs.waiting_since).
    if (from === 'visitor' && s.status !== 'finished') s.unanswered = true;
    if (from === 'operator') s.unanswered = false;
    if (from === 'visitor' && m.seq > (s.operator_seen_seq || 0)) s.unread = (s.unread || 0) + 1;
  }

  // ---------------------------------------------------------------- notices

  function notice(text) {
    const box = $('notice');
    $('notice-text').textContent = text;
    box.hidden = false;
    clearTimeout(S.noticeTimer);
    S.noticeTimer = setTimeout(() => {
      box.hidden = true;
    }, NOTICE_MS);
  }

  function hideNotice() {
    clearTimeout(S.noticeTimer);
    $('notice').hidden = true;
  }
  // ---------------------------------------------------------------- socket

  function wsUrl() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws/operator`;
  }

  function setConn(kind, text) {
    const el = $('conn-status');
    el.className = `conn conn-${kind}`;
    $('conn-text').textContent = text;
  }

  function rawSend(sock, frame) {
    if (!sock || sock.readyState !== WebSocket.OPEN) return false;
    try {
      sock.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  }

  // Send an operator frame; only once `ready` arrived (before that the server would refuse it).
  function send(frame) {
    if (!S.ready) return false;
    return rawSend(S.ws, frame);
  }

  function connect() {
    clearTimeout(S.reconnectTimer);
    S.reconnectTimer = 0;
    if (!S.want || S.ws) return;
    setConn('connecting', S.attempt ? 'Reconnecting…' : 'Connecting…');
    let sock;
    try {
      sock = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    S.ws = sock;
    S.ready = false;
    sock.addEventListener('open', () => {
      if (sock !== S.ws) return;
      if (S.token) rawSend(sock, { type: 'auth', token: S.token });
    });
    sock.addEventListener('message', (ev) => {
      if (sock !== S.ws || typeof ev.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === 'object') handleFrame(frame);
    });
    sock.addEventListener('close', (ev) => {
      if (sock !== S.ws) return;
      const wasReady = S.ready;
      socketGone();
      if (ev.code === 4401) {
        toLogin('Your session has ended. Please log in again.');
        return;
      }
      if (ev.code === 4001 && S.want) {
        // An admin changed this account (role, lines): connect again at once to get what it may see now.
        S.attempt = 0;
        connect();
        return;
      }
      if (ev.code === 1009) failInFlight('Message too large for the server.');
      if (!S.want) return;
      if (!wasReady) {
        // A refused handshake (e.g. an expired cookie) only shows as 1006: ask the server who we are.
        checkSession().then((ok) => {
          if (ok && S.want) scheduleReconnect();
        });
      } else {
        scheduleReconnect();
      }
    });
  }

  function socketGone() {
    S.ws = null;
    S.ready = false;
    clearInterval(S.pingTimer);
    clearTimeout(S.pongTimer);
    S.pingTimer = 0;
    S.pongTimer = 0;
    S.typingOn = false;
    hideTyping();
    for (const r of S.dialogs.values()) r.closing = false;
    S.actionRefs.clear();
    renderComposerState();
    renderReceipts();
  }

  function dropSocket() {
    const sock = S.ws;
    if (!sock) return;
    socketGone();
    try {
      sock.close(1000);
    } catch (e) {
      /* ignore */
    }
  }

  function scheduleReconnect() {
    clearTimeout(S.reconnectTimer);
    if (!S.want) return;
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(S.attempt, 10));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    S.attempt += 1;
    const secs = Math.max(1, Math.round(delay / 1000));
    setConn('offline', `Disconnected, retrying in ${secs} s`);
    S.reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (S.want && !S.ws) {
      clearTimeout(S.reconnectTimer);
      connect();
    }
  }

  function startPing() {
    clearInterval(S.pingTimer);
    S.pingTimer = setInterval(() => {
      if (!send({ type: 'ping' })) return;
      clearTimeout(S.pongTimer);
      const sock = S.ws;
      S.pongTimer = setTimeout(() => {
        if (sock === S.ws) {
          dropSocket();
          scheduleReconnect();
        }
      }, PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  async function checkSession() {
    const headers = { Accept: 'application/json' };
    if (S.token) headers.Authorization = `Bearer ${S.token}`;
    try {
      const res = await fetch('/api/me', { credentials: 'same-origin', headers });
      if (res.status === 401) {
        toLogin('Your session has ended. Please log in again.');
        return false;
      }
    } catch (e) {
      /* network trouble: keep retrying */
    }
    return true;
  }

  // ---------------------------------------------------------------- frames

  function handleFrame(f) {
    switch (f.type) {
      case 'ready':
        onReady(f);
        break;
      case 'dialog':
        onDialog(f.dialog);
        break;
      case 'joined':
        onJoined(f);
        break;
      case 'message':
        ingest(f, true);
        break;
      case 'typing':
        onTyping(f);
        break;
      case 'seen':
        onSeen(f);
        break;
      case 'ack':
        onAck(f);
        break;
      case 'dialog_deleted':
        onDeleted(f);
        break;
      case 'reminder':
        if (f.reminder) addReminder(f.reminder, true);
        break;
      case 'pong':
        clearTimeout(S.pongTimer);
        break;
      case 'error':
        onError(f);
        break;
      default:
        break;
    }
  }

  function onReady(f) {
    S.ready = true;
    S.attempt = 0;
    setConn('online', 'Connected');
    startPing();
    if (f.operator) setMe(f.operator);
    if (Array.isArray(f.line_ids)) S.lineIds = f.line_ids.map(String);

    const list = Array.isArray(f.dialogs) ? f.dialogs : [];
    for (const s of list) mergeSummary(s);
    for (const r of Array.isArray(f.reminders) ? f.reminders : []) addReminder(r, false);

    const cur = currentRec();
    if (cur) {
      renderChatHeader();
      joinDialog(cur);
    }
    // Retry sends that were not acknowledged (idempotent thanks to client_msg_id).
    for (const p of S.pending.values()) {
      if (p.status === 'sending' && p.seq === null) transmit(p);
    }
    // The list is the filter's: ask the server again (it missed nothing, but we may have).
    fetchList();
    renderComposerState();
    renderReceipts();
  }

  function onDialog(s) {
    const r = mergeSummary(s);
    if (!r) return;
    judgeMembership(r);
    if (isCurrent(r)) {
      renderChatHeader();
      renderComposerState();
      renderReceipts();
      if (isFinished(r)) hideTyping();
      queueDetails();
    }
    queueListRender();
  }

  function onJoined(f) {
    const s = f.dialog;
    if (!s) return;
    const r = rec(s.id);
    const messages = Array.isArray(f.messages) ? f.messages.slice() : [];
    messages.sort((a, b) => a.seq - b.seq);
    const firstLoad = !r.loaded;
    if (!r.loaded) {
      r.loaded = true;
      // History may be shortened by the server: start counting from the first message it sent.
      const first = messages.length ? messages[0].seq : (s.last_seq || 0) + 1;
      r.contig = Math.max(0, first - 1);
      advanceContig(r);
    }
    for (const m of messages) {
      if (m.dialog_id === undefined || m.dialog_id === null) m.dialog_id = s.id;
      ingest(m, false);
    }
    mergeSummary(s);
    if (isCurrent(r)) {
      renderChatHeader();
      renderComposerState();
      renderReceipts();
      if (firstLoad) scrollToBottom();
      maybeSendSeen();
    }
    queueListRender();
  }

  function ingest(m, live) {
    if (!m || m.dialog_id === undefined || m.dialog_id === null || typeof m.seq !== 'number') return;
    const r = rec(m.dialog_id);
    if (r.msgs.has(m.seq)) return; // never render a seq twice
    const p = matchPending(r, m);
    r.msgs.set(m.seq, m);
    advanceContig(r);
    if (live) {
      summaryFromMessage(r, m);
      judgeMembership(r);
    }
    if (p) p.seq = m.seq;

    if (isCurrent(r)) {
      const stick = nearBottom() || !!p;
      if (p && p.el && p.el.isConnected) {
        confirmElement(p.el, m);
        p.el = null;
      } else {
        placeMessage(buildMessage(m));
      }
      if (m.author && m.author.type === 'visitor') hideTyping();
      if (stick) scrollToBottom();
      if (live) maybeSendSeen();
      if (live && m.kind !== 'text' && m.kind !== 'note') queueDetails();
    } else if (p && p.el) {
      p.el.remove();
      p.el = null;
    }
    if (live) queueListRender();
  }

  // Our own message coming back: by client_msg_id when the server echoes it, else same text from us.
  function matchPending(r, m) {
    if (m.client_msg_id) {
      const p = S.pending.get(m.client_msg_id);
      return p && p.seq === null ? p : null;
    }
    if (!m.author || m.author.type !== 'operator' || !isMe(m.author)) return null;
    for (const p of S.pending.values()) {
      if (p.key === r.key && p.seq === null && p.status === 'sending' && p.text === m.text) return p;
    }
    return null;
  }

  function onTyping(f) {
    if (f.from !== 'visitor') return;
    const r = currentRec();
    if (!r || key(f.dialog_id) !== r.key) return;
    if (f.active === false) hideTyping();
    else showTyping();
  }

  function onSeen(f) {
    const r = S.dialogs.get(key(f.dialog_id));
    if (!r || !r.summary || typeof f.seq !== 'number') return;
    const s = r.summary;
    if (f.by === 'visitor') {
      s.visitor_seen_seq = Math.max(s.visitor_seen_seq || 0, f.seq);
      if (isCurrent(r)) renderReceipts();
    } else if (f.by === 'operator' && f.seq > (s.operator_seen_seq || 0)) {
      // Read in another tab (or by a colleague): the unread count goes down here too.
      s.operator_seen_seq = f.seq;
      if (r.loaded && r.contig >= (s.last_seq || 0)) s.unread = countVisitorBetween(r, f.seq, s.last_seq || 0);
      else if (f.seq >= (s.last_seq || 0)) s.unread = 0;
      queueListRender();
    }
  }

  function onAck(f) {
    const p = f.ref ? S.pending.get(f.ref) : null;
    if (p) {
      S.pending.delete(f.ref);
      const r = rec(p.dialogId);
      if (typeof f.seq === 'number' && p.seq !== f.seq) {
        if (!r.msgs.has(f.seq)) {
          const m = {
            type: 'message',
            dialog_id: p.dialogId,
            seq: f.seq,
            kind: p.kind,
            author: { type: 'operator', id: S.me ? S.me.id : null, name: S.me ? S.me.name : '' },
            text: p.text,
            client_msg_id: p.cid,
            created_at: new Date().toISOString(),
          };
          r.msgs.set(m.seq, m);
          advanceContig(r);
          summaryFromMessage(r, m);
          if (isCurrent(r)) {
            if (p.el && p.el.isConnected) confirmElement(p.el, m);
            else placeMessage(buildMessage(m));
          }
        } else if (p.el) {
          p.el.remove(); // already shown from its `message` frame
        }
        p.seq = f.seq;
      }
      p.el = null;
      if (isCurrent(r)) renderReceipts();
      queueListRender();
      return;
    }
    const action = f.ref ? S.actionRefs.get(f.ref) : null;
    if (action) {
      S.actionRefs.delete(f.ref);
      const r = S.dialogs.get(action.key);
      if (r) r.closing = false;
      renderComposerState();
      if (action.what === 'leave') notice('You left the chat. It stays with the line.');
    }
  }

  function onError(f) {
    const code = f.code || 'error';
    const text = f.message ? String(f.message) : code;
    if (code === 'unauthenticated') {
      toLogin('Your session has ended. Please log in again.');
      return;
    }
    if (f.ref && S.pending.has(f.ref)) {
      const p = S.pending.get(f.ref);
      p.status = 'failed';
      p.error = text;
      p.errorCode = code;
      if (p.el) updatePendingElement(p);
      notice(`${p.kind === 'note' ? 'Note' : 'Message'} not sent: ${text}`);
      return;
    }
    const action = f.ref ? S.actionRefs.get(f.ref) : null;
    if (action) {
      S.actionRefs.delete(f.ref);
      const r = S.dialogs.get(action.key);
      if (r) r.closing = false;
      renderComposerState();
      notice(`Could not ${action.label}: ${text}`);
      return;
    }
    notice(text);
  }

  function onDeleted(f) {
    const k = key(f.dialog_id);
    const r = S.dialogs.get(k);
    const number = r && r.summary ? r.summary.number : null;
    S.dialogs.delete(k);
    S.listKeys.delete(k);
    if (S.currentKey === k) {
      S.currentKey = null;
      S.details = null;
      renderChat();
      renderDetails();
      notice(`Chat${number ? ` #${number}` : ''} was deleted.`);
    }
    queueListRender();
  }
  // ---------------------------------------------------------------- the list and its filters

  // The filter lives in the URL (?type=unassigned&status=new&q=...), so a reload or a shared link shows the
  // same list. It has the server's meaning (domain/inbox_filter.py): facets AND-ed, values of a facet OR-ed,
  // no status = the open chats.
  function readFilterFromUrl() {
    const params = new URLSearchParams(location.search);
    const f = { channel: [], type: [], operator: [], status: [], q: '' };
    for (const name of FILTER_KEYS) {
      for (const value of params.getAll(name)) {
        for (const part of value.split(',')) if (part.trim()) f[name].push(part.trim());
      }
    }
    f.q = (params.get('q') || '').slice(0, 200);
    S.filter = f;
  }

  function filterParams(f) {
    const params = new URLSearchParams();
    for (const name of FILTER_KEYS) for (const value of f[name]) params.append(name, value);
    if (f.q.trim()) params.set('q', f.q.trim());
    return params;
  }

  function writeFilterToUrl() {
    const params = filterParams(S.filter);
    const qs = params.toString();
    const url = `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  }

  function activeFilterCount() {
    return FILTER_KEYS.reduce((n, name) => n + (S.filter[name].length ? 1 : 0), 0);
  }

  function operatorIdsOf(s) {
    const ids = new Set();
    if (s.operator && s.operator.id !== undefined && s.operator.id !== null) ids.add(key(s.operator.id));
    for (const o of s.operators || []) ids.add(key(o.id));
    return ids;
  }

  // The structured facets, judged here for live changes; the search words only the server can judge.
  function matchesFilter(s) {
    const f = S.filter;
    if (f.channel.length && !f.channel.includes(s.channel || 'website')) return false;
    const statuses = f.status.includes('all') ? [] : f.status.length ? f.status.flatMap((x) => (x === 'open' ? OPEN_STATUSES : [x])) : OPEN_STATUSES;
    if (statuses.length && !statuses.includes(s.status)) return false;
    const ops = operatorIdsOf(s);
    if (f.operator.length && !f.operator.some((id) => ops.has(key(id)))) return false;
    if (f.type.length) {
      const kinds = { unassigned: ops.size === 0, mine: !!(S.me && ops.has(key(S.me.id))), unanswered: !!s.unanswered };
      if (!f.type.some((t) => kinds[t])) return false;
    }
    return true;
  }

  // A live change to a dialog: in the list or out of it.
  function judgeMembership(r) {
    if (!r.summary) return;
    if (!matchesFilter(r.summary)) {
      // The chat on screen stays in the list until another is opened, so it does not vanish under the cursor.
      if (!isCurrent(r)) S.listKeys.delete(r.key);
      return;
    }
    if (!S.filter.q.trim()) {
      S.listKeys.add(r.key);
    } else if (!S.listKeys.has(r.key)) {
      scheduleRefetch(); // it may or may not hold the words: the index knows
    }
  }

  function scheduleRefetch() {
    clearTimeout(S.refetchTimer);
    S.refetchTimer = setTimeout(() => fetchList(), REFETCH_MS);
  }

  async function fetchList(more) {
    if (!S.me) return;
    const token = ++S.listToken;
    const params = filterParams(S.filter);
    params.set('limit', String(PAGE_SIZE));
    if (more && S.nextCursor) params.set('cursor', S.nextCursor);
    $('dialog-list').setAttribute('aria-busy', 'true');
    const res = await api('GET', `/api/dialogs?${params}`);
    if (token !== S.listToken) return; // a newer request is on its way
    $('dialog-list').removeAttribute('aria-busy');
    if (!res.ok) {
      if (res.status !== 401) notice(`The list could not be loaded: ${res.message}`);
      return;
    }
    if (!more) S.listKeys.clear();
    for (const s of res.data.items || []) {
      const r = mergeSummary(s);
      if (r) S.listKeys.add(r.key);
    }
    S.nextCursor = res.data.next_cursor || null;
    renderList();
  }

  function applyFilter() {
    writeFilterToUrl();
    S.nextCursor = null;
    renderFilterControls();
    fetchList();
  }

  function readFilterControls() {
    const form = $('filters');
    const f = { channel: [], type: [], operator: [], status: [], q: $('list-search').value };
    for (const input of form.querySelectorAll('input[type=checkbox]:checked')) {
      if (f[input.name]) f[input.name].push(input.value);
    }
    S.filter = f;
  }

  function renderFilterControls() {
    const channels = $('filter-channel');
    for (const old of channels.querySelectorAll('label')) old.remove();
    for (const c of S.channels) {
      const label = h('label', 'filter-option');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.name = 'channel';
      input.value = c.id;
      label.appendChild(input);
      const icon = h('span', 'channel-icon channel-icon-small');
      icon.appendChild(channelIcon(c.id));
      label.appendChild(icon);
      label.appendChild(document.createTextNode(` ${c.label}`));
      channels.appendChild(label);
    }
    const ops = $('filter-operator');
    for (const old of ops.querySelectorAll('label, p')) old.remove();
    for (const o of S.operators) {
      if (o.is_active === false) continue;
      const label = h('label', 'filter-option');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.name = 'operator';
      input.value = String(o.id);
      label.appendChild(input);
      label.appendChild(document.createTextNode(` ${o.name}${S.me && key(o.id) === key(S.me.id) ? ' (you)' : ''}`));
      ops.appendChild(label);
    }
    if (!S.operators.length) ops.appendChild(h('p', 'form-hint', 'No colleagues on your lines yet.'));
    for (const input of $('filters').querySelectorAll('input[type=checkbox]')) {
      input.checked = (S.filter[input.name] || []).includes(input.value);
    }
    $('list-search').value = S.filter.q;
    const n = activeFilterCount();
    const badge = $('filters-active');
    badge.textContent = String(n);
    badge.hidden = !n;
  }

  function toggleFilters(open) {
    const form = $('filters');
    const show = open === undefined ? form.hidden : open;
    form.hidden = !show;
    $('filters-toggle').setAttribute('aria-expanded', String(show));
    try {
      localStorage.setItem('openline:console:filters-open', show ? '1' : '0');
    } catch (e) {
      /* private mode: not remembered */
    }
  }

  function queueListRender() {
    if (S.listRenderQueued) return;
    S.listRenderQueued = true;
    requestAnimationFrame(() => {
      S.listRenderQueued = false;
      renderList();
    });
  }

  function shownUnread(r) {
    if (isCurrent(r) && visible() && r.loaded) return 0;
    return r.summary ? r.summary.unread || 0 : 0;
  }

  function renderList() {
    S.listRenderQueued = false;
    const list = $('dialog-list');
    const active = document.activeElement;
    const focusKey = active && list.contains(active) && active.dataset ? active.dataset.dialogId : null;

    const items = [];
    for (const k of S.listKeys) {
      const r = S.dialogs.get(k);
      if (r && r.summary) items.push(r);
    }
    items.sort((a, b) => {
      const d = stamp(b.summary.updated_at || b.summary.created_at) - stamp(a.summary.updated_at || a.summary.created_at);
      if (d) return d;
      return (Number(b.summary.number) || 0) - (Number(a.summary.number) || 0);
    });

    const frag = document.createDocumentFragment();
    let unreadTotal = 0;
    for (const r of items) {
      const unread = shownUnread(r);
      unreadTotal += unread;
      frag.appendChild(buildItem(r, unread));
    }
    list.replaceChildren(frag);
    const filtered = activeFilterCount() || S.filter.q.trim();
    const empty = $('dialog-empty');
    empty.hidden = items.length > 0;
    empty.textContent = filtered
      ? 'No chats match these filters.'
      : 'No open chats right now. New conversations appear here as visitors write in.';
    $('dialog-count').textContent = `${items.length}${S.nextCursor ? '+' : ''}`;
    $('load-more').hidden = !S.nextCursor;
    document.title = unreadTotal ? `(${unreadTotal}) Openline console` : 'Openline console';

    if (focusKey) {
      const again = list.querySelector(`.dialog-item[data-dialog-id="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  function buildItem(r, unread) {
    const s = r.summary;
    const li = h('li', 'dialog-entry');
    const btn = h('button', 'dialog-item');
    btn.type = 'button';
    btn.dataset.dialogId = r.key;
    if (isCurrent(r)) {
      btn.classList.add('is-active');
      btn.setAttribute('aria-current', 'true');
    }
    if (unread) btn.classList.add('is-unread');
    if (s.status === 'finished') btn.classList.add('is-finished');

    const top = h('span', 'dialog-row');
    const icon = h('span', 'channel-icon channel-icon-small');
    icon.title = channelLabel(s.channel);
    icon.appendChild(channelIcon(s.channel));
    top.appendChild(icon);
    top.appendChild(h('span', 'dialog-visitor', (s.visitor && s.visitor.name) || 'Visitor'));
    top.appendChild(h('span', 'dialog-number', `#${s.number !== undefined && s.number !== null ? s.number : '?'}`));
    const lm = s.last_message || null;
    const when = document.createElement('time');
    when.className = 'dialog-time';
    const whenIso = (lm && lm.created_at) || s.updated_at || s.created_at || '';
    if (toDate(whenIso)) when.dateTime = whenIso;
    when.textContent = fmtTime(whenIso, false);
    top.appendChild(when);
    btn.appendChild(top);

    const mid = h('span', 'dialog-row');
    const wrap = h('span', 'dialog-preview-wrap');
    const who = previewAuthor(lm, s);
    if (who) wrap.appendChild(h('span', 'dialog-preview-author', `${who}: `));
    const text = lm && lm.text ? (lm.kind === 'file' ? `File: ${lm.text}` : String(lm.text).slice(0, 300)) : 'No messages yet';
    wrap.appendChild(h('span', 'dialog-preview', text));
    mid.appendChild(wrap);
    const badge = h('span', 'dialog-unread', String(unread));
    badge.hidden = !unread;
    mid.appendChild(badge);
    if (unread) mid.appendChild(h('span', 'sr-only', unread === 1 ? ' unread message' : ' unread messages'));
    btn.appendChild(mid);

    const bottom = h('span', 'dialog-row dialog-row-meta');
    const op = s.operator && s.operator.name ? s.operator.name : 'Unassigned';
    bottom.appendChild(h('span', 'dialog-line', `${(s.line && s.line.name) || ''} · ${op}`));
    if (s.unanswered && s.status !== 'finished') bottom.appendChild(h('span', 'dialog-waiting', 'Unanswered'));
    bottom.appendChild(h('span', `dialog-status ${statusClass(s.status)}`, statusLabel(s.status)));
    btn.appendChild(bottom);

    li.appendChild(btn);
    return li;
  }

  function previewAuthor(lm, s) {
    if (!lm) return '';
    if (lm.author_type === 'operator') {
      if (lm.author_is_me) return 'You';
      if (lm.author_name) return lm.author_name;
      const op = s.operator;
      if (op && S.me && key(op.id) === key(S.me.id)) return 'You';
      return (op && op.name) || 'Operator';
    }
    if (lm.author_type === 'bot') return 'Bot';
    return '';
  }
  // ---------------------------------------------------------------- the chat

  function renderChat() {
    const r = currentRec();
    $('chat-empty').hidden = !!r;
    $('chat').hidden = !r;
    const list = $('chat-messages');
    S.view.clear();
    list.replaceChildren();
    closeStatusMenu();
    closeCanned();
    if (!r) {
      document.body.classList.remove('chat-open');
      renderDetails();
      return;
    }
    renderChatHeader();
    const frag = document.createDocumentFragment();
    const seqs = Array.from(r.msgs.keys()).sort((a, b) => a - b);
    for (const seq of seqs) frag.appendChild(buildMessage(r.msgs.get(seq)));
    for (const p of S.pending.values()) {
      if (p.key !== r.key) continue;
      p.el = null;
      if (p.seq === null) {
        p.el = buildPending(p);
        frag.appendChild(p.el);
      }
    }
    list.appendChild(frag);
    for (const li of list.children) regroup(li);
    renderReceipts();
    renderComposerState();
    markSearchHits();
    scrollToBottom();
  }

  function renderChatHeader() {
    const r = currentRec();
    if (!r) return;
    const s = r.summary || {};
    $('chat-number').textContent = `#${s.number !== undefined && s.number !== null ? s.number : '…'}`;
    $('chat-visitor').textContent = (s.visitor && s.visitor.name) || 'Visitor';
    const icon = $('chat-channel');
    icon.replaceChildren(channelIcon(s.channel));
    icon.setAttribute('aria-label', channelLabel(s.channel));
    icon.title = channelLabel(s.channel);
    const st = $('chat-status');
    st.className = `${statusClass(s.status)} status-button`;
    st.textContent = `${statusLabel(s.status)} ▾`;
    const take = $('take-dialog');
    take.hidden = s.status === 'finished';
    take.disabled = s.status === 'in_progress' || !!r.closing;
    take.textContent = s.status === 'in_progress' ? 'In progress ✓' : 'In progress';
    $('chat-line').textContent = (s.line && s.line.name) || (s.line && s.line.id) || '—';
    const names = [s.operator && s.operator.name ? s.operator.name : 'Unassigned'];
    for (const o of s.operators || []) names.push(`+ ${o.name}`);
    $('chat-operator').textContent = names.join(' ');

    const page = $('chat-page');
    page.replaceChildren();
    const url = s.page && typeof s.page.url === 'string' ? s.page.url : '';
    const title = s.page && typeof s.page.title === 'string' ? s.page.title.trim() : '';
    const safe = httpUrl(url);
    if (title) page.appendChild(h('span', 'page-title', title));
    if (url) {
      if (title) page.appendChild(document.createTextNode(' '));
      if (safe) {
        const a = h('a', 'page-url', url);
        a.href = safe;
        a.title = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer nofollow';
        page.appendChild(a);
      } else {
        page.appendChild(h('span', 'page-url', url));
      }
    }
    if (!title && !url) page.textContent = '—';
  }

  function renderComposerState() {
    const r = currentRec();
    const finished = isFinished(r);
    const note = S.mode === 'note';
    const blocked = !r || (finished && !note); // notes can still be written into a finished chat
    $('reply-input').disabled = blocked;
    $('reply-send').disabled = blocked;
    $('reply-send').textContent = note ? 'Add note' : 'Send';
    $('attach-button').disabled = !r || finished || note;
    $('canned-button').disabled = blocked;
    $('reply-input').placeholder = note
      ? 'A note for your colleagues: the visitor never sees it.'
      : 'Write a reply…  (Enter to send, Shift+Enter for a new line, / for canned replies)';
    $('chat-finished').hidden = !finished;
    $('reply-form').classList.toggle('is-disabled', blocked);
    $('reply-form').classList.toggle('is-note', note);
    const finish = $('finish-dialog');
    finish.disabled = !r || finished || !!(r && r.closing);
    finish.textContent = r && r.closing ? 'Finishing…' : 'Finish chat';
    $('leave-dialog').disabled = !r || finished || !amOnDialog(r);
  }

  function amOnDialog(r) {
    if (!r || !r.summary || !S.me) return false;
    return operatorIdsOf(r.summary).has(key(S.me.id));
  }

  function messageType(m) {
    if (m.kind === 'system' || m.kind === 'internal') return 'system';
    if (m.kind === 'note') return 'note';
    const t = m.author && m.author.type;
    return AUTHOR_TYPES.has(t) ? t : 'system';
  }

  function authorName(m, type) {
    if (type === 'operator' || type === 'note') return isMe(m.author) ? 'You' : (m.author && m.author.name) || 'Operator';
    if (type === 'bot') return (m.author && m.author.name) || 'Bot';
    if (type === 'visitor') {
      const r = S.dialogs.get(key(m.dialog_id));
      return (r && r.summary && r.summary.visitor && r.summary.visitor.name) || (m.author && m.author.name) || 'Visitor';
    }
    return '';
  }

  function buildFile(file) {
    const box = h('div', 'msg-file');
    const url = httpUrl(file.url);
    if (file.is_image && url) {
      const a = h('a', 'msg-image-link');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      const img = document.createElement('img');
      img.className = 'msg-image';
      img.src = url;
      img.alt = file.name || 'Image';
      img.loading = 'lazy';
      a.appendChild(img);
      box.appendChild(a);
    }
    const link = h(url ? 'a' : 'span', 'msg-file-link');
    link.appendChild(svgIcon(ICONS.clip, 'icon msg-file-icon'));
    link.appendChild(h('span', 'msg-file-name', file.name || 'file'));
    link.appendChild(h('span', 'msg-file-size', fmtSize(file.size)));
    if (url) {
      link.href = url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      link.setAttribute('download', file.name || '');
    }
    box.appendChild(link);
    return box;
  }

  function buildMessage(m) {
    const type = messageType(m);
    const li = h('li', `msg msg-${type}`);
    li.dataset.seq = String(m.seq);
    if (m.kind === 'internal') li.classList.add('msg-internal');
    if (type !== 'system') li.dataset.author = `${type}:${authorName(m, type)}`;
    if (type === 'system') {
      li.appendChild(h('span', 'msg-text', m.text || m.code || ''));
      const card = window.OpenlineConsoleCrm ? window.OpenlineConsoleCrm.systemCard(m) : null;
      if (card) {
        li.classList.add('msg-has-card');
        li.appendChild(card);
      }
      const t = h('time', 'msg-time', fmtTime(m.created_at, true));
      if (toDate(m.created_at)) t.dateTime = m.created_at;
      li.appendChild(t);
    } else {
      const label = type === 'note' ? `Note · ${authorName(m, type)}` : authorName(m, type);
      li.appendChild(h('div', 'msg-author', label));
      const bubble = h('div', 'msg-bubble');
      if (m.kind === 'file' && m.file) bubble.appendChild(buildFile(m.file));
      else bubble.appendChild(h('div', 'msg-text', m.text || ''));
      li.appendChild(bubble);
      li.appendChild(buildMeta(m.created_at, type === 'operator'));
    }
    if ((type === 'operator' || type === 'note') && isMe(m.author)) li.classList.add('msg-own');
    S.view.set(m.seq, li);
    return li;
  }

  function buildMeta(iso, withStatus) {
    const meta = h('div', 'msg-meta');
    const t = h('time', 'msg-time', fmtTime(iso, true));
    if (toDate(iso)) t.dateTime = iso;
    meta.appendChild(t);
    if (withStatus) meta.appendChild(h('span', 'msg-status'));
    return meta;
  }

  function buildPending(p) {
    const note = p.kind === 'note';
    const li = h('li', `msg ${note ? 'msg-note' : 'msg-operator'} msg-own msg-pending`);
    li.dataset.clientMsgId = p.cid;
    li.dataset.author = `${note ? 'note' : 'operator'}:You`;
    li.appendChild(h('div', 'msg-author', note ? 'Note · You' : 'You'));
    const bubble = h('div', 'msg-bubble');
    bubble.appendChild(h('div', 'msg-text', p.text));
    li.appendChild(bubble);
    li.appendChild(buildMeta('', true));
    updatePendingElement(p, li);
    return li;
  }

  function updatePendingElement(p, el) {
    const li = el || p.el;
    if (!li) return;
    li.classList.toggle('msg-failed', p.status === 'failed');
    const meta = li.querySelector('.msg-meta');
    const status = meta.querySelector('.msg-status');
    for (const old of meta.querySelectorAll('.link-button')) old.remove();
    if (p.status === 'failed') {
      status.textContent = p.error ? `Not sent: ${p.error}` : 'Not sent';
      if (!PERMANENT_ERRORS.has(p.errorCode)) {
        meta.appendChild(button('msg-retry link-button', 'Retry', () => retryPending(p)));
      }
      meta.appendChild(button('msg-edit link-button', 'Edit', () => editPending(p)));
    } else {
      status.textContent = S.ready ? 'Sending…' : 'Waiting for connection…';
    }
  }

  function confirmElement(li, m) {
    li.classList.remove('msg-pending', 'msg-failed');
    delete li.dataset.clientMsgId;
    li.dataset.seq = String(m.seq);
    const oldMeta = li.querySelector('.msg-meta');
    const meta = buildMeta(m.created_at, messageType(m) === 'operator');
    if (oldMeta) oldMeta.replaceWith(meta);
    else li.appendChild(meta);
    S.view.set(m.seq, li);
    const next = li.nextElementSibling;
    li.remove();
    if (next) regroup(next);
    placeMessage(li);
    renderReceipts();
  }

  // Insert by seq; pending messages (no seq) stay at the end.
  function placeMessage(li) {
    const list = $('chat-messages');
    const seq = li.dataset.seq === undefined ? Infinity : Number(li.dataset.seq);
    let ref = null;
    let c = list.lastElementChild;
    while (c) {
      const cs = c.dataset.seq;
      if (cs === undefined ? seq !== Infinity : Number(cs) > seq) {
        ref = c;
        c = c.previousElementSibling;
      } else {
        break;
      }
    }
    list.insertBefore(li, ref);
    regroup(li);
    if (li.nextElementSibling) regroup(li.nextElementSibling);
  }

  // Consecutive messages by the same author show the author's name once.
  function regroup(li) {
    const prev = li.previousElementSibling;
    const same = !!(prev && li.dataset.author && prev.dataset.author === li.dataset.author);
    li.classList.toggle('msg-grouped', same);
  }

  function renderReceipts() {
    const r = currentRec();
    if (!r) return;
    const seenUpTo = r.summary ? r.summary.visitor_seen_seq || 0 : 0;
    for (const [seq, li] of S.view) {
      if (!li.classList.contains('msg-operator')) continue;
      const st = li.querySelector('.msg-status');
      if (!st) continue;
      const seen = seq <= seenUpTo;
      st.textContent = seen ? 'Seen' : 'Sent';
      li.classList.toggle('is-seen', seen);
    }
    for (const p of S.pending.values()) {
      if (p.key === r.key && p.el && p.status === 'sending') updatePendingElement(p);
    }
  }

  function nearBottom() {
    const list = $('chat-messages');
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function scrollToBottom() {
    const list = $('chat-messages');
    list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- chat actions

  function setMe(op) {
    S.me = op;
    $('operator-name').textContent = op && op.name ? op.name : '';
    $('admin-tab').hidden = !isAdmin();
    if (!isAdmin() && S.page === 'admin') showPage('inbox'); // an admin made an operator while on the page
  }

  function joinDialog(r) {
    send({ type: 'join', dialog_id: r.id, last_seq: r.loaded ? r.contig : 0 });
  }

  function openDialog(k) {
    const r = S.dialogs.get(k);
    if (!r) return;
    showPage('inbox');
    document.body.classList.add('chat-open');
    if (S.currentKey === k) {
      focusComposer();
      return;
    }
    stopTyping();
    hideTyping();
    S.currentKey = k;
    S.search = { q: '', hits: [], index: -1 };
    $('chat-search-input').value = '';
    renderSearchCount();
    S.details = null;
    renderChat();
    renderList();
    joinDialog(r);
    maybeSendSeen();
    focusComposer();
    loadDetails();
    loadCanned(r);
  }

  // A dialog from a reminder, a task or a record card: it may not be in the list.
  async function openDialogById(id) {
    const k = key(id);
    if (!S.dialogs.get(k) || !S.dialogs.get(k).summary) {
      const res = await api('GET', `/api/dialogs/${encodeURIComponent(k)}`);
      if (!res.ok) {
        notice(`Chat not available: ${res.message}`);
        return;
      }
      mergeSummary(res.data.dialog);
    }
    openDialog(k);
  }

  function focusComposer() {
    const input = $('reply-input');
    if (!input.disabled) input.focus();
  }

  function maybeSendSeen() {
    const r = currentRec();
    if (!r || !r.loaded || !visible() || !S.ready) return;
    const max = maxVisitorSeq(r);
    const already = Math.max(r.seenSent, r.summary ? r.summary.operator_seen_seq || 0 : 0);
    if (max > already && send({ type: 'seen', dialog_id: r.id, seq: max })) r.seenSent = max;
    if (r.summary && Math.max(r.seenSent, r.summary.operator_seen_seq || 0) >= max) {
      r.summary.operator_seen_seq = Math.max(r.summary.operator_seen_seq || 0, r.seenSent);
      if (r.summary.unread) {
        r.summary.unread = 0;
        queueListRender();
      }
    }
  }

  function submitReply() {
    const r = currentRec();
    const input = $('reply-input');
    const kind = S.mode === 'note' ? 'note' : 'text';
    if (!r || (isFinished(r) && kind !== 'note')) return;
    const text = input.value.trim();
    if (!text) return;
    const cid = uuid();
    const frame = { type: kind === 'note' ? 'note' : 'send', dialog_id: r.id, client_msg_id: cid, text };
    if (new TextEncoder().encode(JSON.stringify(frame)).length > MAX_FRAME_BYTES - 256) {
      notice('This message is too long. Please shorten it.');
      return;
    }
    const p = { cid, kind, dialogId: r.id, key: r.key, text, status: 'sending', seq: null, el: null, error: '' };
    S.pending.set(cid, p);
    input.value = '';
    closeCanned();
    stopTyping();
    p.el = buildPending(p);
    placeMessage(p.el);
    scrollToBottom();
    transmit(p);
  }

  function transmit(p) {
    send({ type: p.kind === 'note' ? 'note' : 'send', dialog_id: p.dialogId, client_msg_id: p.cid, text: p.text });
  }

  // Take a failed message back into the composer and drop it from the conversation.
  function editPending(p) {
    S.pending.delete(p.cid);
    if (p.el) p.el.remove();
    p.el = null;
    setMode(p.kind === 'note' ? 'note' : 'reply');
    const input = $('reply-input');
    if (!input.disabled) {
      input.value = p.text;
      input.focus();
    }
  }

  function retryPending(p) {
    p.status = 'sending';
    p.error = '';
    p.errorCode = '';
    if (p.el) updatePendingElement(p);
    transmit(p);
  }

  function failInFlight(reason) {
    for (const p of S.pending.values()) {
      if (p.status === 'sending' && p.seq === null) {
        p.status = 'failed';
        p.error = reason;
        p.errorCode = 'too_big';
        if (p.el) updatePendingElement(p);
      }
    }
    notice(reason);
  }

  // A dialog frame with a ref, acknowledged or refused by `ack` / `error`.
  function dialogAction(what, label, frame) {
    const r = currentRec();
    if (!r) return false;
    const ref = uuid();
    if (!send(Object.assign({ type: what, dialog_id: r.id, ref }, frame || {}))) {
      notice('Not connected. Try again in a moment.');
      return false;
    }
    S.actionRefs.set(ref, { what, label, key: r.key });
    return true;
  }

  function closeCurrent() {
    const r = currentRec();
    if (!r || isFinished(r) || r.closing) return;
    if (dialogAction('close', 'finish the chat')) {
      r.closing = true;
      renderComposerState();
    }
  }

  function setStatus(status) {
    closeStatusMenu();
    dialogAction('status', 'change the status', { status });
  }

  function setMode(mode) {
    S.mode = mode === 'note' ? 'note' : 'reply';
    for (const radio of document.querySelectorAll('input[name=mode]')) radio.checked = radio.value === S.mode;
    renderComposerState();
  }

  function openStatusMenu() {
    const r = currentRec();
    if (!r || !r.summary) return;
    const menu = $('status-options');
    menu.replaceChildren();
    const current = r.summary.status;
    for (const target of STATUS_TARGETS[current] || []) {
      const li = h('li');
      li.setAttribute('role', 'none');
      const label = current === 'finished' && target === 'in_progress' ? 'Reopen (in progress)' : statusLabel(target);
      const b = button('menu-item', label, () => setStatus(target));
      b.setAttribute('role', 'menuitem');
      b.dataset.status = target;
      li.appendChild(b);
      menu.appendChild(li);
    }
    menu.hidden = false;
    $('chat-status').setAttribute('aria-expanded', 'true');
    const first = menu.querySelector('button');
    if (first) first.focus();
  }

  function closeStatusMenu() {
    $('status-options').hidden = true;
    $('chat-status').setAttribute('aria-expanded', 'false');
  }

  function onInput() {
    updateCanned();
    const r = currentRec();
    const input = $('reply-input');
    if (!r || isFinished(r) || S.mode === 'note') return; // a note is nothing the visitor should see coming
    if (!input.value.trim()) {
      stopTyping();
      return;
    }
    const now = Date.now();
    if (now - S.typingSentAt >= TYPING_SEND_EVERY_MS) {
      if (send({ type: 'typing', dialog_id: r.id, active: true })) {
        S.typingSentAt = now;
        S.typingOn = true;
        S.typingDialogId = r.id;
      }
    }
    clearTimeout(S.typingIdleTimer);
    S.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(S.typingIdleTimer);
    if (S.typingOn) {
      send({ type: 'typing', dialog_id: S.typingDialogId, active: false });
      S.typingOn = false;
    }
  }

  function showTyping() {
    $('chat-typing').hidden = false;
    clearTimeout(S.typingHideTimer);
    S.typingHideTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  }

  function hideTyping() {
    clearTimeout(S.typingHideTimer);
    $('chat-typing').hidden = true;
  }

  // ---------------------------------------------------------------- canned replies

  async function loadCanned(r) {
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

  function updateCanned(forceAll) {
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
      menu.appendChild(h('li', 'menu-empty', none ? 'This line has no canned replies yet.' : 'No canned reply starts like that.'));
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
    $('reply-input').setAttribute('aria-activedescendant', S.cannedItems[S.cannedActive] ? `canned-${S.cannedItems[S.cannedActive].id}` : '');
  }

  function closeCanned() {
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

  function onComposerKey(ev) {
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

  // ---------------------------------------------------------------- files

  async function uploadFiles(files) {
    const r = currentRec();
    if (!r) return;
    for (const file of files) {
      const cid = uuid();
      const row = h('li', 'msg msg-operator msg-own msg-pending msg-upload');
      row.appendChild(h('div', 'msg-author', 'You'));
      const bubble = h('div', 'msg-bubble');
      bubble.appendChild(h('div', 'msg-text', `Uploading ${file.name} (${fmtSize(file.size)})…`));
      row.appendChild(bubble);
      if (isCurrent(r)) {
        $('chat-messages').appendChild(row);
        scrollToBottom();
      }
      const params = new URLSearchParams({ name: file.name, client_msg_id: cid });
      const res = await api('POST', `/api/dialogs/${encodeURIComponent(r.key)}/files?${params}`, file, {
        raw: true,
        type: file.type || 'application/octet-stream',
      });
      row.remove();
      if (!res.ok) notice(`${file.name} was not sent: ${res.message}`);
    }
  }

  // ---------------------------------------------------------------- search in the chat

  async function searchChat(ev) {
    if (ev) ev.preventDefault();
    const r = currentRec();
    const q = $('chat-search-input').value.trim();
    if (!r) return;
    if (q && q === S.search.q && S.search.hits.length) {
      stepSearch(1);
      return;
    }
    S.search = { q, hits: [], index: -1 };
    if (!q) {
      markSearchHits();
      renderSearchCount();
      return;
    }
    const res = await api('GET', `/api/dialogs/${encodeURIComponent(r.key)}/search?q=${encodeURIComponent(q)}`);
    if (!res.ok) {
      notice(res.message);
      return;
    }
    const hits = res.data.seqs || [];
    // Hits older than what is loaded: fetch the history from the first one on.
    const missing = hits.filter((seq) => !r.msgs.has(seq));
    if (missing.length) {
      const from = Math.min(...missing) - 1;
      const more = await api('GET', `/api/dialogs/${encodeURIComponent(r.key)}/messages?after_seq=${from}`);
      if (more.ok) for (const m of more.data.items || []) ingest(m, false);
    }
    S.search = { q, hits, index: hits.length ? hits.length - 1 : -1 }; // the latest first, like a chat reads
    markSearchHits();
    renderSearchCount();
    showSearchHit();
  }

  function stepSearch(delta) {
    const n = S.search.hits.length;
    if (!n) return;
    S.search.index = (S.search.index + delta + n) % n;
    renderSearchCount();
    showSearchHit();
  }

  function markSearchHits() {
    const hits = new Set(S.search.hits);
    for (const [seq, li] of S.view) {
      li.classList.toggle('msg-hit', hits.has(seq));
      li.classList.remove('msg-hit-current');
    }
  }

  function showSearchHit() {
    for (const li of document.querySelectorAll('.msg-hit-current')) li.classList.remove('msg-hit-current');
    const seq = S.search.hits[S.search.index];
    const li = seq === undefined ? null : S.view.get(seq);
    if (!li) return;
    li.classList.add('msg-hit-current');
    li.scrollIntoView({ block: 'center' });
  }

  function renderSearchCount() {
    const n = S.search.hits.length;
    const out = $('chat-search-count');
    out.textContent = S.search.q ? (n ? `${S.search.index + 1} of ${n}` : 'No matches') : '';
    $('chat-search-prev').disabled = n < 2;
    $('chat-search-next').disabled = n < 2;
  }
  // ---------------------------------------------------------------- the details panel

  function queueDetails() {
    clearTimeout(S.detailsTimer);
    S.detailsTimer = setTimeout(loadDetails, 250);
  }

  async function loadDetails() {
    const r = currentRec();
    if (!r) return;
    const k = r.key;
    const res = await api('GET', `/api/dialogs/${encodeURIComponent(k)}`);
    if (S.currentKey !== k) return;
    if (!res.ok) {
      if (res.status === 403) notice('This chat is no longer on your lines.');
      return;
    }
    S.details = res.data;
    renderDetails();
  }

  function fact(id, value) {
    const dd = $(id);
    dd.replaceChildren();
    if (value === null || value === undefined || value === '') {
      dd.appendChild(h('span', 'fact-missing', '—'));
    } else if (value instanceof Node) {
      dd.appendChild(value);
    } else {
      dd.textContent = String(value);
    }
  }

  // The dialog's own client or lead in the CRM (from a form, or linked by hand): a button that opens its card.
  function clientRecord(c) {
    const box = h('span', 'client-records');
    if (c.contact) box.appendChild(button('link-button record-open', `Client #${c.contact.id}${c.contact.name ? `: ${c.contact.name}` : ''}`, () => openRecord('contact', c.contact.id)));
    if (c.lead) box.appendChild(button('link-button record-open', `Lead #${c.lead.id}: ${c.lead.title}`, () => openRecord('lead', c.lead.id)));
    return box.children.length ? box : null;
  }

  function renderDetails() {
    const aside = $('details');
    const d = S.details;
    const r = currentRec();
    aside.hidden = !r || !S.detailsOpen;
    $('inbox-view').classList.toggle('with-details', !aside.hidden);
    $('details-toggle').setAttribute('aria-expanded', String(!aside.hidden));
    if (!r || !d) return;
    fact('d-client-name', d.client.name);
    fact('d-client-company', d.client.company);
    fact('d-client-email', d.client.email);
    fact('d-client-phone', d.client.phone);
    fact('d-client-record', clientRecord(d.client));
    const p = d.channel.profile || {};
    $('d-channel-title').textContent = `Channel: ${d.channel.label}`;
    const url = httpUrl(p.page_url);
    if (url) {
      const a = h('a', 'page-url', p.page_title || p.page_url);
      a.href = url;
      a.title = p.page_url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      fact('d-page', a);
    } else {
      fact('d-page', p.page_title || p.page_url);
    }
    fact('d-browser', p.browser);
    fact('d-language', p.language);
    fact('d-location', p.location);
    renderOperators(d.dialog);
    renderLinks(d);
    renderDialogAgenda(d);
    $('delete-dialog').hidden = !(d.can && d.can.delete);
    $('delete-confirm').hidden = true;
  }

  function renderOperators(s) {
    const list = $('d-operators');
    list.replaceChildren();
    if (s.operator) {
      const li = h('li');
      li.appendChild(h('span', 'person', s.operator.name));
      li.appendChild(h('span', 'tag', 'responsible'));
      list.appendChild(li);
    } else {
      list.appendChild(h('li', 'fact-missing', 'Nobody yet: the chat waits in the queue.'));
    }
    for (const o of s.operators || []) {
      const li = h('li');
      li.appendChild(h('span', 'person', o.name));
      li.appendChild(button('link-button', 'Remove', () => dialogAction('assign', 'remove the operator', { operator_id: o.id, mode: 'remove' })));
      list.appendChild(li);
    }
    const select = $('assign-operator');
    const chosen = select.value;
    select.replaceChildren();
    const on = operatorIdsOf(s);
    for (const o of S.operators) {
      if (o.is_active === false) continue;
      const opt = h('option', null, `${o.name}${S.me && key(o.id) === key(S.me.id) ? ' (you)' : ''}${on.has(key(o.id)) ? ' ✓' : ''}`);
      opt.value = String(o.id);
      select.appendChild(opt);
    }
    if (chosen) select.value = chosen;
  }

  function renderLinks(d) {
    const list = $('d-links');
    list.replaceChildren();
    if (!d.links.length) list.appendChild(h('li', 'fact-missing', 'Not linked to a lead, client or order.'));
    for (const link of d.links) {
      const li = h('li', 'link-row');
      li.appendChild(button('link-button record-open', link.title, () => openRecord(link.entity_type, link.entity_id)));
      li.appendChild(button('link-button muted', 'Unlink', () => unlink(link.id)));
      list.appendChild(li);
    }
    const type = $('link-type');
    const chosen = type.value;
    type.replaceChildren();
    for (const t of d.link_types || []) {
      const opt = h('option', null, t.label);
      opt.value = t.type;
      type.appendChild(opt);
    }
    if (chosen && [...type.options].some((o) => o.value === chosen)) type.value = chosen;
  }

  function renderDialogAgenda(d) {
    const list = $('d-agenda');
    list.replaceChildren();
    const item = (cls, kind, text) => {
      const li = h('li', cls);
      li.appendChild(h('span', 'tag', kind));
      li.appendChild(h('span', null, text));
      return li;
    };
    for (const t of d.tasks) list.appendChild(item(t.done ? 'done' : '', 'Task', `${t.title}${t.due_at ? ` · due ${fmtWhen(t.due_at)}` : ''}`));
    for (const e of d.events) list.appendChild(item('', 'Event', `${e.title} · ${fmtWhen(e.starts_at)}`));
    for (const r of d.reminders) list.appendChild(item(r.fired_at ? 'done' : '', 'Reminder', `${r.text} · ${fmtWhen(r.remind_at)}`));
    if (!list.children.length) list.appendChild(h('li', 'fact-missing', 'Nothing planned for this chat.'));
  }

  let linkSearchTimer = 0;
  let linkSearchToken = 0;

  function searchRecords() {
    clearTimeout(linkSearchTimer);
    linkSearchTimer = setTimeout(async () => {
      const type = $('link-type').value;
      const q = $('link-query').value.trim();
      const token = ++linkSearchToken;
      const path = { order: '/api/orders', lead: '/api/leads', contact: '/api/contacts' }[type];
      const out = $('link-results');
      if (!path) return;
      const res = await api('GET', `${path}?q=${encodeURIComponent(q)}&limit=8`);
      if (token !== linkSearchToken) return;
      out.replaceChildren();
      if (!res.ok) {
        out.appendChild(h('li', 'fact-missing', res.message));
        return;
      }
      const items = res.data.items || [];
      if (!items.length) out.appendChild(h('li', 'fact-missing', 'Nothing found.'));
      for (const item of items) {
        const li = h('li', 'link-row');
        li.appendChild(h('span', 'record-title', recordTitle(type, item)));
        li.appendChild(button('btn btn-ghost btn-small', 'Link', () => link(type, item.id)));
        out.appendChild(li);
      }
    }, 200);
  }

  function recordTitle(type, item) {
    if (type === 'order') return `Order #${item.id}: ${item.title}${item.customer_name ? ` (${item.customer_name})` : ''}`;
    const name = item.name || [item.first_name, item.last_name].filter(Boolean).join(' ') || item.title || item.email || '';
    return `${type === 'lead' ? 'Lead' : 'Contact'} #${item.id}${name ? `: ${name}` : ''}`;
  }

  async function link(type, id) {
    const r = currentRec();
    if (!r) return;
    const res = await api('POST', `/api/dialogs/${encodeURIComponent(r.key)}/links`, { entity_type: type, entity_id: id });
    if (!res.ok) {
      notice(`Could not link: ${res.message}`);
      return;
    }
    $('link-results').replaceChildren();
    $('link-query').value = '';
    loadDetails();
  }

  async function unlink(linkId) {
    const r = currentRec();
    if (!r) return;
    const res = await api('DELETE', `/api/dialogs/${encodeURIComponent(r.key)}/links/${linkId}`);
    if (!res.ok) notice(`Could not unlink: ${res.message}`);
    loadDetails();
  }

  async function createOrder(ev) {
    ev.preventDefault();
    const title = $('order-title').value.trim();
    if (!title) return;
    const raw = $('order-amount').value.trim().replace(',', '.');
    const body = { title };
    if (raw) {
      const amount = Number(raw);
      if (!(amount >= 0)) {
        notice('The amount must be a number, like 25.99.');
        return;
      }
      body.amount_minor = Math.round(amount * 100);
    }
    const res = await api('POST', '/api/orders', body);
    if (!res.ok) {
      notice(`Could not create the order: ${res.message}`);
      return;
    }
    $('order-title').value = '';
    $('order-amount').value = '';
    await link('order', res.data.id);
  }

  // The linked record's card, in the panel. Orders are ours; leads and contacts come from the CRM.
  async function openRecord(type, id) {
    if ((type === 'lead' || type === 'contact') && window.OpenlineConsoleCrm) {
      window.OpenlineConsoleCrm.openRecord(type, id); // the CRM's own card, with its timeline and chats
      return;
    }
    const card = $('record-card');
    const path = { order: `/api/orders/${id}`, lead: `/api/leads/${id}`, contact: `/api/contacts/${id}` }[type];
    if (!path) return;
    const res = await api('GET', path);
    card.replaceChildren();
    card.hidden = false;
    const close = button('link-button record-close', 'Close', () => {
      card.hidden = true;
    });
    if (!res.ok) {
      card.appendChild(h('p', 'fact-missing', res.message));
      card.appendChild(close);
      return;
    }
    const item = res.data;
    card.appendChild(h('h4', 'record-heading', recordTitle(type, item)));
    const dl = h('dl', 'facts');
    const rows = [];
    if (type === 'order') {
      const amount = item.amount_minor === null || item.amount_minor === undefined ? null : `${(item.amount_minor / 100).toFixed(2)}${item.currency ? ` ${item.currency}` : ''}`;
      rows.push(['Status', item.status], ['Amount', amount], ['Customer', item.customer_name], ['Created', fmtWhen(item.created_at)]);
    } else {
      for (const name of ['name', 'email', 'phone', 'status', 'source']) if (item[name]) rows.push([name[0].toUpperCase() + name.slice(1), item[name]]);
    }
    for (const [label, value] of rows) {
      const div = h('div');
      div.appendChild(h('dt', null, label));
      div.appendChild(h('dd', null, value === null || value === undefined || value === '' ? '—' : String(value)));
      dl.appendChild(div);
    }
    card.appendChild(dl);
    const chats = item.dialog_ids || [];
    if (chats.length) {
      const p = h('p', 'record-chats', 'Chats: ');
      for (const dialogId of chats) p.appendChild(button('link-button', `#${dialogId}`, () => openDialogById(dialogId)));
      card.appendChild(p);
    }
    card.appendChild(close);
  }

  function openAgendaForm(id) {
    for (const form of ['task-form', 'event-form', 'reminder-form']) $(form).hidden = form !== id || !$(form).hidden;
    const form = $(id);
    if (!form.hidden) {
      const first = form.querySelector('input');
      if (first) first.focus();
      if (id === 'reminder-form' && !form.elements.remind_at.value) {
        const soon = new Date(Date.now() + 60 * 60 * 1000);
        soon.setSeconds(0, 0);
        form.elements.remind_at.value = new Date(soon.getTime() - soon.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
    }
  }

  async function submitAgenda(ev, path, build) {
    ev.preventDefault();
    const r = currentRec();
    const form = ev.target;
    if (!r) return;
    const body = build(form.elements);
    if (!body) return;
    body.dialog_id = Number(r.key);
    const res = await api('POST', path, body);
    if (!res.ok) {
      notice(res.message);
      return;
    }
    form.reset();
    form.hidden = true;
    loadDetails();
    refreshAgendaCount();
  }

  async function deleteCurrent() {
    const r = currentRec();
    if (!r) return;
    $('delete-confirm').hidden = true;
    const res = await api('DELETE', `/api/dialogs/${encodeURIComponent(r.key)}`);
    if (!res.ok) notice(`Could not delete the chat: ${res.message}`);
    // The `dialog_deleted` frame clears it from the screen, here and on every colleague's console.
  }

  function askDelete() {
    const r = currentRec();
    if (!r || !r.summary) return;
    $('delete-confirm-text').textContent = `Delete chat #${r.summary.number} with all its messages, notes and files? This cannot be undone.`;
    $('delete-confirm').hidden = false;
    $('delete-no').focus();
  }
  // ---------------------------------------------------------------- reminders

  function addReminder(r, live) {
    if (!r || r.dismissed_at) return;
    S.reminders.set(key(r.id), r);
    renderAlerts();
    if (live && document.visibilityState !== 'visible') document.title = `Reminder: ${r.text}`;
  }

  function renderAlerts() {
    const box = $('alerts');
    box.replaceChildren();
    for (const r of S.reminders.values()) {
      const item = h('div', 'alert');
      item.setAttribute('role', 'alert');
      item.appendChild(svgIcon(ICONS.bell, 'icon alert-icon'));
      const body = h('div', 'alert-body');
      body.appendChild(h('strong', 'alert-title', r.text));
      body.appendChild(h('span', 'alert-when', `Reminder for ${fmtWhen(r.remind_at)}`));
      item.appendChild(body);
      if (r.dialog) {
        item.appendChild(button('btn btn-ghost btn-small', `Open chat #${r.dialog.number || r.dialog.id}`, () => openDialogById(r.dialog.id)));
      }
      item.appendChild(button('btn btn-primary btn-small', 'Dismiss', () => dismissReminder(r.id)));
      box.appendChild(item);
    }
  }

  async function dismissReminder(id) {
    const res = await api('POST', `/api/reminders/${id}/dismiss`);
    if (!res.ok && res.status !== 404) {
      notice(res.message);
      return;
    }
    S.reminders.delete(key(id));
    renderAlerts();
    if (S.page === 'agenda') loadAgenda();
  }

  // ---------------------------------------------------------------- pages

  function showPage(page) {
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

  async function refreshAgendaCount() {
    const res = await api('GET', '/api/tasks');
    if (!res.ok) return;
    const n = (res.data.items || []).length;
    const badge = $('agenda-count');
    badge.textContent = String(n);
    badge.hidden = !n;
  }

  function dialogButton(dialog) {
    if (!dialog) return null;
    return button('link-button', `Chat #${dialog.number || dialog.id}`, () => openDialogById(dialog.id));
  }

  function row(cls, parts) {
    const li = h('li', `row ${cls || ''}`);
    for (const part of parts) if (part) li.appendChild(typeof part === 'string' ? h('span', null, part) : part);
    return li;
  }

  async function loadAgenda() {
    const done = $('agenda-show-done').checked;
    const [tasks, events, reminders] = await Promise.all([
      api('GET', `/api/tasks${done ? '?done=all' : ''}`),
      api('GET', '/api/events'),
      api('GET', '/api/reminders'),
    ]);
    const tl = $('agenda-tasks');
    tl.replaceChildren();
    for (const t of tasks.ok ? tasks.data.items : []) {
      const check = document.createElement('input');
      check.type = 'checkbox';
      check.checked = t.done;
      check.setAttribute('aria-label', `Done: ${t.title}`);
      check.addEventListener('change', async () => {
        const res = await api('PATCH', `/api/tasks/${t.id}`, { done: check.checked });
        if (!res.ok) notice(res.message);
        loadAgenda();
        refreshAgendaCount();
      });
      tl.appendChild(row(t.done ? 'done' : '', [check, h('span', 'row-title', t.title), t.due_at ? `due ${fmtWhen(t.due_at)}` : '', dialogButton(t.dialog)]));
    }
    if (!tl.children.length) tl.appendChild(h('li', 'row fact-missing', 'No open tasks. Create one from a chat.'));
    const el = $('agenda-events');
    el.replaceChildren();
    const soon = Date.now() - 24 * 3600 * 1000;
    for (const e of events.ok ? events.data.items : []) {
      if (stamp(e.starts_at) < soon) continue;
      el.appendChild(row('', [h('span', 'row-when', fmtWhen(e.starts_at)), h('span', 'row-title', e.title), e.ends_at ? `until ${fmtWhen(e.ends_at)}` : '', dialogButton(e.dialog)]));
    }
    if (!el.children.length) el.appendChild(h('li', 'row fact-missing', 'Nothing in the calendar.'));
    const rl = $('agenda-reminders');
    rl.replaceChildren();
    for (const r of reminders.ok ? reminders.data.items : []) {
      rl.appendChild(
        row(r.fired_at ? 'fired' : '', [
          h('span', 'row-when', fmtWhen(r.remind_at)),
          h('span', 'row-title', r.text),
          r.fired_at ? h('span', 'tag', 'due') : '',
          dialogButton(r.dialog),
          button('link-button', r.fired_at ? 'Dismiss' : 'Cancel', () => dismissReminder(r.id)),
        ]),
      );
    }
    if (!rl.children.length) rl.appendChild(h('li', 'row fact-missing', 'No reminders.'));
  }

  // ---------------------------------------------------------------- admin

  let adminLines = [];

  async function loadAdmin() {
    if (!isAdmin()) return;
    const [ops, lines, audit] = await Promise.all([api('GET', '/api/operators'), api('GET', '/api/lines'), api('GET', '/api/audit?limit=50')]);
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

  function checkedValues(container) {
    return [...container.querySelectorAll('input[type=checkbox]:checked')].map((i) => i.value);
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
      const save = button('btn btn-ghost btn-small', 'Save', async () => {
        const res = await api('PATCH', `/api/operators/${o.id}`, { role: role.value, is_active: active.checked, line_ids: checkedValues(picks) });
        notice(res.ok ? `${o.name} saved.` : res.message);
        if (res.ok) loadAdmin();
      });
      const td = h('td');
      td.appendChild(save);
      tr.appendChild(td);
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
      for (const [cell, input] of [[h('td'), name], [h('td', 'mono', l.id), null], [h('td'), language], [h('td'), origins], [h('td'), greeting]]) {
        if (input) cell.appendChild(input);
        tr.appendChild(cell);
      }
      const save = button('btn btn-ghost btn-small', 'Save', async () => {
        const body = {
          name: name.value.trim(),
          language: language.value.trim(),
          greeting: greeting.value,
          allowed_origins: origins.value.split(',').map((s) => s.trim()).filter(Boolean),
        };
        const res = await api('PATCH', `/api/lines/${encodeURIComponent(l.id)}`, body);
        notice(res.ok ? `${body.name} saved.` : res.message);
        if (res.ok) loadAdmin();
      });
      const td = h('td');
      td.appendChild(save);
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  async function loadAdminCanned() {
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
          const r = await api('PATCH', `/api/canned/${c.id}`, { shortcut: shortcut.value, title: title.value, text: text.value });
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

  async function adminCreate(ev, path, build, after) {
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
  // ---------------------------------------------------------------- views & session

  function resetState() {
    clearTimeout(S.reconnectTimer);
    clearTimeout(S.typingIdleTimer);
    clearTimeout(S.refetchTimer);
    S.reconnectTimer = 0;
    S.attempt = 0;
    S.dialogs.clear();
    S.pending.clear();
    S.actionRefs.clear();
    S.view.clear();
    S.listKeys.clear();
    S.reminders.clear();
    S.canned.clear();
    S.nextCursor = null;
    S.currentKey = null;
    S.details = null;
    S.typingOn = false;
    S.typingSentAt = 0;
    $('dialog-list').replaceChildren();
    $('chat-messages').replaceChildren();
    $('reply-input').value = '';
    renderAlerts();
    renderChat();
    renderList();
  }

  function showLogin(message) {
    $('app').hidden = true;
    $('login-view').hidden = false;
    const err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    document.title = 'Log in · Openline console';
    if ($('login-email').value) $('login-password').focus();
    else $('login-email').focus();
  }

  function toLogin(message) {
    if (!S.want && !S.me) return;
    const email = S.me && S.me.email ? String(S.me.email) : '';
    if (email && !$('login-email').value) $('login-email').value = email;
    S.want = false;
    dropSocket();
    S.token = null;
    S.me = null;
    resetState();
    hideNotice();
    if (window.OpenlineConsoleCrm) window.OpenlineConsoleCrm.stop();
    showLogin(message);
  }

  async function loadTeam() {
    const [ops, channels] = await Promise.all([api('GET', '/api/operators'), api('GET', '/api/channels')]);
    if (ops.ok) S.operators = ops.data.items;
    if (channels.ok) S.channels = channels.data.items;
    renderFilterControls();
  }

  function startApp(operator) {
    setMe(operator || null);
    $('login-view').hidden = true;
    $('app').hidden = false;
    $('login-error').hidden = true;
    readFilterFromUrl();
    renderFilterControls();
    let open = activeFilterCount() > 0;
    try {
      open = open || localStorage.getItem('openline:console:filters-open') === '1';
    } catch (e) {
      /* ignore */
    }
    toggleFilters(open);
    showPage('inbox');
    renderChat();
    renderList();
    S.want = true;
    S.attempt = 0;
    connect();
    loadTeam();
    refreshAgendaCount();
    if (window.OpenlineConsoleCrm) window.OpenlineConsoleCrm.start();
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const email = $('login-email').value.trim();
    const password = $('login-password').value;
    const err = $('login-error');
    const btn = $('login-submit');
    if (!email || !password) {
      err.textContent = 'Enter your e-mail and password.';
      err.hidden = false;
      return;
    }
    btn.disabled = true;
    err.hidden = true;
    try {
      const res = await fetch('/api/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      let body = null;
      try {
        body = await res.json();
      } catch (e) {
        body = null;
      }
      if (res.ok && body) {
        S.token = typeof body.token === 'string' ? body.token : null;
        $('login-password').value = '';
        startApp(body.operator);
        return;
      }
      const msg = body && body.error && body.error.message ? String(body.error.message) : null;
      err.textContent = msg || (res.status === 401 ? 'Wrong e-mail or password.' : `Login failed (HTTP ${res.status}).`);
      err.hidden = false;
      if (res.status === 401) $('login-password').select();
    } catch (e) {
      err.textContent = 'Cannot reach the server. Check your connection and try again.';
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  }

  async function onLogout() {
    S.want = false;
    dropSocket();
    try {
      await fetch('/api/logout', { method: 'POST', credentials: 'same-origin' });
    } catch (e) {
      /* the cookie may linger; the login form is shown anyway */
    }
    S.token = null;
    S.me = null;
    resetState();
    hideNotice();
    $('login-password').value = '';
    showLogin('');
  }

  function wire() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('notice-dismiss').addEventListener('click', hideNotice);
    for (const tab of document.querySelectorAll('.view-tab')) tab.addEventListener('click', () => showPage(tab.dataset.view));

    // list and filters
    $('filters-toggle').addEventListener('click', () => toggleFilters());
    $('filters').addEventListener('change', () => {
      readFilterControls();
      applyFilter();
    });
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    $('filters-reset').addEventListener('click', () => {
      S.filter = { channel: [], type: [], operator: [], status: [], q: S.filter.q };
      applyFilter();
    });
    let searchTimer = 0;
    $('list-search').addEventListener('input', () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        readFilterControls();
        applyFilter();
      }, 300);
    });
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearTimeout(searchTimer);
      readFilterControls();
      applyFilter();
    });
    $('load-more').addEventListener('click', () => fetchList(true));
    $('dialog-list').addEventListener('click', (ev) => {
      const item = ev.target.closest('.dialog-item');
      if (item && item.dataset.dialogId) openDialog(item.dataset.dialogId);
    });

    // the chat
    $('chat-back').addEventListener('click', () => {
      document.body.classList.remove('chat-open');
      const item = document.querySelector(`.dialog-item[data-dialog-id="${CSS.escape(S.currentKey || '')}"]`);
      if (item) item.focus();
    });
    $('chat-status').addEventListener('click', () => {
      if ($('status-options').hidden) openStatusMenu();
      else closeStatusMenu();
    });
    $('status-options').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        closeStatusMenu();
        $('chat-status').focus();
      }
    });
    document.addEventListener('click', (ev) => {
      if (!ev.target.closest('.status-menu')) closeStatusMenu();
      if (!ev.target.closest('.composer')) closeCanned();
    });
    $('take-dialog').addEventListener('click', () => setStatus('in_progress'));
    $('details-toggle').addEventListener('click', () => {
      S.detailsOpen = !S.detailsOpen;
      renderDetails();
      if (S.detailsOpen && !S.details) loadDetails();
    });
    $('chat-search').addEventListener('submit', searchChat);
    $('chat-search-input').addEventListener('search', () => {
      if (!$('chat-search-input').value) searchChat();
    });
    $('chat-search-prev').addEventListener('click', () => stepSearch(-1));
    $('chat-search-next').addEventListener('click', () => stepSearch(1));

    // the composer
    $('reply-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      submitReply();
    });
    for (const radio of document.querySelectorAll('input[name=mode]')) {
      radio.addEventListener('change', () => {
        setMode(radio.value);
        stopTyping();
        focusComposer();
      });
    }
    const input = $('reply-input');
    input.addEventListener('input', onInput);
    input.addEventListener('blur', stopTyping);
    input.addEventListener('keydown', onComposerKey);
    $('canned-button').addEventListener('click', () => {
      if (!$('canned-menu').hidden) {
        closeCanned();
        return;
      }
      input.focus();
      updateCanned(true);
    });
    $('attach-button').addEventListener('click', () => $('attach-input').click());
    $('attach-input').addEventListener('change', () => {
      const files = [...$('attach-input').files];
      $('attach-input').value = '';
      uploadFiles(files);
    });

    // the details panel
    $('assign-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const mode = ev.submitter && ev.submitter.value ? ev.submitter.value : 'transfer';
      const id = Number($('assign-operator').value);
      if (id) dialogAction('assign', mode === 'add' ? 'add the operator' : 'reassign the chat', { operator_id: id, mode });
    });
    $('link-form').addEventListener('submit', (ev) => ev.preventDefault());
    $('link-query').addEventListener('input', searchRecords);
    $('link-query').addEventListener('focus', searchRecords);
    $('link-type').addEventListener('change', searchRecords);
    $('order-form').addEventListener('submit', createOrder);
    for (const b of document.querySelectorAll('[data-open-form]')) b.addEventListener('click', () => openAgendaForm(b.dataset.openForm));
    $('task-form').addEventListener('submit', (ev) =>
      submitAgenda(ev, '/api/tasks', (f) => ({ title: f.title.value, due_at: localToIso(f.due_at.value) })),
    );
    $('event-form').addEventListener('submit', (ev) =>
      submitAgenda(ev, '/api/events', (f) => {
        const starts = localToIso(f.starts_at.value);
        if (!starts) return null;
        return { title: f.title.value, starts_at: starts, ends_at: localToIso(f.ends_at.value) };
      }),
    );
    $('reminder-form').addEventListener('submit', (ev) =>
      submitAgenda(ev, '/api/reminders', (f) => {
        const at = localToIso(f.remind_at.value);
        return at ? { text: f.text.value, remind_at: at } : null;
      }),
    );
    $('finish-dialog').addEventListener('click', closeCurrent);
    $('leave-dialog').addEventListener('click', () => dialogAction('leave', 'leave the chat'));
    $('delete-dialog').addEventListener('click', askDelete);
    $('delete-no').addEventListener('click', () => {
      $('delete-confirm').hidden = true;
    });
    $('delete-yes').addEventListener('click', deleteCurrent);

    // my tasks
    $('agenda-show-done').addEventListener('change', loadAgenda);

    // admin
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
          allowed_origins: f.elements.allowed_origins.value.split(',').map((s) => s.trim()).filter(Boolean),
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

    document.addEventListener('visibilitychange', () => {
      if (visible()) {
        maybeSendSeen();
        if (S.want && !S.ws) reconnectNow();
      }
      queueListRender();
    });
    window.addEventListener('online', reconnectNow);
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
})();
