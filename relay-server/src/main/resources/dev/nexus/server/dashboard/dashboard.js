// Polls /dashboard.json and redraws the figures, the tables and an SVG bar chart of the last hour.
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function secs(s) { return s == null ? '\u2014' : (s < 10 ? s.toFixed(2) : s.toFixed(0)) + ' s'; }
  function cell(tr, value, cls) {
    var td = document.createElement('td');
    if (cls) { var span = document.createElement('span'); span.className = cls; span.textContent = value; td.appendChild(span); }
    else td.textContent = value;
    tr.appendChild(td);
  }
  function rows(tableId, items, columns, empty) {
    var body = document.querySelector('#' + tableId + ' tbody');
    if (!body) return;
    body.textContent = '';
    if (!items.length) { var tr = document.createElement('tr'); cell(tr, empty); tr.firstChild.colSpan = columns; body.appendChild(tr); return; }
    items.forEach(function (item) { var tr = document.createElement('tr'); item(tr); body.appendChild(tr); });
  }
  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    parent.appendChild(node);
    return node;
  }
  function chart(perMinute) {
    var box = document.getElementById('chart');
    var w = Math.max(300, Math.round(box.clientWidth) || 600), h = 160, left = 28, bottom = 18, max = Math.max(1, Math.max.apply(null, perMinute));
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'job requests per minute over the last hour');
    var barW = (w - left) / perMinute.length;
    el('line', { x1: left, y1: h - bottom, x2: w, y2: h - bottom }, svg);
    el('text', { x: 0, y: 10 }, svg).textContent = String(max);
    el('text', { x: 0, y: h - bottom }, svg).textContent = '0';
    el('text', { x: left, y: h - 4 }, svg).textContent = '-60 min';
    el('text', { x: w - 24, y: h - 4 }, svg).textContent = 'now';
    perMinute.forEach(function (n, i) {
      if (!n) return;
      var barH = (h - bottom - 12) * n / max;
      var bar = el('rect', { 'class': 'bar', x: left + i * barW + 1, y: h - bottom - barH, width: Math.max(1, barW - 2), height: barH }, svg);
      el('title', {}, bar).textContent = n + ' request(s), ' + (perMinute.length - 1 - i) + ' min ago';
    });
    box.textContent = '';
    box.appendChild(svg);
  }
  function render(d) {
    text('connections', d.agents.connections);
    text('authenticated', d.agents.authenticatedPubkeys);
    text('requests', d.requests); text('feedback', d.feedback); text('results', d.results);
    text('first-feedback-median', secs(d.toFirstFeedback.median)); text('first-feedback-p95', secs(d.toFirstFeedback.p95));
    text('result-median', secs(d.toResult.median)); text('result-p95', secs(d.toResult.p95));
    chart(d.requestsPerMinute);
    rows('kinds', d.kinds.map(function (k) { return function (tr) { cell(tr, k.kind); cell(tr, k.lastMinute); cell(tr, k.lastHour); }; }), 3, 'no job requests in the last hour');
    rows('statuses', Object.keys(d.feedbackByStatus).map(function (s) { return function (tr) { cell(tr, s, 'state ' + s); cell(tr, d.feedbackByStatus[s]); }; }), 2, 'no feedback yet');
    rows('providers', d.busiestProviders.map(function (p) { return function (tr) { cell(tr, p.pubkey); cell(tr, p.results); cell(tr, p.feedback); }; }), 3, 'no providers yet');
    rows('jobs', d.recentJobs.map(function (j) {
      return function (tr) {
        tr.setAttribute('data-job', j.id);
        cell(tr, j.id); cell(tr, j.kind); cell(tr, j.state, 'state ' + j.state); cell(tr, j.ageSeconds + ' s');
        cell(tr, j.provider || '\u2014'); cell(tr, secs(j.firstFeedbackSeconds)); cell(tr, secs(j.resultSeconds));
      };
    }), 7, 'no jobs yet');
    text('updated', 'at ' + new Date(d.generatedAt).toLocaleTimeString());
    document.body.setAttribute('data-live', 'true');
  }
  function poll() {
    fetch('/dashboard.json', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(render)
      .catch(function () { text('updated', 'offline, retrying'); })
      .then(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
