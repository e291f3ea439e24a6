/* The dashboard's charts, drawn from the JSON the page carries in #dashboard-data.
   Every chart has a table beside it with the same numbers, so the page reads without this. */
(function () {
  "use strict";
  var COLORS = { red: "#b42318", black: "#344054", progress: "#067647" };
  var PALETTE = ["#175cd3", "#b42318", "#067647", "#b54708", "#6941c6", "#0e9384", "#c11574", "#667085", "#4e5ba6", "#dc6803"];
  var MAX_SERIES = 8;
  // The section of #dashboard-data each chart draws from; a chart whose section is absent
  // (e.g. no lists for a scheme that grades instead) is left undrawn, its table still reads.
  var SOURCE = { "lists-time": "lists" };

  function axisX(names) {
    return { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 3 ? 40 : 0, fontSize: 11 } };
  }
  function base(extra) {
    var option = {
      color: PALETTE,
      tooltip: { trigger: "axis", confine: true },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { type: "scroll", top: 0, textStyle: { fontSize: 11 } }
    };
    for (var key in extra) { option[key] = extra[key]; }
    return option;
  }
  function bars(name, values, extra) {
    var s = { type: "bar", name: name, data: values };
    for (var key in extra || {}) { s[key] = extra[key]; }
    return s;
  }

  var builders = {
    lists: function (d) {
      return base({
        xAxis: axisX(d.groups), yAxis: { type: "value", minInterval: 1 },
        series: ["red", "black", "progress"].map(function (k) {
          return bars(d.labels[k], d.lists.now[k], { stack: "lists", itemStyle: { color: COLORS[k] } });
        })
      });
    },
    "lists-time": function (d) {
      return base({
        xAxis: axisX(d.lists.periods), yAxis: { type: "value", minInterval: 1 },
        series: ["red", "black", "progress"].map(function (k) {
          return { type: "line", name: d.labels[k], data: d.lists.over_time[k], itemStyle: { color: COLORS[k] } };
        })
      });
    },
    trend: function (d) {
      var series = [{ type: "line", name: d.region, data: d.trend.mean, lineStyle: { width: 3 } }];
      d.trend.groups.slice(0, MAX_SERIES).forEach(function (g) {
        series.push({ type: "line", name: g.name, data: g.values, lineStyle: { width: 1 }, symbolSize: 4 });
      });
      return base({ xAxis: axisX(d.trend.periods), yAxis: { type: "value", scale: true }, series: series });
    },
    distribution: function (d) {
      return base({
        legend: { show: false },
        xAxis: axisX(d.distribution.bins), yAxis: { type: "value", minInterval: 1 },
        series: [bars(d.labels.count, d.distribution.counts)]
      });
    },
    profile: function (d) {
      var series = [];
      if (d.profile.reference) { series.push(bars(d.profile.reference.name, d.profile.reference.values)); }
      series.push(bars(d.region, d.profile.mean));
      d.profile.groups.slice(0, MAX_SERIES).forEach(function (g) { series.push(bars(g.name, g.values)); });
      return base({ xAxis: axisX(d.profile.nodes), yAxis: { type: "value" }, series: series });
    },
    bonus: function (d) {
      return base({ legend: { show: false }, xAxis: axisX(d.groups), yAxis: { type: "value" }, series: [bars(d.labels.amount, d.bonus)] });
    },
    completeness: function (d) {
      return base({
        xAxis: axisX(d.groups), yAxis: { type: "value", max: 100 },
        series: d.completeness.map(function (p) { return bars(p.scheme, p.shares); })
      });
    },
    participation: function (d) {
      return base({
        xAxis: axisX(d.groups),
        yAxis: [{ type: "value", max: 100, name: "%" }, { type: "value", minInterval: 1 }],
        series: [
          bars(d.labels.share, d.participation.share),
          { type: "line", name: d.labels.declared, yAxisIndex: 1, data: d.participation.declared },
          { type: "line", name: d.labels.collected, yAxisIndex: 1, data: d.participation.collected }
        ]
      });
    },
    concentration: function (d) {
      return base({ legend: { show: false }, xAxis: axisX(d.groups), yAxis: { type: "value", max: 100 }, series: [bars(d.labels.share, d.concentration)] });
    },
    liability: function (d) {
      return base({
        xAxis: axisX(d.groups), yAxis: { type: "value" },
        series: [bars(d.labels.balance, d.liability.balance), bars(d.labels.stock_value, d.liability.stock_value)]
      });
    }
  };

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      var build = builders[name];
      if (!build || !data[SOURCE[name] || name]) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data));
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
