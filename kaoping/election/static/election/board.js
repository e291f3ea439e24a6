/* The election board's charts, drawn from the JSON the page carries in #board-data: villages
   by colour (stacked) and stage progress. The table and tiles carry the same numbers.
   On a 360-px phone every chart is a horizontal bar chart: the names run down the y axis,
   where they read whole, and each chart is as tall as its rows need. */
(function () {
  "use strict";
  var COLORS = { red: "#b42318", amber: "#dc6803", green: "#067647", none: "#98a2b3" };
  var ROW = 30; // px per category row
  var CHROME = 70; // legend, axis, padding

  function names(list) {
    // Category axis down the side, first item on top; long names wrap rather than clip.
    return {
      type: "category", data: list, inverse: true,
      axisTick: { show: false },
      axisLabel: { interval: 0, fontSize: 11, width: 96, overflow: "break", lineHeight: 13 }
    };
  }
  function base(extra) {
    var option = {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { type: "scroll", top: 0, textStyle: { fontSize: 11 } }
    };
    for (var key in extra) { option[key] = extra[key]; }
    return option;
  }

  var builders = {
    rag: function (d) {
      return base({
        yAxis: names(d.rag.groups),
        // Counts of villages (the card's heading says so; an axis name would crowd the ticks).
        xAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: 11, hideOverlap: true } },
        series: ["red", "amber", "green"].map(function (k) {
          return {
            type: "bar", stack: "rag", name: d.labels[k], data: d.rag[k], barMaxWidth: 18,
            itemStyle: { color: COLORS[k] },
            // A count inside its segment only where the segment is wide enough to hold it.
            label: {
              show: true, position: "inside", color: "#fff", fontSize: 10,
              formatter: function (x) { return x.value ? String(x.value) : ""; }
            },
            labelLayout: { hideOverlap: true }
          };
        })
      });
    },
    progress: function (d) {
      var p = d.progress;
      var series = [{
        type: "bar", name: p.horizontal ? "%" : d.labels.stage_progress, barMaxWidth: 18,
        data: p.values.map(function (v, i) { return { value: v, itemStyle: { color: COLORS[p.colours[i]] || COLORS.none } }; }),
        label: {
          show: true, position: "right", fontSize: 11,
          formatter: function (x) { return x.value === null || x.value === undefined ? "—" : Math.round(x.value * 10) / 10 + "%"; }
        }
      }];
      return base({
        legend: { show: false }, grid: { left: 8, right: 48, top: 16, bottom: 8, containLabel: true },
        yAxis: names(p.groups),
        xAxis: { type: "value", min: 0, max: 100, interval: 25, axisLabel: { fontSize: 11, formatter: "{value}%" } },
        series: series
      });
    }
  };

  function draw() {
    var source = document.getElementById("board-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("#board [data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      if (!builders[name] || !data[name]) { return; }
      var rows = (data[name].groups || []).length;
      el.style.height = Math.max(160, CHROME + rows * ROW) + "px";
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(builders[name](data));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
