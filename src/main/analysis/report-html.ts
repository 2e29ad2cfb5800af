// A self-contained HTML report (no scripts, no external resources): opens anywhere, prints well.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface ReportSection {
  heading: string;
  /** Trusted markup made by our own generators (SVG charts); everything else goes through `table`/`paragraphs`. */
  svg?: string;
  paragraphs?: string[];
  table?: ReportTable;
  definitions?: Record<string, string>;
  /** Shown highlighted, before the figure (e.g. fidelity warnings). */
  warnings?: string[];
  /** Further tables after `table`, each with an optional caption. */
  tables?: ReportTable[];
}

export interface ReportTable {
  columns: string[];
  rows: (string | number | null)[][];
  caption?: string;
  /** Indices of rows to highlight (e.g. those a warning is about). */
  highlightRows?: number[];
  /** Indices of columns of running text, aligned left (numbers stay right-aligned). */
  textColumns?: number[];
}

function cell(value: string | number | null): string {
  if (value === null) return 'n/a';
  if (typeof value === 'number') return Number.isFinite(value) ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : 'n/a';
  return escapeHtml(value);
}

function renderTable(table: ReportTable): string[] {
  const highlight = new Set(table.highlightRows ?? []);
  const text = new Set(table.textColumns ?? []);
  const open = (tag: string, j: number) => `<${tag}${text.has(j) ? ' class="text"' : ''}>`;
  const out = ['<table>'];
  if (table.caption) out.push(`<caption>${escapeHtml(table.caption)}</caption>`);
  out.push('<thead><tr>', ...table.columns.map((c, j) => `${open('th', j)}${escapeHtml(c)}</th>`), '</tr></thead><tbody>');
  table.rows.forEach((row, i) => out.push(`<tr${highlight.has(i) ? ' class="warn"' : ''}>${row.map((v, j) => `${open('td', j)}${cell(v)}</td>`).join('')}</tr>`));
  out.push('</tbody></table>');
  return out;
}

export function reportHtml(title: string, meta: Record<string, string>, sections: ReportSection[]): string {
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`, '<dl class="meta">'];
  for (const [k, v] of Object.entries(meta)) body.push(`<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`);
  body.push('</dl>');
  for (const section of sections) {
    body.push(`<section><h2>${escapeHtml(section.heading)}</h2>`);
    for (const p of section.paragraphs ?? []) body.push(`<p>${escapeHtml(p)}</p>`);
    if (section.warnings?.length) body.push('<ul class="warnings">', ...section.warnings.map((w) => `<li>${escapeHtml(w)}</li>`), '</ul>');
    if (section.svg) body.push(`<figure>${section.svg}</figure>`);
    for (const table of [...(section.table ? [section.table] : []), ...(section.tables ?? [])]) body.push(...renderTable(table));
    if (section.definitions) {
      body.push('<dl class="formulas">');
      for (const [k, v] of Object.entries(section.definitions)) body.push(`<dt><code>${escapeHtml(k)}</code></dt><dd>${escapeHtml(v)}</dd>`);
      body.push('</dl>');
    }
    body.push('</section>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#111827}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0}dl.formulas dd{margin:0 0 .5rem 1rem}figure{margin:1rem 0;overflow-x:auto}
caption{text-align:left;font-weight:600;padding:.8rem 0 .3rem}tr.warn td{background:#fef3c7}
th.text,td.text{text-align:left}td.text{overflow-wrap:anywhere}figure svg{max-width:100%;height:auto}
ul.warnings{background:#fef3c7;border-left:4px solid #d97706;padding:.6rem 1rem .6rem 2rem}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}
