/**
 * The incident timeline: the audit records of the incident and the payloads of its linked alerts, oldest
 * first, where a value that looks like an observable carries a one-click "add as observable" button.
 *
 * Up to WINDOW_FROM entries are rendered in full, in the page's flow. Longer timelines are windowed with
 * @tanstack/react-virtual: a scroll box of fixed height (so nothing below it moves while entries are
 * measured) renders only the entries in view plus a few either side. It stays a list: every entry is a
 * listitem with aria-posinset/aria-setsize, so a screen reader says "entry 12 of 1,000". The entry that
 * holds focus is always rendered (scrolling it out of view never drops focus), Page Down / Page Up move
 * focus between entries, Home / End go to the first / last, and when a focused button disappears (a
 * value just added as an observable) focus goes to its entry. Entries appended live scroll into view
 * when the reader is at the end; otherwise the visible entries stay where they are.
 */
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import {
  useCallback,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type FocusEvent,
  type KeyboardEvent,
} from 'react';
import type { Alert, ObservableType, TimelineEntry } from '../api.js';
import { JsonView } from '../components/json-view.js';
import { label, SeverityBadge, Time } from '../components/ui.js';

/** From this many entries on, the timeline is windowed. */
export const WINDOW_FROM = 60;

const ACTION_WORDS: Record<string, string> = {
  'incident.created': 'opened the incident',
  'incident.updated': 'edited the incident',
  'incident.transitioned': 'changed the phase',
  'incident.acknowledged': 'acknowledged',
  'incident.alerts_merged': 'linked alerts',
  'incident.observable_added': 'added an observable',
  'observable.updated': 'updated an observable',
  'task.created': 'added a task',
  'task.updated': 'updated a task',
  'note.added': 'added a note',
  'note.edited': 'edited a note',
  'alert.repeated': 'alert seen again',
};

type TimelineItem =
  | { kind: 'audit'; at: string; key: string; entry: TimelineEntry }
  | { kind: 'alert'; at: string; key: string; alert: Alert };

type OnAdd = ((type: ObservableType, value: string) => void) | undefined;

interface TimelineProps {
  readonly timeline: readonly TimelineEntry[];
  readonly alerts: readonly Alert[];
  readonly onAdd: OnAdd;
  readonly known: ReadonlySet<string>;
}

