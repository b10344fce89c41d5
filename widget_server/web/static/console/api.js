// The REST API (docs/api.md).
import { toLogin } from './session.js';

// JSON over fetch with the session cookie. Resolves to {ok, status, data, message}; never throws.
export async function api(method, path, body, extra) {
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
