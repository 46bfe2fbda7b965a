/* The dashboard's charts (templates/reporting/dashboard.html).
 *
 * Reads the JSON island #chart-data ({canvas id: {type, labels, datasets, unit, axis,
 * stacked, horizontal}}) and draws each chart with the vendored Chart.js. The same numbers are in
 * the table that follows each chart, so nothing is lost without JavaScript.
 */
(function () {
  "use strict";

  var island = document.getElementById("chart-data");
  if (!island || typeof window.Chart === "undefined") {
    return;
  }
  var charts;
  try {
    charts = JSON.parse(island.textContent);
  } catch (error) {
    return;
  }

  var locale = document.documentElement.lang || "it";
  // Colours that keep a 3:1 contrast against white, distinguishable with colour blindness
  // (Okabe-Ito, darkened where needed).
  var palette = ["#0066cc", "#d55e00", "#007a5e", "#b8860b", "#7a3e9d", "#c2185b",
                 "#3d6b8c", "#5c6f82"];
  var formats = {
    hours: new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }),
    count: new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
    percent: new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 })
  };

  Chart.defaults.font.family = "'Titillium Web', Geneva, Tahoma, sans-serif";
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#1a1a1a";

  Object.keys(charts).forEach(function (id) {
    var canvas = document.getElementById(id);
    var spec = charts[id];
    if (!canvas || !spec) {
      return;
    }
    var format = formats[spec.unit] || formats.count;
    var valueAxis = spec.horizontal ? "x" : "y";
    var categoryAxis = spec.horizontal ? "y" : "x";
    var scales = {};
    scales[valueAxis] = {
      beginAtZero: true,
      stacked: !!spec.stacked,
      title: { display: !!spec.axis, text: spec.axis || "" },
      ticks: { callback: function (value) { return format.format(value); } }
    };
    // Every category gets its label: horizontal charts grow with their rows.
    scales[categoryAxis] = { stacked: !!spec.stacked, ticks: { autoSkip: false } };
    if (spec.horizontal) {
      var rowHeight = 12 + 14 * (spec.stacked ? 1 : spec.datasets.length);
      canvas.parentNode.style.height =
        Math.max(160, spec.labels.length * rowHeight + 90) + "px";
    }
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = palette[index % palette.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: 1
      };
    });
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = spec.horizontal ? context.parsed.x : context.parsed.y;
                return context.dataset.label + ": " + format.format(value);
              }
            }
          }
        }
      }
    });
  });

  // Redraw at the paper's width before printing, and back after.
  function resizeAll() {
    Object.keys(charts).forEach(function (id) {
      var canvas = document.getElementById(id);
      if (canvas && canvas.chart) {
        canvas.chart.resize();
      }
    });
  }
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
})();
