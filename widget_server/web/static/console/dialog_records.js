// A record per dialog: its summary, the messages held, and the list's counts derived from them.
import { createSeqLedger } from '../protocol/seq_ledger.js';
import { S } from './console_state.js';
import { isMe } from './me.js';
import { stamp } from './time_format.js';

export const key = (id) => String(id);

export function rec(id) {
  const k = key(id);
  let r = S.dialogs.get(k);
  if (!r) {
    r = {
      id, // as the server sent it
      key: k,
      summary: null,
      msgs: new Map(), // seq -> message
      loaded: false, // history received through `joined`
      seenSent: 0,
      closing: false,
    };
    S.dialogs.set(k, r);
  }
  return r;
}

export function currentRec() {
  return S.currentKey === null ? null : S.dialogs.get(S.currentKey) || null;
}

export function isCurrent(r) {
  return r && S.currentKey === r.key;
}

// Live messages of dialogs not read yet, and the holes a reconnect leaves in them, are normal for a console.
export const seqs = createSeqLedger({ skipsAreNormal: false });

export function maxVisitorSeq(r) {
  let max = 0;
  for (const m of r.msgs.values()) {
    if (m.author && m.author.type === 'visitor' && m.seq > max) max = m.seq;
  }
  return max;
}

export function countVisitorBetween(r, after, upto) {
  let n = 0;
  for (const m of r.msgs.values()) {
    if (m.seq > after && m.seq <= upto && m.author && m.author.type === 'visitor' && isWritten(m)) n += 1;
  }
  return n;
}

function isWritten(m) {
  return m.kind === 'text' || m.kind === 'file' || !m.kind;
}

export function isFinished(r) {
  return !!(r && r.summary && r.summary.status === 'finished');
}

// Merge a dialog summary from the server with what we know locally.
export function mergeSummary(s) {
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
  if (r.loaded && seqs.upTo(r.id) >= n.last_seq) {
    n.unread = countVisitorBetween(r, n.operator_seen_seq, n.last_seq);
  } else if (r.seenSent && r.seenSent >= n.last_seq) {
    n.unread = 0;
  }
  n.unread = Math.max(0, Number(n.unread) || 0);
  r.summary = n;
  return r;
}

export function summaryFromMessage(r, m) {
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
