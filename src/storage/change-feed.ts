import pg from 'pg';

/** The PostgreSQL channel every committed change is announced on. */
export const CHANGE_CHANNEL = 'firebreak_changes';

export interface ChangeFeed {
  close(): Promise<void>;
}

/**
 * Listens for changes committed by any Firebreak process on the same PostgreSQL database. NOTIFY is
 * transactional, so a payload arrives only once its transaction has committed, in commit order. A
 * dropped connection is re-established after a second; changes committed while it was down are not
 * replayed (listeners that need completeness read the audit log).
 */
export async function listenForChanges(
  databaseUrl: string,
  onPayload: (payload: string) => void,
  onError: (error: unknown) => void,
): Promise<ChangeFeed> {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    next.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && message.payload) onPayload(message.payload);
    });
    next.on('error', (error) => {
      onError(error);
      next.end().catch(() => undefined);
      if (!closed && client === next) {
        client = null;
        retry = setTimeout(() => void connect().catch(onError), 1000);
      }
    });
    await next.connect();
    await next.query(`listen ${CHANGE_CHANNEL}`);
    client = next;
  };

  await connect();
  return {
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end();
    },
  };
}
