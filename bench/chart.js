// A hand-written SVG chart of bench results: per workload, one horizontal bar per engine.
// Timed rows share one log-scale ops/s axis (longer = faster); memory rows get their own linear
// axis (shorter = less memory). No dependencies.
import { format, label } from './lib.js';

const COLORS = {
  native: '#c8441f',
  'native-serial': '#e08a5c',
  'native-par1': '#f2b78f',
  'native-par2': '#8f2a10',
  js: '#3178c6',
  lmdb: '#2e8b57',
  metastore: '#c8441f',
  etcd: '#419eda',
};
const FALLBACK = ['#7d5ba6', '#b8860b', '#708090', '#20b2aa'];

const W = 1040;
const LABEL_W = 420;
const BAR_X = LABEL_W + 10;
const BAR_W = 480;
const BAR_H = 10;
const BAR_GAP = 2;
const ROW_GAP = 9;
const FONT = 'font-family="ui-sans-serif,system-ui,sans-serif"';

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function clip(s, n) {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function color(col, columns) {
  return COLORS[col] ?? FALLBACK[columns.indexOf(col) % FALLBACK.length];
}

/**
 * `sections`: `[{ title, columns, rows }]` with rows as the suites write them. Returns SVG text.
 */
export function renderChart(sections, { title = 'MetaStore benchmarks', subtitle = '' } = {}) {
  const allCols = [...new Set(sections.flatMap((s) => s.columns.filter((c) => s.rows.some((r) => r.results[c]))))];
  const rates = [];
  for (const s of sections)
    for (const r of s.rows) if (r.metric !== 'bytes') for (const c of Object.values(r.results)) if (c?.opsPerSec > 0) rates.push(c.opsPerSec);
  const lo = Math.floor(Math.log10(Math.min(...rates, 1e6)));
  const hi = Math.ceil(Math.log10(Math.max(...rates, 10)));
  const xRate = (v) => BAR_X + (BAR_W * (Math.log10(v) - lo)) / (hi - lo);

  const out = [];
  let y = 58;
  // Legend.
  let lx = 20;
  const legend = allCols.map((c) => {
    const t = `<rect x="${lx}" y="38" width="12" height="10" fill="${color(c, allCols)}"/><text x="${lx + 16}" y="47" font-size="11">${esc(label(c))}</text>`;
    lx += 30 + label(c).length * 6.5;
    return t;
  });

  for (const s of sections) {
    const groups = [s.rows.filter((r) => r.metric !== 'bytes'), s.rows.filter((r) => r.metric === 'bytes')];
    for (const rows of groups) {
      if (rows.length === 0) continue;
      const bytes = rows[0].metric === 'bytes';
      const cols = s.columns.filter((c) => rows.some((r) => r.results[c]));
      const maxBytes = bytes ? Math.max(...rows.flatMap((r) => cols.map((c) => r.results[c]?.bytes ?? 0))) : 0;
      const xBytes = (v) => BAR_X + (BAR_W * v) / (maxBytes * 1.05);
      y += 16;
      out.push(`<text x="10" y="${y}" font-size="13" font-weight="600">${esc(s.title)}${bytes ? ' — memory (shorter is better)' : ''}</text>`);
      y += 8;
      const top = y;
      const blocks = [];
      for (const row of rows) {
        const present = cols.filter((c) => row.results[c] !== undefined);
        const h = present.length * (BAR_H + BAR_GAP) - BAR_GAP;
        blocks.push(`<text x="${LABEL_W}" y="${y + h / 2 + 4}" font-size="11" text-anchor="end">${esc(clip(`W${row.w} ${row.name}`, 66))}</text>`);
        for (const c of present) {
          const cell = row.results[c];
          if (cell.na || cell.error) {
            blocks.push(`<text x="${BAR_X + 4}" y="${y + BAR_H - 1}" font-size="9" fill="#888">${esc(label(c))}: ${cell.na ? 'n/a' : 'failed'}</text>`);
          } else {
            const x1 = bytes ? xBytes(cell.bytes) : xRate(cell.opsPerSec);
            const text = bytes ? format.bytes(cell.bytes) : `${format.rate(cell.opsPerSec)}/s`;
            blocks.push(
              `<rect x="${BAR_X}" y="${y}" width="${Math.max(1, x1 - BAR_X).toFixed(1)}" height="${BAR_H}" fill="${color(c, allCols)}"><title>${esc(`${label(c)}: ${text}${bytes ? '' : `, ${format.ns(cell.nsPerOp)}/op`}`)}</title></rect>`,
              `<text x="${(x1 + 4).toFixed(1)}" y="${y + BAR_H - 1}" font-size="9" fill="#333">${esc(text)}</text>`,
            );
          }
          y += BAR_H + BAR_GAP;
        }
        y += ROW_GAP - BAR_GAP;
      }
      // Grid under the bars: decades (rates) or GiB steps (memory).
      const grid = [];
      if (bytes) {
        const step = maxBytes > 4 * 2 ** 30 ? 2 ** 30 : maxBytes > 2 ** 30 ? 2 ** 29 : 2 ** 27;
        for (let v = 0; v <= maxBytes * 1.05; v += step) {
          const x = xBytes(v);
          grid.push(
            `<line x1="${x}" y1="${top - 2}" x2="${x}" y2="${y - 4}" stroke="#e3e3e3"/>`,
            `<text x="${x}" y="${y + 6}" font-size="9" fill="#777" text-anchor="middle">${esc(format.bytes(v))}</text>`,
          );
        }
      } else {
        for (let e = lo; e <= hi; e++) {
          const x = xRate(10 ** e);
          grid.push(
            `<line x1="${x}" y1="${top - 2}" x2="${x}" y2="${y - 4}" stroke="#e3e3e3"/>`,
            `<text x="${x}" y="${y + 6}" font-size="9" fill="#777" text-anchor="middle">${esc(format.rate(10 ** e))}</text>`,
          );
        }
      }
      out.push(...grid, ...blocks);
      y += 16;
    }
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="700">${esc(title)}</text>`,
    `<text x="10" y="33" font-size="10" fill="#555">${esc(clip(subtitle || 'ops/s on a log scale, longer is faster; memory on a linear scale, shorter is better', 190))}</text>`,
    ...legend,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
