// The site page's outage timeline: devices as rows, one bar per outage (or per merged run of outages when
// the server downsampled), kept bars solid, dropped ones grey and hatched; the cutoff as a line; zoom with
// the slider, the wheel or a drag; hover for exact times. Data: the JSON in #timeline-data.
(function () {
  "use strict";
  var element = document.getElementById("timeline");
  var source = document.getElementById("timeline-data");
  if (!element || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var KEPT = "#1f5fa8", DROPPED = "#6b6b6b";

  function renderItem(params, api) {
    var row = api.value(0);
    var start = api.coord([api.value(1), row]);
    var end = api.coord([api.value(2), row]);
    var height = api.size([0, 1])[1] * 0.6;
    var shape = echarts.graphic.clipRectByRect(
      { x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 2), height: height },
      { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height }
    );
    return shape && { type: "rect", transition: ["shape"], shape: shape, style: api.style() };
  }

  function series(name, kept, color) {
    return {
      type: "custom", name: name, renderItem: renderItem, itemStyle: { color: color },
      encode: { x: [1, 2], y: 0 },
      data: data.bars.filter(function (bar) { return bar[3] === kept; }),
    };
  }

  var kept = series("kept (posted)", true, KEPT);
  kept.markLine = {
    symbol: "none", silent: true, lineStyle: { color: "#b00020", type: "dashed", width: 2 },
    label: { formatter: "cutoff " + data.since_text, color: "#b00020", position: "end" },
    data: [{ xAxis: data.since }],
  };
  var chart = echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    aria: { enabled: true, decal: { show: true } },
    grid: { left: 160, right: 30, top: 40, bottom: 70 },
    legend: { top: 5 },
    tooltip: {
      formatter: function (item) {
        var bar = item.value;
        var what = bar[3] ? "kept" : "dropped (before the cutoff)";
        var count = bar[4] > 1 ? "<br>" + bar[4] + " outages merged" : "";
        return data.devices[bar[0]] + "<br>begin " + bar[5] + "<br>end " + bar[6] + "<br>" + what + count;
      },
    },
    xAxis: { type: "time", min: Math.min(data.since, ...data.bars.map(function (b) { return b[1]; })) },
    yAxis: { type: "category", data: data.devices, inverse: true },
    dataZoom: [
      { type: "slider", xAxisIndex: 0, filterMode: "weakFilter", bottom: 15 },
      { type: "inside", xAxisIndex: 0, filterMode: "weakFilter" },
    ],
    series: [kept, series("dropped (before the cutoff)", false, DROPPED)],
  });
  // what the chart holds, for people and tests: the number of bars it draws
  element.dataset.drawn = String(chart.getOption().series.reduce(function (n, s) { return n + s.data.length; }, 0));
  window.addEventListener("resize", function () { chart.resize(); });
})();
