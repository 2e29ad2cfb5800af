// A self-contained HTML report (no scripts, no external resources): opens anywhere, prints well.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface ReportSection {
  heading: string;
  /** Trusted markup made by our own generators (SVG charts); everything else goes through `table`/`paragraphs`. */
  svg?: string;
  paragraphs?: string[];
  table?: { columns: string[]; rows: (string | number)[][] };
  definitions?: Record<string, string>;
}

function cell(value: string | number): string {
  if (typeof value === 'number') return Number.isFinite(value) ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : 'n/a';
  return escapeHtml(value);
}

export function reportHtml(title: string, meta: Record<string, string>, sections: ReportSection[]): string {
  const body: string[] = [`<h1>${escapeHtml(title)}</h1>`, '<dl class="meta">'];
  for (const [k, v] of Object.entries(meta)) body.push(`<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`);
  body.push('</dl>');
  for (const section of sections) {
    body.push(`<section><h2>${escapeHtml(section.heading)}</h2>`);
    for (const p of section.paragraphs ?? []) body.push(`<p>${escapeHtml(p)}</p>`);
    if (section.svg) body.push(`<figure>${section.svg}</figure>`);
    if (section.table) {
      body.push('<table><thead><tr>', ...section.table.columns.map((c) => `<th>${escapeHtml(c)}</th>`), '</tr></thead><tbody>');
      for (const row of section.table.rows) body.push(`<tr>${row.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`);
      body.push('</tbody></table>');
    }
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
dt{font-weight:600}dd{margin:0}dl.formulas dd{margin:0 0 .5rem 1rem}figure{margin:1rem 0}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}
