import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, memoryVerdict } from './format';

describe('model step formatting', () => {
  it('gives counts three significant digits with decimal units', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(256)).toBe('256');
    expect(formatCount(164_928)).toBe('165 K');
    expect(formatCount(2_614_341_888)).toBe('2.61 B');
    expect(formatCount(999_999)).toBe('1.00 M');
    expect(formatCount(9_241_705_984)).toBe('9.24 B');
  });

  it('gives sizes with binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(659_712)).toBe('644 KiB');
    expect(formatBytes(5_228_683_776)).toBe('4.87 GiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.00 MiB');
  });

  it('compares the memory a run needs with free and total memory', () => {
    const gib = 2 ** 30;
    expect(memoryVerdict(1 * gib, 2048, 4096)).toBe('fits');
    expect(memoryVerdict(3 * gib, 2048, 4096)).toBe('exceeds-free');
    expect(memoryVerdict(5 * gib, 2048, 4096)).toBe('exceeds-total');
  });
});
