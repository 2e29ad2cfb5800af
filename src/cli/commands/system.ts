import type { CliCommand } from '../command';
import { printJson } from '../print';

export const system: CliCommand = {
  name: 'system',
  usage: `  system                                    what this machine can run: CPU, memory, execution providers`,
  async run({ api, values }) {
    const caps = await api.system.capabilities({});
    if (values.json) {
      printJson(caps);
      return;
    }
    console.log(`${caps.platform}, ${caps.cpuModel}, ${caps.logicalCores} logical cores, ${caps.memoryFreeMb} of ${caps.memoryTotalMb} MiB free, onnxruntime ${caps.onnxruntime}`);
    for (const p of caps.providers) console.log(`${p.available ? 'yes' : 'no '} ${p.name.padEnd(7)} ${p.detail}`);
    console.log(`"auto" runs on: ${caps.preferred}`);
  },
};
