import { describe, expect, it } from 'vitest';
import { parseEvtx, type EvtxRecord } from '../../../src/ingest/evtx/index.js';
import { buildChunk, buildFile, val, type RecordSpec, type Template, type XNode } from './evtx-builder.js';

const NS = 'http://schemas.microsoft.com/win/2004/08/events/event';

function decode(records: RecordSpec[]): { records: EvtxRecord[]; problems: unknown[] } {
  const parse = parseEvtx(buildFile([buildChunk(records).bytes]));
  const out = [...parse];
  return { records: out, problems: parse.stats.problems };
}

function eventOf(nodes: XNode[]): unknown {
  const { records, problems } = decode([{ id: 1, nodes }]);
  expect(problems).toEqual([]);
  expect(records).toHaveLength(1);
  return (records[0] as EvtxRecord).event;
}

/** One template with a Data element per value, named after the value's position. */
function dataTemplate(types: number[]): Template {
  return {
    id: 100 + types.length,
    body: [
      {
        el: 'Event',
        children: [
          {
            el: 'EventData',
            children: types.map((type, i) => ({
              el: 'Data',
              attrs: [['Name', [{ text: `v${i}` }]]],
              children: [{ sub: i, type }],
            })),
          },
        ],
      },
    ],
  };
}

describe('value types render like evtx dump tools', () => {
  const cases: Array<[string, ReturnType<(typeof val)[keyof typeof val]>, unknown]> = [
    ['string', val.string('hello'), 'hello'],
    ['ANSI string', val.ansi('caf\xe9'), 'caf\xe9'],
    ['int8', val.int8(-5), -5],
    ['uint8', val.uint8(200), 200],
    ['int16', val.int16(-300), -300],
    ['uint16', val.uint16(65000), 65000],
    ['int32', val.int32(-70000), -70000],
    ['uint32', val.uint32(4_000_000_000), 4_000_000_000],
    ['int64', val.int64(-5n), -5],
    ['uint64 within 2^53', val.uint64(9_007_199_254_740_991n), 9_007_199_254_740_991],
    [
      'uint64 beyond 2^53 (decimal string, no precision lost)',
      val.uint64(18_446_744_073_709_551_615n),
      '18446744073709551615',
    ],
    ['real32', val.real32(1.5), 1.5],
    ['real32 as its shortest decimal', val.real32(1.1), 1.1],
    ['real32 small', val.real32(3.4e-20), 3.4e-20],
    ['real64', val.real64(-2.25), -2.25],
    ['bool', val.bool(true), true],
    ['binary', val.binary([0x01, 0xab, 0xff]), '01ABFF'],
    ['GUID', val.guid('5770385F-C22A-43E0-BF4C-06F5698FFBD9'), '5770385F-C22A-43E0-BF4C-06F5698FFBD9'],
    ['SizeT', val.sizeT64(0x7ff6abcdn), '0x7ff6abcd'],
    ['FILETIME', val.filetime(Date.UTC(2024, 0, 2, 3, 4, 5, 678), 19n), '2024-01-02T03:04:05.678001Z'],
    [
      'SYSTEMTIME',
      val.systemtime(new Date(Date.UTC(2023, 11, 31, 23, 59, 58, 123))),
      '2023-12-31T23:59:58.123000Z',
    ],
    [
      'SID',
      val.sid('S-1-5-21-1004336348-1177238915-682003330-512'),
      'S-1-5-21-1004336348-1177238915-682003330-512',
    ],
    ['HexInt32', val.hex32(0x1a2c), '0x1a2c'],
    ['HexInt64', val.hex64(0x8000000000000000n), '0x8000000000000000'],
    ['string array', val.stringArray(['x', 'yy']), ['x', 'yy']],
    ['uint16 array', val.uint16Array([1, 2, 3]), [1, 2, 3]],
  ];
  it.each(cases)('%s', (_name, value, expected) => {
    expect(eventOf([{ instance: dataTemplate([value.type]), values: [value] }])).toEqual({
      Event: { EventData: { v0: expected } },
    });
  });

  it('decodes long strings and surrogate pairs, and replaces unpaired surrogates', () => {
    const long = 'x'.repeat(700) + ' \u00e9\u4e2d\ud83d\ude00 end';
    const t = dataTemplate([1, 1, 1]);
    expect(
      eventOf([
        { instance: t, values: [val.string(long), val.string('\ud83d\ude00'), val.string('a\ud800b')] },
      ]),
    ).toEqual({ Event: { EventData: { v0: long, v1: '\ud83d\ude00', v2: 'a\ufffdb' } } });
  });

  it('drops trailing whitespace of element text but keeps leading and inner whitespace', () => {
    const v = val.string('  a  b \r\n');
    expect(eventOf([{ instance: dataTemplate([1]), values: [v] }])).toEqual({
      Event: { EventData: { v0: '  a  b' } },
    });
  });

  it('gives an empty Data element an empty string and an absent one null', () => {
    const t = dataTemplate([1, 1]);
    expect(eventOf([{ instance: t, values: [val.string(''), val.null()] }])).toEqual({
      Event: { EventData: { v0: '', v1: null } },
    });
  });
});

