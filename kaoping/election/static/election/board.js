/* The election board's charts, drawn from the JSON the page carries in #board-data: villages
   by colour (stacked) and stage progress. The table and tiles carry the same numbers. */
(function () {
  "use strict";
  var COLORS = { red: "#b42318", amber: "#dc6803", green: "#067647", none: "#98a2b3" };

  function axisX(names) {
    return { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 3 ? 40 : 0, fontSize: 11 } };
  }
  function base(extra) {
    var option = {
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { type: "scroll", top: 0, textStyle: { fontSize: 11 } }
    };
    for (var key in extra) { option[key] = extra[key]; }
    return option;
  }

  var builders = {
    rag: function (d) {
      return base({
        xAxis: axisX(d.rag.groups), yAxis: { type: "value", minInterval: 1, name: d.labels.villages },
        series: ["red", "amber", "green"].map(function (k) {
          return { type: "bar", stack: "rag", name: d.labels[k], data: d.rag[k], itemStyle: { color: COLORS[k] } };
        })
      });
    },
    progress: function (d) {
      var p = d.progress;
      var percent = { type: "value", min: 0, max: 100, name: "%" };
      var series = [{
        type: "bar", name: p.horizontal ? "%" : d.labels.stage_progress,
        data: p.values.map(function (v, i) { return { value: v, itemStyle: { color: COLORS[p.colours[i]] || COLORS.none } }; }),
        label: {
          show: true, position: p.horizontal ? "right" : "top", fontSize: 11,
          formatter: function (x) { return x.value === null || x.value === undefined ? "—" : x.value + "%"; }
        }
      }];
      if (p.horizontal) {
        // One village's indicators: names down the side, so they read whole on a phone.
        return base({
          legend: { show: false }, grid: { left: 8, right: 40, top: 24, bottom: 8, containLabel: true },
          yAxis: { type: "category", data: p.groups, inverse: true, axisLabel: { fontSize: 11, width: 110, overflow: "break" } },
          xAxis: percent, series: series
        });
      }
      return base({ legend: { show: false }, xAxis: axisX(p.groups), yAxis: percent, series: series });
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
