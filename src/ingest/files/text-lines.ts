/** Splitting decoded text into lines, in constant memory. */

/** One line of text and its 1-based number. */
export interface TextLine {
  readonly line: number;
  readonly text: string;
}

/**
 * Decodes UTF-8 byte pieces into text (invalid bytes become U+FFFD, a leading byte-order mark is
 * dropped); a character split across pieces is kept whole.
 */
export async function* decodeUtf8(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8'); // ignoreBOM false: the BOM is consumed
  for await (const piece of pieces) {
    const text = decoder.decode(piece, { stream: true });
    if (text !== '') yield text;
  }
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}

/**
 * Yields the non-blank lines of the text (LF or CRLF endings; a last line without a break counts).
 * A line longer than `maxChars` is not held: it is reported through `onTooLong` with its number and
 * skipped, so memory stays bounded whatever the input.
 */
export async function* splitLines(
  chunks: AsyncIterable<string>,
  maxChars: number,
  onTooLong: (line: number) => void,
): AsyncGenerator<TextLine> {
  let buffer = '';
  let breaks = 0; // line breaks consumed so far
  let skipping = false; // inside a line already reported as too long
  const emit = (raw: string): TextLine | undefined => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.length > maxChars) {
      onTooLong(breaks);
      return undefined;
    }
    return text.trim() === '' ? undefined : { line: breaks, text };
  };
  for await (const chunk of chunks) {
    buffer += chunk;
    let from = 0;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n', from)) {
      const raw = buffer.slice(from, nl);
      from = nl + 1;
      breaks++;
      if (skipping) {
        skipping = false;
        continue;
      }
      const line = emit(raw);
      if (line) yield line;
    }
    buffer = from === 0 ? buffer : buffer.slice(from);
    if (buffer.length > maxChars) {
      if (!skipping) onTooLong(breaks + 1);
      skipping = true;
      buffer = '';
    }
  }
  if (buffer !== '' && !skipping) {
    breaks++;
    const line = emit(buffer);
    if (line) yield line;
  }
}
