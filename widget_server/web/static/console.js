/* Openline operator console.
 *
 * Speaks the operator WebSocket protocol described in docs/protocol.md (/ws/operator).
 * Every server-provided text is inserted with textContent, never as HTML.
 */
'use strict';

(() => {
  // ---------------------------------------------------------------- constants

  const STATUS_LABELS = { new: 'New', in_progress: 'In progress', waiting: 'Waiting', finished: 'Finished' };
  const AUTHOR_TYPES = new Set(['visitor', 'operator', 'bot', 'system']);

  const TYPING_SEND_EVERY_MS = 2000; // send `typing` at most this often
  const TYPING_IDLE_MS = 4000; // stop "typing" after this long without input
  const TYPING_SHOW_MS = 6000; // hide the visitor's typing indicator after this long
  const PING_EVERY_MS = 25000;
  const PONG_TIMEOUT_MS = 10000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_MAX_MS = 30000;
  const MAX_FRAME_BYTES = 16 * 1024; // server default; larger frames close the socket (1009)
  const NOTICE_MS = 8000;
  const PERMANENT_ERRORS = new Set(['too_long', 'invalid', 'forbidden', 'dialog_closed', 'no_dialog']);

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
    pending: new Map(), // client_msg_id -> pending send
    closeRefs: new Map(), // ref -> dialog key
    typingSentAt: 0,
    typingOn: false,
    typingDialogId: null,
    typingIdleTimer: 0,
    typingHideTimer: 0,
    noticeTimer: 0,
    listRenderQueued: false,
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

  function stamp(iso) {
    const d = toDate(iso);
    return d ? d.getTime() : 0;
  }

  function httpUrl(raw) {
    if (typeof raw !== 'string' || !raw) return null;
    try {
      const u = new URL(raw);
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

  function visible() {
    return document.visibilityState === 'visible';
  }

  function statusLabel(status) {
    return STATUS_LABELS[status] || (status ? String(status) : '');
  }

  function statusClass(status) {
    return `status status-${STATUS_LABELS[status] ? status : 'other'}`;
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
      if (m.seq > after && m.seq <= upto && m.author && m.author.type === 'visitor' && m.kind !== 'system') n += 1;
    }
    return n;
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
    if (m.kind === 'system') return; // the list previews written messages only, like the server
    s.last_message = {
      text: m.text,
      author_type: m.author ? m.author.type : 'system',
      author_name: m.author ? m.author.name : null,
      author_is_me: m.author ? isMe(m.author) : false,
      created_at: m.created_at,
    };
    if (m.author && m.author.type === 'visitor' && m.kind !== 'system' && m.seq > (s.operator_seen_seq || 0)) {
      s.unread = (s.unread || 0) + 1;
    }
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
    S.closeRefs.clear();
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

    const list = Array.isArray(f.dialogs) ? f.dialogs : [];
    const fresh = new Set(list.map((s) => key(s.id)));
    for (const r of S.dialogs.values()) {
      // Dialogs no longer open leave the list (the open one stays until another is chosen).
      if (!fresh.has(r.key) && !isCurrent(r)) r.summary = null;
    }
    for (const s of list) mergeSummary(s);

    const cur = currentRec();
    if (cur) {
      renderChatHeader();
      joinDialog(cur);
    }
    // Retry sends that were not acknowledged (idempotent thanks to client_msg_id).
    for (const p of S.pending.values()) {
      if (p.status === 'sending' && p.seq === null) transmit(p);
    }
    renderList();
    renderComposerState();
    renderReceipts();
  }

  function onDialog(s) {
    const r = mergeSummary(s);
    if (!r) return;
    if (isCurrent(r)) {
      renderChatHeader();
      renderComposerState();
      renderReceipts();
      if (isFinished(r)) hideTyping();
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
    if (live) summaryFromMessage(r, m);
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
            kind: 'text',
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
    if (f.ref && S.closeRefs.has(f.ref)) {
      const r = S.dialogs.get(S.closeRefs.get(f.ref));
      S.closeRefs.delete(f.ref);
      if (r) r.closing = false;
      renderComposerState();
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
      notice(`Message not sent: ${text}`);
      return;
    }
    if (f.ref && S.closeRefs.has(f.ref)) {
      const r = S.dialogs.get(S.closeRefs.get(f.ref));
      S.closeRefs.delete(f.ref);
      if (r) r.closing = false;
      renderComposerState();
      notice(`Could not close the dialog: ${text}`);
      return;
    }
    notice(text);
  }

  // ---------------------------------------------------------------- actions

  function setMe(op) {
    S.me = op;
    $('operator-name').textContent = op && op.name ? op.name : '';
  }

  function joinDialog(r) {
    send({ type: 'join', dialog_id: r.id, last_seq: r.loaded ? r.contig : 0 });
  }

  function openDialog(k) {
    const r = S.dialogs.get(k);
    if (!r) return;
    document.body.classList.add('chat-open');
    if (S.currentKey === k) {
      focusComposer();
      return;
    }
    stopTyping();
    hideTyping();
    S.currentKey = k;
    renderChat();
    renderList();
    joinDialog(r);
    maybeSendSeen();
    focusComposer();
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
    if (!r || isFinished(r)) return;
    const text = input.value.trim();
    if (!text) return;
    const cid = uuid();
    const frame = { type: 'send', dialog_id: r.id, client_msg_id: cid, text };
    if (new TextEncoder().encode(JSON.stringify(frame)).length > MAX_FRAME_BYTES - 256) {
      notice('This message is too long. Please shorten it.');
      return;
    }
    const p = { cid, dialogId: r.id, key: r.key, text, status: 'sending', seq: null, el: null, error: '' };
    S.pending.set(cid, p);
    input.value = '';
    stopTyping();
    p.el = buildPending(p);
    placeMessage(p.el);
    scrollToBottom();
    transmit(p);
  }

  function transmit(p) {
    send({ type: 'send', dialog_id: p.dialogId, client_msg_id: p.cid, text: p.text });
  }

  // Take a failed message back into the composer and drop it from the conversation.
  function editPending(p) {
    S.pending.delete(p.cid);
    if (p.el) p.el.remove();
    p.el = null;
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

  function closeCurrent() {
    const r = currentRec();
    if (!r || isFinished(r) || r.closing) return;
    const ref = uuid();
    if (!send({ type: 'close', dialog_id: r.id, ref })) {
      notice('Not connected. Try again in a moment.');
      return;
    }
    S.closeRefs.set(ref, r.key);
    r.closing = true;
    renderComposerState();
  }

  function onInput() {
    const r = currentRec();
    const input = $('reply-input');
    if (!r || isFinished(r)) return;
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

  // ---------------------------------------------------------------- rendering: list

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
    for (const r of S.dialogs.values()) {
      if (!r.summary) continue;
      if (r.summary.status === 'finished' && !isCurrent(r)) continue;
      items.push(r);
    }
    items.sort((a, b) => {
      const d = stamp(b.summary.updated_at || b.summary.created_at) - stamp(a.summary.updated_at || a.summary.created_at);
      if (d) return d;
      return (Number(b.summary.number) || 0) - (Number(a.summary.number) || 0);
    });

    const frag = document.createDocumentFragment();
    let open = 0;
    let unreadTotal = 0;
    for (const r of items) {
      if (r.summary.status !== 'finished') open += 1;
      const unread = shownUnread(r);
      unreadTotal += unread;
      frag.appendChild(buildItem(r, unread));
    }
    list.replaceChildren(frag);
    $('dialog-empty').hidden = items.length > 0;
    $('dialog-count').textContent = String(open);
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
    top.appendChild(h('span', 'dialog-number', `#${s.number !== undefined && s.number !== null ? s.number : '?'}`));
    top.appendChild(h('span', 'dialog-visitor', (s.visitor && s.visitor.name) || 'Visitor'));
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
    wrap.appendChild(h('span', 'dialog-preview', lm && lm.text ? String(lm.text).slice(0, 300) : 'No messages yet'));
    mid.appendChild(wrap);
    const badge = h('span', 'dialog-unread', String(unread));
    badge.hidden = !unread;
    mid.appendChild(badge);
    if (unread) mid.appendChild(h('span', 'sr-only', unread === 1 ? ' unread message' : ' unread messages'));
    btn.appendChild(mid);

    const bottom = h('span', 'dialog-row dialog-row-meta');
    bottom.appendChild(h('span', 'dialog-line', (s.line && s.line.name) || ''));
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

  // ---------------------------------------------------------------- rendering: chat

  function renderChat() {
    const r = currentRec();
    $('chat-empty').hidden = !!r;
    $('chat').hidden = !r;
    const list = $('chat-messages');
    S.view.clear();
    list.replaceChildren();
    if (!r) {
      document.body.classList.remove('chat-open');
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
    scrollToBottom();
  }

  function renderChatHeader() {
    const r = currentRec();
    if (!r) return;
    const s = r.summary || {};
    $('chat-number').textContent = `#${s.number !== undefined && s.number !== null ? s.number : '…'}`;
    const st = $('chat-status');
    st.className = statusClass(s.status);
    st.textContent = statusLabel(s.status);
    $('chat-visitor').textContent = (s.visitor && s.visitor.name) || 'Visitor';
    $('chat-line').textContent = (s.line && s.line.name) || (s.line && s.line.id) || '—';
    $('chat-operator').textContent = s.operator && s.operator.name ? s.operator.name : 'Unassigned';

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
    $('reply-input').disabled = !r || finished;
    $('reply-send').disabled = !r || finished;
    $('chat-finished').hidden = !finished;
    const close = $('close-dialog');
    close.disabled = !r || finished || !!(r && r.closing);
    close.textContent = r && r.closing ? 'Closing…' : 'Close dialog';
    $('reply-form').classList.toggle('is-disabled', !r || finished);
  }

  function messageType(m) {
    if (m.kind === 'system') return 'system';
    const t = m.author && m.author.type;
    return AUTHOR_TYPES.has(t) ? t : 'system';
  }

  function authorName(m, type) {
    if (type === 'operator') return isMe(m.author) ? 'You' : (m.author && m.author.name) || 'Operator';
    if (type === 'bot') return (m.author && m.author.name) || 'Bot';
    if (type === 'visitor') {
      const r = S.dialogs.get(key(m.dialog_id));
      return (r && r.summary && r.summary.visitor && r.summary.visitor.name) || (m.author && m.author.name) || 'Visitor';
    }
    return '';
  }

  function buildMessage(m) {
    const type = messageType(m);
    const li = h('li', `msg msg-${type}`);
    li.dataset.seq = String(m.seq);
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
      li.appendChild(h('div', 'msg-author', authorName(m, type)));
      const bubble = h('div', 'msg-bubble');
      bubble.appendChild(h('div', 'msg-text', m.text || ''));
      li.appendChild(bubble);
      li.appendChild(buildMeta(m.created_at, type === 'operator'));
    }
    if (type === 'operator' && isMe(m.author)) li.classList.add('msg-own');
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
    const li = h('li', 'msg msg-operator msg-own msg-pending');
    li.dataset.clientMsgId = p.cid;
    li.dataset.author = 'operator:You';
    li.appendChild(h('div', 'msg-author', 'You'));
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
        const retry = h('button', 'msg-retry link-button', 'Retry');
        retry.type = 'button';
        retry.addEventListener('click', () => retryPending(p));
        meta.appendChild(retry);
      }
      const edit = h('button', 'msg-edit link-button', 'Edit');
      edit.type = 'button';
      edit.addEventListener('click', () => editPending(p));
      meta.appendChild(edit);
    } else {
      status.textContent = S.ready ? 'Sending…' : 'Waiting for connection…';
    }
  }

  function confirmElement(li, m) {
    li.classList.remove('msg-pending', 'msg-failed');
    delete li.dataset.clientMsgId;
    li.dataset.seq = String(m.seq);
    const oldMeta = li.querySelector('.msg-meta');
    const meta = buildMeta(m.created_at, true);
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

  // ---------------------------------------------------------------- views & session

  function resetState() {
    clearTimeout(S.reconnectTimer);
    clearTimeout(S.typingIdleTimer);
    S.reconnectTimer = 0;
    S.attempt = 0;
    S.dialogs.clear();
    S.pending.clear();
    S.closeRefs.clear();
    S.view.clear();
    S.currentKey = null;
    S.typingOn = false;
    S.typingSentAt = 0;
    $('dialog-list').replaceChildren();
    $('chat-messages').replaceChildren();
    $('reply-input').value = '';
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

  function startApp(operator) {
    setMe(operator || null);
    $('login-view').hidden = true;
    $('app').hidden = false;
    $('login-error').hidden = true;
    renderChat();
    renderList();
    S.want = true;
    S.attempt = 0;
    connect();
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

  async function boot() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('notice-dismiss').addEventListener('click', hideNotice);
    $('close-dialog').addEventListener('click', closeCurrent);
    $('chat-back').addEventListener('click', () => {
      document.body.classList.remove('chat-open');
      const item = document.querySelector(`.dialog-item[data-dialog-id="${CSS.escape(S.currentKey || '')}"]`);
      if (item) item.focus();
    });
    $('dialog-list').addEventListener('click', (ev) => {
      const item = ev.target.closest('.dialog-item');
      if (item && item.dataset.dialogId) openDialog(item.dataset.dialogId);
    });
    $('reply-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      submitReply();
    });
    const input = $('reply-input');
    input.addEventListener('input', onInput);
    input.addEventListener('blur', stopTyping);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        submitReply();
      }
    });
    document.addEventListener('visibilitychange', () => {
      if (visible()) {
        maybeSendSeen();
        if (S.want && !S.ws) reconnectNow();
      }
      queueListRender();
    });
    window.addEventListener('online', reconnectNow);

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
