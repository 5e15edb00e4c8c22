// Admin console: printers, jobs, users, cards, stations, policies, fleet
// push/drift and the audit log. Each section loads on its own; a route the
// server does not offer (404) shows a message in that section only.
import { api, count, dataTable, el, facts, fillPrinters, requireSession, showMessage, when } from '/static/common.js';

const PAGE = 50;

function section(id) {
  const root = document.getElementById(id);
  return {
    root,
    message: root.querySelector('.message'),
    data: root.querySelector('.data'),
    say(text, kind = 'error') { showMessage(this.message, text, kind); },
  };
}

function value(id) {
  return document.getElementById(id).value.trim();
}

// Runs an action and reports its outcome in the section.
async function act(sec, label, fn, reload) {
  try {
    const r = await fn();
    sec.say(label + ': done.', 'ok');
    if (reload) await reload();
    return r;
  } catch (e) {
    sec.say(label + ' failed: ' + e.message);
    return null;
  }
}

// --- Printers ---
const printers = section('printers-section');

async function loadPrinters() {
  try {
    const data = await api('GET', '/api/v1/printers');
    const list = Array.isArray(data) ? data : (data.printers || []);
    document.querySelector('#printers tbody').replaceChildren(...list.map((p) => el('tr', { 'data-printer': p.name },
      el('td', { class: 'printer-name' }, p.name), el('td', {}, p.location || ''), el('td', {}, p.group || ''),
      el('td', {}, (p.state || '') + (p.state_message ? ' — ' + p.state_message : '')),
      el('td', {}, when(p.last_seen)), el('td', {}, p.uri || ''),
      el('td', { class: 'actions' }, el('button', { type: 'button', class: 'secondary',
        onclick: () => act(printers, 'Refresh ' + p.name,
          () => api('POST', '/api/v1/printers/' + encodeURIComponent(p.name) + '/refresh'), loadPrinters) },
      'Refresh')))));
    if (list.length === 0) printers.say('No printers registered yet.', 'info');
  } catch (e) {
    printers.say('Cannot list printers: ' + e.message);
  }
}

document.getElementById('printer-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = { name: value('p-name'), uri: value('p-uri'), location: value('p-location'), group: value('p-group') };
  act(printers, 'Add printer ' + body.name, () => api('POST', '/api/v1/printers', body), async () => {
    await loadPrinters();
    await fillPrinters(document.getElementById('j-printer')).catch(() => {});
  });
});

// --- Jobs ---
const jobs = section('jobs-section');
let jobsOffset = 0;

async function loadJobs() {
  const q = new URLSearchParams({ state: value('j-state'), limit: PAGE, offset: jobsOffset });
  if (value('j-owner')) q.set('owner', value('j-owner'));
  try {
    const data = await api('GET', '/api/v1/jobs?' + q.toString());
    const list = data.jobs || [];
    document.querySelector('#jobs tbody').replaceChildren(...list.map((j) => el('tr', { 'data-job-id': j.id },
      el('td', { class: 'num' }, j.id), el('td', {}, j.owner), el('td', {}, j.name || ''),
      el('td', {}, j.state), el('td', {}, when(j.created_at)),
      el('td', { class: 'num' }, count(j.impressions_total ?? j.pages)), el('td', { class: 'num' }, count(j.sheets)),
      el('td', {}, j.printer || ''),
      el('td', { class: 'actions' },
        j.state === 'held' ? el('button', { type: 'button', onclick: () => releaseJob(j) }, 'Release') : null,
        ['held', 'pending'].includes(j.state) ? el('button', { type: 'button', class: 'danger',
          onclick: () => window.confirm('Cancel job ' + j.id + ' of ' + j.owner + '? It will not be printed.') &&
            act(jobs, 'Cancel job ' + j.id,
              () => api('POST', '/api/v1/jobs/' + encodeURIComponent(j.id) + '/cancel'), loadJobs) }, 'Cancel') : null))));
    const total = data.total ?? list.length;
    document.getElementById('jobs-page').textContent = total === 0 ? 'no jobs' :
      (jobsOffset + 1) + '–' + (jobsOffset + list.length) + ' of ' + total;
    document.getElementById('jobs-prev').disabled = jobsOffset === 0;
    document.getElementById('jobs-next').disabled = jobsOffset + list.length >= total;
  } catch (e) {
    jobs.say('Cannot list jobs: ' + e.message);
  }
}

