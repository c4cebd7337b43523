// Draws the figures page's charts (issue 16) from the tables beside them: each
// <div class="chart" data-table="ID" data-kind="bar|stacked"> plots the <table id="ID">, one
// bar per body row (its <th scope="row"> names it) and one series per header cell marked
// data-series; numbers come from the cells' data-value. The table stays the source and the
// accessible form; the chart repeats it for the eye (it is aria-hidden).
(function () {
  'use strict';

  // Okabe–Ito: told apart with the common colour-vision deficiencies.
  var PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

  function readTable(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll('thead th'));
    var columns = [];
    heads.forEach(function (th, i) {
      if (th.hasAttribute('data-series')) {
        columns.push({ index: i, name: th.textContent.trim() });
      }
    });
    var categories = [];
    var series = columns.map(function (c) { return { name: c.name, data: [] }; });
    Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr) {
      var cells = tr.children;
      categories.push(cells[0].textContent.trim());
      columns.forEach(function (c, k) {
        var cell = cells[c.index];
        var v = cell ? cell.getAttribute('data-value') : null;
        series[k].data.push(v === null || v === '' ? null : Number(v));
      });
    });
    return { categories: categories, series: series };
  }

  function draw(el) {
    var table = document.getElementById(el.getAttribute('data-table'));
    if (!table || !window.echarts) {
      return;
    }
    var data = readTable(table);
    var stacked = el.getAttribute('data-kind') === 'stacked';
    var horizontal = data.categories.length > 8;
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    var catAxis = {
      type: 'category',
      data: data.categories,
      axisLabel: { interval: 0, hideOverlap: true }
    };
    var valAxis = { type: 'value', minInterval: el.getAttribute('data-integer') ? 1 : 0 };
    chart.setOption({
      color: PALETTE,
      animation: false,
      aria: { enabled: false },
      // Drawn in the canvas, not as HTML with inline styles (the CSP allows none).
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      legend: { show: data.series.length > 1, top: 0, type: 'scroll' },
      grid: { left: 8, right: 16, top: data.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: horizontal ? valAxis : catAxis,
      yAxis: horizontal ? Object.assign({}, catAxis, { inverse: true }) : valAxis,
      series: data.series.map(function (s) {
        return { type: 'bar', name: s.name, data: s.data, stack: stacked ? 'all' : undefined };
      })
    });
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-drawn', String(data.categories.length));
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('.chart[data-table]'), draw);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
