import { ChainVerifier, type ChainProblem } from '../core/audit-chain.js';
import { listOrganizations } from '../storage/identity-repository.js';
import { readAuditChain, readAuditHead } from '../storage/audit-repository.js';
import type { ServiceContext } from './context.js';

export interface ChainReport {
  readonly orgId: string;
  readonly orgSlug: string;
  readonly records: number;
  readonly headSeq: number;
  readonly problem: ChainProblem | null;
}

/**
 * Recomputes every organisation's chain from the stored records. Streams in batches, so memory stays
 * flat however long the chain. A report with a `problem` names the first bad record.
 */
export async function verifyAuditChains(context: ServiceContext): Promise<ChainReport[]> {
  const reports: ChainReport[] = [];
  for (const org of await listOrganizations(context.database.db)) {
    const verifier = new ChainVerifier(context.sha256);
    for await (const entry of readAuditChain(context.database.db, org.id)) {
      if (!verifier.add(entry)) break;
    }
    const head = await readAuditHead(context.database.db, org.id);
    reports.push({
      orgId: org.id,
      orgSlug: org.slug,
      records: verifier.count,
      headSeq: head?.seq ?? 0,
      problem: verifier.finish(head),
    });
  }
  return reports;
}

/** One line a person can act on. */
export function describeProblem(problem: ChainProblem): string {
  switch (problem.kind) {
    case 'sequence_gap':
      return `record ${problem.entry.id} has seq ${problem.entry.seq} where ${problem.expectedSeq} was expected: records were removed or reordered`;
    case 'broken_link':
      return `record ${problem.entry.id} (seq ${problem.entry.seq}) does not link to the record before it: a record was removed, reordered or altered`;
    case 'hash_mismatch':
      return `record ${problem.entry.id} (seq ${problem.entry.seq}) was altered: its content no longer matches its hash`;
    case 'head_mismatch':
      return `the chain ends before the recorded head (seq ${problem.expectedSeq}): records were removed from the end`;
  }
}
