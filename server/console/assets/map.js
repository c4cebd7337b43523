// Draws the console map (issue 16): Xi'an's district boundaries (WGS-84, served by the server:
// no tile server, so it works on an intranet), the cases the account may read as points
// coloured and shaped by status, and the red stations. The page's
// <div id="map" data-source="/console/map.json?…" data-geojson="…" data-name-property="…">
// says where the data is; map.json answers with localised labels, so this file holds no text.
(function () {
  'use strict';

  // Okabe–Ito colours and a distinct shape per status (the legend in the page uses the same).
  var STYLE = {
    open: { color: '#d55e00', symbol: 'circle' },
    acknowledged: { color: '#e69f00', symbol: 'rect' },
    in_progress: { color: '#cc79a7', symbol: 'triangle' },
    resolved: { color: '#009e73', symbol: 'diamond' },
    rejected: { color: '#000000', symbol: 'circle' },
    duplicate: { color: '#56b4e9', symbol: 'roundRect' }
  };
  // Stations: small hollow diamonds under the cases, so the cases' colours stay readable.
  var STATION = { color: '#a4161a', symbol: 'emptyDiamond' };

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error(url.split('?')[0] + ': HTTP ' + r.status);
        }
        return r.json();
      });
  }

  // The view: the cases' bounding box (with a margin), or the urban districts when none.
  function bounds(points) {
    if (!points.length) {
      return [[108.75, 34.45], [109.2, 34.1]];
    }
    var w = 180, e = -180, s = 90, n = -90;
    points.forEach(function (p) {
      w = Math.min(w, p.lon); e = Math.max(e, p.lon);
      s = Math.min(s, p.lat); n = Math.max(n, p.lat);
    });
    var pad = Math.max(0.02, (e - w) * 0.1, (n - s) * 0.1);
    return [[w - pad, n + pad], [e + pad, s - pad]];
  }

  function draw(el, geojson, data) {
    window.echarts.registerMap('xian', { geoJSON: geojson });
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    var series = data.statuses.map(function (s) {
      var style = STYLE[s.code] || { color: '#4a5360', symbol: 'circle' };
      return {
        type: 'scatter',
        coordinateSystem: 'geo',
        name: s.label,
        symbol: style.symbol,
        symbolSize: 12,
        itemStyle: { color: style.color, borderColor: '#ffffff', borderWidth: 1 },
        data: data.cases.filter(function (c) { return c.status === s.code; }).map(function (c) {
          return { name: c.title, value: [c.lon, c.lat], url: c.url };
        }),
        z: 3
      };
    });
    series.push({
      type: 'scatter',
      coordinateSystem: 'geo',
      name: data.labels.stations,
      symbol: STATION.symbol,
      symbolSize: 7,
      itemStyle: { color: STATION.color, borderWidth: 1, opacity: 0.6 },
      data: data.stations.map(function (s) { return { name: s.name, value: [s.lon, s.lat] }; }),
      z: 2
    });
    chart.setOption({
      animation: false,
      // Drawn in the canvas, not as HTML with inline styles (the CSP allows none).
      tooltip: { trigger: 'item', renderMode: 'richText', formatter: function (p) { return p.name; } },
      // On a narrow screen the page's own legend (above the map) is enough.
      legend: { show: el.clientWidth >= 600, type: 'scroll', top: 4, left: 4, right: 4 },
      geo: {
        map: 'xian',
        nameProperty: el.getAttribute('data-name-property') || 'name_zh',
        roam: true,
        boundingCoords: bounds(data.cases),
        label: { show: true, color: '#4a5360', fontSize: 11 },
        itemStyle: { areaColor: '#eef2f6', borderColor: '#6b7785', borderWidth: 1 },
        emphasis: { label: { show: true }, itemStyle: { areaColor: '#dfe6ee' } },
        select: { disabled: true }
      },
      series: series
    });
    chart.on('click', function (p) {
      if (p.data && p.data.url) {
        window.location.href = p.data.url;
      }
    });
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-points', String(data.cases.length));
    el.setAttribute('data-stations', String(data.stations.length));
    el.setAttribute('data-districts', String(geojson.features.length));
  }

  function start() {
    var el = document.getElementById('map');
    if (!el || !window.echarts || !window.fetch) {
      return;
    }
    Promise.all([getJson(el.getAttribute('data-geojson')), getJson(el.getAttribute('data-source'))])
      .then(function (r) { draw(el, r[0], r[1]); })
      .catch(function (e) {
        el.setAttribute('data-error', String(e && e.message));
        var status = document.getElementById('map-status');
        if (status) {
          status.hidden = false;
        }
      });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
