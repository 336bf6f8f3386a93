/**
 * Tiny SVG charts (line and grouped bar), written by hand so docs/benchmarks.md needs no chart library.
 * Plain SVG 1.1 that GitHub and browsers render as an <img>.
 */
const W = 640;
const H = 320;
const M = { top: 36, right: 150, bottom: 48, left: 64 };
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  if (Math.abs(v) >= 10) return String(Math.round(v));
  return String(Math.round(v * 100) / 100);
}

function frame(title: string, yLabel: string, yMax: number, body: string, legend: string[], xLabel: string): string {
  const ph = H - M.top - M.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = M.top + ph - f * ph;
      return `<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(f * yMax)}</text>`;
    })
    .join('');
  const leg = legend
    .map((name, i) => `<rect x="${W - M.right + 12}" y="${M.top + i * 20}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${W - M.right + 30}" y="${M.top + i * 20 + 10}">${esc(name)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${W / 2 - M.right / 2 + M.left / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
${ticks}
<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>
${body}
${leg}
</svg>
`;
}

export interface Series {
  name: string;
  points: Array<{ x: number; y: number | null }>;
}

/** A line chart with numeric x (e.g. agents N). */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[] }): string {
  const xs = [...new Set(o.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const yMax = niceMax(Math.max(0, ...o.series.flatMap((s) => s.points.map((p) => p.y ?? 0))));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const xMin = xs[0] ?? 0;
  const xMax = xs[xs.length - 1] ?? 1;
  const px = (x: number): number => M.left + (xMax === xMin ? pw / 2 : ((x - xMin) / (xMax - xMin)) * pw);
  const py = (y: number): number => M.top + ph - (y / yMax) * ph;
  let body = xs.map((x) => `<text x="${px(x)}" y="${M.top + ph + 16}" text-anchor="middle">${fmt(x)}</text>`).join('');
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.points.filter((p) => p.y !== null).map((p) => `${px(p.x).toFixed(1)},${py(p.y!).toFixed(1)}`);
    body += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`;
    body += pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${c}"/>`).join('');
  });
  return frame(o.title, o.yLabel, yMax, body, o.series.map((s) => s.name), o.xLabel);
}

/** Grouped bars: one group per category, one bar per series. */
export function barChart(o: { title: string; yLabel: string; categories: string[]; series: Array<{ name: string; values: Array<number | null> }>; xLabel?: string }): string {
  const yMax = niceMax(Math.max(0, ...o.series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const gw = pw / Math.max(1, o.categories.length);
  const bw = (gw * 0.8) / Math.max(1, o.series.length);
  let body = '';
  o.categories.forEach((cat, ci) => {
    const gx = M.left + ci * gw + gw * 0.1;
    body += `<text x="${gx + (gw * 0.8) / 2}" y="${M.top + ph + 16}" text-anchor="middle">${esc(cat)}</text>`;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      const h = (v / yMax) * ph;
      const x = gx + si * bw;
      body += `<rect x="${x.toFixed(1)}" y="${(M.top + ph - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`;
      body += `<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(M.top + ph - h - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`;
    });
  });
  return frame(o.title, o.yLabel, yMax, body, o.series.map((s) => s.name), o.xLabel ?? '');
}
