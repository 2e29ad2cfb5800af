// How a job is named and shown: the canonical key that decides whether two requests are the same
// work, and one-line summaries of its argument and value for `jobs.list`.

const MAX_SUMMARY = 240;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** JSON with object keys sorted at every level, so `{a, b}` and `{b, a}` are one key. Undefined
 * members are left out as JSON.stringify leaves them out. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Two requests are the same work when their method and validated argument, less the
 * client-chosen jobId, are equal. */
export function jobKey(method: string, arg: Record<string, unknown>): string {
  const { jobId: _ignored, ...rest } = arg;
  return `${method} ${stableJson(rest)}`;
}

/** A path keeps its last two parts: enough to tell runs apart in a list. */
function describeString(text: string): string {
  const parts = text.split(/[\\/]/).filter(Boolean);
  if (parts.length > 2) return `…/${cut(parts.slice(-2).join('/'), 60)}`;
  return cut(text, 60);
}

function describe(value: unknown, depth = 0): string {
  if (typeof value === 'string') return describeString(value);
  if (typeof value !== 'object' || value === null) return String(value);
  if (Array.isArray(value)) {
    // Short lists of scalars read in full ("en zh hi"); anything longer is counted.
    const scalars = value.every((v) => typeof v !== 'object' || v === null);
    const joined = scalars ? value.map((v) => describe(v, depth + 1)).join(' ') : '';
    return scalars && value.length <= 12 && joined.length <= 60 ? joined : `${value.length} items`;
  }
  if (depth > 0) return `{${Object.keys(value).length} keys}`;
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${describe(v, depth + 1)}`)
    .join(' ');
}

/** "model=…/demo/model saes=4 items languages=en zh ru limit=40 settings=reduction=max". */
export function summarizeArg(arg: Record<string, unknown>): string {
  const { jobId: _ignored, ...rest } = arg;
  return cut(
    Object.entries(rest)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${describe(v)}`)
      .join(', '),
    MAX_SUMMARY,
  );
}

/** The value's scalar fields and list lengths, e.g. "segments=40, layers=6 items, …". */
export function summarizeValue(value: unknown): string {
  if (typeof value !== 'object' || value === null) return cut(describe(value), MAX_SUMMARY);
  if (Array.isArray(value)) return `${value.length} items`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (Array.isArray(v)) parts.push(`${k}=${v.length} items`);
    else if (typeof v !== 'object' || v === null) parts.push(`${k}=${describe(v, 1)}`);
  }
  return cut(parts.join(', '), MAX_SUMMARY);
}
