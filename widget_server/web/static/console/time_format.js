// Times from the server (ISO 8601, UTC) shown in the operator's locale, and datetime-local inputs read back.

export function toDate(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtTime(iso, withDate) {
  const d = toDate(iso);
  if (!d) return '';
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === new Date().toDateString()) return time;
  const date = d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  return withDate ? `${date}, ${time}` : date;
}

export function fmtWhen(iso) {
  const d = toDate(iso);
  return d ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
}

export function stamp(iso) {
  const d = toDate(iso);
  return d ? d.getTime() : 0;
}

// A datetime-local input's value (local time, no zone) as an ISO instant.
export function localToIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
