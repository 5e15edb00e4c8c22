// Sustainability dashboard: GET /api/v1/reports/summary for a date range,
// once grouped over time and once by department/printer/building/user.
// Charts are Chart.js (window.Chart, /static/chart.min.js from Debian's
// libjs-chart.js); every figure is also in a table (readable without canvas).
import { api, el, knownSum, requireSession, showMessage } from '/static/common.js';

const status = document.getElementById('status');
const charts = {};

function today() {
  return new Date().toISOString().slice(0, 10);
}

function params() {
  return {
    from: document.getElementById('from').value,
    to: document.getElementById('to').value,
    period: document.getElementById('period').value,
    breakdown: document.getElementById('breakdown').value,
  };
}

function query(from, to, groupBy) {
  return new URLSearchParams({ from, to, group_by: groupBy }).toString();
}

const FIGURES = [
  ['jobs_submitted', 'Jobs submitted', (t) => t.jobs_submitted, ''],
  ['pages_submitted', 'Pages submitted', (t) => t.pages_submitted, 'printed sides, all copies'],
  ['pages_printed', 'Pages printed', (t) => t.pages_printed, 'printed sides'],
  ['sheets_printed', 'Sheets printed', (t) => t.sheets_printed, ''],
  ['pages_printed_colour', 'Colour pages printed', (t) => t.pages_printed_colour, ''],
  ['pages_printed_monochrome', 'Monochrome pages printed', (t) => t.pages_printed_monochrome, ''],
  ['sheets_saved_by_duplex', 'Sheets saved by two-sided printing', (t) => t.sheets_saved_by_duplex, ''],
  ['expired', 'Never printed: expired (sheets)', (t) => t.never_printed.expired.sheets,
    (t) => t.never_printed.expired.jobs + ' jobs'],
  ['cancelled_by_owner', 'Never printed: cancelled by owner (sheets)',
    (t) => t.never_printed.cancelled_by_owner.sheets, (t) => t.never_printed.cancelled_by_owner.jobs + ' jobs'],
  ['cancelled_by_admin', 'Never printed: cancelled by admin (sheets)',
    (t) => t.never_printed.cancelled_by_admin.sheets, (t) => t.never_printed.cancelled_by_admin.jobs + ' jobs'],
  ['denied_by_policy', 'Never printed: denied by policy (sheets)',
    (t) => t.never_printed.denied_by_policy.sheets, (t) => t.never_printed.denied_by_policy.jobs + ' jobs'],
  ['paper_saved_sheets', 'Paper saved (sheets)', (t) => t.paper_saved_sheets,
    'expired + cancelled + denied'],
  ['paper_saved_pages', 'Paper saved (pages)', (t) => t.paper_saved_pages, ''],
];

function rawValue(v) {
  return typeof v === 'object' && v !== null ? v.known : v;
}

function renderTotals(report) {
  const t = report.total;
  document.getElementById('totals-caption').textContent =
    report.from + ' to ' + report.to + ' (' + (report.time_zone || 'UTC') + ')';
  document.querySelector('#totals tbody').replaceChildren(...FIGURES.map(([key, label, get, note]) => {
    const v = get(t);
    return el('tr', { 'data-key': key },
      el('th', { scope: 'row' }, label),
      el('td', { class: 'num', 'data-value': rawValue(v) }, typeof v === 'object' ? knownSum(v) : v),
      el('td', { class: 'note' }, typeof note === 'function' ? note(t) : note));
  }));
}

function amount(value, unit) {
  let v = value;
  let u = unit;
  if (u.startsWith('g ') && Math.abs(v) >= 1000) {
    v /= 1000;
    u = 'k' + u;
  } else if (u === 'Wh' && Math.abs(v) >= 1000) {
    v /= 1000;
    u = 'kWh';
  }
  if (v !== 0 && Math.abs(v) < 1) return Number(v.toPrecision(2)).toString() + ' ' + u;  // 0.00036 trees
  return v.toLocaleString('en', { maximumFractionDigits: v < 10 ? 2 : 1 }) + ' ' + u;
}

