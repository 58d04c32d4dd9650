import { describe, expect, it } from 'vitest';
import { StreamFramer, trimTrailers, utf8Boundary, type FramerLimits } from './framing.js';

interface Out {
  text: string;
  truncated: boolean;
}

function frame(chunks: Buffer[], limits: FramerLimits = { maxFrameBytes: 1024, maxOctetCount: 4096 }) {
  const framer = new StreamFramer(limits);
  const out: Out[] = [];
  const emit = (text: string, truncated: boolean) => out.push({ text, truncated });
  for (const chunk of chunks) {
    const error = framer.push(chunk, emit);
    if (error !== undefined) return { out, error, end: undefined };
  }
  return { out, error: undefined, end: framer.end(emit) };
}

const texts = (r: { out: Out[] }) => r.out.map((o) => o.text);
const octet = (msg: string) => `${Buffer.byteLength(msg)} ${msg}`;
/** Every split of a buffer into single bytes. */
const bytes = (s: string | Buffer) => [...Buffer.from(s)].map((b) => Buffer.from([b]));

describe('StreamFramer: non-transparent framing', () => {
  it('splits on LF, drops a CR before it, accepts NUL as a trailer, skips empty frames', () => {
    const r = frame([Buffer.from('<13>one\n<13>two\r\n<13>three\0\n\n<13>four\n')]);
    expect(texts(r)).toEqual(['<13>one', '<13>two', '<13>three', '<13>four']);
    expect(r.end).toBe('clean');
  });

  it('reads a line that starts with digits but no space as a line', () => {
    expect(texts(frame([Buffer.from('2026-01-01 boot\n12\n')]))).toEqual(['2026-01-01 boot', '12']);
  });

  it('delivers a partial last line at end of stream', () => {
    const r = frame([Buffer.from('<13>a\n<13>partial')]);
    expect(texts(r)).toEqual(['<13>a', '<13>partial']);
    expect(r.end).toBe('partial_line_delivered');
  });

  it('cuts a line over the limit, discards to the next LF and carries on', () => {
    const long = 'x'.repeat(100);
    const r = frame([Buffer.from(`<13>${long}\n<13>next\n`)], { maxFrameBytes: 20, maxOctetCount: 80 });
    expect(r.out).toEqual([
      { text: `<13>${'x'.repeat(16)}`, truncated: true },
      { text: '<13>next', truncated: false },
    ]);
  });

  it('cuts a long line that arrives in many chunks the same way', () => {
    const r = frame(bytes(`<13>${'y'.repeat(50)}\n<13>ok\n`), { maxFrameBytes: 20, maxOctetCount: 80 });
    expect(r.out).toEqual([
      { text: `<13>${'y'.repeat(16)}`, truncated: true },
      { text: '<13>ok', truncated: false },
    ]);
  });

  it('never cuts inside a UTF-8 character', () => {
    // 'é' is two bytes; a 6-byte limit falls between them.
    const r = frame([Buffer.from('<1>aéé\n')], { maxFrameBytes: 5, maxOctetCount: 80 });
    expect(r.out).toEqual([{ text: '<1>a', truncated: true }]);
  });

  it('replaces invalid UTF-8 with U+FFFD instead of throwing', () => {
    const r = frame([
      Buffer.concat([Buffer.from('<13>bad '), Buffer.from([0xff, 0xc3]), Buffer.from(' end\n')]),
    ]);
    expect(texts(r)).toEqual(['<13>bad \uFFFD\uFFFD end']);
  });
});

describe('StreamFramer: octet counting', () => {
  it('reads counted frames, including ones with newlines inside', () => {
    const r = frame([Buffer.from(octet('<13>one') + octet('<13>multi\nline') + octet('<13>é'))]);
    expect(texts(r)).toEqual(['<13>one', '<13>multi\nline', '<13>é']);
  });

  it('drops a trailing LF some senders put inside the count', () => {
    expect(texts(frame([Buffer.from(octet('<13>x\n'))]))).toEqual(['<13>x']);
  });

  it('mixes framings on one stream, frame by frame', () => {
    const stream = `${octet('<13>counted')}<13>line\n${octet('<13>again')}<13>last\n`;
    const expected = ['<13>counted', '<13>line', '<13>again', '<13>last'];
    expect(texts(frame([Buffer.from(stream)]))).toEqual(expected);
    expect(texts(frame(bytes(stream)))).toEqual(expected);
  });

  it('cuts a count over the frame limit but within the octet limit and skips the rest', () => {
    const big = `<13>${'z'.repeat(60)}`;
    const r = frame(bytes(octet(big) + octet('<13>after')), { maxFrameBytes: 10, maxOctetCount: 100 });
    expect(r.out).toEqual([
      { text: '<13>zzzzzz', truncated: true },
      { text: '<13>after', truncated: false },
    ]);
  });

  it('refuses an absurd count without allocating it', () => {
    const r = frame([Buffer.from(`${octet('<13>ok')}99999999999 <13>`)]);
    expect(texts(r)).toEqual(['<13>ok']);
    expect(r.error?.code).toBe('syslog_octet_count_too_large');
  });

  it('refuses a run of more digits than any count', () => {
    const r = frame([Buffer.from('1'.repeat(16))]);
    expect(r.error?.code).toBe('syslog_octet_count_too_long');
  });

  it('reports a counted frame cut short by the end of the stream, and delivers nothing of it', () => {
    const r = frame([Buffer.from(`${octet('<13>ok')}20 <13>short`)]);
    expect(texts(r)).toEqual(['<13>ok']);
    expect(r.end).toBe('partial_octet_frame');
  });
});

describe('byte helpers', () => {
  it('utf8Boundary steps back over an incomplete sequence only', () => {
    const b = Buffer.from('a€'); // € = e2 82 ac
    expect(utf8Boundary(b, 4)).toBe(4);
    expect(utf8Boundary(b, 3)).toBe(1);
    expect(utf8Boundary(b, 2)).toBe(1);
    expect(utf8Boundary(Buffer.from([0x61, 0xff]), 2)).toBe(2);
  });

  it('trimTrailers removes trailing LF, CR and NUL', () => {
    expect(trimTrailers(Buffer.from('<13>x\r\n\0'))).toBe('<13>x');
    expect(trimTrailers(Buffer.from('\n\n'))).toBe('');
  });
});
