// Draws the reports page's charts from the reports API (the page's own session cookie
// authenticates the GET). Chart.js is vendored from npm; see chart.js.LICENSE.md.
(function () {
  var holder = document.getElementById("report");
  if (!holder || typeof Chart === "undefined") return;
  var q = holder.getAttribute("data-query");
  fetch("/api/v1/reports/summary" + (q ? "?" + q : ""), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(draw)
    .catch(function (e) { holder.hidden = false; holder.textContent = "The charts could not be loaded (" + e + ")."; });

  function bar(id, labels, datasets, opts) {
    var el = document.getElementById(id);
    if (!el) return;
    new Chart(el, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } } }, opts || {}),
    });
  }

  function draw(r) {
    bar("chart-outcomes", r.outcomes.map(function (c) { return c.key.replace(/_/g, " "); }),
      [{ label: "tickets", data: r.outcomes.map(function (c) { return c.count; }), backgroundColor: "#0b57d0" }]);
    bar("chart-inconsolable", ["this period", "expected"],
      [{ label: "% of ended tickets", data: [100 * (r.inconsolable_share || 0), 100 * r.inconsolable_reference], backgroundColor: ["#9a6700", "#8c959f"] }],
      { scales: { y: { beginAtZero: true, title: { display: true, text: "%" } } } });
    bar("chart-satisfaction", ["product", "service"],
      [{ label: "mean rating (1–5)", data: [r.product_satisfaction || 0, r.service_satisfaction || 0], backgroundColor: ["#1a7f37", "#0b57d0"] }],
      { scales: { y: { min: 0, max: 5 } } });
    bar("chart-escalations", r.escalations.map(function (e) { return e.to_rung + ": " + e.reason.replace(/_/g, " "); }),
      [{ label: "escalations", data: r.escalations.map(function (e) { return e.count; }), backgroundColor: "#b42318" }]);
    document.body.setAttribute("data-charts", "drawn");
  }
})();