function releaseJob(j) {
  const printer = value('j-printer');
  if (!printer) {
    jobs.say('Choose a printer to release to.');
    return;
  }
  act(jobs, 'Release job ' + j.id + ' to ' + printer,
    () => api('POST', '/api/v1/release', { printer, user: j.owner, jobs: [j.id] }), loadJobs);
}

document.getElementById('jobs-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  jobsOffset = 0;
  loadJobs();
});
document.getElementById('jobs-prev').addEventListener('click', () => {
  jobsOffset = Math.max(0, jobsOffset - PAGE);
  loadJobs();
});
document.getElementById('jobs-next').addEventListener('click', () => {
  jobsOffset += PAGE;
  loadJobs();
});

// --- Users ---
const users = section('users-section');

async function loadUsers() {
  try {
    const data = await api('GET', '/api/v1/users');
    const list = Array.isArray(data) ? data : (data.users || []);
    users.data.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Role', 'Department', ''].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((u) => el('tr', { 'data-user': u.name },
        el('td', {}, u.name), el('td', {}, u.role), el('td', {}, u.department || ''),
        el('td', { class: 'actions' }, el('button', { type: 'button', class: 'danger',
          onclick: () => window.confirm('Delete user ' + u.name + '?') &&
            act(users, 'Delete user ' + u.name,
              () => api('DELETE', '/api/v1/users/' + encodeURIComponent(u.name)), loadUsers) }, 'Delete')))))));
  } catch (e) {
    users.say('Cannot list users: ' + e.message);
  }
}

document.getElementById('user-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = { name: value('u-name'), password: document.getElementById('u-password').value,
    role: value('u-role'), department: value('u-department') };
  act(users, 'Add user ' + body.name, () => api('POST', '/api/v1/users', body), loadUsers)
    .then(() => { document.getElementById('u-password').value = ''; });
});

// --- Cards ---
const cards = section('cards-section');

async function loadCards(user) {
  try {
    const data = await api('GET', '/api/v1/cards?user=' + encodeURIComponent(user));
    const list = data.cards || [];
    if (list.length === 0) {
      cards.data.replaceChildren(el('p', {}, user + ' has no card.'));
      return;
    }
    cards.data.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['UID', 'Number', 'Active', 'Source', 'Registered', ''].map((h) =>
        el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((c) => el('tr', {},
        el('td', {}, c.uid), el('td', {}, c.decimal_be || ''), el('td', {}, c.active ? 'yes' : 'revoked'),
        el('td', {}, c.source || ''), el('td', {}, when(c.created_at)),
        el('td', { class: 'actions' }, c.active ? el('button', { type: 'button', class: 'danger',
          onclick: () => act(cards, 'Revoke card', () => api('POST', '/api/v1/cards/' +
            encodeURIComponent(c.uid) + '/revoke'), () => loadCards(user)) }, 'Revoke') : null))))));
  } catch (e) {
    cards.say('Cannot list cards: ' + e.message);
  }
}

document.getElementById('cards-lookup').addEventListener('submit', (e) => {
  e.preventDefault();
  if (value('c-user')) loadCards(value('c-user'));
});
document.getElementById('card-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const owner = value('c-owner');
  act(cards, 'Add card', () => api('POST', '/api/v1/cards', { uid: value('c-uid'), user: owner }),
    () => loadCards(owner));
});

// --- Stations ---
const stations = section('stations-section');

async function loadStations() {
  try {
    const data = await api('GET', '/api/v1/stations');
    const list = data.stations || [];
    stations.data.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Printers', 'Created', 'Revoked', ''].map((h) =>
        el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((s) => el('tr', {},
        el('td', {}, s.name), el('td', {}, (s.printers || []).join(', ')), el('td', {}, when(s.created_at)),
        el('td', {}, when(s.revoked_at)),
        el('td', { class: 'actions' }, s.revoked_at ? null : el('button', { type: 'button', class: 'danger',
          onclick: () => act(stations, 'Revoke station ' + s.name, () => api('POST', '/api/v1/stations/' +
            encodeURIComponent(s.name) + '/revoke'), loadStations) }, 'Revoke')))))));
  } catch (e) {
    stations.say('Cannot list stations: ' + e.message);
  }
}

document.getElementById('station-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { name: value('s-name'),
    printers: value('s-printers').split(',').map((s) => s.trim()).filter(Boolean) };
  const r = await act(stations, 'Add station ' + body.name, () => api('POST', '/api/v1/stations', body),
    loadStations);
  if (r && r.secret) {
    showMessage(document.getElementById('station-secret'), 'Secret for ' + r.name + ' (shown only now; put it ' +
      'in the station\'s secret file): ' + r.secret, 'info');
  }
});

