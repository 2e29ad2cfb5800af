import { focusIfLost } from './focus';

/** A typed error shown in place. `code` (the ApiError code, e.g. WEIGHTS_INVALID) is kept on the
 * element as data-code for programs and tests; people read the message. When it is the outcome of
 * an action whose control went away (a run that failed), it takes the focus. */
export function ErrorMessage({ error, code }: { error: string | null; code?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-code={code} tabIndex={-1} ref={focusIfLost}>
      {error}
    </p>
  );
}
