#include <fstream>
#include <sstream>

#include "asaflow/error.hpp"
#include "report_data.hpp"
#include "reporters.hpp"

namespace asaflow::plugins {
namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Draws every plot from the embedded JSON as inline SVG; each plot's container gets
// data-rendered="true" once drawn (the headless-browser test checks it).
const char* kScript = R"JS(
const data = JSON.parse(document.getElementById('plot-data').textContent);
const NS = 'http://www.w3.org/2000/svg';
const COLORS = {none: '#555', full: '#c0392b', pos_only: '#2980b9', features_only: '#27ae60', asa: '#c0392b', matched: '#2980b9', reference: '#999'};
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (parent) parent.appendChild(e); return e; }
function frame(id, title, w, h) {
  const box = document.getElementById(id); if (!box) return null;
  const svg = el('svg', {width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img'}, null);
  box.appendChild(svg);
  const t = el('text', {x: w / 2, y: 16, 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold'}, svg); t.textContent = title;
  return {box, svg, w, h, l: 60, r: w - 20, t: 28, b: h - 40};
}
function axes(f, x0, x1, y0, y1, xl, yl) {
  const sx = v => f.l + (v - x0) / ((x1 - x0) || 1) * (f.r - f.l), sy = v => f.b - (v - y0) / ((y1 - y0) || 1) * (f.b - f.t);
  el('line', {x1: f.l, y1: f.b, x2: f.r, y2: f.b, stroke: '#000'}, f.svg); el('line', {x1: f.l, y1: f.t, x2: f.l, y2: f.b, stroke: '#000'}, f.svg);
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
    const ty = el('text', {x: f.l - 4, y: sy(yv) + 4, 'text-anchor': 'end', 'font-size': 10}, f.svg); ty.textContent = +yv.toPrecision(3);
    const tx = el('text', {x: sx(xv), y: f.b + 14, 'text-anchor': 'middle', 'font-size': 10}, f.svg); tx.textContent = +xv.toPrecision(3);
  }
  const a = el('text', {x: (f.l + f.r) / 2, y: f.h - 6, 'text-anchor': 'middle', 'font-size': 11}, f.svg); a.textContent = xl;
  const b = el('text', {x: 12, y: (f.t + f.b) / 2, 'font-size': 11, transform: `rotate(-90 12 ${(f.t + f.b) / 2})`, 'text-anchor': 'middle'}, f.svg); b.textContent = yl;
  return {sx, sy};
}
function legend(f, items) {
  items.forEach(([name, color], i) => {
    el('rect', {x: f.r - 120, y: f.t + 4 + i * 14, width: 10, height: 10, fill: color}, f.svg);
    const t = el('text', {x: f.r - 106, y: f.t + 13 + i * 14, 'font-size': 11}, f.svg); t.textContent = name;
  });
}
function linePlot(id, title, key, yl, logy) {
  const curves = data.curves; if (!curves) return;
  const f = frame(id, title, 560, 300); if (!f) return;
  let xs = [], ys = [];
  for (const m in curves) for (const s in curves[m]) for (const [x, y] of curves[m][s][key]) { xs.push(x); ys.push(logy ? Math.log10(y) : y); }
  if (!xs.length) return;
  const ax = axes(f, Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys), 'step', yl);
  const items = [];
  for (const m in curves) {
    const color = COLORS[m] || '#8e44ad'; items.push([m, color]);
    for (const s in curves[m]) {
      const pts = curves[m][s][key].map(([x, y]) => `${ax.sx(x)},${ax.sy(logy ? Math.log10(y) : y)}`).join(' ');
      el('polyline', {points: pts, fill: 'none', stroke: color, 'stroke-width': 1.5, 'data-mode': m, 'data-seed': s}, f.svg);
    }
  }
  legend(f, items); f.box.dataset.rendered = 'true';
}
function barPlot(id, title, bars, lines, yl) {
  const f = frame(id, title, 560, 300); if (!f || !bars.length) return;
  const ymax = Math.max(100, ...bars.map(b => b[1]));
  const ax = axes(f, 0, bars.length, 0, ymax, '', yl);
  const w = (f.r - f.l) / bars.length;
  bars.forEach(([name, v], i) => {
    el('rect', {x: f.l + i * w + 4, y: ax.sy(v), width: w - 8, height: f.b - ax.sy(v), fill: COLORS.asa, 'data-value': v}, f.svg);
    const t = el('text', {x: f.l + i * w + w / 2, y: f.b + 26, 'text-anchor': 'middle', 'font-size': 9}, f.svg); t.textContent = name;
  });
  for (const [name, v, color] of lines) el('line', {x1: f.l, x2: f.r, y1: ax.sy(v), y2: ax.sy(v), stroke: color, 'stroke-dasharray': '5,3', 'stroke-width': 2}, f.svg);
  legend(f, [['ASA mask', COLORS.asa], ...lines.map(([n, v, c]) => [n, c])]);
  f.box.dataset.rendered = 'true';
}
function h6Plots() {
  const h = data.h6; if (!h) return;
  const bars = [];
  for (const l in h.layers) bars.push(['layer ' + l, h.layers[l]]);
  for (const x of h.heads) bars.push([`L${x.layer}H${x.head}`, x.value]);
  barPlot('plot-h6', 'H6: attention mass on ASA-allowed pairs, per layer and head (%)', bars,
          [['density-matched random', h.matched, COLORS.matched], ['reference random', h.reference, COLORS.reference]], '% of mass');
  const f = frame('plot-h6-curve', 'Random masks: mass overlap vs keep-probability', 560, 300); if (!f || !h.curve.length) return;
  const ax = axes(f, 0, 1, 0, 100, 'off-diagonal keep probability', '% of mass');
  el('polyline', {points: h.curve.map(([x, y]) => `${ax.sx(x)},${ax.sy(y)}`).join(' '), fill: 'none', stroke: COLORS.matched, 'stroke-width': 2}, f.svg);
  el('circle', {cx: ax.sx(h.density / 100), cy: ax.sy(h.asa), r: 5, fill: COLORS.asa}, f.svg);
  legend(f, [['random masks', COLORS.matched], ['ASA mask', COLORS.asa]]);
  f.box.dataset.rendered = 'true';
}
function sparsityPlot() {
  const s = data.sparsity; if (!s) return;
  const f = frame('plot-sparsity', 'Sparsity (BPE, causal) by example length (%)', 560, 300); if (!f) return;
  const modes = Object.keys(s), buckets = [...new Set(modes.flatMap(m => Object.keys(s[m])))].sort();
  const ymax = Math.max(1, ...modes.flatMap(m => Object.values(s[m])));
  const ax = axes(f, 0, buckets.length, 0, ymax, 'tokens per example', '% blocked');
  const w = (f.r - f.l) / buckets.length, bw = (w - 8) / modes.length;
  buckets.forEach((b, i) => {
    modes.forEach((m, j) => { const v = s[m][b] || 0; el('rect', {x: f.l + i * w + 4 + j * bw, y: ax.sy(v), width: bw, height: f.b - ax.sy(v), fill: COLORS[m] || '#888'}, f.svg); });
    const t = el('text', {x: f.l + i * w + w / 2, y: f.b + 26, 'text-anchor': 'middle', 'font-size': 9}, f.svg); t.textContent = b;
  });
  legend(f, modes.map(m => [m, COLORS[m] || '#888'])); f.box.dataset.rendered = 'true';
}
function heatmap() {
  const h = data.heatmap; if (!h) return;
  const n = h.attention.length, cell = Math.max(8, Math.min(18, Math.floor(480 / n)));
  const f = frame('plot-heatmap', `Baseline attention (mean of layers and heads), example ${h.example}; outlined: blocked by ASA`, 80 + n * cell + 20, 50 + n * cell + 30); if (!f) return;
  const mx = Math.max(...h.attention.flat());
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = h.attention[i][j] / (mx || 1), x = 80 + j * cell, y = 40 + i * cell;
    el('rect', {x, y, width: cell, height: cell, fill: `rgba(192,57,43,${v.toFixed(3)})`}, f.svg);
    if (j <= i && !h.mask[i][j]) el('rect', {x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, fill: 'none', stroke: '#2980b9', 'stroke-width': 1.2}, f.svg);
  }
  h.tokens.forEach((t, i) => { const e = el('text', {x: 76, y: 40 + i * cell + cell * 0.75, 'text-anchor': 'end', 'font-size': 8}, f.svg); e.textContent = t; });
  f.box.dataset.rendered = 'true';
}
linePlot('plot-loss', 'Training loss (running mean) per mode and seed', 'train_loss', 'loss', false);
linePlot('plot-ppl', 'Validation PPL per mode and seed (log scale)', 'val_ppl', 'log10 PPL', true);
h6Plots(); sparsityPlot(); heatmap();
document.body.dataset.plots = document.querySelectorAll('[data-rendered="true"]').length;
)JS";

