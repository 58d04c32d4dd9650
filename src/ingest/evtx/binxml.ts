/**
 * Binary XML (BinXml) token decoding for one chunk. Offsets are chunk-relative, as in the format:
 * element and attribute names and template definitions are referenced by their offset in the chunk and
 * may appear inline the first time. Template definitions are decoded once per chunk and cached.
 *
 * Hostile input is bounded four ways: every read is bounds-checked, nesting (elements, templates,
 * embedded BinXml) is limited by `maxDepth`, a template being decoded cannot reference itself, and the
 * template bytes decoded per chunk are capped (overlapping "templates" cannot multiply the work).
 */
import { EvtxFormatError, fail, type ByteReader } from './binary.js';
import {
  EmbeddedXml,
  type AttributeNode,
  type AttributePart,
  type BinXmlNode,
  type ElementNode,
  type SubstitutionValue,
  type TemplateDefinition,
  type TemplateInstanceNode,
} from './model.js';
import { decodeValue, type EmbeddedParser } from './values.js';

const Token = {
  EndOfStream: 0x00,
  OpenStartElement: 0x01,
  CloseStartElement: 0x02,
  CloseEmptyElement: 0x03,
  EndElement: 0x04,
  Value: 0x05,
  Attribute: 0x06,
  CData: 0x07,
  CharRef: 0x08,
  EntityRef: 0x09,
  PITarget: 0x0a,
  PIData: 0x0b,
  TemplateInstance: 0x0c,
  NormalSubstitution: 0x0d,
  OptionalSubstitution: 0x0e,
  FragmentHeader: 0x0f,
} as const;

/** Tokens may carry 0x40 ("has attributes" / "more follows"); the base token is the low bits. */
const BASE_MASK = 0xbf;

const ENTITIES = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

/** The chunk header and its offset tables occupy the first 512 bytes; nothing referenced lives there. */
const CHUNK_DATA_START = 512;

export interface BinXmlLimits {
  /** Maximum nesting of elements, template instances and embedded fragments together. */
  readonly maxDepth: number;
}

/**
 * The JSON keys of element children when the template alone fixes them: distinct element names and
 * literal `Data Name`s, none special (`#text`, `#attributes`) or inherited from Object.prototype.
 */
function staticKeys(children: readonly ElementNode[]): string[] | null {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const child of children) {
    let key = child.name;
    if (key === 'Data') {
      const nameAttribute = child.attributes.find((a) => a.name === 'Name');
      const part = nameAttribute?.parts.length === 1 ? nameAttribute.parts[0] : undefined;
      if (part?.kind !== 'text') return null;
      key = part.value;
    }
    if (seen.has(key) || key === '#text' || key === '#attributes' || key in Object.prototype) return null;
    seen.add(key);
    keys.push(key);
  }
  return keys;
}

/** Failures that depend on how a template was reached, not on the template itself. */
const TRANSIENT = new Set(['too_deep', 'template_loop', 'chunk_budget']);

/** Whether `offset` can be a reference back to something defined before `here` in the chunk's data. */
function isEarlier(offset: number, here: number): boolean {
  return offset >= CHUNK_DATA_START && offset < here;
}

interface Cursor {
  pos: number;
  readonly end: number;
}

/** Decodes BinXml fragments inside one chunk, sharing that chunk's name and template caches. */
export class ChunkBinXml implements EmbeddedParser {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, TemplateDefinition>();
  private readonly brokenTemplates = new Map<number, string>();
  private readonly inProgress = new Set<number>();
  /** Template definition bytes decoded so far in this chunk. */
  private templateBytes = 0;
  /** Position just after the last name read (inline names move the cursor). */
  private afterName = 0;

  constructor(
    private readonly r: ByteReader,
    private readonly limits: BinXmlLimits,
  ) {}

  /** Decodes the fragment in [start, end). Throws EvtxFormatError on malformed tokens. */
  parseFragment(start: number, end: number, depth = 0): BinXmlNode[] {
    if (end > this.r.limit) fail('out_of_bounds', 'fragment ends past the chunk');
    return this.fragment({ pos: start, end }, depth);
  }

  private fragment(c: Cursor, depth: number): BinXmlNode[] {
    if (depth > this.limits.maxDepth) fail('too_deep', `BinXml nested deeper than ${this.limits.maxDepth}`);
    const nodes: BinXmlNode[] = [];
    while (c.pos < c.end) {
      const tok = this.r.u8(c.pos);
      switch (tok & BASE_MASK) {
        case Token.EndOfStream:
          c.pos++;
          return nodes;
        case Token.FragmentHeader:
          this.r.check(c.pos, 4);
          c.pos += 4;
          break;
        case Token.OpenStartElement:
          nodes.push(this.element(c, depth + 1));
          break;
        case Token.TemplateInstance:
          nodes.push(this.templateInstance(c, depth + 1));
          break;
        case Token.PITarget:
          this.processingInstruction(c);
          break;
        default: {
          const part = this.contentPart(c, tok);
          if (part === undefined) fail('bad_token', `unexpected token 0x${tok.toString(16)} at ${c.pos}`);
          nodes.push(part);
        }
      }
    }
    if (c.pos > c.end) fail('out_of_bounds', 'fragment overran its end');
    return nodes;
  }

