// The wizard's lock while a project opens (project-sync): apply() replaces every choice with the
// opened project's, so the steps take no input until it lands. Opens nest (the start opens the
// last project, then maybe the demo's) and overlap (a Projects-panel open during the start): the
// lock holds until the last one settles, failed or not, so a failed open never leaves the wizard
// locked for good.
export function createOpeningLock(onChange: (opening: boolean) => void) {
  let openings = 0;
  return async function whileOpening<T>(open: () => Promise<T>): Promise<T> {
    openings += 1;
    onChange(true);
    try {
      return await open();
    } finally {
      openings -= 1;
      onChange(openings > 0);
    }
  };
}
