import { z } from 'zod';
import { INCIDENT_SORTS } from '../../storage/incident-repository.js';
import {
  Category,
  csvOf,
  Cursor,
  Id,
  Limit,
  LongText,
  ObservableType,
  Order,
  Phase,
  Resolution,
  Severity,
  TaskStatus,
  Timestamp,
  Title,
  Tlp,
} from '../schemas.js';

export const CreateIncidentBody = z.strictObject({
  title: Title(),
  severity: Severity,
  category: Category.optional(),
  description: LongText().optional(),
  personal_data: z.boolean().optional(),
  tlp: Tlp.optional(),
  assignee_id: Id.nullable().optional(),
  detected_at: Timestamp.optional(),
});

export const UpdateIncidentBody = z
  .strictObject({
    title: Title(),
    severity: Severity,
    category: Category,
    description: LongText(),
    personal_data: z.boolean(),
    tlp: Tlp,
    assignee_id: Id.nullable(),
    detected_at: Timestamp,
  })
  .partial();

export const ListIncidentsQuery = z.strictObject({
  phase: csvOf(Phase),
  severity: csvOf(Severity),
  category: csvOf(Category),
  assignee_id: Id.optional(),
  q: z.string().trim().max(200).optional(),
  sort: z.enum(INCIDENT_SORTS).default('created_at'),
  order: Order,
  limit: Limit,
  cursor: Cursor,
});

export const TransitionBody = z.strictObject({
  to: Phase,
  reason: LongText(10_000).optional(),
  resolution: Resolution.optional(),
  review_summary: LongText().optional(),
});

export const TimelineQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'must be the next_cursor of a previous page')
    .optional(),
});

export const MergeAlertsBody = z.strictObject({
  alert_ids: z.array(Id).min(1, 'name at least one alert').max(1000),
});

export const AddObservableBody = z.strictObject({
  type: ObservableType,
  value: z.string().min(1).max(8192),
  ioc: z.boolean().optional(),
  tlp: Tlp.optional(),
  description: LongText(10_000).optional(),
});

export const CreateTaskBody = z.strictObject({
  title: Title(),
  description: LongText(10_000).optional(),
  assignee_id: Id.nullable().optional(),
});

export const UpdateTaskBody = z
  .strictObject({
    title: Title(),
    description: LongText(10_000),
    status: TaskStatus,
    assignee_id: Id.nullable(),
  })
  .partial();

export const TaskParams = z.strictObject({ id: Id, taskId: Id });
export const NoteParams = z.strictObject({ id: Id, noteId: Id });
export const NoteBody = z.strictObject({ body: z.string().trim().min(1, 'must not be empty').max(100_000) });
