// Loading, error and empty states shared by every view, so each one says what is happening and what to do.
import { describe } from '../lib/api';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorState({
  error,
  retry,
  title = 'Something went wrong',
}: {
  error: unknown;
  retry?: () => void;
  title?: string;
}) {
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      <p>{describe(error)}</p>
      {retry && (
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children}
    </div>
  );
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="inline-error" role="alert">
      {describe(error)}
    </p>
  );
}

/** A command the user runs in a terminal, with a copy button. */
export function Command({ text, label }: { text: string; label?: string }) {
  return (
    <div className="command">
      <code>{text}</code>
      <button
        type="button"
        className="btn btn-small"
        aria-label={label ?? `Copy the command ${text}`}
        onClick={() => {
          void navigator.clipboard?.writeText(text).catch(() => undefined);
        }}
      >
        Copy
      </button>
    </div>
  );
}