class HtmlReporter : public StageComponent {
 public:
  HtmlReporter() : StageComponent(reporter_info("html", "report.html: one self-contained page with tables, verdicts and plots")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d = ReportData::gather(ctx);
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(d.title) << "</title>\n"
      << "<style>body{font-family:sans-serif;max-width:1180px;margin:1em auto;color:#222}table{border-collapse:collapse;"
         "margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}th{background:#f4f4f4}"
         ".plots{display:flex;flex-wrap:wrap;gap:12px}.plot{border:1px solid #eee}.verdict{margin:.3em 0}"
         ".supported{color:#1e8449}.not{color:#c0392b}.inconclusive{color:#b9770e}</style></head><body>\n";
    h << "<h1>" << html_escape(d.title) << "</h1>\n<p>" << html_escape(d.experiment) << " &middot; " << html_escape(d.run.date_utc)
      << " &middot; commit " << html_escape(d.run.commit) << " &middot; " << html_escape(d.run.cpu_model) << ", "
      << d.run.cpu_cores << " cores &middot; asaflow " << html_escape(d.run.asaflow_version) << ", LibTorch "
      << html_escape(d.run.torch_version) << "</p>\n";
    if (!d.verdicts.empty()) {
      h << "<h2>Verdicts</h2>\n";
      for (const auto& v : d.verdicts) {
        const std::string cls = v.verdict == "supported" ? "supported" : (v.verdict == "inconclusive" ? "inconclusive" : "not");
        h << "<p class=\"verdict\"><b class=\"" << cls << "\">" << html_escape(v.verdict) << "</b>: " << html_escape(v.claim)
          << ". <small>" << html_escape(v.evidence) << ". Rule: " << html_escape(v.rule) << ".</small></p>\n";
      }
    }
    h << "<h2>Plots</h2>\n<div class=\"plots\">";
    for (const char* id : {"plot-loss", "plot-ppl", "plot-h6", "plot-h6-curve", "plot-sparsity", "plot-heatmap"}) {
      h << "<div class=\"plot\" id=\"" << id << "\"></div>";
    }
    h << "</div>\n<h2>Tables</h2>\n";
    for (const auto& t : d.tables) {
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
    h << "<h2>Notes and anomalies</h2>\n<ul>";
    if (d.notes.empty()) h << "<li>None recorded.</li>";
    for (const auto& n : d.notes) h << "<li>" << html_escape(n) << "</li>";
    h << "</ul>\n<script type=\"application/json\" id=\"plot-data\">";
    std::string json = d.plots.dump();
    for (std::size_t i = 0; (i = json.find("</", i)) != std::string::npos; i += 3) json.replace(i, 2, "<\\/");
    h << json << "</script>\n<script>" << kScript << "</script>\n</body></html>\n";
    std::ofstream out(ctx.output_dir / "report.html");
    out << h.str();
    if (!out) throw StageError("cannot write report.html");
  }
};

}  // namespace

std::shared_ptr<Component> make_html_reporter() { return std::make_shared<HtmlReporter>(); }

}  // namespace asaflow::plugins
