/**
 * Renders decoded BinXml as the JSON shape evtx dump tools print:
 * - an element with only text becomes its value (typed: numbers stay numbers), with no content `null`;
 * - attributes go under `#attributes` (attributes whose value is absent are left out), text beside
 *   child elements or attributes under `#text`;
 * - `<Data Name="X">v</Data>` becomes `"X": v` (EventData flattening), wherever a Data element has a Name;
 *   Data elements without a Name are gathered as `"Data": {"#text": v}` or `{"#text": [v1, v2, ...]}`;
 * - trailing whitespace of element text is dropped;
 * - a repeated child name gets a numbered key: `Header`, `Header_1`, `Header_2`, ...
 */
import { EvtxFormatError, fail } from './binary.js';
import {
  EmbeddedXml,
  type AttributePart,
  type BinXmlNode,
  type ElementNode,
  type JsonObject,
  type JsonValue,
  type SubstitutionValue,
} from './model.js';

export interface RenderLimits {
  readonly maxDepth: number;
  /** Total nodes visited for one record; bounds template fan-out. */
  readonly maxNodes: number;
  /** Nodes left for the rest of the chunk, shared by its records and spent as they render. */
  readonly chunkBudget: { remaining: number };
}

type Values = readonly SubstitutionValue[];
const NO_VALUES: Values = [];

interface Content {
  readonly elements: Array<{ element: ElementNode; values: Values }>;
  readonly texts: JsonValue[];
}

/** Renders one record's nodes to `{ RootName: ... }`. Throws EvtxFormatError when there is no element or a limit is hit. */
export function renderRecordJson(nodes: readonly BinXmlNode[], limits: RenderLimits): JsonObject {
  const budget = limits.chunkBudget;
  if (budget.remaining <= 0) fail('chunk_budget', 'the chunk has spent its rendering budget');
  const fromChunk = budget.remaining < limits.maxNodes;
  const state: RenderState = {
    nodes: 0,
    limits: { ...limits, maxNodes: Math.min(limits.maxNodes, budget.remaining) },
  };
  try {
    const content: Content = { elements: [], texts: [] };
    collect(nodes, NO_VALUES, content, state, 0);
    const root = content.elements[0];
    if (root === undefined) return fail('no_root_element', 'record has no root element');
    return { [root.element.name]: renderElement(root.element, root.values, state, 0) };
  } catch (error) {
    if (fromChunk && error instanceof EvtxFormatError && error.code === 'too_large') {
      fail('chunk_budget', 'the chunk has spent its rendering budget');
    }
    throw error;
  } finally {
    budget.remaining -= state.nodes;
  }
}

interface RenderState {
  nodes: number;
  readonly limits: RenderLimits;
}

function collect(
  nodes: readonly BinXmlNode[],
  values: Values,
  out: Content,
  state: RenderState,
  depth: number,
): void {
  if (depth > state.limits.maxDepth) fail('too_deep', 'rendering nested too deep');
  for (const node of nodes) {
    if (++state.nodes > state.limits.maxNodes)
      fail('too_large', `record expands to more than ${state.limits.maxNodes} nodes`);
    switch (node.kind) {
      case 'element':
        out.elements.push({ element: node, values });
        break;
      case 'text':
        out.texts.push(node.value);
        break;
      case 'substitution': {
        const value = values[node.index];
        if (value === undefined || value === null) break;
        if (value instanceof EmbeddedXml) collect(value.nodes, NO_VALUES, out, state, depth + 1);
        else out.texts.push(value);
        break;
      }
      case 'instance':
        collect(node.template.nodes, node.values, out, state, depth + 1);
        break;
    }
  }
}

function renderElement(
  element: ElementNode,
  values: Values,
  state: RenderState,
  depth: number,
  skipName = false,
): JsonValue {
  if (depth > state.limits.maxDepth) fail('too_deep', 'rendering nested too deep');
  let attributes: JsonObject | null = null;
  for (const attribute of element.attributes) {
    if (skipName && attribute.name === 'Name') continue;
    // Attribute parts count against the budget too: a template may hold thousands of them.
    state.nodes += attribute.parts.length;
    if (state.nodes > state.limits.maxNodes) {
      fail('too_large', `record expands to more than ${state.limits.maxNodes} nodes`);
    }
    const value = attributeValue(attribute.parts, values);
    if (value === null) continue;
    setOwn((attributes ??= {}), attribute.name, value);
  }
  const simple = simpleText(element.children, values);
  if (simple !== NOT_SIMPLE) {
    // Fast path for the common shapes: no content, or one text or value.
    state.nodes += element.children.length;
    const text = trimText(simple);
    if (attributes === null) return text ?? null;
    const result: JsonObject = { '#attributes': attributes };
    if (text !== undefined) result['#text'] = text;
    return result;
  }
  const keys = element.childKeys;
  if (keys !== null) {
    // Fastest path: children are elements whose keys the template fixed, distinct and ordinary.
    const result: JsonObject = {};
    if (attributes !== null) result['#attributes'] = attributes;
    const children = element.children;
    state.nodes += children.length;
    if (state.nodes > state.limits.maxNodes) {
      fail('too_large', `record expands to more than ${state.limits.maxNodes} nodes`);
    }
    for (let i = 0; i < children.length; i++) {
      const child = children[i] as ElementNode;
      result[keys[i] as string] = renderElement(child, values, state, depth + 1, child.name === 'Data');
    }
    return result;
  }
  if (element.onlyElements) {
    // Fast path: children are all elements of this same template, so nothing needs collecting.
    const result: JsonObject = {};
    if (attributes !== null) result['#attributes'] = attributes;
    const sink: ChildSink = { result, unnamed: undefined, unnamedValues: undefined };
    for (const child of element.children) {
      if (++state.nodes > state.limits.maxNodes) {
        fail('too_large', `record expands to more than ${state.limits.maxNodes} nodes`);
      }
      addChild(sink, child as ElementNode, values, state, depth);
    }
    return result;
  }
  const content: Content = { elements: [], texts: [] };
  collect(element.children, values, content, state, depth + 1);
  const text = trimText(joinTexts(content.texts));

  if (content.elements.length === 0) {
    if (attributes === null) return text ?? null;
    const result: JsonObject = { '#attributes': attributes };
    if (text !== undefined) result['#text'] = text;
    return result;
  }

  const result: JsonObject = {};
  if (attributes !== null) result['#attributes'] = attributes;
  const sink: ChildSink = { result, unnamed: undefined, unnamedValues: undefined };
  for (const { element: child, values: childValues } of content.elements) {
    addChild(sink, child, childValues, state, depth);
  }
  if (text !== undefined && !(typeof text === 'string' && text.trim() === '')) result['#text'] = text;
  return result;
}

