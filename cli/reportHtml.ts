// `ct report --html <file>`: one self-contained page — inline CSS, the charts of core/reportCharts.ts rendered to
// SVG here by Vega, no scripts, nothing fetched — with the headline numbers of the fleet, each model and each slot.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { FactoryReport, FactorySection } from '../core/factoryReport';
import { reportCharts } from '../core/reportCharts';
import { HEADLINE, type HeadlineUnit, secs } from './report';
import { UsageError } from './usage';

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A Vega-Lite spec rendered to SVG markup, headless (no canvas, no DOM). Vega loads here, not with every command. */
async function svgOf(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function shown(v: number | null, unit: HeadlineUnit, currency: string): string {
  if (v === null) return '—';
  if (unit === 'count') return String(v);
  if (unit === 'seconds') return secs(v);
  if (unit === 'share') return `${(100 * v).toFixed(1)}%`;
  return `${v.toFixed(4)} ${currency}`;
}

/** A number as a person reads it, its exact value in data-value. */
const numberCell = (v: number | null, unit: HeadlineUnit, currency: string) =>
  `<td data-value="${v ?? ''}">${escapeHtml(shown(v, unit, currency))}</td>`;

function headlineTable(r: FactoryReport): string {
  const sections: [string, FactorySection][] = [['(fleet)', r.fleet], ...Object.entries(r.models)];
  const head = ['model', ...HEADLINE.map((h) => h.label)].map((l) => `<th scope="col">${escapeHtml(l)}</th>`);
  const rows = sections.map(
    ([name, s]) =>
      `<tr data-model="${escapeHtml(name)}"><th scope="row">${escapeHtml(name)}</th>${HEADLINE.map((h) => numberCell(h.value(s), h.unit, r.prices.currency)).join('')}</tr>`,
  );
  return `<table id="headline"><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function idleTable(r: FactoryReport): string {
  if (r.gpuIdle.length === 0) return '<p class="empty">no training attempt in this window</p>';
  const rows = r.gpuIdle.map(
    (g) =>
      `<tr data-slot="${escapeHtml(g.slot)}"><th scope="row">${escapeHtml(g.slot)}</th><td>${escapeHtml(g.kind)}</td>${numberCell(g.attempts, 'count', '')}${numberCell(g.busySeconds, 'seconds', '')}${numberCell(g.idleShare, 'share', '')}</tr>`,
  );
  const head = ['slot', 'kind', 'attempts', 'busy', 'idle'].map((l) => `<th scope="col">${l}</th>`).join('');
  return `<table id="gpu-idle"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;white-space:nowrap}
th[scope=row],thead th{text-align:left;background:#f4f4f4}figure{margin:1.5em 0}figcaption{font-weight:600}
.empty{color:#777}`;

/** The page: window and prices, the fleet's three charts, the headline table, GPU idle per worker slot. */
export async function reportHtml(r: FactoryReport): Promise<string> {
  const title = `Factory report ${r.window.since} → ${r.window.until}`;
  const charts =
    r.fleet.throughput.runs === 0
      ? ['<p class="empty">no runs in this window</p>']
      : await Promise.all(
          reportCharts(r.fleet).map(
            async (c) =>
              `<figure id="chart-${c.id}"><figcaption>${escapeHtml(c.title)}</figcaption>${c.empty ? `<p class="empty">${escapeHtml(c.empty)}</p>` : await svgOf(c.spec)}</figure>`,
          ),
        );
  const prices = `prices: ${r.prices.gpuHour} ${r.prices.currency}/GPU-hour, ${r.prices.cpuHour} ${r.prices.currency}/CPU-hour · report version ${r.reportVersion}`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(prices)}</p>`,
    '<h2>The fleet</h2>',
    ...charts,
    '<h2>Per model</h2>',
    headlineTable(r),
    '<h2>GPU idle per worker slot</h2>',
    '<p>The share of the window with no training on the slot; slots that never trained in the window are not listed.</p>',
    idleTable(r),
    '</body></html>',
    '',
  ].join('\n');
}

const reasonOf = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such folder' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
};

/** Fails now, before the report is computed, when `file` cannot be written: its folder is missing or read-only. */
export async function assertWritable(file: string): Promise<void> {
  const target = path.resolve(file);
  try {
    await access(path.dirname(target), constants.W_OK);
    if ((await stat(target).catch(() => null))?.isDirectory()) throw new Error('is a folder, not a file');
  } catch (err) {
    throw new UsageError(`cannot write --html ${file}: ${reasonOf(err)}`);
  }
}

/** Writes the page atomically: a temporary file beside it, renamed over it, so no half page is ever left. */
export async function writeHtmlFile(file: string, html: string): Promise<void> {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, html, { flag: 'wx' });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new UsageError(`cannot write --html ${file}: ${reasonOf(err)}`);
  }
}
