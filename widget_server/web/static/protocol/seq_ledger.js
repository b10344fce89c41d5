/* Which messages of each dialog a client has, by `seq` (docs/protocol.md, "Resume: exactly once, in order").
 *
 * `upTo(dialog)` is what a resume asks after (`hello.resume.last_seq`, `join.last_seq`); `accept` says whether a
 * message is new, so that a repeat (a resume's overlap, a second tab's echo) is never shown twice.
 *
 * A visitor's sequence skips the numbers of staff-only entries, and the server sends it in order: there the
 * highest seq seen is the resume point. A console also hears live messages of dialogs it has not read, and after a
 * reconnect those may have holes: there the resume point is the highest seq with nothing missing below it, and
 * only once `start` says from where the history is complete.
 */
function createSeqLedger({ skipsAreNormal }) {
  const dialogs = new Map(); // String(dialog id) -> {upTo, above: seqs seen past a hole, started}

  function entry(id) {
    let d = dialogs.get(String(id));
    if (!d) dialogs.set(String(id), (d = { upTo: 0, above: new Set(), started: skipsAreNormal }));
    return d;
  }

  function advance(d) {
    if (d.started) while (d.above.delete(d.upTo + 1)) d.upTo += 1;
  }

  return {
    // The history from `upTo + 1` on is on its way (a console's first `joined`): holes below it are not holes.
    start(id, upTo) {
      const d = entry(id);
      d.started = true;
      d.upTo = Math.max(d.upTo, upTo);
      for (const seq of d.above) if (seq <= d.upTo) d.above.delete(seq);
      advance(d);
    },
    accept(id, seq) {
      const d = entry(id);
      if (seq <= d.upTo || d.above.has(seq)) return false;
      if (skipsAreNormal) d.upTo = seq;
      else d.above.add(seq);
      advance(d);
      return true;
    },
    upTo: (id) => entry(id).upTo,
    forget: (id) => dialogs.delete(String(id)),
    clear: () => dialogs.clear(),
  };
}

export { createSeqLedger };
