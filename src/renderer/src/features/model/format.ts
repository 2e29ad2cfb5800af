// Numbers as the Model step shows them: counts with decimal units (2.61 B parameters), sizes with
// binary units (4.87 GiB), and how a run's memory compares with the machine's.

function scaled(n: number, base: number, units: readonly string[], space: string): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) < base) return `${Math.round(n)}${space}${units[0]}`.trimEnd();
  let i = 0;
  let v = n;
  // Three significant digits, so at most 999 of a unit: 999,999 is "1.00 M", not "1000 K"
  // (and 1000-1023 KiB are shown in MiB).
  while (i < units.length - 1 && Math.abs(Number(v.toPrecision(3))) >= 1000) {
    v /= base;
    i++;
  }
  return `${v.toPrecision(3)}${space}${units[i]}`;
}

/** 164928 → "165 K", 2614341888 → "2.61 B". */
export function formatCount(n: number): string {
  return scaled(n, 1000, ['', 'K', 'M', 'B', 'T'], ' ');
}

/** 659712 → "644 KiB", 5228683776 → "4.87 GiB". */
export function formatBytes(n: number): string {
  return scaled(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], ' ');
}

export type MemoryVerdict = 'fits' | 'exceeds-free' | 'exceeds-total';

/** Where a run needing `needBytes` stands against the machine's memory (MiB, as Capabilities gives it). */
export function memoryVerdict(needBytes: number, freeMb: number, totalMb: number): MemoryVerdict {
  if (needBytes > totalMb * 2 ** 20) return 'exceeds-total';
  if (needBytes > freeMb * 2 ** 20) return 'exceeds-free';
  return 'fits';
}