function renderEnvironment(report) {
  const env = report.total.environment;
  document.querySelector('#environment tbody').replaceChildren(...report.factors.map((f) => el('tr',
    { 'data-key': f.key },
    el('th', { scope: 'row' }, f.key),
    el('td', { class: 'num' }, amount(env.paper_saved[f.key] || 0, f.unit)),
    el('td', { class: 'num' }, amount(env.saved_by_duplex[f.key] || 0, f.unit)),
    el('td', { class: 'num' }, amount(env.sheets_printed[f.key] || 0, f.unit)),
    el('td', {}, f.per_sheet.toPrecision(3) + ' ' + f.unit),
    el('td', { class: 'source' }, f.source))));
}

function drawChart(id, type, labels, datasets, stacked) {
  if (!window.Chart) return;
  if (charts[id]) charts[id].destroy();
  const canvas = document.getElementById(id);
  charts[id] = new window.Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, title: { display: true, text: 'sheets' } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}

function series(report) {
  const groups = report.groups || [];
  return {
    labels: groups.map((g) => g.group || '(none)'),
    printed: groups.map((g) => g.sheets_printed.known),
    saved: groups.map((g) => g.paper_saved_sheets.known),
    duplex: groups.map((g) => g.sheets_saved_by_duplex.known),
    groups,
  };
}

function renderTime(report) {
  const s = series(report);
  drawChart('chart-time', 'bar', s.labels, [
    { label: 'Sheets printed', data: s.printed, backgroundColor: '#8c959f' },
    { label: 'Paper saved (never printed)', data: s.saved, backgroundColor: '#2da44e' },
    { label: 'Saved by two-sided', data: s.duplex, backgroundColor: '#0b5cad' },
  ], false);
}

function renderBreakdown(report, by) {
  const s = series(report);
  document.getElementById('breakdown-h').textContent = 'Breakdown by ' + by;
  drawChart('chart-breakdown', 'bar', s.labels, [
    { label: 'Sheets printed', data: s.printed, backgroundColor: '#8c959f' },
    { label: 'Paper saved (never printed)', data: s.saved, backgroundColor: '#2da44e' },
    { label: 'Saved by two-sided', data: s.duplex, backgroundColor: '#0b5cad' },
  ], false);
  document.querySelector('#breakdown-table tbody').replaceChildren(...s.groups.map((g) => el('tr', {},
    el('th', { scope: 'row' }, g.group || '(none)'),
    el('td', { class: 'num' }, knownSum(g.sheets_printed)),
    el('td', { class: 'num' }, knownSum(g.paper_saved_sheets)),
    el('td', { class: 'num' }, knownSum(g.sheets_saved_by_duplex)),
    el('td', { class: 'num' }, knownSum(g.pages_printed_colour)),
    el('td', { class: 'num' }, knownSum(g.pages_printed_monochrome)))));
}

async function load() {
  const p = params();
  if (!p.from || !p.to || p.from > p.to) {
    showMessage(status, 'Choose a start date on or before the end date.');
    return;
  }
  showMessage(status, '');
  document.getElementById('csv').href = '/api/v1/reports/summary.csv?' + query(p.from, p.to, p.breakdown);
  document.body.dataset.ready = 'false';
  try {
    const [overTime, breakdown] = await Promise.all([
      api('GET', '/api/v1/reports/summary?' + query(p.from, p.to, p.period)),
      api('GET', '/api/v1/reports/summary?' + query(p.from, p.to, p.breakdown)),
    ]);
    renderTotals(overTime);
    renderEnvironment(overTime);
    renderTime(overTime);
    renderBreakdown(breakdown, p.breakdown);
  } catch (e) {
    showMessage(status, 'Cannot load the report: ' + e.message);
  }
  document.body.dataset.ready = 'true';
}

async function main() {
  const session = await requireSession(['admin', 'sustainability']);
  if (!session) return;
  if (!window.Chart) showMessage(status, 'Charts are unavailable (Chart.js did not load); tables still show every figure.');
  const end = today();
  document.getElementById('from').value = end.slice(0, 4) + '-01-01';
  document.getElementById('to').value = end;
  document.getElementById('range').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  await load();
}

main();
