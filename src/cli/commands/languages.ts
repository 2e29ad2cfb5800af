import { tier as tierSchema } from '../../shared/contract';
import { UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

export const languages: CliCommand = {
  name: 'languages',
  usage: `  languages [list]                          the language registry
  languages add CODE [--tier TIER]          add a language of the bundled corpus (tier: high|medium-low|reference)
  languages set-tier CODE TIER              change a language's resource tier`,
  check(values, rest) {
    const [action = 'list'] = rest;
    if (!['list', 'add', 'set-tier'].includes(action)) throw new UsageError(`unknown languages action "${action}" (list, add, set-tier)`);
    if (action === 'add' && values.tier !== undefined && !tierSchema.safeParse(values.tier).success) throw new UsageError('--tier must be one of high, medium-low, reference');
  },
  async run({ api, values, rest }) {
    const [action = 'list', code, tierArg] = rest;
    if (action === 'add') {
      if (!code) throw new UsageError('languages add needs a language code');
      const parsedTier = tierSchema.safeParse(values.tier);
      const added = await api.languages.add({ code, tier: parsedTier.success ? parsedTier.data : undefined });
      console.log(values.json ? JSON.stringify(added) : `added ${added.code} (${added.name}, ${added.script}, ${added.tier})`);
    } else if (action === 'set-tier') {
      const parsed = tierSchema.safeParse(tierArg);
      if (!code || !parsed.success) throw new UsageError('usage: languages set-tier CODE high|medium-low|reference');
      const changed = await api.languages.setTier({ code, tier: parsed.data });
      console.log(values.json ? JSON.stringify(changed) : `${changed.code}: ${changed.tier}`);
    } else {
      const list = await api.languages.list({});
      if (values.json) printJson(list);
      else for (const l of list) console.log(`${l.code.padEnd(10)} ${l.tier.padEnd(11)} ${l.script.padEnd(11)} ${l.name}`);
    }
  },
};
