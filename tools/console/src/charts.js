// Charts with uPlot (npm, vendored into the program at build time).
import uPlot from './vendor/uPlot.esm.js';

const COLORS = {permit: '#2e7d32', deny: '#c62828', escalate: '#ef6c00', changes: '#1565c0'};

function width(el) { return Math.max(320, Math.min(960, el.clientWidth || 720)); }

// Counts over time, x in seconds: bars for one series, lines for several
// (bars of several series would hide each other).
export function timeBars(el, xs, series, {title} = {}) {
  const bars = series.length === 1 ? uPlot.paths.bars({size: [0.8, 40]}) : undefined;
  const opts = {
    title, width: width(el), height: 260,
    // Counts start at zero, so bar heights compare.
    scales: {x: {time: true}, y: {range: (u, min, max) => [0, Math.max(1, max) * 1.1]}},
    series: [{}, ...series.map((s) => ({label: s.name, stroke: COLORS[s.name] || s.color || '#455a64',
      fill: (COLORS[s.name] || s.color || '#455a64') + '99', paths: bars, points: {show: false}}))],
    axes: [{}, {label: 'decisions'}],
  };
  return new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
}

// A ranking as horizontal bars: labels on the left, the most frequent on top.
export function rankBars(el, labels, values, {title, color = '#455a64'} = {}) {
  const bars = uPlot.paths.bars({size: [0.7, 40]});
  const xs = labels.map((_, i) => i);
  const longest = Math.max(0, ...labels.map((l) => l.length));
  const opts = {
    title, width: width(el), height: 70 + 28 * Math.max(labels.length, 3),
    scales: {x: {time: false, ori: 1, dir: 1, range: [-0.5, labels.length - 0.5]}, y: {ori: 0, dir: 1,
      range: (u, min, max) => [0, Math.max(1, max) * 1.05]}},
    legend: {show: false},
    series: [{}, {label: 'decisions', stroke: color, fill: color + 'aa', paths: bars, points: {show: false}}],
    axes: [
      {side: 3, size: Math.min(420, 20 + 6.5 * longest), splits: () => xs,
        values: (u, ticks) => ticks.map((t) => labels[t] ?? ''), grid: {show: false}},
      {side: 2, label: 'decisions'},
    ],
  };
  return new uPlot(opts, [xs, values], el);
}
