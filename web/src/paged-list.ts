import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { api, type Page, type RequestOptions } from './api.js';

export interface PagedListOptions<T> {
  /**
   * Bump to fetch the first page again without showing the list as loading (live updates). A change
   * of `query` shows it as loading and clears the last error.
   */
  readonly reload?: number;
  /** Called with each first page (selection and focus follow it). */
  readonly onFirstPage?: (page: Page<T>) => void;
  /** Empty the list when the first page fails (a search whose results would mislead). */
  readonly clearOnError?: boolean;
}

export interface PagedList<T> {
  readonly items: T[];
  readonly setItems: Dispatch<SetStateAction<T[]>>;
  readonly cursor: string | null;
  readonly setCursor: Dispatch<SetStateAction<string | null>>;
  readonly loading: boolean;
  readonly error: unknown;
  readonly setError: Dispatch<SetStateAction<unknown>>;
  /** Pages loaded since the first page (1 after it). */
  readonly pages: number;
  /** Appends the next page (items already shown are not repeated). */
  readonly loadMore: () => Promise<void>;
}

/**
 * A list read from the API in keyset pages: the first page whenever the query changes (the previous
 * request aborted), more on request. The list pages of the console share it.
 */
export function usePagedList<T extends { id: string }>(
  path: string,
  query: NonNullable<RequestOptions['query']>,
  options: PagedListOptions<T> = {},
): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [pages, setPages] = useState(1);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const { reload = 0, clearOnError = false } = options;
  const onFirstPage = useRef(options.onFirstPage);
  onFirstPage.current = options.onFirstPage;
  const shown = useRef<{ query: unknown; path: string } | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    // A new query (not a live reload of the same one) shows the list as loading.
    if (shown.current?.query !== query || shown.current.path !== path) {
      shown.current = { query, path };
      setLoading(true);
      setError(null);
    }
    api<Page<T>>(path, { query, signal: controller.signal })
      .then((page) => {
        setItems(page.items);
        setCursor(page.next_cursor);
        setPages(1);
        onFirstPage.current?.(page);
        setLoading(false);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (caught instanceof DOMException) return;
        if (clearOnError) {
          setItems([]);
          setCursor(null);
        }
        setError(caught);
        setLoading(false);
      });
    return () => controller.abort();
  }, [path, query, reload, clearOnError]);

  const loadMore = useCallback(async () => {
    if (!cursor) return;
    try {
      const page = await api<Page<T>>(path, { query: { ...query, cursor } });
      setItems((list) => {
        const known = new Set(list.map((item) => item.id));
        return [...list, ...page.items.filter((item) => !known.has(item.id))];
      });
      setCursor(page.next_cursor);
      setPages((n) => n + 1);
    } catch (caught) {
      setError(caught);
    }
  }, [path, query, cursor]);

  return { items, setItems, cursor, setCursor, loading, error, setError, pages, loadMore };
}
