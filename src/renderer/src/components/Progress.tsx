import type { ProgressEvent } from '../../../shared/dto';

/** "about 5 s", "about 2 min 10 s", "about 1 h 5 min". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `about ${s} s`;
  if (s < 3600) return `about ${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `about ${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

export function Progress({ progress, onCancel, cancelling }: { progress: ProgressEvent | null; onCancel?: () => void; cancelling?: boolean }) {
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : 0;
  return (
    <div className="progress" role="status" aria-live="polite">
      <progress max={1} value={fraction} aria-label={progress?.stage ?? 'starting'} />
      <span data-testid="progress-text">
        {progress ? `${progress.stage} ${progress.done}/${progress.total}` : 'starting…'}
        {progress?.etaSeconds !== undefined && <span className="eta">, {formatEta(progress.etaSeconds)} left</span>}
      </span>
      {onCancel && (
        <button type="button" onClick={onCancel} disabled={cancelling}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
    </div>
  );
}
