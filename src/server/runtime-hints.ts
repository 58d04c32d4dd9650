/**
 * Advice about how the Node.js process was started, logged once at start-up. Pure.
 *
 * The ingestion pipeline's main thread allocates a batch's worth of short-lived objects every few
 * milliseconds; with V8's default young generation (16 MiB semi-spaces) many of them survive a
 * scavenge and are copied, and two helper threads take CPU from the pipeline. 64 MiB semi-spaces
 * gave 8–12 % more syslog events per second end to end (docs/benchmarks.md). V8 reads the size when
 * the heap is created, so it can only be a flag on the command line or in NODE_OPTIONS.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size';
export const RECOMMENDED_SEMI_SPACE_MIB = 64;

export function youngGenerationHint(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string | null {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  if (given.some((arg) => arg === SEMI_SPACE_FLAG || arg.startsWith(`${SEMI_SPACE_FLAG}=`))) return null;
  return (
    `Node.js runs with its default young generation; for more ingestion throughput start it with ` +
    `${SEMI_SPACE_FLAG}=${RECOMMENDED_SEMI_SPACE_MIB} (npm start does) or put the flag in NODE_OPTIONS`
  );
}
