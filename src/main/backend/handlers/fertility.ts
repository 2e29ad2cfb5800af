import type { TokenizerHost } from '../../io/tokenizer-host';
import type { FertilityService } from '../fertility-service';
import type { HandlerMap } from '../handler';

export function fertilityHandlers(service: FertilityService, tokenizers: TokenizerHost): HandlerMap<'tokenizer.inspect' | 'fertility.run' | 'fertility.export'> {
  return {
    'tokenizer.inspect': async ({ path }, ctx) => tokenizers.inspect(path, ctx.signal),
    'fertility.run': async ({ languages, tokenizer }, ctx) => service.run({ languages, tokenizer }, ctx),
    'fertility.export': async ({ languages, tokenizer, outDir }, ctx) => service.export({ languages, tokenizer, outDir }, ctx),
  };
}
