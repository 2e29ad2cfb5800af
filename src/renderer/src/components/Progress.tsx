import type { ProgressEvent } from '../../../shared/dto';

export function Progress({ progress, onCancel }: { progress: ProgressEvent | null; onCancel?: () => void }) {
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : 0;
  return (
    <div className="progress" role="status" aria-live="polite">
      <progress max={1} value={fraction} aria-label={progress?.stage ?? 'starting'} />
      <span>{progress ? `${progress.stage} ${progress.done}/${progress.total}` : 'starting…'}</span>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}
