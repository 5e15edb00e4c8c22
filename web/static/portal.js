// User portal: own held jobs (release one/selected/all to a chosen printer,
// cancel), own history and savings, own cards (register a new one), own
// password (every session ends on a change, this one too: back to sign-in).
import { api, count, el, fillPrinters, requireSession, showMessage, when } from '/static/common.js';

const status = document.getElementById('status');
const heldBody = document.querySelector('#held tbody');
const historyBody = document.querySelector('#history tbody');
const printerSelect = document.getElementById('printer');
let heldJobs = [];

function options(job) {
  const parts = [];
  if (job.copies > 1) parts.push(job.copies + ' copies');
  if (job.sides) parts.push(job.sides.startsWith('two-sided') ? 'two-sided' : job.sides);
  if (job.color_mode) parts.push(job.color_mode);
  return parts.join(', ');
}

function renderHeld() {
  heldBody.replaceChildren(...heldJobs.map((j) => el('tr', { 'data-job-id': j.id },
    el('td', {}, el('input', { type: 'checkbox', class: 'pick', value: j.id,
      'aria-label': 'Select ' + (j.name || 'job ' + j.id) })),
    el('td', { class: 'job-name' }, j.name || '(untitled)'),
    el('td', {}, when(j.created_at)),
    el('td', { class: 'num' }, count(j.impressions_total ?? j.pages)),
    el('td', { class: 'num' }, count(j.sheets)),
    el('td', {}, options(j)),
    el('td', {}, when(j.hold_expires_at)),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'release-one', onclick: () => release([j.id]) }, 'Release'),
      el('button', { type: 'button', class: 'danger cancel-one', onclick: () => cancel(j) }, 'Cancel')))));
  document.getElementById('held-empty').hidden = heldJobs.length > 0;
  document.getElementById('held').hidden = heldJobs.length === 0;
}

async function loadHeld() {
  const data = await api('GET', '/api/v1/jobs?state=held&limit=200');
  heldJobs = data.jobs || [];
  renderHeld();
}

async function release(ids) {
  const printer = printerSelect.value;
  if (!printer) {
    showMessage(status, 'Choose a printer first.');
    return;
  }
  const body = { printer };
  if (ids) body.jobs = ids;
  try {
    const r = await api('POST', '/api/v1/release', body);
    const n = (r.jobs || []).length;
    showMessage(status, n === 0 ? 'Nothing was released.' :
      'Sent ' + n + (n === 1 ? ' job' : ' jobs') + ' to ' + printer + '.', n ? 'ok' : 'info');
  } catch (e) {
    showMessage(status, 'Release failed: ' + e.message);
  }
  await refresh();
}

async function cancel(job) {
  if (!window.confirm('Cancel "' + (job.name || 'job ' + job.id) + '"? It will not be printed.')) return;
  try {
    await api('POST', '/api/v1/jobs/' + encodeURIComponent(job.id) + '/cancel');
    showMessage(status, 'Cancelled "' + (job.name || 'job ' + job.id) + '".', 'ok');
  } catch (e) {
    showMessage(status, 'Cancel failed: ' + e.message);
  }
  await refresh();
}

const ENDED = new Set(['completed', 'canceled', 'aborted', 'expired']);

