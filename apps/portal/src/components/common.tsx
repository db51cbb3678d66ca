import { ReactNode, useEffect, useId, useRef } from 'react';
import { ApiError } from '../api';
import { json } from '../format';

/** An API problem as the API said it: its detail and, per field, what is wrong. Text only. */
export function Problem({ error, label }: { error: unknown; label?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, 'Error', error instanceof Error ? error.message : String(error));
  return (
    <div className="problem" role="alert">
      <p>
        <strong>{label ?? e.title}</strong>
        {e.status ? ` (${e.status})` : ''}: {e.detail}
      </p>
      {e.errors.length > 0 && (
        <ul>
          {e.errors.map((f, i) => (
            <li key={i}>
              {f.pointer ? <code>{f.pointer}</code> : null} {f.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A JSON value or a payload as text in a focusable, scrollable block. */
export function Code({ value, label, text }: { value?: unknown; label: string; text?: string | null }) {
  return (
    <pre className="code" tabIndex={0} aria-label={label}>
      {text ?? json(value)}
    </pre>
  );
}

export function KeyValues({ values, label }: { values: Record<string, string | number | null | undefined> | null; label: string }) {
  if (!values || Object.keys(values).length === 0) return <p className="muted">None</p>;
  return (
    <table className="kv">
      <caption className="visually-hidden">{label}</caption>
      <tbody>
        {Object.entries(values).map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v === null || v === undefined ? '—' : String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function State({ state }: { state: string }) {
  return <span className={`state state-${state}`}>{state.replace(/_/g, ' ')}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A page's heading, focused when the page opens so a keyboard or screen-reader user starts there. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Hookhub portal`;
    ref.current?.focus();
  }, [title]);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/**
 * A confirmation in a native modal <dialog>: focus moves into it, Escape
 * cancels, and focus goes back where it was when it closes.
 */
export function Confirm({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  danger,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  danger?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={onCancel} className="dialog">
      <h2 id={titleId}>{title}</h2>
      <div>{children}</div>
      <div className="actions">
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** A secret the API shows once: say so, and let it be selected and copied. */
export function OnceSecret({ secret, label, onDone }: { secret: string; label: string; onDone: () => void }) {
  const id = useId();
  return (
    <section className="secret" aria-labelledby={id}>
      <h2 id={id}>{label}</h2>
      <p>This is the only time it is shown: store it now. The hub keeps it encrypted and never shows it again.</p>
      <label>
        Secret
        <input readOnly value={secret} data-testid="once-secret" onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}
