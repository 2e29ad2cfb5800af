// What a screen reader is told about a running job: the stage and the quarter reached, so a polite
// live region speaks a few times per stage instead of at every progress tick (hundreds per run).
import type { ProgressEvent } from '../../../shared/dto';

export function progressSummary(progress: ProgressEvent | null, cancelling = false): string {
  if (cancelling) return 'cancelling';
  if (!progress) return 'starting';
  const fraction = progress.total > 0 ? Math.min(1, Math.max(0, progress.done / progress.total)) : 0;
  // 0, 25, 50, 75 while under way; 100 only when every unit is done.
  const quarter = fraction >= 1 ? 100 : Math.floor(fraction * 4) * 25;
  return `${progress.stage}: ${quarter} %`;
}