async function loadHistory() {
  const data = await api('GET', '/api/v1/jobs?state=all&limit=200');
  const jobs = (data.jobs || []).filter((j) => j.state !== 'held');
  historyBody.replaceChildren(...jobs.map((j) => el('tr', { 'data-job-id': j.id },
    el('td', {}, j.name || '(untitled)'), el('td', {}, j.state),
    el('td', {}, when(j.created_at)), el('td', {}, ENDED.has(j.state) ? when(j.completed_at) : ''),
    el('td', {}, j.printer || ''), el('td', { class: 'num' }, count(j.impressions_total ?? j.pages)),
    el('td', { class: 'num' }, count(j.sheets)))));
  // Savings over the jobs listed: sheets never printed, sheets saved by two-sided.
  let printed = 0; let neverPrinted = 0; let duplex = 0; let unknown = 0;
  for (const j of jobs) {
    if (j.sheets === null || j.sheets === undefined) {
      if (ENDED.has(j.state)) unknown++;
      continue;
    }
    if (j.state === 'completed') {
      printed += j.sheets;
      if ((j.sides || '').startsWith('two-sided') && j.impressions_total != null) {
        duplex += j.impressions_total - j.sheets;
      }
    } else if (j.state === 'canceled' || j.state === 'expired') {
      neverPrinted += j.sheets;
    }
  }
  const fig = (label, value, id) => el('div', {}, el('dt', {}, label), el('dd', { id }, count(value)));
  document.getElementById('savings').replaceChildren(
    fig('Sheets printed', printed, 'saved-printed'),
    fig('Sheets never printed', neverPrinted, 'saved-never'),
    fig('Sheets saved by two-sided', duplex, 'saved-duplex'));
  document.getElementById('savings-note').textContent =
    'Over your last ' + jobs.length + ' finished jobs' + (data.total > data.jobs.length ? ' (of more)' : '') +
    '. Never printed = cancelled or expired.' + (unknown ? ' ' + unknown + ' jobs have unknown counts.' : '');
}

async function loadCards() {
  const list = document.getElementById('cards');
  try {
    const data = await api('GET', '/api/v1/cards');
    const cards = data.cards || [];
    if (cards.length === 0) list.replaceChildren(el('li', {}, 'No card registered yet.'));
    else list.replaceChildren(...cards.map((c) => el('li', {},
      'Card ' + (c.decimal_be || c.uid) + (c.active ? '' : ' (revoked)') + ', registered ' + when(c.created_at))));
  } catch (e) {
    list.replaceChildren(el('li', {}, 'Cards cannot be listed: ' + e.message));
  }
}

async function registerCard() {
  const box = document.getElementById('card-instructions');
  const printer = document.getElementById('card-printer').value;
  try {
    const r = await api('POST', '/api/v1/cards/register-intent', printer ? { printer } : {});
    const minutes = Math.round((r.window_seconds || 120) / 60);
    const where = r.printer ? 'the card reader at printer ' + r.printer : 'any pullprint card reader';
    showMessage(box, 'Within the next ' + minutes + ' minutes, tap your card on ' + where +
      '. The first unknown card tapped there becomes yours; your held jobs then print at that printer. ' +
      'This page does not need to stay open. Waiting until ' + when(r.expires_at) + '.', 'info');
  } catch (e) {
    showMessage(box, 'Cannot start card registration: ' + e.message, 'error');
  }
}

async function changePassword(event, name) {
  event.preventDefault();
  const box = document.getElementById('password-status');
  const current = document.getElementById('current-password');
  const next = document.getElementById('new-password');
  try {
    await api('POST', '/api/v1/users/' + encodeURIComponent(name) + '/password',
      { current_password: current.value, new_password: next.value });
    current.value = '';
    next.value = '';
    showMessage(box, 'Password changed. Sign in again with the new password.', 'info');
    setTimeout(() => location.replace('/login'), 1500);
  } catch (e) {
    showMessage(box, 'Password not changed: ' + e.message, 'error');
  }
}

async function refresh() {
  try {
    await Promise.all([loadHeld(), loadHistory()]);
  } catch (e) {
    showMessage(status, 'Cannot load your jobs: ' + e.message);
  }
}

async function main() {
  const session = await requireSession(null);
  if (!session) return;
  try {
    await fillPrinters(printerSelect);
    await fillPrinters(document.getElementById('card-printer'), { allowNone: true });
  } catch (e) {
    showMessage(status, 'Cannot list printers: ' + e.message);
  }
  document.getElementById('release-selected').addEventListener('click', () => {
    const ids = [...document.querySelectorAll('#held input.pick:checked')].map((c) => Number(c.value));
    if (ids.length === 0) showMessage(status, 'Select the jobs to release first.');
    else release(ids);
  });
  document.getElementById('release-all').addEventListener('click', () => release(null));
  document.getElementById('refresh').addEventListener('click', refresh);
  document.getElementById('register-card').addEventListener('click', registerCard);
  document.getElementById('password-form')
    .addEventListener('submit', (e) => changePassword(e, session.user.name));
  await Promise.all([refresh(), loadCards()]);
  document.body.dataset.ready = 'true';
}

main();
