/**
 * A JSON document as an indented tree. With `onAdd`, every value that looks like an observable (an IP,
 * user, host, hash, domain, ...) gets a one-click "add as observable" button beside it.
 */
import type { ObservableType } from '../api.js';
import { detectObservable } from '../observable-detect.js';

export interface JsonViewProps {
  readonly value: unknown;
  readonly onAdd?: ((type: ObservableType, value: string) => void) | undefined;
  /** Values already captured (`type:value`), shown as such instead of a button. */
  readonly known?: ReadonlySet<string> | undefined;
}

export function JsonView({ value, onAdd, known }: JsonViewProps) {
  if (value === undefined || value === null) return <p className="muted">No payload.</p>;
  return (
    <div className="json" role="group" aria-label="Payload">
      <Node value={value} path={[]} onAdd={onAdd} known={known} depth={0} />
    </div>
  );
}

function Node({
  value,
  path,
  onAdd,
  known,
  depth,
}: {
  value: unknown;
  path: string[];
  onAdd: JsonViewProps['onAdd'];
  known: JsonViewProps['known'];
  depth: number;
}) {
  if (value !== null && typeof value === 'object' && depth < 12) {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    return (
      <ul className="json-list">
        {entries.map(([key, child]) => (
          <li key={key}>
            <span className="json-key">{key}</span>
            {child !== null && typeof child === 'object' ? (
              <Node value={child} path={[...path, key]} onAdd={onAdd} known={known} depth={depth + 1} />
            ) : (
              <>
                {': '}
                <Leaf value={child} path={[...path, key]} onAdd={onAdd} known={known} />
              </>
            )}
          </li>
        ))}
      </ul>
    );
  }
  return <Leaf value={value} path={path} onAdd={onAdd} known={known} />;
}

function Leaf({
  value,
  path,
  onAdd,
  known,
}: {
  value: unknown;
  path: string[];
  onAdd: JsonViewProps['onAdd'];
  known: JsonViewProps['known'];
}) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const type = onAdd ? detectObservable(path, value) : null;
  const captured = type !== null && known?.has(`${type}:${String(value).trim().toLowerCase()}`);
  return (
    <span className={`json-value json-${value === null ? 'null' : typeof value}`}>
      {text}
      {type && onAdd && !captured && (
        <button
          type="button"
          className="add-observable"
          onClick={() => onAdd(type, String(value).trim())}
          aria-label={`Add ${String(value)} as ${type.replace('_', ' ')} observable`}
          title={`Add as ${type.replace('_', ' ')} observable`}
        >
          + {type.replace('_', ' ')}
        </button>
      )}
      {captured && (
        <span className="captured" title="Already an observable of this incident">
          ✓ observable
        </span>
      )}
    </span>
  );
}