// --- Policies ---
const policies = section('policies-section');
const policyResult = document.getElementById('policy-result');
const policyText = document.getElementById('policy-text');

function renderPolicy(p) {
  const parts = [facts([['Version', p.version], ['Uploaded', when(p.created_at)], ['By', p.actor],
    ['Source', p.source], ['SHA-256', p.sha256]])];
  if (p.summary) parts.push(el('pre', { class: 'result' }, typeof p.summary === 'string' ? p.summary : JSON.stringify(p.summary, null, 2)));
  if (p.printer_defaults && typeof p.printer_defaults === 'object') {
    parts.push(el('h3', {}, 'Printer defaults pushed to the fleet'), dataTable(
      Array.isArray(p.printer_defaults) ? p.printer_defaults
        : Object.entries(p.printer_defaults).map(([setting, value]) => ({ setting, value }))));
  }
  policies.data.replaceChildren(...parts);
  if (!policyText.value && typeof p.document === 'string') policyText.value = p.document;
}

async function loadPolicies() {
  try {
    renderPolicy(await api('GET', '/api/v1/policies'));
  } catch (e) {
    policies.say('Cannot read the active policy: ' + e.message, e.status === 404 ? 'info' : 'error');
  }
  const history = policies.root.querySelector('.data.history');
  try {
    const h = await api('GET', '/api/v1/policies/history');
    const versions = Array.isArray(h) ? h : (h.versions || []);
    history.replaceChildren(versions.length === 0 ? el('p', {}, 'No stored versions.') : el('table', {},
      el('thead', {}, el('tr', {}, ['Version', 'Uploaded', 'By', 'Source', 'SHA-256'].map((x) => el('th', { scope: 'col' }, x)))),
      el('tbody', {}, versions.map((v) => el('tr', {}, el('td', {}, v.version), el('td', {}, when(v.created_at)),
        el('td', {}, v.actor || ''), el('td', {}, v.source || ''), el('td', {}, (v.sha256 || '').slice(0, 16)))))));
  } catch (e) {
    history.replaceChildren(el('p', {}, 'History unavailable: ' + e.message));
  }
}

// Line-numbered errors of a refused document ({"errors": [{line, message}...]}).
function errorLines(data) {
  const errors = (data && Array.isArray(data.errors)) ? data.errors : [];
  return errors.map((x) => (typeof x === 'object' ? [x.file, x.line].filter(Boolean).join(':') +
    (x.line ? ': ' : '') + (x.message || x.error || JSON.stringify(x)) : String(x))).join('\n');
}

async function sendPolicy(path, label) {
  const text = policyText.value;
  if (!text.trim()) {
    policies.say('Paste a policy document first.');
    return;
  }
  try {
    const r = await api('POST', path, text, { contentType: 'text/plain; charset=utf-8' });
    policyResult.textContent = typeof r === 'string' ? r : JSON.stringify(r, null, 2);
    policyResult.hidden = false;
    policies.say(label + ': done.' + (r && r.warning ? ' Warning: ' + r.warning : ''), 'ok');
    if (path === '/api/v1/policies') await loadPolicies();
  } catch (e) {
    const lines = errorLines(e.data);
    policyResult.textContent = lines;
    policyResult.hidden = !lines;
    policies.say(label + ' failed: ' + e.message);
  }
}

document.getElementById('policy-validate').addEventListener('click',
  () => sendPolicy('/api/v1/policies/validate', 'Validate'));
document.getElementById('policy-upload').addEventListener('click',
  () => sendPolicy('/api/v1/policies', 'Upload'));

// --- Fleet ---
const fleet = section('fleet-section');
const fleetRun = document.getElementById('fleet-run');

