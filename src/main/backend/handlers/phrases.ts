// Phrase datasets for the per-feature measurement (issue 15): phrases.neuronpedia turns a
// downloaded Neuronpedia export into English phrases per feature (backend/phrases-service.ts).
import type { PhrasesService } from '../phrases-service';
import type { HandlerMap } from '../handler';

export function phrasesHandlers(phrases: PhrasesService): HandlerMap<'phrases.neuronpedia'> {
  return {
    'phrases.neuronpedia': async ({ jobId: _jobId, ...request }, ctx) => phrases.neuronpedia(request, ctx),
  };
}
