// The study's terminal output (the `demo` and `study` commands): a progress bar over the five
// stages on a terminal (one line per stage otherwise), then the findings and the report's path.
import { join } from 'node:path';
import type { Api } from '../shared/client';
import { STUDY_STAGES, type StudyResult } from '../shared/study';
import { printJson } from './print';

const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

export function studyProgress(api: Api): () => void {
  const tty = process.stderr.isTTY;
  const t0 = performance.now();
  let lastStage = '';
  const stop = api.on('progress', (p) => {
    // "k/5 stage: sub-stage" — k-1 stages done, the sub-stage's share of the k-th.
    const m = /^(\d+)\/(\d+) ([^:]+)(?::\s*(.*))?$/.exec(p.stage);
    if (!m) return;
    const [k, n, name, sub] = [Number(m[1]), Number(m[2]), m[3], m[4] ?? ''];
    const share = p.total > 0 && sub ? Math.min(1, p.done / p.total) : 0;
    if (tty) {
      const width = 30;
      const filled = Math.round((width * (k - 1 + share)) / n);
      const detail = sub ? `${sub} ${p.done}/${p.total}` : '';
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${k}/${n} ${name} ${clock((performance.now() - t0) / 1000)} ${detail}`.slice(0, (process.stderr.columns ?? 120) - 1));
    } else if (name !== lastStage) {
      process.stderr.write(`${k}/${n} ${name} (${clock((performance.now() - t0) / 1000)})\n`);
    }
    lastStage = name;
  });
  return () => {
    stop();
    if (tty) process.stderr.write('\r\x1b[K');
  };
}

export function printStudy(r: StudyResult, json: boolean): void {
  if (json) {
    printJson(r);
    return;
  }
  const s = r.analysis.summary;
  console.log(`the study: ${r.languages.length} languages (${r.languages.join(', ')}), fine-tune targets ${r.targets.join(', ')}; ${r.seconds.toFixed(1)} s (${r.stages.map((x) => `${x.stage} ${x.seconds.toFixed(1)} s`).join(', ')})`);
  console.log(`gap % per layer (reduction ${s.settings.reduction}, ${s.segments} aligned segments): ${s.layers.map((l, i) => `${l}: ${s.gap_percent[i] === null ? 'n/a' : s.gap_percent[i]!.toFixed(1)}`).join(', ')}`);
  for (const f of r.findings) console.log(`- ${f}`);
  console.log(`stages: ${STUDY_STAGES.join(' → ')}`);
  console.log(`report: ${join(r.outDir, 'report.html')}`);
}
