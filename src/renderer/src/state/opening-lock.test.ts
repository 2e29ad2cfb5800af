// The opening lock: held from the first open until the last settles, through nesting, overlap and
// failure (a failed open must not leave the wizard locked).
import { describe, expect, it } from 'vitest';
import { createOpeningLock } from './opening-lock';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('opening lock', () => {
  it('locks during one open, returns its value and unlocks after', async () => {
    const seen: boolean[] = [];
    const lock = createOpeningLock((o) => seen.push(o));
    const answer = deferred<number>();
    const result = lock(() => answer.promise);
    expect(seen).toEqual([true]);
    answer.resolve(7);
    expect(await result).toBe(7);
    expect(seen.at(-1)).toBe(false);
  });

  it('stays locked through a nested open (the start opening the last project, then the demo)', async () => {
    const seen: boolean[] = [];
    const lock = createOpeningLock((o) => seen.push(o));
    const inner = deferred<void>();
    const between = deferred<void>();
    const start = lock(async () => {
      await lock(() => inner.promise);
      // The first project failed to open; the demo's list is read before the second open.
      await between.promise;
    });
    inner.resolve();
    await inner.promise;
    await Promise.resolve();
    expect(seen.at(-1)).toBe(true);
    between.resolve();
    await start;
    expect(seen.at(-1)).toBe(false);
  });

  it('stays locked while an overlapping open is pending, whichever ends first', async () => {
    const seen: boolean[] = [];
    const lock = createOpeningLock((o) => seen.push(o));
    const a = deferred<void>();
    const b = deferred<void>();
    const first = lock(() => a.promise);
    const second = lock(() => b.promise);
    a.resolve();
    await first;
    expect(seen.at(-1)).toBe(true);
    b.resolve();
    await second;
    expect(seen.at(-1)).toBe(false);
  });

  it('unlocks when an open fails, and passes the failure on', async () => {
    const seen: boolean[] = [];
    const lock = createOpeningLock((o) => seen.push(o));
    const failed = lock(() => Promise.reject(new Error('PROJECT_CORRUPT')));
    await expect(failed).rejects.toThrow('PROJECT_CORRUPT');
    expect(seen.at(-1)).toBe(false);
    // Nothing counted twice: the next open locks and unlocks again.
    await lock(async () => expect(seen.at(-1)).toBe(true));
    expect(seen.at(-1)).toBe(false);
  });
});
