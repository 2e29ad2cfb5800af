// One setting of a step's form (Fine-tune, Evaluate): its control, its one-line meaning and its
// default. A typed value is kept as text until it is a value the contract accepts (checked by the
// caller), so the project never stores a half-typed number and the user sees why a value is refused
// beside the field.
import { useEffect, useId, useState, type ReactNode } from 'react';
import './fields.css';

function Meaning({ id, meaning, fallback, error }: { id: string; meaning: ReactNode; fallback: string; error: string | null }) {
  return (
    <>
      <span className="setting-meaning" id={id}>
        {meaning} <span className="setting-default">(default: {fallback})</span>
      </span>
      {error && (
        <span className="setting-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </>
  );
}

/** A number (or, with `nullable`, an empty field meaning null). `commit` answers why a value is
 * refused, or null when it took it. */
export function NumberSetting(props: {
  label: string;
  value: number | null;
  nullable?: boolean;
  integer?: boolean;
  meaning: ReactNode;
  fallback: string;
  placeholder?: string;
  disabled?: boolean;
  commit(value: number | null): string | null;
}) {
  const id = useId();
  const [text, setText] = useState(props.value === null ? '' : String(props.value));
  const [error, setError] = useState<string | null>(null);
  // A value set from elsewhere (a project opened) replaces the text unless the text says the same.
  useEffect(() => {
    const shown = text.trim() === '' ? null : Number(text);
    if (shown !== props.value) {
      setText(props.value === null ? '' : String(props.value));
      setError(null);
    }
  }, [props.value]);
  const change = (next: string) => {
    setText(next);
    const t = next.trim();
    if (t === '') {
      setError(props.nullable ? props.commit(null) : 'a value is needed');
      return;
    }
    const n = Number(t);
    if (!Number.isFinite(n)) return setError('not a number');
    if (props.integer && !Number.isInteger(n)) return setError('a whole number');
    setError(props.commit(n));
  };
  return (
    <div className="setting">
      <label>
        {props.label}{' '}
        <input
          type="text"
          inputMode="decimal"
          aria-label={props.label}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id} ${id}-error` : id}
          value={text}
          placeholder={props.placeholder}
          disabled={props.disabled}
          onChange={(e) => change(e.target.value)}
        />
      </label>
      <Meaning id={id} meaning={props.meaning} fallback={props.fallback} error={error} />
    </div>
  );
}

export function ChoiceSetting<T extends string>(props: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  meaning: ReactNode;
  fallback: string;
  disabled?: boolean;
  commit(value: T): void;
}) {
  const id = useId();
  return (
    <div className="setting">
      <label>
        {props.label}{' '}
        <select aria-label={props.label} aria-describedby={id} value={props.value} disabled={props.disabled} onChange={(e) => props.commit(e.target.value as T)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      <Meaning id={id} meaning={props.meaning} fallback={props.fallback} error={null} />
    </div>
  );
}

/** Free text parsed by `parse` (layer lists); committed when it parses. */
export function TextSetting<T>(props: {
  label: string;
  text: string;
  meaning: ReactNode;
  fallback: string;
  placeholder?: string;
  disabled?: boolean;
  parse(text: string): { value: T } | { error: string };
  commit(value: T): string | null;
}) {
  const id = useId();
  const [text, setText] = useState(props.text);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const parsed = props.parse(text);
    if (!('value' in parsed) || JSON.stringify(props.parse(props.text)) !== JSON.stringify(parsed)) {
      setText(props.text);
      setError(null);
    }
  }, [props.text]);
  const change = (next: string) => {
    setText(next);
    const parsed = props.parse(next);
    setError('error' in parsed ? parsed.error : props.commit(parsed.value));
  };
  return (
    <div className="setting">
      <label>
        {props.label}{' '}
        <input
          aria-label={props.label}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id} ${id}-error` : id}
          value={text}
          placeholder={props.placeholder}
          disabled={props.disabled}
          onChange={(e) => change(e.target.value)}
        />
      </label>
      <Meaning id={id} meaning={props.meaning} fallback={props.fallback} error={error} />
    </div>
  );
}
