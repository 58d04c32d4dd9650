import type { Phase } from './incident-lifecycle.js';
import type {
  AlertStatus,
  AnalysisResolution,
  DismissReason,
  IncidentCategory,
  ObservableType,
  Role,
  Severity,
  TaskStatus,
  Tlp,
} from './vocabulary.js';

/** Domain records (camelCase, readonly). Storage maps rows to these; presenters map these to the wire. */

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly createdAt: string;
}

export interface User {
  readonly id: string;
  readonly orgId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Incident {
  readonly id: string;
  readonly orgId: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly category: IncidentCategory;
  readonly tlp: Tlp;
  readonly phase: Phase;
  readonly assigneeId: string | null;
  readonly personalData: boolean;
  readonly resolution: AnalysisResolution | null;
  readonly reviewSummary: string | null;
  readonly phaseEnteredAt: Readonly<Partial<Record<Phase, string>>>;
  readonly detectedAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly acknowledgedAt: string | null;
  readonly containedAt: string | null;
  readonly remediatedAt: string | null;
  readonly closedAt: string | null;
}

export interface ObservableInput {
  readonly type: ObservableType;
  readonly value: string;
}

/** An alert without its raw payload: what lists carry (payloads can be large). */
export type AlertSummary = Omit<Alert, 'payload'>;

export interface Alert {
  readonly id: string;
  readonly orgId: string;
  readonly title: string;
  readonly source: string;
  readonly rule: string | null;
  /** The stored detection rule that raised it, when a rule did. */
  readonly ruleId: string | null;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly dismissReason: DismissReason | null;
  readonly dismissComment: string | null;
  readonly dedupKey: string | null;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly occurrenceCount: number;
  readonly payload: unknown;
  readonly incidentId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly description: string | null;
  /** When the source said the condition ended; null while it lasts (a new firing clears it). */
  readonly resolvedAt: string | null;
}

export interface Observable {
  readonly id: string;
  readonly orgId: string;
  readonly type: ObservableType;
  readonly value: string;
  readonly ioc: boolean;
  readonly tlp: Tlp;
  readonly description: string;
  readonly sightings: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export interface Task {
  readonly id: string;
  readonly orgId: string;
  readonly incidentId: string;
  readonly title: string;
  readonly description: string;
  readonly status: TaskStatus;
  readonly assigneeId: string | null;
  readonly position: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt: string | null;
}

export interface Note {
  readonly id: string;
  readonly orgId: string;
  readonly incidentId: string;
  readonly authorKind: string;
  readonly authorId: string;
  readonly authorName: string;
  readonly body: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ApiToken {
  readonly id: string;
  readonly orgId: string;
  readonly userId: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** A page of a keyset-paginated list; `nextCursor` is null on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}
