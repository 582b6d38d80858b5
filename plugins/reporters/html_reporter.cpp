#include <fstream>
#include <sstream>

#include "asaflow/error.hpp"
#include "report_data.hpp"
#include "reporters.hpp"

#include <nlohmann/json.hpp>

namespace asaflow::plugins {
namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Draws every figure from the embedded JSON as inline SVG; each figure's container gets
// data-rendered="true" once drawn (the headless-browser test checks it). Figure kinds:
// - lines: {x_label, y_label, log_y, series: [{name, group, role: "seed"|"mean"|"reference",
//   points: [[x, y]], band: [[x, low, high]]}]}: one colour per group; seeds thin and dashed
//   differently, the mean thick with its band; a reference line (a zero line, say) thin and
//   black, named by its group.
// - bars: {y_label, categories: [...], series: [{name, values: [...], low: [...], high: [...]}]}:
//   grouped bars on a categorical axis with interval whiskers.
// - heatmap: {tokens: [...], values: [[...]], outline: [[0|1]], value_label, outline_label}:
//   with a colour bar.
// Legends sit to the right of the plot area, never over the data; ticks are rounded.
const char* kScript = R"JS(
const figures = JSON.parse(document.getElementById('plot-data').textContent);
const NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['#c0392b', '#2471a3', '#229954', '#7d3c98', '#d68910', '#17a589', '#555555', '#a04000'];
const DASHES = ['', '6,3', '2,2', '8,3,2,3', '1,3', '10,4'];
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; }
function text(parent, x, y, s, attrs) { const t = el('text', Object.assign({x, y, 'font-size': 10}, attrs || {}), parent); t.textContent = s; return t; }
function fmt(v) { return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4)); }
function ticks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
  const out = []; for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return {lo: Math.min(lo, out[0]), hi: Math.max(hi, out[out.length - 1]), values: out};
}
// legend: the legend's labels (or false): the figure widens by what they need, so the
// plot area keeps its width and no label runs past the edge.
function frame(box, title, w, h, legend) {
  const lw = legend ? 56 + 6.2 * Math.max(...legend.map(s => s.length)) : 20;
  const total = w - 170 + lw + (legend ? 0 : 150);
  const svg = el('svg', {width: total, height: h, viewBox: `0 0 ${total} ${h}`, role: 'img'}, null);
  box.appendChild(svg);
  const size = Math.min(13, Math.floor((total - 10) / (0.6 * title.length)));  // a long title shrinks, never runs off
  text(svg, total / 2, 16, title, {'text-anchor': 'middle', 'font-size': size, 'font-weight': 'bold'});
  return {svg, w: total, h, l: 64, r: total - lw, t: 30, b: h - 56};
}
// Log-scale ticks at 1, 2 and 5 times powers of ten (all nine digits on a short range).
function logTicks(lo, hi) {
  const out = [];
  for (const mult of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    out.length = 0;
    for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) for (const m of mult) {
      const v = Math.log10(m) + k; if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v);
    }
    if (out.length >= 3) break;
  }
  return {lo, hi, values: out};
}
// A category label on lines of at most `chars` characters, centred under x.
function wrapped(parent, x, y, label, chars) {
  // Break at spaces, and after hyphens ("key-UPOS-matched" -> "key-UPOS-" "matched").
  const words = String(label).split(' ').flatMap(w => w.length > chars ? w.split(/(?<=-)/) : [w]), rows = [''];
  for (const w of words) {
    const row = rows[rows.length - 1], glue = row.endsWith('-') ? '' : ' ';
    if (row && (row + glue + w).length > chars) rows.push(w); else rows[rows.length - 1] = row ? row + glue + w : w;
  }
  rows.forEach((r, i) => text(parent, x, y + i * 11, r, {'text-anchor': 'middle'}));
  return rows.length;
}
function legend(f, items) {
  items.forEach(([name, color, dash, width], i) => {
    const y = f.t + 8 + i * 16;
    el('line', {x1: f.r + 12, x2: f.r + 34, y1: y, y2: y, stroke: color, 'stroke-width': width || 3, 'stroke-dasharray': dash || ''}, f.svg);
    text(f.svg, f.r + 40, y + 4, name, {'font-size': 11});
  });
}
function yaxis(f, lo, hi, label, log) {
  const t = log ? logTicks(lo, hi) : ticks(lo, hi, 5), sy = v => f.b - (v - t.lo) / (t.hi - t.lo) * (f.b - f.t);
  el('line', {x1: f.l, y1: f.t, x2: f.l, y2: f.b, stroke: '#000'}, f.svg);
  for (const v of t.values) {
    el('line', {x1: f.l - 4, x2: f.r, y1: sy(v), y2: sy(v), stroke: '#eee'}, f.svg);
    text(f.svg, f.l - 6, sy(v) + 3, log ? fmt(Math.pow(10, v)) : fmt(v), {'text-anchor': 'end'});
  }
  text(f.svg, 14, (f.t + f.b) / 2, label, {'font-size': 11, 'text-anchor': 'middle', transform: `rotate(-90 14 ${(f.t + f.b) / 2})`});
  return sy;
}
function lines(box, fig) {
  const d = fig.data, ly = v => d.log_y ? Math.log10(v) : v;
  const groups = [...new Set(d.series.filter(s => s.role !== 'reference').map(s => s.group))];
  const refs = [...new Set(d.series.filter(s => s.role === 'reference').map(s => s.group))];
  const groupLabel = g => g + (d.series.some(s => s.group === g && s.role === 'mean' && s.band && s.band.length)
                               ? ' (mean, band: 95% CI)' : d.series.some(s => s.group === g && s.role === 'mean') ? ' (mean)' : '');
  const labels = groups.map(groupLabel).concat(refs, d.series.filter(s => s.role === 'seed').map(s => s.name));
  const f = frame(box, fig.title, 640, 320, labels);
  const xs = [], ys = [];
  for (const s of d.series) { for (const [x, y] of s.points) { xs.push(x); ys.push(ly(y)); } for (const [x, lo, hi] of s.band || []) { ys.push(ly(lo), ly(hi)); } }
  if (!xs.length) return false;
  const tx = ticks(Math.min(...xs), Math.max(...xs), 6), sx = v => f.l + (v - tx.lo) / (tx.hi - tx.lo) * (f.r - f.l);
  const sy = yaxis(f, Math.min(...ys), Math.max(...ys), d.y_label + (d.log_y ? ' (log scale)' : ''), d.log_y);
  el('line', {x1: f.l, y1: f.b, x2: f.r, y2: f.b, stroke: '#000'}, f.svg);
  for (const v of tx.values) text(f.svg, sx(v), f.b + 14, fmt(v), {'text-anchor': 'middle'});
  text(f.svg, (f.l + f.r) / 2, f.b + 32, d.x_label, {'font-size': 11, 'text-anchor': 'middle'});
  const color = g => refs.includes(g) && !groups.includes(g) ? '#000' : PALETTE[groups.indexOf(g) % PALETTE.length];
  const seedIndex = {}; let items = [];
  for (const s of d.series) {
    if (s.band && s.band.length) {
      const up = s.band.map(([x, lo, hi]) => `${sx(x)},${sy(ly(hi))}`), down = s.band.slice().reverse().map(([x, lo, hi]) => `${sx(x)},${sy(ly(lo))}`);
      el('polygon', {points: up.concat(down).join(' '), fill: color(s.group), 'fill-opacity': 0.15, stroke: 'none'}, f.svg);
    }
  }
  for (const s of d.series) {
    const seed = s.role === 'seed', ref = s.role === 'reference';
    if (seed) seedIndex[s.name] = seedIndex[s.name] === undefined ? Object.keys(seedIndex).length : seedIndex[s.name];
    const dash = seed ? DASHES[seedIndex[s.name] % DASHES.length] : '';
    const pl = el('polyline', {points: s.points.map(([x, y]) => `${sx(x)},${sy(ly(y))}`).join(' '), fill: 'none', stroke: color(s.group),
                               'stroke-width': seed ? 1 : ref ? 1.2 : 2.5, 'stroke-opacity': seed ? 0.6 : 1, 'stroke-dasharray': dash,
                               'data-group': s.group, 'data-series': s.name}, f.svg);
    el('title', {}, pl).textContent = `${s.group} ${s.name}`;
  }
  for (const g of groups) items.push([groupLabel(g), color(g), '', 3]);
  for (const g of refs) items.push([g, color(g), '', 1]);
  for (const name in seedIndex) items.push([name, '#777', DASHES[seedIndex[name] % DASHES.length], 1]);
  legend(f, items);
  return true;
}
function bars(box, fig) {
  const d = fig.data, cats = d.categories, ser = d.series;
  if (!cats.length || !ser.length) return false;
  const labels = ser.map(s => s.name).concat(ser.some(s => s.low) ? ['whiskers: 95% CI'] : []);
  const f = frame(box, fig.title, Math.max(480, 200 + cats.length * (40 + 22 * ser.length)), 340, labels);
  const vals = ser.flatMap(s => s.values.concat(s.high || [], s.low || [])).filter(v => v !== null && isFinite(v));
  const lo = d.y_min !== undefined ? d.y_min : Math.min(0, ...vals), hi = Math.max(...vals);
  const sy = yaxis(f, lo, hi, d.y_label);
  const t0 = sy(Math.max(lo, 0));
  el('line', {x1: f.l, y1: f.b, x2: f.r, y2: f.b, stroke: '#000'}, f.svg);
  const w = (f.r - f.l) / cats.length, bw = (w - 14) / ser.length;
  cats.forEach((c, i) => {
    ser.forEach((s, j) => {
      const v = s.values[i]; if (v === null || !isFinite(v)) return;
      const x = f.l + i * w + 7 + j * bw, y = sy(v);
      el('rect', {x, y: Math.min(y, t0), width: bw - 2, height: Math.abs(t0 - y), fill: PALETTE[j % PALETTE.length], 'data-value': v}, f.svg);
      if (s.low && s.high && s.low[i] !== null && s.high[i] !== null) {
        const cx = x + (bw - 2) / 2;
        el('line', {x1: cx, x2: cx, y1: sy(s.low[i]), y2: sy(s.high[i]), stroke: '#000', 'stroke-width': 1.2}, f.svg);
        for (const e of [s.low[i], s.high[i]]) el('line', {x1: cx - 4, x2: cx + 4, y1: sy(e), y2: sy(e), stroke: '#000'}, f.svg);
      }
    });
    wrapped(f.svg, f.l + i * w + w / 2, f.b + 14, c, Math.max(6, Math.floor(w / 6)));
  });
  if (lo < 0) el('line', {x1: f.l, x2: f.r, y1: t0, y2: t0, stroke: '#000', 'stroke-width': 0.8}, f.svg);  // zero
  if (d.x_label) text(f.svg, (f.l + f.r) / 2, f.b + 44, d.x_label, {'font-size': 11, 'text-anchor': 'middle'});
  legend(f, ser.map((s, j) => [s.name, PALETTE[j % PALETTE.length], '', 8]).concat(ser.some(s => s.low) ? [['whiskers: 95% CI', '#000', '', 1]] : []));
  return true;
}
function heatmap(box, fig) {
  const d = fig.data, n = d.values.length; if (!n) return false;
  const cell = Math.max(8, Math.min(18, Math.floor(480 / n)));
  const f = frame(box, fig.title, 90 + n * cell + 120, 50 + n * cell + 40, false);  // its own colour bar, no legend
  const mx = Math.max(...d.values.flat()) || 1;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = d.values[i][j] / mx, x = 90 + j * cell, y = 40 + i * cell;
    el('rect', {x, y, width: cell, height: cell, fill: `rgba(192,57,43,${v.toFixed(3)})`}, f.svg);
    if (d.outline && j <= i && d.outline[i][j]) el('rect', {x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, fill: 'none', stroke: '#2471a3', 'stroke-width': 1.2}, f.svg);
  }
  d.tokens.forEach((t, i) => text(f.svg, 86, 40 + i * cell + cell * 0.75, t, {'text-anchor': 'end', 'font-size': 8}));
  // Colour bar: 0 to the largest value, five rounded ticks.
  const bx = 90 + n * cell + 24, bh = Math.min(200, n * cell), steps = 20;
  for (let k = 0; k < steps; k++) el('rect', {x: bx, y: 40 + bh - (k + 1) * bh / steps, width: 14, height: bh / steps + 0.5, fill: `rgba(192,57,43,${((k + 0.5) / steps).toFixed(3)})`}, f.svg);
  el('rect', {x: bx, y: 40, width: 14, height: bh, fill: 'none', stroke: '#000', 'data-colorbar': 'true'}, f.svg);
  for (const v of ticks(0, mx, 4).values.filter(v => v <= mx)) text(f.svg, bx + 18, 40 + bh - v / mx * bh + 3, fmt(v));
  text(f.svg, bx, 40 + bh + 16, d.value_label || '', {'font-size': 10});
  if (d.outline_label) text(f.svg, 90, 40 + n * cell + 16, '\u25a1 ' + d.outline_label, {'font-size': 10, fill: '#2471a3'});
  return true;
}
const KINDS = {lines, bars, heatmap};
const holder = document.getElementById('plots');
for (const fig of figures) {
  const box = document.createElement('div'); box.className = 'plot'; box.id = 'plot-' + fig.id; holder.appendChild(box);
  const draw = KINDS[fig.kind];
  if (draw && draw(box, fig)) box.dataset.rendered = 'true';
}
document.body.dataset.plots = document.querySelectorAll('[data-rendered="true"]').length;
)JS";

