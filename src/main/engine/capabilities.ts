// "What can this machine run": the CPU, memory and every execution provider as probed in the
// compute worker, plus the provider "auto" would pick.
import type { Capabilities } from '../../shared/dto';
import { machineInfo, PROVIDER_PREFERENCE } from './providers';
import type { RuntimeHost } from './runtime-host';

export async function capabilities(runtime: RuntimeHost): Promise<Capabilities> {
  const providers = await runtime.probe();
  const preferred = PROVIDER_PREFERENCE.find((name) => providers.some((p) => p.name === name && p.available)) ?? 'cpu';
  return { ...machineInfo(), providers, preferred };
}
