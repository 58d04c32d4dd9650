/** Small shared pieces: dialogs, badges, skeleton rows, notices, times. */
import { useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { describeError } from '../api.js';

/** A modal on the native <dialog>: focus moves inside, Escape closes, the page behind is inert. */
export function Dialog({
  title,
  open,
  onClose,
  children,
  labelledBy = 'dialog-title',
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  labelledBy?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // The native close event comes a task after `close()`: by then the page may have opened another
  // dialog (Escape, then a shortcut key at once), which a late onClose would shut again. Only a close
  // the page did not ask for (a form with method="dialog") is reported.
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={labelledBy}
      onClose={() => {
        if (openRef.current) onClose();
      }}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <h2 id={labelledBy}>{title}</h2>
          {children}
        </>
      )}
    </dialog>
  );
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`badge sev-${severity}`}>{severity}</span>;
}

export function StatusBadge({ value }: { value: string }) {
  return <span className={`badge state-${value}`}>{value.replace('_', ' ')}</span>;
}

/** Placeholder rows of the same height as real ones, so nothing moves when the data arrives. */
export function SkeletonRows({ rows, columns }: { rows: number; columns: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, row) => (
        <tr key={row} className="skeleton-row" aria-hidden="true">
          {Array.from({ length: columns }, (_, column) => (
            <td key={column}>
              <span className="skeleton" />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="notice error" role="alert">
      {describeError(error)}
    </p>
  );
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// One minute clock for every <Time> on the page (a page can show a thousand), not a timer each.
const minuteListeners = new Set<() => void>();
let minuteTimer: ReturnType<typeof setInterval> | null = null;
let minute = 0;
function subscribeMinute(listener: () => void): () => void {
  minuteListeners.add(listener);
  minuteTimer ??= setInterval(() => {
    minute += 1;
    for (const notify of minuteListeners) notify();
  }, 60_000);
  return () => {
    minuteListeners.delete(listener);
    if (minuteListeners.size === 0 && minuteTimer !== null) {
      clearInterval(minuteTimer);
      minuteTimer = null;
    }
  };
}
const currentMinute = () => minute;

/** "3 minutes ago", with the exact UTC time on hover and for screen readers as the datetime. */
export function Time({ at }: { at: string | null }) {
  useSyncExternalStore(subscribeMinute, currentMinute);
  if (!at) return <span>—</span>;
  const seconds = Math.round((new Date(at).getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text =
    abs < 60
      ? relative.format(seconds, 'second')
      : abs < 3600
        ? relative.format(Math.round(seconds / 60), 'minute')
        : abs < 86_400
          ? relative.format(Math.round(seconds / 3600), 'hour')
          : relative.format(Math.round(seconds / 86_400), 'day');
  return (
    <time dateTime={at} title={new Date(at).toISOString()}>
      {text}
    </time>
  );
}

/** 3725 → "1 h 2 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export function label(value: string): string {
  return value.replaceAll('_', ' ');
}

/**
 * A long list folded to its first (or last) `limit` items until asked: an incident with hundreds of
 * notes, tasks and observables renders what fits a screen, and the page stays quick to open.
 */
export function useFold<T>(
  items: readonly T[],
  limit: number,
  keep: 'first' | 'last' = 'first',
): { shown: readonly T[]; hidden: number; expand: () => void } {
  const [open, setOpen] = useState(false);
  const hidden = open ? 0 : Math.max(0, items.length - limit);
  const shown = hidden === 0 ? items : keep === 'first' ? items.slice(0, limit) : items.slice(hidden);
  return { shown, hidden, expand: () => setOpen(true) };
}

/** The button that unfolds a `useFold` list; nothing when nothing is hidden. */
export function ShowHidden({ hidden, noun, onClick }: { hidden: number; noun: string; onClick: () => void }) {
  if (hidden === 0) return null;
  return (
    <button type="button" className="link-button small" onClick={onClick}>
      Show {hidden} more {noun}
    </button>
  );
}

/** The button under a paged list: shown while there is a next page and nothing is loading. */
export function LoadMore({
  cursor,
  loading,
  onLoad,
}: {
  cursor: string | null;
  loading: boolean;
  onLoad: () => Promise<void>;
}) {
  if (!cursor || loading) return null;
  return (
    <button type="button" className="load-more" onClick={() => void onLoad()}>
      Load more
    </button>
  );
}
