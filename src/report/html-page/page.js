// report.html's script: draws the run's charts and its findings table from the JSON block the
// report embeds. Data only ever reaches the page as textContent, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const $ = (id) => document.getElementById(id);
  const PAGE_SIZE = 100;
  const COLOURS = {
    gross: '#2f6fb0', voided: '#9aa5b1', settled: '#3d7ea6', fee: '#c8553d', refund: '#d4a017', net: '#2e8b57', estimate: '#b7791f',
    error: '#c8553d', warning: '#e0a526', rate: '#2f6fb0',
  };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  // Axis ticks with thousands separators, whatever the reader's browser is set to.
  Chart.defaults.locale = 'en-US';
  // A report, not a show: charts are drawn once, complete, as a screenshot or a printout sees them.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  /** Thousands separators on a decimal string, by its digits: amounts are never floats here. */
  function formatAmount(text) {
    if (text === null || text === undefined || text === '') return '';
    const m = /^(-?)(\d+)(\.\d+)?$/.exec(text);
    return m ? m[1] + groupDigits(m[2]) + (m[3] || '') : text;
  }
  const groupDigits = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  /** The amounts in a finding's sentence (`ledger 1200000.00, gateway …`), grouped; ids and dates have no decimal point and stay. */
  const formatAmountsIn = (text) => text.replace(/(?<![\w,])(\d{4,})(?=\.\d+(?!\w))/g, (digits) => groupDigits(digits));
  const formatCount = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function cards(container, items) {
    for (const [label, value, className] of items) {
      const card = el('div', undefined, className);
      card.append(el('dt', label), el('dd', formatCount(value)));
      container.append(card);
    }
  }

  /** A code's one line in Thai and one in English, as two blocks, when this version knows the code. */
  function explanation(code) {
    const text = data.codeTexts[code];
    if (!text) return [];
    return [el('span', text.th, 'th'), el('span', text.en, 'en')];
  }

  function header() {
    const r = data.run;
    $('run-meta').textContent = `${r.from === r.to ? r.from : r.from + ' – ' + r.to} · as of ${r.as_of} · ${r.kind} · run ${r.run_id}`;
    $('run-started').textContent = `เริ่ม started ${r.started_at}`;
    $('run-finished').textContent = r.finished_at ? `· เสร็จ finished ${r.finished_at} (${r.tz})` : `· (${r.tz})`;
    const c = r.counts || {};
    cards($('counts'), [
      ['รายการ charges', c.charges], ['ตรงกัน matched', c.matched], ['ไม่ตรง mismatched', c.mismatched],
      ['ตรวจไม่ได้ unverified', c.unverified], ['แถวที่ปฏิเสธ rejected', c.rejected],
    ].map(([label, value]) => [label, value === undefined ? null : value]));
  }

  /** Errors before anything else: how many, of which codes, what each means, one click to list them. */
  function errorsAtAGlance() {
    const total = (severity, key) => data.byCode.filter((c) => c.severity === severity).reduce((n, c) => n + c[key], 0);
    const errors = total('error', 'count');
    cards($('severity-counts'), [
      ['ข้อผิดพลาด errors', errors, 'sev-error'],
      ['ยังไม่รับทราบ errors not acknowledged', errors - total('error', 'acknowledged'), 'sev-error'],
      ['คำเตือน warnings', total('warning', 'count'), 'sev-warning'],
    ]);
    const list = $('error-codes');
    const errorCodes = data.byCode.filter((c) => c.severity === 'error');
    if (!errorCodes.length) list.append(el('li', 'ไม่มีข้อผิดพลาด No errors in this run.'));
    for (const c of errorCodes) {
      const item = el('li');
      const show = el('button', c.code);
      show.type = 'button';
      show.title = 'show these findings';
      show.addEventListener('click', () => showCode(c.code));
      item.append(show, ` ${formatCount(c.count)}` + (c.acknowledged ? ` (รับทราบแล้ว acknowledged ${formatCount(c.acknowledged)})` : ''), ...explanation(c.code));
      list.append(item);
    }
  }

  /**
   * One chart and one table per currency. The chart's cascade is KBank's own arithmetic, in THB
   * (settled − MDR − VAT = net); the books' gross, the voided charges beside it and the refunds
   * stand on their own, in the charges' currency; the estimate of fees not reported yet is hatched.
   * No figure is worked out here: each one shown is a sum from the run's tables.
   */
  function waterfalls() {
    const box = $('waterfalls');
    if (!data.totals.length) box.append(el('p', 'ไม่มีรายการ No charges in this run.'));
    for (const t of data.totals) {
      const thb = t.currency === 'THB';
      const section = el('div');
      section.dataset.currency = t.currency;
      section.append(el('h3', `${t.currency} · ${formatCount(t.charges)} รายการ charges`));
      if (!thb) section.append(el('p', `ตัวเลขของ KBank เป็นเงินบาท · KBank's figures for ${t.currency} charges are in THB (their baht amount).`, 'note'));
      const chartBox = el('div', undefined, 'chart-box');
      const canvas = el('canvas', undefined, 'chart');
      canvas.id = `chart-waterfall-${t.currency}`;
      chartBox.append(canvas);
      section.append(chartBox);
      drawWaterfall(canvas, t);
      section.append(figuresTable(t));
      box.append(section);
    }
  }

  function drawWaterfall(canvas, t) {
    const thb = t.currency === 'THB';
    // Number() only for where a bar starts and ends; every figure shown is the SQL sum's text.
    const settled = Number(t.settled);
    const afterMdr = settled - Number(t.mdr);
    const afterVat = afterMdr - Number(t.vat);
    const bars = [
      { label: 'Gross ยอดขาย', of: 'books', range: [0, t.gross], text: t.gross, colour: COLOURS.gross },
      { label: 'Voided ยกเลิก', of: 'books', range: [0, t.voided], text: t.voided, colour: COLOURS.voided },
      { label: 'Settled ยอดชำระ', of: 'kbank', range: [0, settled], text: t.settled, colour: COLOURS.settled },
      { label: 'MDR', of: 'kbank', range: [afterMdr, settled], text: t.mdr, colour: COLOURS.fee },
      { label: 'VAT', of: 'kbank', range: [afterVat, afterMdr], text: t.vat, colour: COLOURS.fee },
      { label: 'Net สุทธิ', of: 'kbank', range: [0, t.net], text: t.net, colour: COLOURS.net },
      { label: 'Refunded คืนเงิน', of: 'books', range: [0, t.refunded], text: t.refunded, colour: COLOURS.refund },
    ];
    if (t.fees_pending) {
      bars.push(
        { label: 'MDR (estimate ประมาณการ)', of: 'estimate', range: [0, t.mdr_estimate], text: t.mdr_estimate, colour: hatch(COLOURS.estimate) },
        { label: 'VAT (estimate ประมาณการ)', of: 'estimate', range: [0, t.vat_estimate], text: t.vat_estimate, colour: hatch(COLOURS.estimate) },
      );
    }
    const kbankAxis = thb ? 'y' : 'thb';
    const sets = [
      { of: 'books', label: `books, ${t.currency}`, yAxisID: 'y', colour: COLOURS.gross },
      { of: 'kbank', label: 'KBank, THB', yAxisID: kbankAxis, colour: COLOURS.settled },
      { of: 'estimate', label: 'estimate, THB', yAxisID: kbankAxis, colour: hatch(COLOURS.estimate) },
    ].filter((d) => bars.some((b) => b.of === d.of));
    const datasets = sets.map((d) => ({
      label: d.label,
      yAxisID: d.yAxisID,
      data: bars.map((b) => (b.of === d.of ? b.range.map(Number) : null)),
      backgroundColor: bars.map((b) => b.colour),
      borderColor: COLOURS.estimate,
      borderWidth: d.of === 'estimate' ? 1 : 0,
      skipNull: true,
    }));
    const scales = { x: { stacked: true, ticks: { autoSkip: false, maxRotation: 90 } }, y: { beginAtZero: true, title: { display: true, text: t.currency } } };
    if (!thb) scales.thb = { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'THB' } };
    new Chart(canvas, {
      type: 'bar',
      data: { labels: bars.map((b) => b.label), datasets },
      options: {
        scales,
        plugins: {
          // One colour per data set in the legend, not its first bar's.
          legend: { labels: { boxWidth: 12, generateLabels: (chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item, i) => ({ ...item, fillStyle: sets[i].colour, strokeStyle: COLOURS.estimate, lineWidth: sets[i].of === 'estimate' ? 1 : 0 })) } },
          tooltip: { callbacks: { label: (ctx) => { const b = bars[ctx.dataIndex]; return `${b.of === 'books' ? t.currency : 'THB'} ${formatAmount(b.text)}${b.of === 'estimate' ? ' (estimate)' : ''}`; } } },
        },
      },
    });
  }

  /** A diagonal hatch: the estimate is never drawn like one of KBank's figures. */
  function hatch(colour) {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 8;
    const g = tile.getContext('2d');
    g.strokeStyle = colour;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.stroke();
    return g.createPattern(tile, 'repeat');
  }

  function figuresTable(t) {
    const table = el('table', undefined, 'figures');
    const row = (figure, label, value, className) => {
      const tr = el('tr', undefined, className);
      if (figure) tr.dataset.figure = figure;
      tr.append(el('th', label));
      if (value !== undefined) tr.append(el('td', value, 'num'));
      else tr.firstChild.colSpan = 2;
      table.append(tr);
    };
    const own = (text) => `${t.currency} ${formatAmount(text)}`;
    const baht = (text) => `THB ${formatAmount(text)}`;
    row(null, `ตามบัญชี The books, ${t.currency}`, undefined, 'group');
    row('gross', 'Gross ยอดขาย (voided charges left out)', own(t.gross));
    row('voided', 'Voided ยกเลิก (apart from gross)', own(t.voided));
    row('refunded', 'Refunded by KBank คืนเงิน', own(t.refunded));
    row(null, 'KBank, in THB, for the charges whose figures it reported', undefined, 'group');
    row('settled', 'Settled ยอดชำระ', baht(t.settled));
    row('mdr', 'MDR ค่าธรรมเนียม', baht(t.mdr));
    row('vat', 'VAT ภาษีมูลค่าเพิ่ม', baht(t.vat));
    row('net', 'Net สุทธิ', baht(t.net), 'net');
    row('fees_pending', 'Fees KBank has not reported yet ค่าธรรมเนียมที่ KBank ยังไม่แจ้ง', `${formatCount(t.fees_pending)} รายการ charges`);
    if (t.fees_pending) {
      row('mdr_estimate', 'MDR, estimate from the fee schedule ประมาณการ', `≈ ${baht(t.mdr_estimate)}`, 'estimate');
      row('vat_estimate', 'VAT, estimate from the fee schedule ประมาณการ', `≈ ${baht(t.vat_estimate)}`, 'estimate');
    }
    const wrap = el('div', undefined, 'table-wrap');
    wrap.append(table);
    return wrap;
  }

  function codesChart() {
    const codes = [...new Set(data.byCode.map((c) => c.code))];
    const count = (code, severity) => data.byCode.filter((c) => c.code === code && c.severity === severity).reduce((n, c) => n + c.count, 0);
    $('codes-box').style.height = `${Math.max(200, codes.length * 22 + 60)}px`;
    new Chart($('chart-codes'), {
      type: 'bar',
      data: {
        labels: codes,
        datasets: ['error', 'warning'].map((severity) => ({ label: severity, data: codes.map((code) => count(code, severity)), backgroundColor: COLOURS[severity] })),
      },
      options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true, ticks: { autoSkip: false, font: { size: 10 } } } } },
    });
    const list = $('code-list');
    const bySeverity = (c) => (c.severity === 'error' ? 0 : 1);
    for (const c of [...data.byCode].sort((a, b) => bySeverity(a) - bySeverity(b))) {
      const item = el('li');
      item.dataset.code = c.code;
      item.append(el('strong', c.code), ' ', el('span', c.severity, `sev-${c.severity}`), ` ${formatCount(c.count)}`, ...explanation(c.code));
      list.append(item);
    }
  }

  function daysChart() {
    const days = data.byDay;
    new Chart($('chart-days'), {
      data: {
        labels: days.map((d) => d.date),
        datasets: [
          { type: 'bar', label: 'errors', data: days.map((d) => d.errors), backgroundColor: COLOURS.error, stack: 'f' },
          { type: 'bar', label: 'warnings', data: days.map((d) => d.warnings), backgroundColor: COLOURS.warning, stack: 'f' },
          { type: 'line', label: 'match rate %', data: days.map((d) => (d.match_rate === null ? null : Number(d.match_rate))), borderColor: COLOURS.rate, backgroundColor: COLOURS.rate, yAxisID: 'rate' },
        ],
      },
      options: {
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: 'findings' } },
          rate: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: 'match rate %' } },
        },
      },
    });
  }

  function openItems() {
    const buckets = ['0-1', '2-7', '8-30', '31+'];
    new Chart($('chart-open'), {
      type: 'bar',
      data: { labels: buckets, datasets: [{ label: 'open items', data: buckets.map((b) => data.openItems.byBucket[b] || 0), backgroundColor: COLOURS.warning }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, suggestedMax: 1, ticks: { precision: 0 } } } },
    });
    $('open-stale').textContent = `ค้างนานเกินกำหนด stale (no longer asked): ${formatCount(data.openItems.stale)}`;
  }

  function changes() {
    const c = data.changes;
    cards($('changes'), [['ใหม่ new', c.new], ['ยังค้าง still open', c.still_open], ['รับทราบแล้ว acknowledged', c.acknowledged], ['แก้แล้ว resolved', c.resolved]]);
    const p = data.previousRun;
    $('previous-run').textContent = p
      ? `Previous run ${p.run_id} (${p.from === p.to ? p.from : p.from + ' – ' + p.to}${p.finished_at ? ', finished ' + p.finished_at + ' ' + data.run.tz : ''})`
      : 'No earlier finished run: every finding is new.';
    if (c.new === null) $('previous-run').textContent += ' Finding states were not recorded for this run.';
  }

  /** Set by the findings table: lists one code's findings and brings the table into view. */
  let showCode = () => {};

  function findingsTable() {
    const columns = data.findings.columns;
    const rows = data.findings.rows;
    const col = Object.fromEntries(columns.map((name, i) => [name, i]));
    // Built once: filtering 50,000 rows is then a loop over arrays, and only one page is drawn.
    const searchKeys = rows.map((r) => `${r[col.charge_id] || ''}\u0000${r[col.reference_order] || ''}`.toLowerCase());
    const NO_STATE = '(none)';
    const stateOf = (r) => r[col.finding_state] || NO_STATE;

    function options(select, values, allLabel, labelOf = (value) => value) {
      select.append(new Option(allLabel, ''));
      for (const value of [...new Set(values)].sort()) select.append(new Option(labelOf(value), value));
    }
    options($('filter-severity'), rows.map((r) => r[col.severity]), 'ทั้งหมด all', (s) => (s === 'error' ? 'ข้อผิดพลาด errors' : s === 'warning' ? 'คำเตือน warnings' : s));
    options($('filter-code'), rows.map((r) => r[col.code]), 'ทั้งหมด all codes');
    options($('filter-state'), rows.map(stateOf), 'ทั้งหมด all states');
    options($('filter-date'), rows.map((r) => r[col.transaction_date]), 'ทั้งหมด all dates');

    const headRow = document.querySelector('#findings thead tr');
    for (const name of columns) headRow.append(el('th', name));
    const body = document.querySelector('#findings tbody');
    let matches = [];
    let page = 0;

    function filter() {
      const severity = $('filter-severity').value;
      const code = $('filter-code').value;
      const state = $('filter-state').value;
      const date = $('filter-date').value;
      const query = $('search').value.trim().toLowerCase();
      // Errors first, each severity in the run's order: three errors are on page 1 beside 5,000 warnings.
      const errors = [];
      const others = [];
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        if (severity && r[col.severity] !== severity) continue;
        if (code && r[col.code] !== code) continue;
        if (state && stateOf(r) !== state) continue;
        if (date && r[col.transaction_date] !== date) continue;
        if (query && !searchKeys[i].includes(query)) continue;
        (r[col.severity] === 'error' ? errors : others).push(i);
      }
      matches = errors.concat(others);
      page = 0;
      const explained = $('code-explanation');
      explained.replaceChildren(...(code ? [el('strong', code), ...explanation(code)] : []));
      explained.hidden = !code;
      draw();
    }

    function cell(name, r) {
      const value = r[col[name]];
      // A value with a decimal point is an amount; ids, dates, terms and states have none.
      if (name === 'difference' || ((name === 'ledger_value' || name === 'gateway_value') && /^-?\d+\.\d+$/.test(value || ''))) return el('td', formatAmount(value), 'num');
      if (name === 'severity') return el('td', value, `sev-${value}`);
      if (name === 'message') return el('td', value === null ? '' : formatAmountsIn(value), 'wrap');
      if (name === 'ack_note') return el('td', value === null ? '' : value, 'wrap note');
      if (name === 'code') {
        const td = el('td', value);
        const text = data.codeTexts[value];
        if (text) td.title = `${text.th}\n${text.en}`;
        return td;
      }
      return el('td', value === null ? '' : value);
    }

    function draw() {
      const pages = Math.max(1, Math.ceil(matches.length / PAGE_SIZE));
      page = Math.min(Math.max(page, 0), pages - 1);
      const fragment = document.createDocumentFragment();
      for (const i of matches.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
        const tr = el('tr');
        for (const name of columns) tr.append(cell(name, rows[i]));
        fragment.append(tr);
      }
      body.replaceChildren(fragment);
      const count = $('findings-count');
      count.dataset.matches = String(matches.length);
      count.textContent = `${formatCount(matches.length)} of ${formatCount(rows.length)} findings`;
      $('page-info').textContent = `page ${formatCount(page + 1)} of ${formatCount(pages)}`;
      $('page-prev').disabled = page === 0;
      $('page-next').disabled = page >= pages - 1;
    }

    showCode = (code) => {
      for (const id of ['filter-severity', 'filter-state', 'filter-date', 'search']) $(id).value = '';
      $('filter-code').value = code;
      filter();
      $('findings-box').scrollIntoView();
    };
    for (const id of ['filter-severity', 'filter-code', 'filter-state', 'filter-date']) $(id).addEventListener('change', filter);
    $('search').addEventListener('input', filter);
    $('filters').addEventListener('submit', (event) => event.preventDefault());
    $('page-prev').addEventListener('click', () => { page -= 1; draw(); });
    $('page-next').addEventListener('click', () => { page += 1; draw(); });
    filter();
  }

  header();
  errorsAtAGlance();
  waterfalls();
  codesChart();
  daysChart();
  openItems();
  changes();
  findingsTable();
  // For whoever waits on the page (the browser test): everything is drawn.
  document.body.dataset.ready = 'true';
})();
