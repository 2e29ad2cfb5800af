import { cpus, totalmem } from 'node:os';

/** Where a figure was measured, printed with every benchmark. */
export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function emit(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}
