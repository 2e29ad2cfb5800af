// Plain-text printers shared by several commands.
import { join } from 'node:path';
import type { Api } from '../shared/client';
import type { AnalysisExport, DisparitySummary, ModelInfo } from '../shared/dto';

export function progressPrinter(api: Api): () => void {
  if (!process.stderr.isTTY) return () => {};
  const stop = api.on('progress', (p) => process.stderr.write(`\r${p.stage}: ${p.done}/${p.total}   `));
  return () => {
    stop();
    process.stderr.write('\r\x1b[K');
  };
}

export function fixed(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function printAnalysisExport(result: AnalysisExport, json: boolean): void {
  if (json) {
    printJson(result);
    return;
  }
  printAnalysis(result.summary);
  console.log(`report: ${join(result.outDir, 'report.html')}`);
}

export function printAnalysis(s: DisparitySummary): void {
  const pct = (v: number | null) => (v === null ? '   n/a' : `${v.toFixed(1).padStart(6)}`);
  console.log(`${s.model.architecture}, ${s.saes.length} SAEs, ${s.languages.length} languages, ${s.segments} aligned segments (${s.corpus.source})`);
  console.log(`settings: reduction ${s.settings.reduction}, features ${s.settings.features}, BOS ${s.settings.includeBos ? 'included' : 'excluded'}, ${s.settings.keepFeatures} features kept per phrase and layer for the top-feature lists`);
  console.log(`gap(l) = ${s.formulas.gap_percent.replace(/^gap\(l\) = /, '')}`);
  console.log('layer  gap %   ' + s.languages.map((l) => l.code.padStart(8)).join(''));
  s.layers.forEach((layer, i) => {
    console.log(`${String(layer).padStart(5)} ${pct(s.gap_percent[i])}   ` + s.languages.map((l) => fixed(s.mean_activation[l.code][i] ?? NaN, 4).padStart(8)).join(''));
  });
  const positive = s.gap_percent.filter((g) => g !== null && g > 0).length;
  console.log(`gap > 0 in ${positive} of ${s.layers.length} layers`);
  if (s.gap_reason) console.log(`n/a: ${s.gap_reason}`);
  for (const w of s.fidelity_warnings.slice(0, 5)) console.log(`warning: ${w.message}`);
  if (s.corpus.incomplete?.length) console.log(`left out: ${s.corpus.incomplete.length} corpus segments without a text in every chosen language (${s.corpus.incomplete.slice(0, 10).join(', ')}${s.corpus.incomplete.length > 10 ? ', …' : ''})`);
  console.log(`cache: ${s.cache.phrases_cached} phrases cached, ${s.cache.phrases_computed} computed, ${s.cache.bytes_per_phrase} bytes per phrase; ${s.cache.seconds} s`);
}

export function printModel(info: ModelInfo): void {
  const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);
  console.log(`${info.architecture}: ${info.layers} layers, d_model ${info.dModel}, ${info.heads} heads / ${info.kvHeads} KV heads, vocab ${info.vocabSize}`);
  console.log(`${(info.parameters / 1e6).toFixed(1)}M parameters, stored ${info.dtype} in ${info.files} file(s) (${gib(info.weightBytes)}); a run needs about ${gib(info.memoryBytes)}`);
  console.log(`tokenizer: ${info.tokenizer ?? 'none (use --token-ids)'}; context ${info.maxPositions}; ${info.slidingWindowLayers} sliding-window layers`);
}
