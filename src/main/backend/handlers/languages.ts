import { alignDocuments, corpusInfo } from '../../data/alignment';
import type { LanguageRegistry } from '../../data/registry';
import { loadUdhr } from '../../data/udhr';
import type { HandlerMap } from '../handler';

export function languageHandlers(
  registry: LanguageRegistry,
): HandlerMap<'languages.list' | 'languages.setTier' | 'languages.add' | 'languages.remove' | 'corpus.languages' | 'corpus.preview'> {
  return {
    'languages.list': async () => registry.list(),
    'languages.setTier': async ({ code, tier }) => registry.setTier(code, tier),
    'languages.add': async ({ code, tier }) => registry.add(code, tier),
    'languages.remove': async ({ code }) => {
      const { code: registered } = registry.get(code);
      return { removed: registry.remove(code), code: registered };
    },
    'corpus.languages': async () => registry.corpusLanguages(),
    'corpus.preview': async ({ languages, limit }) => {
      const resolved = registry.resolve(registry.canonicalCodes(languages));
      const documents = Object.fromEntries(resolved.map((l) => [l.code, loadUdhr(l.corpusCode)]));
      const alignment = alignDocuments(documents);
      return {
        corpus: corpusInfo(alignment),
        languages: resolved.map((l) => l.code),
        segments: alignment.segments.slice(0, limit ?? 20).map((s) => ({
          key: s.key,
          texts: Object.fromEntries(Object.entries(s.paragraphs).map(([code, p]) => [code, p.join('\n')])),
        })),
      };
    },
  };
}
