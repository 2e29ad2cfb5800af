// The study's report (study-report.ts) on a hand-made StudyResult (test/helpers/study-result.ts):
// the findings say which targets were met and which were not; figures.csv holds one row per figure
// with the stages' own values; report.html escapes every string it prints and shows every figure
// of figures.csv; study.json reads back as the result.
import { describe, expect, it } from 'vitest';
import { LAYERS, studyResult, type StudyShape } from '../../../test/helpers/study-result';
import type { StudyResult } from '../../shared/study';
import { RETENTION_TARGET, studyFindings, studyReportFiles } from './study-report';

const HOSTILE = `</p><script>alert("x")</script>'&"`;

function study(shape: StudyShape = {}): StudyResult {
  const r = studyResult(shape);
  r.findings = studyFindings(r);
  return r;
}

function files(r: StudyResult): Record<string, string> {
  return Object.fromEntries(studyReportFiles(r).map((f) => [f.name, String(f.content)]));
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n') record.push(field), records.push(record), (record = []), (field = '');
    else field += c;
  }
  expect(field).toBe('');
  expect(record).toEqual([]);
  const [header, ...rows] = records;
  for (const row of rows) expect(row).toHaveLength(header.length);
  return rows.map((row) => Object.fromEntries(header.map((h, j) => [h, row[j]])));
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** Every table row of the report as its cells' text (markup removed, entities decoded). */
function tableRows(html: string): string[][] {
  return [...html.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map((m) => [...m[1].matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/gs)].map((c) => unescape(c[1].replace(/<[^>]*>/g, ''))));
}

/** A cell shows v when it rounds to it at the digits it is printed with. */
function shows(cell: string, v: number): boolean {
  if (!/^[-+]?\d+(\.\d+)?$/.test(cell)) return false;
  const digits = cell.split('.')[1]?.length ?? 0;
  return Math.abs(Number(cell) - v) <= 0.5 * 10 ** -digits + 1e-9;
}
function showsInterval(cell: string, lo: number, hi: number): boolean {
  const m = /^\[(\S+), (\S+)\]$/.exec(cell);
  return m !== null && shows(m[1], lo) && shows(m[2], hi);
}

/** The figures the fixture holds, listed from the StudyResult's own fields (not from the report). */
function expectedFigures(r: StudyResult) {
  const s = r.analysis.summary;
  const rep = r.finetune.report;
  type Fig = { figure: string; language: string; layer: string; value: number; ci: [number, number] | null; stderr: number | null; n: number };
  const out: Fig[] = [];
  s.layers.forEach((layer, i) => out.push({ figure: 'gap_percent', language: '', layer: String(layer), value: s.gap_percent[i]!, ci: s.gap_percent_ci[i], stderr: null, n: s.segments }));
  for (const l of s.languages) s.layers.forEach((layer, i) => out.push({ figure: 'mean_activation', language: l.code, layer: String(layer), value: s.mean_activation[l.code][i]!, ci: s.mean_activation_ci[l.code][i], stderr: null, n: s.segments }));
  for (const t of r.targets) out.push({ figure: 'activation_gain_percent', language: t, layer: 'loss layers', value: rep.gain_percent[t].value!, ci: rep.gain_percent[t].ci, stderr: null, n: rep.segments });
  out.push({ figure: 'english_retention_percent', language: 'en', layer: 'loss layers', value: rep.retention_percent.value!, ci: rep.retention_percent.ci, stderr: null, n: rep.segments });
  out.push({ figure: 'english_retention_cosine', language: 'en', layer: 'loss layers', value: rep.retention_cosine.value!, ci: rep.retention_cosine.ci, stderr: null, n: rep.segments });
  for (const x of r.evaluation.results) {
    out.push({ figure: 'accuracy_before', language: x.language, layer: '', value: x.before.acc, ci: null, stderr: x.before.acc_stderr, n: x.n });
    out.push({ figure: 'accuracy_after', language: x.language, layer: '', value: x.after!.acc, ci: null, stderr: x.after!.acc_stderr, n: x.n });
    out.push({ figure: 'accuracy_difference', language: x.language, layer: '', value: x.difference!.acc.difference, ci: x.difference!.acc.ci, stderr: null, n: x.n });
  }
  for (const which of ['base', 'adapted'] as const) {
    for (const l of r.correlation[which].per_layer) {
      out.push({ figure: `pearson_${which}`, language: '', layer: String(l.layer), value: l.pearson.value!, ci: l.pearson.ci, stderr: null, n: l.n });
      out.push({ figure: `spearman_${which}`, language: '', layer: String(l.layer), value: l.spearman.value!, ci: l.spearman.ci, stderr: null, n: l.n });
    }
  }
  return out;
}

