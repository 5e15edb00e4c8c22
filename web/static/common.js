// Shared helpers for the pullprint pages (ES module, no build step).
//
// Rules every page follows:
// - Data from the server is put into the page with textContent (el(), text()),
//   never parsed as markup.
// - Unsafe requests (POST/PUT/PATCH/DELETE) carry X-CSRF-Token, the token the
//   session answer gave (GET /api/v1/session or POST /api/v1/session).
// - Errors come back as ApiError with the server's {"error"} message.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message, path, data = null) {
    super(message);
    this.status = status;
    this.path = path;
    this.data = data;  // the parsed error body (e.g. {"error", "errors": [...]})
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// fetch() wrapper: JSON in and out. `body` is an object (sent as JSON) or a
// string together with options.contentType.
export async function api(method, path, body, options = {}) {
  // X-Requested-With: a 401 then carries no Basic challenge (no browser password dialog).
  const headers = { Accept: 'application/json', 'X-Requested-With': 'pullprint-web' };
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string') {
      headers['Content-Type'] = options.contentType || 'text/plain; charset=utf-8';
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: payload, credentials: 'same-origin', cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'The server cannot be reached (' + e.message + ').', path);
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) data = await response.json().catch(() => null);
  else data = await response.text().catch(() => '');
  if (!response.ok) {
    let message = (data && typeof data === 'object' && data.error) ||
        (typeof data === 'string' && data.trim()) || response.statusText;
    if (response.status === 404 && /no such route/i.test(message)) {
      message = 'This server does not offer ' + method + ' ' + path.split('?')[0] +
          ' (404): the feature is not available in this version.';
    }
    throw new ApiError(response.status, message, path, data);
  }
  return data;
}

// The current session, or null when not signed in.
export async function currentSession() {
  try {
    const s = await api('GET', '/api/v1/session');
    setCsrfToken(s.csrf_token);
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export function homeFor(role) {
  if (role === 'admin') return '/admin';
  if (role === 'sustainability') return '/dashboard';
  return '/portal';
}

const PAGES = [
  { path: '/portal', label: 'My jobs', roles: null },
  { path: '/dashboard', label: 'Paper savings', roles: ['admin', 'sustainability'] },
  { path: '/admin', label: 'Admin console', roles: ['admin'] },
];

// Checks the session for a page; sends the browser to /login (not signed in)
// or to the role's home page (wrong role). Fills the header. Returns the
// session or null (navigation under way).
export async function requireSession(roles) {
  let s;
  try {
    s = await currentSession();
  } catch (e) {
    showMessage(document.getElementById('status') || document.body, e.message, 'error');
    return null;
  }
  if (!s) {
    location.replace('/login');
    return null;
  }
  if (roles && !roles.includes(s.user.role)) {
    location.replace(homeFor(s.user.role));
    return null;
  }
  const who = document.getElementById('who');
  if (who) who.textContent = s.user.name + ' (' + s.user.role + ')';
  const nav = document.getElementById('nav');
  if (nav) {
    nav.replaceChildren(...PAGES.filter((p) => !p.roles || p.roles.includes(s.user.role)).map((p) => {
      const a = el('a', { href: p.path }, p.label);
      if (p.path === location.pathname) a.setAttribute('aria-current', 'page');
      return a;
    }));
  }
  const logoutButton = document.getElementById('logout');
  if (logoutButton) logoutButton.addEventListener('click', logout);
  return s;
}

export async function logout() {
  try {
    await api('DELETE', '/api/v1/session');
  } catch (e) {
    // Signed out already (401) or the server is gone: the login page copes.
  }
  setCsrfToken(null);
  location.replace('/login');
}

// el('td', {class: 'num', 'data-id': 3}, 'text', childNode, ...): strings
// become text nodes; attribute values are set with setAttribute; functions
// under on* keys become event listeners.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Shows a message in `region` (an element with class "message"), or hides it.
export function showMessage(region, text, kind = 'error') {
  if (!region) return;
  if (!text) {
    region.hidden = true;
    region.textContent = '';
    return;
  }
  region.className = 'message ' + kind;
  region.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  region.textContent = text;
  region.hidden = false;
}

// A count that may be unknown (null): never shown as 0.
export function count(v) {
  if (v === null || v === undefined) return el('span', { class: 'unknown' }, 'unknown');
  return Number(v).toLocaleString('en');
}

// {known, unknown_*} from the reports API.
export function knownSum(k) {
  if (!k) return el('span', { class: 'unknown' }, 'unknown');
  const unknown = k.unknown_jobs ?? k.unknown_records ?? 0;
  const text = Number(k.known).toLocaleString('en');
  return unknown ? text + ' (+' + unknown + ' unknown)' : text;
}

export function when(unixSeconds) {
  if (!unixSeconds) return '';
  const d = new Date(unixSeconds * 1000);
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

// Renders whatever the server sent (array of objects, or an object holding
// one) as a table, for routes whose exact shape may grow.
export function dataTable(data, preferredKey) {
  let rows = data;
  if (rows && !Array.isArray(rows) && typeof rows === 'object') {
    if (preferredKey && Array.isArray(rows[preferredKey])) rows = rows[preferredKey];
    else {
      const arr = Object.values(rows).find((v) => Array.isArray(v));
      rows = arr || [rows];
    }
  }
  if (!Array.isArray(rows) || rows.length === 0) return el('p', {}, 'Nothing to show.');
  const keys = [];
  for (const r of rows.slice(0, 50)) {
    for (const k of Object.keys(r || {})) if (!keys.includes(k)) keys.push(k);
  }
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  return el('table', {},
    el('thead', {}, el('tr', {}, keys.map((k) => el('th', { scope: 'col' }, k)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, keys.map((k) => el('td', {}, cell(r ? r[k] : '')))))));
}

// Fills a <select> with the printers a user may release to.
export async function fillPrinters(select, { allowNone = false } = {}) {
  const data = await api('GET', '/api/v1/printers');
  const printers = Array.isArray(data) ? data : (data.printers || []);
  const options = [];
  if (allowNone) options.push(el('option', { value: '' }, 'any printer'));
  for (const p of printers) {
    const label = p.location ? p.name + ' (' + p.location + ')' : p.name;
    options.push(el('option', { value: p.name }, label));
  }
  select.replaceChildren(...options);
  return printers;
}

// A <dl> of label/value pairs (values through text nodes; objects as JSON).
export function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [el('dt', {}, k), el('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]));
}
