import { tier as tierSchema } from '../../shared/contract';
import { UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

const ACTIONS = ['list', 'add', 'remove', 'set-tier'];

export const languages: CliCommand = {
  name: 'languages',
  usage: `  languages [list]                          the language registry
  languages add CODE [--tier TIER]          add a language of the bundled corpus (tier: high|medium-low);
                                            CODE in any case: de, zh-Hant, pt_BR, deu_1996
  languages remove CODE                     remove a language you added (the paper's ten stay; deselect them)
  languages set-tier CODE TIER              change a language's resource tier (English is the one reference)`,
  check(values, rest) {
    const [action = 'list', code] = rest;
    if (!ACTIONS.includes(action)) throw new UsageError(`unknown languages action "${action}" (${ACTIONS.join(', ')})`);
    if (action === 'add' && values.tier !== undefined && !tierSchema.safeParse(values.tier).success) throw new UsageError('--tier must be one of high, medium-low, reference');
    if ((action === 'add' || action === 'remove') && !code) throw new UsageError(`languages ${action} needs a language code`);
  },
  async run({ api, values, rest }) {
    const [action = 'list', code, tierArg] = rest;
    if (action === 'add') {
      const parsedTier = tierSchema.safeParse(values.tier);
      const added = await api.languages.add({ code, tier: parsedTier.success ? parsedTier.data : undefined });
      console.log(values.json ? JSON.stringify(added) : `added ${added.code} (${added.name}, ${added.script}, ${added.tier})`);
    } else if (action === 'remove') {
      const removed = await api.languages.remove({ code });
      console.log(values.json ? JSON.stringify(removed) : `removed ${removed.code}`);
    } else if (action === 'set-tier') {
      const parsed = tierSchema.safeParse(tierArg);
      if (!code || !parsed.success) throw new UsageError('usage: languages set-tier CODE high|medium-low|reference');
      const changed = await api.languages.setTier({ code, tier: parsed.data });
      console.log(values.json ? JSON.stringify(changed) : `${changed.code}: ${changed.tier}`);
    } else {
      const list = await api.languages.list({});
      if (values.json) printJson(list);
      else for (const l of list) console.log(`${l.code.padEnd(10)} ${l.tier.padEnd(11)} ${l.script.padEnd(11)} ${l.name}${l.builtIn ? '' : '  (added)'}`);
    }
  },
};