describe('studyFindings', () => {
  it('says each target is met when it is', () => {
    const [gap, gain, retention, accuracy, correlation] = study().findings;
    expect(gap).toMatch(/positive in 3 of 3 layers \(22\.8 % to 31\.3 %\), its 95 % interval above 0 in 3; the medium\/low-resource languages activate the features less in most layers/);
    expect(gain).toMatch(/hi \+12\.5 %, ml \+8\.8 %; every target language gained\./);
    expect(retention).toMatch(new RegExp(`^English retention 96\\.5 % \\[94\\.8, 97\\.8\\] \\(cosine 0\\.984\\): at least the ${RETENTION_TARGET} % aimed for\\.$`));
    expect(accuracy).toMatch(/8 items per language, 4 choices, chance 25\.0 %\): en 62\.5 → 50\.0 %, de 50\.0 → 50\.0 %, hi 37\.5 → 50\.0 %, ml 25\.0 → 12\.5 %; no change is outside its 95 % paired interval/);
    // Layer 3 has the largest |r| (0.8125).
    expect(correlation).toMatch(/strongest at layer 3, Pearson r -0\.81 \[-1\.00, -0\.59\], Spearman ρ -0\.75 \[-1\.00, -0\.59\], over 4 languages/);
  });

  it.each([
    ['a negative gain', { hi: 12.5, ml: -3.25 }, /ml -3\.3 %; not every target gained \(ml did not\)/],
    ['no gain at all (0 %)', { hi: 0, ml: 4 }, /hi \+0\.0 %, ml \+4\.0 %; not every target gained \(hi did not\)/],
    ['an undefined gain', { hi: null, ml: 4 }, /hi n\/a %, ml \+4\.0 %; not every target gained \(hi did not\)/],
    ['two targets without a gain', { hi: -1, ml: -2 }, /not every target gained \(hi, ml did not\)/],
  ] as const)('names every target that did not gain: %s', (_, gain, expected) => {
    const f = study({ gain: { ...gain } }).findings[1];
    expect(f).toMatch(expected);
    expect(f).not.toMatch(/every target language gained/);
  });

  it.each([
    [89.875, /English retention 89\.9 % .*below the 90 % aimed for/],
    [52.5, /English retention 52\.5 % .*below the 90 % aimed for/],
    [90, /at least the 90 % aimed for/],
  ] as const)('retention %s against the 90 %% target', (retention, expected) => {
    expect(study({ retention }).findings[2]).toMatch(expected);
  });

  it('an undefined retention is said to be unknown, not below or above the target', () => {
    const f = study({ retention: null }).findings[2];
    expect(f).toMatch(/could not be computed/);
    expect(f).not.toMatch(/aimed for/);
  });

  it.each([
    ['negative in most layers', [-5.5, 2.25, -1.5], /positive in 1 of 3 layers \(-5\.5 % to 2\.3 %\).*; not positive in most layers/],
    ['zero is not positive', [0, 0, 4], /positive in 1 of 3 layers .*not positive in most layers/],
    ['one layer undefined, the others split', [null, -2, 3], /positive in 1 of 2 layers .*not positive in most layers/],
  ] as const)('the gap not positive in most layers is said: %s', (_, gap, expected) => {
    const f = study({ gap: [...gap] }).findings[0];
    expect(f).toMatch(expected);
    expect(f).not.toMatch(/activate the features less/);
  });

  it('no gap at all gives its reason', () => {
    expect(study({ gap: [null, null, null] }).findings[0]).toBe('No gap could be computed: M_high is 0 at some layers plain.');
  });

  it('an accuracy change outside its paired interval names the language', () => {
    const r = studyResult();
    r.evaluation.results[2].difference!.acc.ci = [0.0625, 0.25];
    expect(studyFindings(r)[3]).toMatch(/a change outside its 95 % paired interval for hi\.$/);
  });

  it('no correlation gives its reason; the strongest layer skips undefined ones', () => {
    const none = study({ correlation: LAYERS.map(() => ({ pearson: null, spearman: null })) }).findings[4];
    expect(none).toBe('No correlation could be computed: the accuracy is the same in every language plain.');
    const some = study({ correlation: [{ pearson: null, spearman: null }, { pearson: 0.5, spearman: 0.375 }, { pearson: null, spearman: null }] }).findings[4];
    expect(some).toMatch(/strongest at layer 3, Pearson r 0\.50/);
  });
});

