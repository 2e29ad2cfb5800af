// Each registry language's resource tier, read once per mount: charts style a language by its tier
// (the dash, see shared/palette.ts) and steps propose targets by it.
import { useEffect, useState } from 'react';
import type { Tier } from '../../../shared/dto';
import { api } from '../api';

export function useTiers(): Record<string, Tier> {
  const [tiers, setTiers] = useState<Record<string, Tier>>({});
  useEffect(() => {
    let live = true;
    api.languages.list({}).then(
      (list) => live && setTiers(Object.fromEntries(list.map((l) => [l.code, l.tier]))),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return tiers;
}
