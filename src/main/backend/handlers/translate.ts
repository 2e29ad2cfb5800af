// translate.run over the typed API (translate-service.ts).
import type { HandlerMap } from '../handler';
import type { TranslateService } from '../translate-service';

export function translateHandlers(service: TranslateService): HandlerMap<'translate.run'> {
  return {
    'translate.run': async (arg, ctx) => service.run(arg, ctx),
  };
}
