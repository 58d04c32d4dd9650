/**
 * The decoded shapes: BinXml nodes (what a chunk's bytes say) and JSON values (what we emit).
 * Templates are decoded once per chunk into nodes; each record only decodes its substitution values
 * and renders the template's nodes with them.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type BinXmlNode = ElementNode | TextNode | SubstitutionNode | TemplateInstanceNode;
export type AttributePart = TextNode | SubstitutionNode;

export interface ElementNode {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: readonly AttributeNode[];
  readonly children: readonly BinXmlNode[];
  /** Every child is an element (no text, substitutions or instances): lets rendering skip collecting. */
  readonly onlyElements: boolean;
  /**
   * When every child's JSON key is known from the template alone (element names, literal Data names)
   * and they are distinct and ordinary, the keys in child order; otherwise null.
   */
  readonly childKeys: readonly string[] | null;
}

export interface AttributeNode {
  readonly name: string;
  readonly parts: readonly AttributePart[];
}

/** Literal character data: value text, CDATA, character and entity references (already resolved). */
export interface TextNode {
  readonly kind: 'text';
  readonly value: string;
}

/** A hole in a template, filled from the instance's value array by index. */
export interface SubstitutionNode {
  readonly kind: 'substitution';
  readonly index: number;
  readonly valueType: number;
  readonly optional: boolean;
}

export interface TemplateInstanceNode {
  readonly kind: 'instance';
  readonly template: TemplateDefinition;
  readonly values: readonly SubstitutionValue[];
}

export interface TemplateDefinition {
  /** Chunk-relative offset of the definition; the cache key. */
  readonly offset: number;
  readonly nodes: readonly BinXmlNode[];
}

/** A substitution value that is itself a BinXml fragment (value type 0x21), rendered as XML children. */
export class EmbeddedXml {
  constructor(readonly nodes: readonly BinXmlNode[]) {}
}

export type SubstitutionValue = JsonValue | EmbeddedXml;