describe('element shapes', () => {
  it('puts attributes under #attributes, drops absent ones, and keeps typed text beside them', () => {
    const t: Template = {
      id: 1,
      body: [
        {
          el: 'Event',
          attrs: [['xmlns', [{ text: NS }]]],
          children: [
            {
              el: 'System',
              children: [
                {
                  el: 'Provider',
                  attrs: [
                    ['Name', [{ sub: 0, type: 1, optional: true }]],
                    ['Guid', [{ sub: 1, type: 0x0f, optional: true }]],
                  ],
                },
                {
                  el: 'EventID',
                  attrs: [['Qualifiers', [{ sub: 2, type: 6, optional: true }]]],
                  children: [{ sub: 3, type: 6 }],
                },
                { el: 'Correlation', attrs: [['ActivityID', [{ sub: 4, type: 0x0f, optional: true }]]] },
                { el: 'Keywords', children: [{ sub: 5, type: 0x15 }] },
              ],
            },
          ],
        },
      ],
    };
    const event = eventOf([
      {
        instance: t,
        values: [
          val.string('Prov'),
          val.null(),
          val.uint16(16384),
          val.uint16(7036),
          val.null(),
          val.hex64(0x8080000000000000n),
        ],
      },
    ]);
    expect(event).toEqual({
      Event: {
        '#attributes': { xmlns: NS },
        System: {
          Provider: { '#attributes': { Name: 'Prov' } },
          EventID: { '#attributes': { Qualifiers: 16384 }, '#text': 7036 },
          Correlation: null,
          Keywords: '0x8080000000000000',
        },
      },
    });
  });

  it('gathers unnamed Data elements under Data/#text and numbers other repeated names', () => {
    const event = eventOf([
      {
        el: 'Event',
        children: [
          {
            el: 'EventData',
            attrs: [['Name', [{ text: 'TaskDisabled' }]]],
            children: [
              { el: 'Data', children: [{ text: 'sa' }] },
              { el: 'Data', children: [{ text: ' Reason: no match.' }] },
              { el: 'Data', attrs: [['Name', [{ text: 'Named' }]]], children: [{ text: 'x' }] },
              { el: 'Data' },
              { el: 'Binary', children: [{ text: '00FF' }] },
            ],
          },
          {
            el: 'Extra',
            children: [
              { el: 'Header', children: [{ text: 'a' }] },
              { el: 'Header', children: [{ text: 'b' }] },
              { el: 'Header' },
            ],
          },
          { el: 'Single', children: [{ el: 'Data', children: [{ text: 'MIXED' }] }, { el: 'Binary' }] },
        ],
      },
    ]);
    expect(event).toEqual({
      Event: {
        EventData: {
          '#attributes': { Name: 'TaskDisabled' },
          Data: { '#text': ['sa', ' Reason: no match.', ''] },
          Named: 'x',
          Binary: '00FF',
        },
        Extra: { Header: 'a', Header_1: 'b', Header_2: null },
        Single: { Data: { '#text': 'MIXED' }, Binary: null },
      },
    });
  });

  it('numbers thousands of repeated names in order', () => {
    const event = eventOf([
      {
        el: 'Event',
        children: Array.from({ length: 2500 }, (_, i) => ({ el: 'H', children: [{ text: String(i) }] })),
      },
    ]) as { Event: Record<string, string> };
    const keys = Object.keys(event.Event);
    expect(keys).toHaveLength(2500);
    expect(keys.slice(0, 3)).toEqual(['H', 'H_1', 'H_2']);
    expect(event.Event['H_2499']).toBe('2499');
  });

  it('renders embedded BinXml (UserData) with its own template instance, entity and character references', () => {
    const outer: Template = {
      id: 9,
      body: [
        {
          el: 'Event',
          children: [
            { el: 'System', children: [{ el: 'EventID', children: [{ sub: 0, type: 6 }] }] },
            { sub: 1, type: 0x21 },
          ],
        },
      ],
    };
    const inner: Template = {
      id: 11,
      body: [
        {
          el: 'LogFileCleared',
          attrs: [['xmlns', [{ text: 'urn:x' }]]],
          children: [
            { el: 'SubjectUserSid', children: [{ sub: 0, type: 0x13 }] },
            { el: 'Note', children: [{ text: 'a' }, { entity: 'amp' }, { charRef: 0x41 }, { cdata: '<b>' }] },
          ],
        },
      ],
    };
    const event = eventOf([
      {
        instance: outer,
        values: [
          val.uint16(1102),
          val.xml([{ el: 'UserData', children: [{ instance: inner, values: [val.sid('S-1-5-18')] }] }]),
        ],
      },
    ]);
    expect(event).toEqual({
      Event: {
        System: { EventID: 1102 },
        UserData: {
          LogFileCleared: { '#attributes': { xmlns: 'urn:x' }, SubjectUserSid: 'S-1-5-18', Note: 'a&A<b>' },
        },
      },
    });
  });

  it('reuses a template defined by an earlier record in the same chunk', () => {
    const t = dataTemplate([1, 8]);
    const { records, problems } = decode([
      { id: 1, nodes: [{ instance: t, values: [val.string('first'), val.uint32(1)] }] },
      { id: 2, nodes: [{ instance: t, values: [val.string('second'), val.uint32(2)] }] },
    ]);
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.recordId, r.event])).toEqual([
      [1, { Event: { EventData: { v0: 'first', v1: 1 } } }],
      [2, { Event: { EventData: { v0: 'second', v1: 2 } } }],
    ]);
  });

  it('reads elements written without the dependency identifier, with inline and earlier names', () => {
    const event = eventOf([
      {
        el: 'Event',
        children: [
          {
            el: 'System',
            noDependencyId: true,
            children: [{ el: 'Computer', noDependencyId: true, children: [{ text: 'host' }] }],
          },
          {
            el: 'Computer',
            noDependencyId: true,
            attrs: [['a', [{ text: '1' }]]],
            children: [{ text: 'again' }],
          },
        ],
      },
    ]);
    expect(event).toEqual({
      Event: { System: { Computer: 'host' }, Computer: { '#attributes': { a: '1' }, '#text': 'again' } },
    });
  });

  it('reports the record header write time', () => {
    const ms = Date.UTC(2025, 5, 1, 12, 0, 0, 250);
    const written = (BigInt(ms) + 11_644_473_600_000n) * 10_000n + 1234n;
    const { records } = decode([{ id: 42, written, nodes: [{ el: 'Event' }] }]);
    expect(records.map((r) => [r.recordId, r.timestamp, r.event])).toEqual([
      [42, '2025-06-01T12:00:00.250123Z', { Event: null }],
    ]);
  });
});

describe('names from the file cannot reach object prototypes', () => {
  it('keeps __proto__, constructor and toString as plain keys', () => {
    const event = eventOf([
      {
        el: 'Event',
        attrs: [['__proto__', [{ text: 'a' }]]],
        children: [
          { el: '__proto__', children: [{ text: 'p' }] },
          { el: 'constructor', children: [{ text: 'c' }] },
          {
            el: 'EventData',
            children: [{ el: 'Data', attrs: [['Name', [{ text: 'toString' }]]], children: [{ text: 't' }] }],
          },
        ],
      },
    ]) as { Event: Record<string, unknown> };
    expect(Object.getPrototypeOf(event.Event)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(event))).toEqual(
      JSON.parse(
        '{"Event":{"#attributes":{"__proto__":"a"},"__proto__":"p","constructor":"c","EventData":{"toString":"t"}}}',
      ),
    );
    expect(Object.keys(event.Event)).toEqual(['#attributes', '__proto__', 'constructor', 'EventData']);
    expect(
      eventOf([{ el: 'E', children: [{ entity: 'constructor' }, { entity: 'toString' }, { entity: 'lt' }] }]),
    ).toEqual({
      E: '&constructor;&toString;<',
    });
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
  });
});
