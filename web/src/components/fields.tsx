/**
 * Labelled form controls as the filter bars and dialogs lay them out (`.field`: label above control).
 * One place for the markup, so every page's controls keep the same label wiring and classes.
 */
import type { ReactNode } from 'react';
import { INCIDENT_CATEGORIES, SEVERITIES } from '../../../src/core/vocabulary.js';
import type { IncidentCategory, Severity } from '../api.js';
import { label as categoryLabel } from './ui.js';

/** A label and the control it names (`id` is the control's). */
export function Field({
  id,
  label,
  grow = false,
  children,
}: {
  id: string;
  label: ReactNode;
  grow?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={grow ? 'field grow' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

export function TextField({
  id,
  label,
  value,
  onChange,
  type = 'text',
  placeholder,
  required = false,
  grow = false,
}: {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'search' | 'date' | 'datetime-local' | 'email' | 'url';
  placeholder?: string;
  required?: boolean;
  grow?: boolean;
}) {
  return (
    <Field id={id} label={label} grow={grow}>
      <input
        id={id}
        type={type}
        value={value}
        required={required}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}

/** A choice shown as itself, or with its own label. */
export type Choice<T extends string> = T | { readonly value: T; readonly label: string };

/**
 * A select of `choices`. With `any`, an empty first option of that label (filters: "any value"), and
 * `onChange` may receive ''.
 */
export function ChoiceField<T extends string>({
  id,
  label,
  value,
  onChange,
  choices,
  any,
}: {
  id: string;
  label: ReactNode;
  value: T | '';
  onChange: (value: T) => void;
  choices: readonly Choice<T>[];
  any?: string;
}) {
  return (
    <Field id={id} label={label}>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {any !== undefined && <option value="">{any}</option>}
        {choices.map((choice) =>
          typeof choice === 'string' ? (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ) : (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ),
        )}
      </select>
    </Field>
  );
}

export const CATEGORY_CHOICES: readonly Choice<IncidentCategory>[] = INCIDENT_CATEGORIES.map((c) => ({
  value: c,
  label: categoryLabel(c),
}));

/** Severity and category of an incident about to be opened (new incident, alert promotion). */
export function IncidentClassFields({
  idPrefix,
  severity,
  category,
  onSeverity,
  onCategory,
}: {
  idPrefix: string;
  severity: Severity;
  category: IncidentCategory;
  onSeverity: (severity: Severity) => void;
  onCategory: (category: IncidentCategory) => void;
}) {
  return (
    <>
      <ChoiceField
        id={`${idPrefix}-severity`}
        label="Severity"
        value={severity}
        onChange={onSeverity}
        choices={SEVERITIES}
      />
      <ChoiceField
        id={`${idPrefix}-category`}
        label="Category"
        value={category}
        onChange={onCategory}
        choices={CATEGORY_CHOICES}
      />
    </>
  );
}