void render_table(std::ostringstream& h, const ResultTable& t) {
  h << "<h3>" << html_escape(t.title) << "</h3>\n<table><tr>";
  for (const auto& c : t.columns) h << "<th>" << html_escape(c) << "</th>";
  h << "</tr>\n";
  for (const auto& row : t.rows) {
    h << "<tr>";
    for (const auto& c : row) h << "<td>" << html_escape(c) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n";
  for (const auto& n : t.notes) h << "<p><small>" << html_escape(n) << "</small></p>\n";
}

class HtmlReporter : public StageComponent {
 public:
  HtmlReporter()
      : StageComponent(reporter_info("html", "report.html: one self-contained page with tables, verdicts and plots")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d;
    d.gather(ctx);
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(d.title)
      << "</title>\n"
      << "<style>body{font-family:sans-serif;max-width:1180px;margin:1em "
         "auto;color:#222}table{border-collapse:collapse;"
         "margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px "
         "6px;font-size:13px;text-align:left}th{background:#f4f4f4}"
         ".plots{display:flex;flex-wrap:wrap;gap:12px}.plot{border:1px solid #eee}.verdict{margin:.3em 0}"
         ".supported{color:#1e8449}.not{color:#c0392b}.inconclusive{color:#b9770e}.untestable{color:#707b7c}</style></"
         "head><body>\n";
    h << "<h1>" << html_escape(d.title) << "</h1>\n<p>" << html_escape(d.experiment) << " &middot; "
      << html_escape(d.run.date_utc) << " &middot; commit " << html_escape(d.run.commit) << " &middot; "
      << html_escape(d.run.cpu_model) << ", " << d.run.cpu_cores << " cores &middot; asaflow "
      << html_escape(d.run.asaflow_version) << ", LibTorch " << html_escape(d.run.torch_version) << "</p>\n";
    if (d.configuration) render_table(h, *d.configuration);
    if (!d.verdicts.empty()) {
      h << "<h2>Verdicts</h2>\n<p><small>" << html_escape(kVerdictGuide) << "</small></p>\n";
      for (const Verdict* v : d.verdicts) {
        const std::string cls = v->status == kSupported      ? "supported"
                                : v->status == kInconclusive ? "inconclusive"
                                : v->status == kUntestable   ? "untestable"
                                                             : "not";
        h << "<p class=\"verdict\"><b class=\"" << cls << "\">" << html_escape(v->status)
          << "</b>: " << html_escape(v->claim) << ". <small>Measured: " << html_escape(v->measured)
          << ". Why: " << html_escape(v->reason) << ". Rule: " << html_escape(v->rule) << ".</small></p>\n";
      }
    }
    h << "<h2>Plots</h2>\n<div class=\"plots\" id=\"plots\"></div>\n<h2>Tables</h2>\n";
    for (const ResultTable* t : d.summary) render_table(h, *t);
    if (!d.details.empty() || !d.records.rows.empty()) {
      h << "<h2>Per-run details</h2>\n";
      for (const ResultTable* t : d.details) render_table(h, *t);
      if (!d.records.rows.empty()) render_table(h, d.records);
    }
    h << "<h2>Notes and anomalies</h2>\n<ul>";
    if (d.notes.empty()) h << "<li>None recorded.</li>";
    for (const auto& n : d.notes) h << "<li>" << html_escape(n) << "</li>";
    nlohmann::json figures = nlohmann::json::array();
    for (const Figure* f : d.figures) {
      figures.push_back(
          {{"id", f->id}, {"kind", f->kind}, {"title", f->title}, {"data", nlohmann::json::parse(f->data)}});
    }
    h << "</ul>\n<script type=\"application/json\" id=\"plot-data\">";
    std::string json = figures.dump();
    for (std::size_t i = 0; (i = json.find("</", i)) != std::string::npos; i += 3) json.replace(i, 2, "<\\/");
    h << json << "</script>\n<script>" << kScript << "</script>\n</body></html>\n";
    std::ofstream out(ctx.out.dir / "report.html");
    out << h.str();
    if (!out) throw StageError("cannot write report.html");
  }
};

}  // namespace

std::shared_ptr<Component> make_html_reporter() { return std::make_shared<HtmlReporter>(); }

}  // namespace asaflow::plugins
