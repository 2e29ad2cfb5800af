import type { TokenizerHost } from '../../io/tokenizer-host';
import type { FertilityService } from '../fertility-service';
import type { HandlerMap } from '../handler';

export function fertilityHandlers(service: FertilityService, tokenizers: TokenizerHost): HandlerMap<'tokenizer.inspect' | 'fertility.run' | 'fertility.export'> {
  return {
    'tokenizer.inspect': async ({ path }, ctx) => tokenizers.inspect(path, ctx.signal),
    'fertility.run': async ({ languages, tokenizer, model }, ctx) => service.run({ languages, tokenizer, model }, ctx),
    'fertility.export': async ({ languages, tokenizer, model, outDir }, ctx) => service.export({ languages, tokenizer, model, outDir }, ctx),
  };
}
