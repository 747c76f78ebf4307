// report.html's script: draws the run's charts and its findings table from the JSON block the
// report embeds. Data only ever reaches the page as textContent, never as markup.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const $ = (id) => document.getElementById(id);
  const PAGE_SIZE = 100;
  const COLOURS = { gross: '#2f6fb0', fee: '#c8553d', refund: '#d4a017', net: '#2e8b57', error: '#c8553d', warning: '#e0a526', rate: '#2f6fb0' };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  // A report, not a show: charts are drawn once, complete, as a screenshot or a printout sees them.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  /** Thousands separators on a decimal string, by text: amounts are never floats here. */
  function formatAmount(text) {
    if (text === null || text === undefined || text === '') return '';
    const m = /^(-?)(\d+)(\.\d+)?$/.exec(text);
    return m ? m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '') : text;
  }
  const negated = (text) => (text.startsWith('-') ? text.slice(1) : '-' + text);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function cards(container, items) {
    for (const [label, value] of items) {
      const card = el('div');
      card.append(el('dt', label), el('dd', value === null ? '—' : value));
      container.append(card);
    }
  }

  function header() {
    const r = data.run;
    $('run-meta').textContent = `${r.from === r.to ? r.from : r.from + ' – ' + r.to} · as of ${r.as_of} · ${r.kind} · run ${r.run_id}` +
      (r.finished_at ? ` · finished ${r.finished_at}` : '');
    const c = r.counts || {};
    cards($('counts'), [
      ['รายการ charges', c.charges], ['ตรงกัน matched', c.matched], ['ไม่ตรง mismatched', c.mismatched],
      ['ตรวจไม่ได้ unverified', c.unverified], ['แถวที่ปฏิเสธ rejected', c.rejected],
    ].map(([label, value]) => [label, value === undefined ? null : value]));
  }

  function waterfalls() {
    const box = $('waterfalls');
    if (!data.totals.length) box.append(el('p', 'ไม่มีรายการ No charges in this run.'));
    for (const t of data.totals) {
      const section = el('div');
      section.append(el('h3', `${t.currency} · ${t.charges} charges`));
      const chartBox = el('div', undefined, 'chart-box');
      const canvas = el('canvas', undefined, 'chart');
      canvas.id = `chart-waterfall-${t.currency}`;
      chartBox.append(canvas);
      section.append(chartBox);
      const steps = [
        ['Gross ยอดขาย', t.gross, [0, t.gross], COLOURS.gross],
        ['MDR', negated(t.mdr), [t.after_mdr, t.gross], COLOURS.fee],
        ['VAT', negated(t.vat), [t.after_vat, t.after_mdr], COLOURS.fee],
        ['Refunds คืนเงิน', negated(t.refunded), [t.net, t.after_vat], COLOURS.refund],
        ['Net สุทธิ', t.net, [0, t.net], COLOURS.net],
      ];
      new Chart(canvas, {
        type: 'bar',
        data: {
          labels: steps.map((s) => s[0]),
          // Number() only for where a bar starts and ends; every figure shown is the SQL sum's text.
          datasets: [{ data: steps.map((s) => s[2].map(Number)), backgroundColor: steps.map((s) => s[3]) }],
        },
        options: {
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${t.currency} ${formatAmount(steps[ctx.dataIndex][1])}` } } },
        },
      });
      const table = el('table');
      const rows = [['Gross', t.gross], ['MDR', t.mdr], ['VAT', t.vat], ['Refunded', t.refunded], ['Net (gross − MDR − VAT − refunds)', t.net],
        ['Settled (gateway)', t.settled], ['Net (gateway)', t.gateway_net]];
      for (const [label, value] of rows) {
        const tr = el('tr');
        tr.append(el('th', label), el('td', `${t.currency} ${formatAmount(value)}`, 'num'));
        table.append(tr);
      }
      section.append(table);
      box.append(section);
    }
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
    $('open-stale').textContent = `ค้างนานเกินกำหนด stale (no longer asked): ${data.openItems.stale}`;
  }

  function changes() {
    const c = data.changes;
    cards($('changes'), [['ใหม่ new', c.new], ['ยังค้าง still open', c.still_open], ['รับทราบแล้ว acknowledged', c.acknowledged], ['แก้แล้ว resolved', c.resolved]]);
    const p = data.previousRun;
    $('previous-run').textContent = p
      ? `Previous run ${p.run_id} (${p.from === p.to ? p.from : p.from + ' – ' + p.to}${p.finished_at ? ', finished ' + p.finished_at : ''})`
      : 'No earlier finished run: every finding is new.';
    if (c.new === null) $('previous-run').textContent += ' Finding states were not recorded for this run.';
  }

  function findingsTable() {
    const columns = data.findings.columns;
    const rows = data.findings.rows;
    const col = Object.fromEntries(columns.map((name, i) => [name, i]));
    // Built once: filtering 50,000 rows is then a loop over arrays, and only one page is drawn.
    const searchKeys = rows.map((r) => `${r[col.charge_id] || ''}\u0000${r[col.reference_order] || ''}`.toLowerCase());
    const NO_STATE = '(none)';
    const stateOf = (r) => r[col.finding_state] || NO_STATE;

    function options(select, values, allLabel) {
      select.append(new Option(allLabel, ''));
      for (const value of [...new Set(values)].sort()) select.append(new Option(value, value));
    }
    options($('filter-code'), rows.map((r) => r[col.code]), 'ทั้งหมด all codes');
    options($('filter-state'), rows.map(stateOf), 'ทั้งหมด all states');
    options($('filter-date'), rows.map((r) => r[col.transaction_date]), 'ทั้งหมด all dates');

    const headRow = document.querySelector('#findings thead tr');
    for (const name of columns) headRow.append(el('th', name));
    const body = document.querySelector('#findings tbody');
    let matches = [];
    let page = 0;

    function filter() {
      const code = $('filter-code').value;
      const state = $('filter-state').value;
      const date = $('filter-date').value;
      const query = $('search').value.trim().toLowerCase();
      matches = [];
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        if (code && r[col.code] !== code) continue;
        if (state && stateOf(r) !== state) continue;
        if (date && r[col.transaction_date] !== date) continue;
        if (query && !searchKeys[i].includes(query)) continue;
        matches.push(i);
      }
      page = 0;
      draw();
    }

    function draw() {
      const pages = Math.max(1, Math.ceil(matches.length / PAGE_SIZE));
      page = Math.min(Math.max(page, 0), pages - 1);
      const fragment = document.createDocumentFragment();
      for (const i of matches.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
        const r = rows[i];
        const tr = el('tr');
        for (const name of columns) {
          const value = r[col[name]];
          if (name === 'difference') tr.append(el('td', formatAmount(value), 'num'));
          else if (name === 'severity') tr.append(el('td', value, `sev-${value}`));
          else tr.append(el('td', value === null ? '' : value));
        }
        fragment.append(tr);
      }
      body.replaceChildren(fragment);
      const count = $('findings-count');
      count.dataset.matches = String(matches.length);
      count.textContent = `${matches.length.toLocaleString('en')} of ${rows.length.toLocaleString('en')} findings`;
      $('page-info').textContent = `page ${page + 1} of ${pages}`;
      $('page-prev').disabled = page === 0;
      $('page-next').disabled = page >= pages - 1;
    }

    for (const id of ['filter-code', 'filter-state', 'filter-date']) $(id).addEventListener('change', filter);
    $('search').addEventListener('input', filter);
    $('filters').addEventListener('submit', (event) => event.preventDefault());
    $('page-prev').addEventListener('click', () => { page -= 1; draw(); });
    $('page-next').addEventListener('click', () => { page += 1; draw(); });
    filter();
  }

  header();
  waterfalls();
  codesChart();
  daysChart();
  openItems();
  changes();
  findingsTable();
  // For whoever waits on the page (the browser test): everything is drawn.
  document.body.dataset.ready = 'true';
})();