function renderDrift(r) {
  const drifted = r.drifted || [];
  const unreachable = r.unreachable || [];
  const compliant = Array.isArray(r.compliant) ? r.compliant.length : r.compliant;
  const rows = [];
  for (const d of drifted) {
    for (const x of (d.differences || [])) {
      rows.push(el('tr', {}, el('td', {}, d.printer), el('td', {}, d.group || ''), el('td', {}, x.name),
        el('td', {}, String(x.expected ?? '')), el('td', {}, String(x.actual ?? '')), el('td', {}, x.settable ? 'yes' : 'no')));
    }
  }
  fleet.data.replaceChildren(
    facts([['Checked', when(r.checked_at)], ['By', r.actor], ['Policy version', r.policy_version],
      ['Compliant printers', compliant], ['Drifted printers', drifted.length], ['Unreachable', unreachable.length]]),
    rows.length === 0 ? el('p', {}, 'No printer differs from the policy.') : el('table', {},
      el('thead', {}, el('tr', {}, ['Printer', 'Group', 'Setting', 'Policy', 'Printer has', 'Can be pushed'].map((x) =>
        el('th', { scope: 'col' }, x)))), el('tbody', {}, rows)),
    unreachable.length === 0 ? '' : el('table', {},
      el('thead', {}, el('tr', {}, ['Unreachable printer', 'Group', 'Message'].map((x) => el('th', { scope: 'col' }, x)))),
      el('tbody', {}, unreachable.map((u) => el('tr', {}, el('td', {}, u.printer), el('td', {}, u.group || ''),
        el('td', {}, u.message || ''))))));
}

function renderPush(run) {
  const results = run.results || [];
  fleetRun.replaceChildren(
    facts([['Push run', run.id], ['Group', run.group || 'all printers'], ['Policy version', run.policy_version],
      ['Printers', run.printers], ['Succeeded', run.ok], ['Failed', run.failed], ['Took', run.wall_ms !== undefined ? run.wall_ms + ' ms' : '']]),
    results.length === 0 ? '' : el('table', {},
      el('thead', {}, el('tr', {}, ['Printer', 'Group', 'Via', 'Result', 'Message', 'Attempts'].map((x) => el('th', { scope: 'col' }, x)))),
      el('tbody', {}, results.map((x) => el('tr', {}, el('td', {}, x.printer), el('td', {}, x.group || ''),
        el('td', {}, x.transport || ''), el('td', {}, x.status || ''), el('td', {}, x.message || ''),
        el('td', { class: 'num' }, x.attempts ?? ''))))));
}

async function loadDrift() {
  try {
    renderDrift(await api('GET', '/api/v1/fleet/drift'));
  } catch (e) {
    fleet.say('Drift report: ' + e.message, e.status === 404 ? 'info' : 'error');
  }
}

document.getElementById('fleet-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const group = value('f-group');
  if (!window.confirm('Push the policy\'s printer defaults to ' + (group ? 'group ' + group : 'every printer') + '?')) return;
  const run = await act(fleet, 'Push settings' + (group ? ' to ' + group : ''),
    () => api('POST', '/api/v1/fleet/push', group ? { group } : {}));
  if (run) renderPush(run);
});
document.getElementById('fleet-check').addEventListener('click', async () => {
  const report = await act(fleet, 'Compliance check', () => api('POST', '/api/v1/fleet/check', {}));
  if (report) renderDrift(report);
});

// --- Audit log ---
const audit = section('audit-section');
let auditOffset = 0;

async function loadAudit() {
  try {
    const data = await api('GET', '/api/v1/audit?' + new URLSearchParams({ limit: PAGE, offset: auditOffset }));
    const list = data.entries || [];
    const change = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    audit.data.replaceChildren(list.length === 0 ? el('p', {}, 'No entries.') : el('table', {},
      el('thead', {}, el('tr', {}, ['Time', 'Actor', 'Action', 'Target', 'Before', 'After'].map((h) =>
        el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((e) => el('tr', {},
        el('td', {}, when(e.at)), el('td', {}, e.actor), el('td', {}, e.action), el('td', {}, e.target),
        el('td', { class: 'json' }, change(e.before)), el('td', { class: 'json' }, change(e.after)))))));
    const total = data.total ?? list.length;
    document.getElementById('audit-page').textContent = total === 0 ? '' :
      (auditOffset + 1) + '–' + (auditOffset + list.length) + ' of ' + total;
    document.getElementById('audit-prev').disabled = auditOffset === 0;
    document.getElementById('audit-next').disabled = auditOffset + list.length >= total;
  } catch (e) {
    audit.say('Cannot read the audit log: ' + e.message);
  }
}


document.getElementById('audit-prev').addEventListener('click', () => {
  auditOffset = Math.max(0, auditOffset - PAGE);
  loadAudit();
});
document.getElementById('audit-next').addEventListener('click', () => {
  auditOffset += PAGE;
  loadAudit();
});

async function main() {
  const session = await requireSession(['admin']);
  if (!session) return;
  fillPrinters(document.getElementById('j-printer')).catch(() => {});
  await Promise.all([loadPrinters(), loadJobs(), loadUsers(), loadStations(), loadPolicies(), loadDrift(),
    loadAudit()]);
  document.body.dataset.ready = 'true';
}

main();
