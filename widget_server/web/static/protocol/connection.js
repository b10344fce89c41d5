/* The WebSocket side of docs/protocol.md, for the widget and the console alike: one socket at a time, opened again
 * with back-off when it is lost, kept alive with `ping`, and the frames that must not be lost (`send`, `note`)
 * kept until their `ack` and sent again, with the same client_msg_id, on the next connection.
 *
 * The page says what its endpoint needs: the URL, the first frame (`hello`, `auth`), which frame means the
 * connection is usable (`welcome`, `ready`) and what a close means (`onClose` answers 'stop', 'now' or nothing for
 * back-off, or a promise of one). The console imports this file; the server puts it inside /widget.js.
 */
const MAX_FRAME_BYTES = 16 * 1024 - 256; // the server closes the socket (1009) over 16 KiB: never send that

// A client_msg_id or ref: 8 to 64 of A-Z a-z 0-9 _ -. randomUUID needs a secure context; plain http has the other.
function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function frameFits(frame) {
  return new TextEncoder().encode(JSON.stringify(frame)).length <= MAX_FRAME_BYTES;
}

function createConnection({ url, hello, readyType, onFrame, onState, onClose, pingMs, answerMs }) {
  let ws = null;
  let ready = false;
  let wanted = false;
  let attempt = 0;
  let retryTimer = 0;
  let pingTimer = 0;
  let answerTimer = 0;
  const unacked = new Map(); // client_msg_id -> frame

  function put(sock, frame) {
    if (!sock || sock.readyState !== WebSocket.OPEN) return false;
    try { sock.send(JSON.stringify(frame)); return true; } catch { return false; }
  }

  // Before the ready frame the server would refuse anything but the first frame.
  const send = (frame) => ready && put(ws, frame);

  function open() {
    clearTimeout(retryTimer);
    if (!wanted || ws) return;
    onState('connecting', attempt);
    let sock;
    try { sock = new WebSocket(url()); } catch { retry(); return; }
    ws = sock;
    sock.onopen = () => {
      const first = sock === ws && hello();
      if (first) put(sock, first);
    };
    sock.onmessage = (e) => {
      if (sock !== ws) return;
      clearTimeout(answerTimer); // any frame proves the socket alive
      answerTimer = 0;
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if (!f || typeof f !== 'object') return;
      if (f.type === 'ack' || f.type === 'error') unacked.delete(f.ref);
      if (f.type === readyType) {
        ready = true;
        attempt = 0;
        keepAlive();
        onState('ready', 0);
      }
      if (f.type !== 'pong') onFrame(f);
      // After the page has taken in what the server has (an echo drops its pending bubble), the rest goes again.
      if (f.type === readyType) for (const frame of unacked.values()) send(frame);
    };
    sock.onclose = (e) => {
      if (sock === ws) lost(e.code);
    };
  }

  function forget() {
    ws = null;
    ready = false;
    clearInterval(pingTimer);
    clearTimeout(answerTimer);
    answerTimer = 0;
  }

  // The socket closed, or was found dead (no code). A 1009 was one of ours: sending it again would close the next.
  function lost(code) {
    const wasReady = ready;
    forget();
    if (code === 1009) unacked.clear();
    Promise.resolve(onClose(code, wasReady)).then((next) => {
      if (next === 'now') reconnectNow();
      else if (next !== 'stop') retry();
    });
  }

  // Exponential back-off with jitter, so that a restarted server is not hit by every client at the same moment.
  function retry() {
    clearTimeout(retryTimer);
    if (!wanted || ws) return;
    const cap = Math.min(30000, 500 * 2 ** Math.min(attempt, 10));
    const delay = cap / 2 + Math.random() * (cap / 2);
    attempt += 1;
    onState('waiting', attempt, delay);
    retryTimer = setTimeout(open, delay);
  }

  function reconnectNow() {
    if (!wanted || ws) return;
    attempt = 0;
    open();
  }

  // A socket can die without a close (a laptop lid, a NAT timeout): one that answers nothing in time is dropped.
  function keepAlive() {
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      const sock = ws;
      if (!send({ type: 'ping' }) || answerTimer) return;
      answerTimer = setTimeout(() => {
        if (sock !== ws) return;
        lost();
        sock.close();
      }, answerMs);
    }, pingMs);
  }

  // A page that comes back (a tab shown again, the network back) should not wait out the back-off.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectNow();
  });
  window.addEventListener('online', reconnectNow);

  return {
    send,
    // A frame that must arrive: false when it is too large ever to be accepted (then it is not kept).
    deliver(frame) {
      if (!frameFits(frame)) return false;
      unacked.set(frame.client_msg_id, frame);
      send(frame);
      return true;
    },
    get ready() { return ready; },
    get open() { return ws !== null; },
    start() {
      wanted = true;
      attempt = 0;
      open();
    },
    stop() {
      wanted = false;
      clearTimeout(retryTimer);
      unacked.clear();
      const sock = ws;
      forget();
      if (sock) sock.close(1000);
    },
  };
}

export { createConnection, frameFits, newClientId };