describe('studyReportFiles', () => {
  it('writes the charts, figures.csv, study.json and report.html (last: it marks a finished study)', () => {
    expect(studyReportFiles(study()).map((f) => f.name)).toEqual(['charts/gap.svg', 'charts/activation.svg', 'charts/accuracy.svg', 'figures.csv', 'study.json', 'report.html']);
  });

  it('figures.csv: one row per figure, each equal to the stage result it comes from', () => {
    const r = study();
    const rows = parseCsv(files(r)['figures.csv']);
    const expected = expectedFigures(r);
    expect(rows).toHaveLength(expected.length);
    const key = (x: Record<string, string> | { figure: string; language: string; layer: string }) => `${x.figure}|${x.language}|${x.layer}`;
    expect(new Set(rows.map(key)).size).toBe(rows.length);
    const byKey = new Map(rows.map((x) => [key(x), x]));
    for (const e of expected) {
      const row = byKey.get(key(e));
      expect(row, key(e)).toBeDefined();
      expect(Number(row!.value), key(e)).toBeCloseTo(e.value, 7);
      expect(row!.ci_low === '' ? null : [Number(row!.ci_low), Number(row!.ci_high)], key(e)).toEqual(e.ci);
      expect(row!.stderr === '' ? null : Number(row!.stderr), key(e)).toEqual(e.stderr);
      expect(Number(row!.n), key(e)).toBe(e.n);
    }
  });

  it('report.html shows every figure of figures.csv with its interval and standard error', () => {
    const r = study();
    const html = files(r)['report.html'];
    const rows = tableRows(html);
    const missing: string[] = [];
    for (const e of expectedFigures(r)) {
      // A per-layer figure sits in a row starting with its layer, a per-language one in a row
      // starting with its language (a mean activation's interval in its language's row); English
      // retention in the retention table's rows. The standard error stands beside its value.
      const keyed = e.figure.startsWith('english_retention') ? rows : rows.filter((row) => row[0] === e.language || (e.layer !== '' && row[0] === e.layer));
      const value = keyed.some((row) => row.some((c) => shows(c, e.value)) && (e.stderr === null || row.some((c, j) => j > 0 && shows(c, e.stderr!) && !shows(c, e.value))));
      const interval = e.ci === null || keyed.some((row) => row.some((c) => showsInterval(c, e.ci![0], e.ci![1])));
      if (!value || !interval) missing.push(`${e.figure} ${e.language} ${e.layer}: ${value ? '' : `value ${e.value} `}${interval ? '' : `interval ${JSON.stringify(e.ci)}`}`);
    }
    expect(missing).toEqual([]);
    for (const f of r.findings) expect(unescape(html)).toContain(`<p>${f}</p>`);
  });

  it('escapes hostile paths, notes, reasons and language codes in report.html, the charts and figures.csv', () => {
    // The hostile text in every free string, and as the code of one target language.
    const r = JSON.parse(JSON.stringify(studyResult({ text: HOSTILE })).replaceAll('"ml"', JSON.stringify(`ml${HOSTILE}`))) as StudyResult;
    r.findings = studyFindings(r);
    const out = files(r);
    for (const name of ['report.html', 'charts/gap.svg', 'charts/activation.svg', 'charts/accuracy.svg']) {
      expect(out[name], name).not.toMatch(/<script|<\/p><script/i);
      expect(out[name], name).not.toContain(HOSTILE);
    }
    const html = out['report.html'];
    expect(html).toContain('&lt;/p&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&quot;');
    // Every paragraph, list item and cell holds text only: no tag but our own.
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1].toLowerCase()));
    for (const t of tags) expect(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'dl', 'dt', 'dd', 'section', 'p', 'ul', 'li', 'figure', 'svg', 'rect', 'text', 'line', 'g', 'path', 'circle', 'polyline', 'title', 'desc', 'table', 'caption', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'tspan']).toContain(t);
    const rows = parseCsv(out['figures.csv']);
    expect(rows.filter((x) => x.language === `ml${HOSTILE}`).map((x) => x.figure)).toEqual(expect.arrayContaining(['mean_activation', 'activation_gain_percent', 'accuracy_before', 'accuracy_after', 'accuracy_difference']));
    expect(r.findings[1]).toContain(`ml${HOSTILE}`);
  });

  it('study.json reads back as the result (less the list of files written)', () => {
    for (const text of ['plain', HOSTILE, 'മലയാളം\u200d, "quoted"\n']) {
      const r = study({ text });
      const back = JSON.parse(files(r)['study.json']);
      const { files: _, ...rest } = r;
      expect(back).toEqual(rest);
    }
  });
});