  parseEmbedded(offset: number, size: number, depth: number): EmbeddedXml {
    return new EmbeddedXml(this.fragment({ pos: offset, end: offset + size }, depth));
  }

  private element(c: Cursor, depth: number): ElementNode {
    if (depth > this.limits.maxDepth) fail('too_deep', `BinXml nested deeper than ${this.limits.maxDepth}`);
    const r = this.r;
    const start = c.pos;
    const hasAttributes = (r.u8(start) & 0x40) !== 0;
    // token(1) dependency id(2) data size(4) name offset(4). Some writers leave out the dependency id.
    // A name is inline (offset = here) or defined earlier in the chunk's data, so try, in order: inline
    // with the id, inline without it, an earlier name with the id, an earlier name without it.
    let nameOffset = r.u32(start + 7);
    let here = start + 11;
    if (nameOffset !== here) {
      const shorter = r.u32(start + 5);
      if (shorter === start + 9 || (!isEarlier(nameOffset, start) && isEarlier(shorter, start))) {
        nameOffset = shorter;
        here = start + 9;
      }
    }
    const name = this.name(nameOffset, here);
    let p = this.afterName;
    const attributes: AttributeNode[] = [];
    if (hasAttributes) {
      const listSize = r.u32(p);
      p += 4;
      const listEnd = p + listSize;
      if (listEnd > c.end) fail('out_of_bounds', 'attribute list overruns its fragment');
      while (p < listEnd && (r.u8(p) & BASE_MASK) === Token.Attribute) {
        const attrName = this.name(r.u32(p + 1), p + 5);
        p = this.afterName;
        const parts: AttributePart[] = [];
        for (;;) {
          const tok = r.u8(p);
          const cur: Cursor = { pos: p, end: c.end };
          const part = this.contentPart(cur, tok, true);
          if (part === undefined) break;
          parts.push(part);
          p = cur.pos;
        }
        attributes.push({ name: attrName, parts });
      }
    }
    const close = r.u8(p);
    c.pos = p + 1;
    if (close === Token.CloseEmptyElement)
      return { kind: 'element', name, attributes, children: [], onlyElements: false, childKeys: null };
    if (close !== Token.CloseStartElement)
      fail('bad_token', `expected end of start tag, got 0x${close.toString(16)} at ${p}`);
    const children: BinXmlNode[] = [];
    for (;;) {
      if (c.pos >= c.end) fail('out_of_bounds', `element <${name}> is not closed`);
      const tok = r.u8(c.pos);
      const base = tok & BASE_MASK;
      if (base === Token.EndElement) {
        c.pos++;
        const onlyElements = children.length > 0 && children.every((child) => child.kind === 'element');
        const childKeys = onlyElements ? staticKeys(children as ElementNode[]) : null;
        return { kind: 'element', name, attributes, children, onlyElements, childKeys };
      }
      if (base === Token.OpenStartElement) children.push(this.element(c, depth + 1));
      else if (base === Token.TemplateInstance) children.push(this.templateInstance(c, depth + 1));
      else if (base === Token.PITarget) this.processingInstruction(c);
      else {
        const part = this.contentPart(c, tok);
        if (part === undefined)
          fail('bad_token', `unexpected token 0x${tok.toString(16)} in <${name}> at ${c.pos}`);
        children.push(part);
      }
    }
  }

  /** Text-like tokens and substitutions; undefined when `tok` is none of them (cursor unchanged). */
  private contentPart(c: Cursor, tok: number, inAttribute = false): AttributePart | undefined {
    const r = this.r;
    const p = c.pos;
    switch (tok & BASE_MASK) {
      case Token.Value: {
        const type = r.u8(p + 1);
        if (type !== 0x01) fail('bad_value_type', `value text of type 0x${type.toString(16)}`);
        const count = r.u16(p + 2);
        c.pos = p + 4 + count * 2;
        return { kind: 'text', value: r.utf16(p + 4, count) };
      }
      case Token.CData: {
        if (inAttribute) return undefined;
        const count = r.u16(p + 1);
        c.pos = p + 3 + count * 2;
        return { kind: 'text', value: r.utf16(p + 3, count) };
      }
      case Token.CharRef: {
        const code = r.u16(p + 1);
        c.pos = p + 3;
        return { kind: 'text', value: String.fromCharCode(code) };
      }
      case Token.EntityRef: {
        const entity = this.name(r.u32(p + 1), p + 5);
        c.pos = this.afterName;
        return { kind: 'text', value: ENTITIES.get(entity) ?? `&${entity};` };
      }
      case Token.NormalSubstitution:
      case Token.OptionalSubstitution: {
        const index = r.u16(p + 1);
        const valueType = r.u8(p + 3);
        c.pos = p + 4;
        return {
          kind: 'substitution',
          index,
          valueType,
          optional: (tok & BASE_MASK) === Token.OptionalSubstitution,
        };
      }
      default:
        return undefined;
    }
  }