/** The timeline card. Pure rendering of its props; windowed from WINDOW_FROM entries on. */
export function Timeline({ timeline, alerts, onAdd, known }: TimelineProps) {
  const items = useMemo<TimelineItem[]>(() => {
    const list: TimelineItem[] = [
      ...timeline.map((entry) => ({ kind: 'audit' as const, at: entry.at, key: `a${entry.seq}`, entry })),
      ...alerts.map((alert) => ({
        kind: 'alert' as const,
        at: alert.first_seen,
        key: `e${alert.id}`,
        alert,
      })),
    ];
    return list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.kind === 'alert' ? -1 : 1));
  }, [timeline, alerts]);
  return (
    <section className="card timeline-card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {onAdd && (
        <p className="muted small">
          Values that look like an IP, user, host, hash or domain carry a button that adds them as an
          observable.
        </p>
      )}
      {items.length >= WINDOW_FROM ? (
        <WindowedTimeline items={items} onAdd={onAdd} known={known} />
      ) : (
        <ol className="timeline">
          {items.map((item) => (
            <li key={item.key} className={`timeline-item${item.kind === 'alert' ? ' event' : ''}`}>
              <TimelineRow item={item} onAdd={onAdd} known={known} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Rough rendered height of one entry, so the scroll bar is close to right before entries are measured. */
function estimateHeight(item: TimelineItem): number {
  const HEAD = 40; // one line of heading plus the entry's padding
  const LINE = 20; // one line of the JSON view (0.85rem monospace)
  const BOX = 18; // the JSON view's padding
  if (item.kind === 'alert')
    return HEAD + (item.alert.payload === null ? 0 : BOX + LINE * lines(item.alert.payload));
  const changes = item.entry.changes as Record<string, unknown> | null;
  if (!changes || typeof changes !== 'object' || Object.keys(changes).length === 0) return HEAD;
  if (item.entry.action === 'incident.transitioned') return HEAD + LINE;
  if (item.entry.action === 'note.added' && typeof changes.body === 'string') return HEAD;
  return HEAD + BOX + LINE * lines(changes);
}

/** Lines the JSON view uses for `value` (one per key), capped: an estimate, not a layout. */
function lines(value: unknown, budget = 200): number {
  if (value === null || typeof value !== 'object') return 1;
  let count = 0;
  for (const child of Object.values(value)) {
    count += child !== null && typeof child === 'object' ? 1 + lines(child, budget - count) : 1;
    if (count >= budget) return budget;
  }
  return Math.max(count, 1);
}

function WindowedTimeline({
  items,
  onAdd,
  known,
}: {
  items: readonly TimelineItem[];
  onAdd: OnAdd;
  known: ReadonlySet<string>;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const indexOf = useMemo(() => new Map(items.map((item, index) => [item.key, index])), [items]);
  // The entry holding focus (kept rendered) and the element inside it that had focus last.
  const [focusedKey, setFocusedKey] = useState<string | null>(null);
  const lastFocused = useRef<HTMLElement | null>(null);
  const focusedIndex = focusedKey === null ? undefined : indexOf.get(focusedKey);

  const rangeExtractor = useCallback(
    (range: Range) => {
      const indexes = defaultRangeExtractor(range);
      if (focusedIndex === undefined || indexes.includes(focusedIndex)) return indexes;
      return [...indexes, focusedIndex].sort((a, b) => a - b);
    },
    [focusedIndex],
  );

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimateHeight(items[index]!),
    getItemKey: (index) => items[index]!.key,
    rangeExtractor,
    overscan: 6,
    // Before the box is measured, assume its CSS height so the first render already fills it.
    initialRect: { width: 0, height: 640 },
    // New entries at the end follow the reader who is at the end; anyone else keeps their place.
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: 24,
    useFlushSync: false,
  });

  const focusEntry = useCallback(
    (index: number) => {
      const item = items[index];
      if (!item) return;
      setFocusedKey(item.key);
      virtualizer.scrollToIndex(index, { align: 'auto' });
      // The entry is rendered on the next commit (rangeExtractor keeps it); focus it then.
      requestAnimationFrame(() => {
        const element = listRef.current?.querySelector<HTMLElement>(`li[data-key="${CSS.escape(item.key)}"]`);
        element?.focus({ preventScroll: true });
      });
    },
    [items, virtualizer],
  );

  // A focused button that went away with a re-render (a value just added as an observable) leaves focus
  // on <body>; give it to the entry instead so the reader keeps their place.
  useLayoutEffect(() => {
    const last = lastFocused.current;
    if (!last || last.isConnected || focusedKey === null) return;
    const active = document.activeElement;
    if (active && active !== document.body) return;
    listRef.current?.querySelector<HTMLElement>(`li[data-key="${CSS.escape(focusedKey)}"]`)?.focus({
      preventScroll: true,
    });
  });

  function onFocus(event: FocusEvent<HTMLOListElement>) {
    const entry = (event.target as HTMLElement).closest<HTMLElement>('li[data-key]');
    lastFocused.current = event.target as HTMLElement;
    if (entry?.dataset.key && entry.dataset.key !== focusedKey) setFocusedKey(entry.dataset.key);
  }
  function onBlur(event: FocusEvent<HTMLOListElement>) {
    const next = event.relatedTarget as Node | null;
    // Focus moved out of the list on purpose: stop keeping the entry rendered.
    if (next && !listRef.current?.contains(next)) {
      lastFocused.current = null;
      setFocusedKey(null);
    }
  }
  function onKeyDown(event: KeyboardEvent<HTMLOListElement>) {
    if (event.altKey || event.ctrlKey || event.metaKey || focusedIndex === undefined) return;
    const moves: Record<string, number> = {
      PageDown: focusedIndex + 1,
      PageUp: focusedIndex - 1,
      Home: 0,
      End: items.length - 1,
    };
    const to = moves[event.key];
    if (to === undefined || to < 0 || to >= items.length) return;
    event.preventDefault();
    focusEntry(to);
  }

  const virtualItems = virtualizer.getVirtualItems();
  return (
    <>
      <p className="muted small" id="timeline-keys">
        {items.length.toLocaleString('en')} entries, oldest first. In the list, Page Down and Page Up move
        between entries, Home and End to the first and last.
      </p>
      <div
        ref={scrollRef}
        className="timeline-scroll"
        role="region"
        aria-label="Timeline entries"
        aria-describedby="timeline-keys"
        tabIndex={0}
      >
        <ol
          ref={listRef}
          className="timeline windowed"
          style={{ height: `${virtualizer.getTotalSize()}px` }}
          onFocus={onFocus}
          onBlur={onBlur}
          onKeyDown={onKeyDown}
        >
          {virtualItems.map((row) => {
            const item = items[row.index]!;
            return (
              <li
                key={item.key}
                ref={virtualizer.measureElement}
                data-index={row.index}
                data-key={item.key}
                tabIndex={-1}
                aria-posinset={row.index + 1}
                aria-setsize={items.length}
                className={`timeline-item${item.kind === 'alert' ? ' event' : ''}`}
                style={{ transform: `translateY(${row.start}px)` }}
              >
                <TimelineRow item={item} onAdd={onAdd} known={known} />
              </li>
            );
          })}
        </ol>
      </div>
    </>
  );
}

function TimelineRow({
  item,
  onAdd,
  known,
}: {
  item: TimelineItem;
  onAdd: OnAdd;
  known: ReadonlySet<string>;
}) {
  if (item.kind === 'alert') {
    return (
      <>
        <div className="timeline-head">
          <Time at={item.at} /> <strong>Alert</strong> <SeverityBadge severity={item.alert.severity} />{' '}
          {item.alert.title}{' '}
          <span className="muted">
            from {item.alert.source}
            {item.alert.rule ? ` · rule ${item.alert.rule}` : ''}
            {item.alert.occurrence_count > 1 ? ` · seen ${item.alert.occurrence_count} times` : ''}
          </span>
        </div>
        {item.alert.payload !== null && <JsonView value={item.alert.payload} onAdd={onAdd} known={known} />}
      </>
    );
  }
  return (
    <>
      <div className="timeline-head">
        <Time at={item.at} /> <strong>{item.entry.actor.name}</strong>{' '}
        {ACTION_WORDS[item.entry.action] ?? item.entry.action}
      </div>
      <TimelineChanges entry={item.entry} onAdd={onAdd} known={known} />
    </>
  );
}

function TimelineChanges({
  entry,
  onAdd,
  known,
}: {
  entry: TimelineEntry;
  onAdd: OnAdd;
  known: ReadonlySet<string>;
}) {
  const changes = entry.changes as Record<string, unknown> | null;
  if (!changes || typeof changes !== 'object' || Object.keys(changes).length === 0) return null;
  if (
    entry.action === 'incident.transitioned' &&
    typeof changes.from === 'string' &&
    typeof changes.to === 'string'
  ) {
    return (
      <p className="timeline-body">
        {label(changes.from)} → <strong>{label(changes.to)}</strong>
        {typeof changes.reason === 'string' && changes.reason ? ` — ${changes.reason}` : ''}
        {typeof changes.resolution === 'string' ? ` — resolution: ${label(changes.resolution)}` : ''}
      </p>
    );
  }
  if (entry.action === 'note.added' && typeof changes.body === 'string') return null;
  return <JsonView value={changes} onAdd={onAdd} known={known} />;
}
