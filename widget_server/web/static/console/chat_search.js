// Search in the open chat: the server finds, the chat marks and steps through the hits.
import { api } from './api.js';
import { S } from './console_state.js';
import { currentRec } from './dialog_records.js';
import { $ } from './dom.js';
import { notice } from './notice.js';
import { ingest } from './server_frames.js';

export async function searchChat(ev) {
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

export function stepSearch(delta) {
  const n = S.search.hits.length;
  if (!n) return;
  S.search.index = (S.search.index + delta + n) % n;
  renderSearchCount();
  showSearchHit();
}

export function markSearchHits() {
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

export function renderSearchCount() {
  const n = S.search.hits.length;
  const out = $('chat-search-count');
  out.textContent = S.search.q ? (n ? `${S.search.index + 1} of ${n}` : 'No matches') : '';
  $('chat-search-prev').disabled = n < 2;
  $('chat-search-next').disabled = n < 2;
}
