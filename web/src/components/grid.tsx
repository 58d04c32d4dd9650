/** The pieces every list grid repeats: its header row and what its body shows while loading or empty. */
import type { ReactNode } from 'react';
import { SkeletonRows } from './ui.js';

export interface GridColumn {
  readonly label: ReactNode;
  readonly className?: string;
}

export function GridHead({ columns }: { columns: readonly GridColumn[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column, index) => (
          <th key={index} scope="col" className={column.className}>
            {column.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/**
 * A grid body's rows: placeholder rows of the grid's width while loading, the `empty` message across
 * all columns when there is nothing, else one `row` per item.
 */
export function GridRows<T>({
  loading,
  items,
  columns,
  empty,
  skeletonRows = 12,
  row,
}: {
  loading: boolean;
  items: readonly T[];
  columns: number;
  empty: ReactNode;
  skeletonRows?: number;
  row: (item: T, index: number) => ReactNode;
}) {
  if (loading) return <SkeletonRows rows={skeletonRows} columns={columns} />;
  if (items.length === 0) {
    return (
      <tr>
        <td colSpan={columns} className="empty">
          {empty}
        </td>
      </tr>
    );
  }
  return <>{items.map(row)}</>;
}
