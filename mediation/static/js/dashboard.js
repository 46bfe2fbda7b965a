/* The dashboard's charts (templates/reporting/dashboard.html).
 *
 * Reads the JSON island #chart-data ({canvas id: {type, labels, datasets, unit, scale,
 * axis, stacked, horizontal}}) and draws each chart with the vendored Chart.js. ``scale``
 * holds the value axis's Chart.js options (whole ticks for counts, 0-100 % for shares);
 * hours are exact and written in hours and minutes with the patterns of #chart-formats
 * ("{h} h {m} min"), rounded once to the minute. A label that is a list is drawn as
 * lines. The same numbers are in the table that follows each chart, so nothing is lost
 * without JavaScript.
 */
(function () {
  "use strict";

  var island = document.getElementById("chart-data");
  if (!island || typeof window.Chart === "undefined") {
    return;
  }
  var charts;
  var patterns = { hm: "{h} h {m} min", h: "{h} h", m: "{m} min" };
  try {
    charts = JSON.parse(island.textContent);
    var formatsIsland = document.getElementById("chart-formats");
    if (formatsIsland) {
      patterns = JSON.parse(formatsIsland.textContent).duration || patterns;
    }
  } catch (error) {
    return;
  }

  var locale = document.documentElement.lang || "it";
  // Colours that keep a 3:1 contrast against white, distinguishable with colour blindness
  // (Okabe-Ito, darkened where needed).
  var palette = ["#0066cc", "#d55e00", "#007a5e", "#b8860b", "#7a3e9d", "#c2185b",
                 "#3d6b8c", "#5c6f82"];
  var wholeNumber = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  // Hours (exact, as a number) as "12 h 30 min", "45 min", "3 h", "0 h".
  var duration = {
    format: function (hours) {
      var total = Math.round(hours * 60);
      var sign = total < 0 ? "-" : "";
      total = Math.abs(total);
      var h = Math.floor(total / 60);
      var m = total % 60;
      var text;
      if (!h && m) {
        text = patterns.m.replace("{m}", m);
      } else if (!m) {
        text = patterns.h.replace("{h}", wholeNumber.format(h));
      } else {
        text = patterns.hm.replace("{h}", wholeNumber.format(h)).replace("{m}", m);
      }
      return sign + text;
    }
  };
  var formats = {
    hours: duration,
    count: wholeNumber,
    percent: new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 })
  };

  // On a phone a category's label takes less width: its lines are wrapped again, more
  // narrowly, and cut after a few lines (the full names are in the table below).
  function wrapLine(text, width) {
    var lines = [];
    var line = "";
    String(text).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    if (line) {
      lines.push(line);
    }
    return lines;
  }
  function narrowLabel(label, width, most) {
    var lines = [];
    (Array.isArray(label) ? label : [label]).forEach(function (line) {
      lines = lines.concat(wrapLine(line, width));
    });
    if (lines.length > most) {
      lines = lines.slice(0, most);
      lines[most - 1] = lines[most - 1].replace(/ …$/, "") + " …";
    }
    return lines;
  }

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
    var scale = Object.assign({ beginAtZero: true }, spec.scale || {});
    scale.stacked = !!spec.stacked;
    scale.title = { display: !!spec.axis, text: spec.axis || "" };
    scale.ticks = Object.assign({}, scale.ticks || {}, {
      callback: function (value) { return format.format(value); }
    });
    scales[valueAxis] = scale;
    // Every category gets its label: horizontal charts grow with their rows (and with
    // the lines of their labels).
    scales[categoryAxis] = { stacked: !!spec.stacked, ticks: { autoSkip: false } };
    var labels = spec.labels;
    if (spec.horizontal && canvas.parentNode.clientWidth < 576) {
      labels = labels.map(function (label) { return narrowLabel(label, 18, 4); });
    }
    if (spec.horizontal) {
      var lines = labels.reduce(function (most, label) {
        return Math.max(most, Array.isArray(label) ? label.length : 1);
      }, 1);
      var rowHeight = Math.max(12 + 14 * (spec.stacked ? 1 : spec.datasets.length),
                               8 + 16 * lines);
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
      data: { labels: labels, datasets: datasets },
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