  /** Processing instructions carry nothing evtx JSON shows; decode them only to step over. */
  private processingInstruction(c: Cursor): void {
    const r = this.r;
    this.name(r.u32(c.pos + 1), c.pos + 5);
    c.pos = this.afterName;
    if (c.pos < c.end && (r.u8(c.pos) & BASE_MASK) === Token.PIData) {
      const count = r.u16(c.pos + 1);
      r.check(c.pos + 3, count * 2);
      c.pos += 3 + count * 2;
    }
  }

  /**
   * A name structure: next offset(4) hash(2) character count(2) UTF-16 characters, NUL(2). When the
   * reference points at `here`, the structure is inline and the cursor moves past it.
   */
  private name(offset: number, here: number): string {
    const r = this.r;
    if (offset === here) {
      const count = r.u16(here + 6);
      const end = here + 8 + count * 2 + 2;
      r.check(here, end - here);
      let name = this.names.get(offset);
      if (name === undefined) {
        name = r.utf16(here + 8, count);
        this.names.set(offset, name);
      }
      this.afterName = end;
      return name;
    }
    this.afterName = here;
    const cached = this.names.get(offset);
    if (cached !== undefined) return cached;
    if (offset < CHUNK_DATA_START)
      fail('bad_name_offset', `name offset ${offset} points into the chunk header`);
    const count = r.u16(offset + 6);
    const name = r.utf16(offset + 8, count);
    this.names.set(offset, name);
    return name;
  }

  private templateInstance(c: Cursor, depth: number): TemplateInstanceNode {
    if (depth > this.limits.maxDepth) fail('too_deep', `BinXml nested deeper than ${this.limits.maxDepth}`);
    const r = this.r;
    const start = c.pos;
    // token(1) unknown(1) template id(4) definition offset(4)
    const defOffset = r.u32(start + 6);
    let p = start + 10;
    if (defOffset === p) {
      // Inline definition: next offset(4) GUID(16) data size(4) data.
      const size = r.u32(p + 20);
      p += 24 + size;
      if (p > c.end) fail('out_of_bounds', 'inline template definition overruns its fragment');
    }
    const template = this.template(defOffset, depth);
    const count = r.u32(p);
    p += 4;
    if (count * 4 > c.end - p) fail('bad_value_count', `template instance claims ${count} values`);
    const descriptors = p;
    p += count * 4;
    const values: SubstitutionValue[] = new Array<SubstitutionValue>(count);
    for (let i = 0; i < count; i++) {
      const size = r.u16(descriptors + i * 4);
      const type = r.u8(descriptors + i * 4 + 2);
      if (p + size > c.end) fail('out_of_bounds', `value ${i} overruns its fragment`);
      values[i] = decodeValue(r, p, size, type, this, depth + 1);
      p += size;
    }
    c.pos = p;
    return { kind: 'instance', template, values };
  }

  private template(offset: number, depth: number): TemplateDefinition {
    const cached = this.templates.get(offset);
    if (cached !== undefined) return cached;
    const broken = this.brokenTemplates.get(offset);
    if (broken !== undefined) fail('bad_template', broken);
    if (this.inProgress.has(offset)) fail('template_loop', `template at ${offset} instantiates itself`);
    if (offset < CHUNK_DATA_START)
      fail('bad_template', `template offset ${offset} points into the chunk header`);
    const size = this.r.u32(offset + 20);
    const start = offset + 24;
    if (start + size > this.r.limit) fail('bad_template', `template at ${offset} overruns the chunk`);
    // Real templates are disjoint stretches of the chunk; overlapping ones invented by a hostile chunk
    // could otherwise make it decode the same bytes thousands of times.
    this.templateBytes += size;
    if (this.templateBytes > 4 * this.r.limit)
      fail('chunk_budget', 'the chunk has spent its template budget');
    this.inProgress.add(offset);
    try {
      const nodes = this.fragment({ pos: start, end: start + size }, depth + 1);
      const definition: TemplateDefinition = { offset, nodes };
      this.templates.set(offset, definition);
      return definition;
    } catch (error) {
      // A definition that is malformed in itself fails for every record that uses it; remember why.
      // Depth and loop failures depend on where it was reached from, so they are not remembered.
      if (error instanceof EvtxFormatError && !TRANSIENT.has(error.code)) {
        this.brokenTemplates.set(offset, `template at ${offset}: ${error.message}`);
      }
      throw error;
    } finally {
      this.inProgress.delete(offset);
    }
  }
}
