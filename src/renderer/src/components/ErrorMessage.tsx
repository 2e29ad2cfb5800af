/** A typed error shown in place. `code` (the ApiError code, e.g. WEIGHTS_INVALID) is kept on the
 * element as data-code for programs and tests; people read the message. */
export function ErrorMessage({ error, code }: { error: string | null; code?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-code={code}>
      {error}
    </p>
  );
}