/** Where an element's children go, plus the gathered Data elements without a Name. */
interface ChildSink {
  readonly result: JsonObject;
  unnamed: { '#text': JsonValue } | undefined;
  unnamedValues: JsonValue[] | undefined;
}

function addChild(
  sink: ChildSink,
  child: ElementNode,
  values: Values,
  state: RenderState,
  depth: number,
): void {
  if (child.name === 'Data') {
    const dataName = dataNameOf(child, values);
    if (dataName !== undefined) {
      addKey(sink.result, dataName, renderElement(child, values, state, depth + 1, true));
      return;
    }
    // Data elements without a Name are gathered, in order, under one "Data": {"#text": value | [values]}.
    const item = renderElement(child, values, state, depth + 1) ?? '';
    if (sink.unnamed === undefined) {
      sink.unnamed = { '#text': item };
      sink.unnamedValues = [item];
      addKey(sink.result, 'Data', sink.unnamed);
    } else {
      (sink.unnamedValues as JsonValue[]).push(item);
      sink.unnamed['#text'] = sink.unnamedValues as JsonValue[];
    }
    return;
  }
  addKey(sink.result, child.name, renderElement(child, values, state, depth + 1));
}

/**
 * Adds `key`, or for a name already present `key_1`, `key_2`, ... (as evtx dump tools do). Keys come
 * from the file, so names like `__proto__` or `constructor` must become plain own properties.
 */
function addKey(target: JsonObject, key: string, value: JsonValue): void {
  // Fast path: nothing own or inherited under this name (JSON values are never undefined).
  if (target[key] === undefined) {
    target[key] = value;
    return;
  }
  let counters = DUPLICATES.get(target);
  if (counters === undefined) {
    counters = new Map();
    DUPLICATES.set(target, counters);
  }
  // Remember where numbering stopped, so thousands of repeats stay linear.
  let n = counters.get(key) ?? 1;
  let name = Object.hasOwn(target, key) ? `${key}_${n}` : key;
  while (Object.hasOwn(target, name)) name = `${key}_${++n}`;
  counters.set(key, n + 1);
  setOwn(target, name, value);
}

/** Next suffix per repeated name, per object being built (only for objects that have repeats). */
const DUPLICATES = new WeakMap<JsonObject, Map<string, number>>();

/** Sets an own property, even for `__proto__` (a plain assignment would replace the prototype). */
function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const NOT_SIMPLE = Symbol('not simple');

/** The element's text when its content is empty or one text/value node; NOT_SIMPLE otherwise. */
function simpleText(
  children: readonly BinXmlNode[],
  values: Values,
): JsonValue | undefined | typeof NOT_SIMPLE {
  if (children.length === 0) return undefined;
  if (children.length !== 1) return NOT_SIMPLE;
  const only = children[0] as BinXmlNode;
  if (only.kind === 'text') return only.value;
  if (only.kind !== 'substitution') return NOT_SIMPLE;
  const value = values[only.index];
  if (value === undefined || value === null) return undefined;
  if (value instanceof EmbeddedXml) return NOT_SIMPLE;
  return value;
}

function dataNameOf(element: ElementNode, values: Values): string | undefined {
  for (const attribute of element.attributes) {
    if (attribute.name !== 'Name') continue;
    const value = attributeValue(attribute.parts, values);
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** An attribute's value: one part keeps its type, several are joined as text; absent when every part is. */
function attributeValue(parts: readonly AttributePart[], values: Values): JsonValue {
  if (parts.length === 1) return partValue(parts[0] as AttributePart, values);
  const texts: JsonValue[] = [];
  for (const part of parts) {
    const value = partValue(part, values);
    if (value !== null) texts.push(value);
  }
  return joinTexts(texts) ?? null;
}

function partValue(part: AttributePart, values: Values): JsonValue {
  if (part.kind === 'text') return part.value;
  const value = values[part.index];
  if (value === undefined || value instanceof EmbeddedXml) return null;
  return value;
}

/**
 * Trailing whitespace of element text is dropped, as evtx dump tools do; leading whitespace stays
 * (their output keeps it, e.g. in classic events' unnamed Data values). Attributes are left as they are.
 */
function trimText(value: JsonValue | undefined): JsonValue | undefined {
  return typeof value === 'string' ? value.trimEnd() : value;
}

function joinTexts(texts: JsonValue[]): JsonValue | undefined {
  if (texts.length === 0) return undefined;
  if (texts.length === 1) return texts[0] as JsonValue;
  let s = '';
  for (const t of texts) s += textOf(t);
  return s;
}

function textOf(value: JsonValue): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.map(textOf).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
