import { useCallback, useRef } from 'react';
import type { ProgressEvent } from '../../../shared/dto';
import { focusIfLost } from './focus';
import { progressSummary } from './progress-summary';

/** "about 5 s", "about 2 min 10 s", "about 1 h 5 min". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `about ${s} s`;
  if (s < 3600) return `about ${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `about ${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** A job's progress. It takes focus when it appears in place of the control that started the job
 * (which is disabled while the job runs), and keeps it when Cancel is pressed (Cancel is disabled
 * then). The visible text follows every tick; only a summary (stage and quarter) is live. */
export function Progress({ progress, onCancel, cancelling, label = 'progress' }: { progress: ProgressEvent | null; onCancel?: () => void; cancelling?: boolean; label?: string }) {
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : 0;
  const group = useRef<HTMLDivElement | null>(null);
  const attach = useCallback((element: HTMLDivElement | null) => {
    group.current = element;
    focusIfLost(element);
  }, []);
  return (
    <div className="progress" role="group" aria-label={label} tabIndex={-1} ref={attach} data-focus="progress">
      <progress max={1} value={fraction} aria-label={progress?.stage ?? 'starting'} />
      <span data-testid="progress-text">
        {progress ? `${progress.stage} ${progress.done}/${progress.total}` : 'starting…'}
        {progress?.etaSeconds !== undefined && <span className="eta">, {formatEta(progress.etaSeconds)} left</span>}
      </span>
      <span className="visually-hidden" role="status" aria-live="polite" data-live="progress">
        {progressSummary(progress, cancelling)}
      </span>
      {onCancel && (
        <button
          type="button"
          onClick={() => {
            group.current?.focus();
            onCancel();
          }}
          disabled={cancelling}
        >
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
    </div>
  );
}
