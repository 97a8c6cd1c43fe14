// cenas-bench leaderboard scripts: sortable tables, chart method selectors and hover values; no dependencies, no network.
// A header cell of a table.sortable becomes a button; cells sort by their data-sort value when they have one
// (numbers for columns marked data-type="number"; empty values always last), else by their text.
"use strict";
(function () {
  function key(cell, numeric) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (raw === "" || raw === "None" || raw === "nan") { return null; }
    if (numeric) { var n = parseFloat(raw); return isNaN(n) ? null : n; }
    return raw.toLowerCase();
  }
  function sortBy(table, index, header) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      var button = document.createElement("button");
      button.type = "button";
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, header); });
    });
  });
})();
// Charts: the method selector shows and hides a method's artists (data-method) in its chart; a point with data-tip
// shows its value in a tooltip on hover or focus.
(function () {
  document.querySelectorAll("fieldset.series").forEach(function (fieldset) {
    var svg = document.querySelector('svg[data-chart="' + fieldset.getAttribute("data-chart") + '"]');
    if (!svg) { return; }
    function apply(box) {
      svg.querySelectorAll('[data-method="' + box.value + '"]').forEach(function (node) {
        node.style.display = box.checked ? "" : "none";
      });
    }
    fieldset.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      apply(box);
      box.addEventListener("change", function () { apply(box); });
    });
  });
  var tip = document.createElement("div");
  tip.id = "tooltip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.appendChild(tip);
  function show(node, x, y) {
    tip.textContent = node.getAttribute("data-tip");
    tip.hidden = false;
    tip.style.left = Math.min(x + 12, window.innerWidth - tip.offsetWidth - 4) + "px";
    tip.style.top = (y + 12) + "px";
  }
  document.querySelectorAll("svg.chart [data-tip]").forEach(function (node) {
    node.addEventListener("mouseenter", function (event) { show(node, event.clientX, event.clientY); });
    node.addEventListener("mousemove", function (event) { show(node, event.clientX, event.clientY); });
    node.addEventListener("mouseleave", function () { tip.hidden = true; });
    node.addEventListener("focus", function () {
      var box = node.getBoundingClientRect();
      show(node, box.right, box.bottom);
    });
    node.addEventListener("blur", function () { tip.hidden = true; });
  });
  // The carbon-level selector filters the levels table to one level.
  var pick = document.getElementById("level-select");
  if (pick) {
    pick.parentNode.hidden = false;
    var table = document.getElementById(pick.getAttribute("data-table"));
    pick.addEventListener("change", function () {
      Array.prototype.forEach.call(table.tBodies, function (body) {
        body.hidden = pick.value !== "all" && body.getAttribute("data-level") !== pick.value;
      });
    });
  }
})();
