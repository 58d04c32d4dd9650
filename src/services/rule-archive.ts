import yauzl from 'yauzl';
import { UserError } from '../core/errors.js';

/** A YAML text and where it came from (a zip entry, a file path), for per-document results. */
export interface RuleSource {
  readonly file: string | null;
  readonly text: string;
}

/**
 * Bounds on what a rule archive may make us decompress: a zip of a few kilobytes can declare or
 * hold gigabytes (a zip bomb). The entry count is read from the central directory before anything
 * is inflated; each rule file's declared size counts against the total before it is opened; and
 * yauzl stops a stream that inflates past its declared size, so a lying header cannot get past the
 * caps either.
 */
export interface ArchiveLimits {
  readonly maxEntries: number;
  readonly maxTotalBytes: number;
  readonly maxEntryBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 20_000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxEntryBytes: 2 * 1024 * 1024,
};

const RULE_FILE = /\.ya?ml$/i;

/**
 * Reads the `.yml`/`.yaml` files of a zip archive (other entries are skipped, `__MACOSX/` too).
 * Throws UserError `archive_invalid`, `archive_too_many_entries` or `archive_too_large`.
 */
export async function readRuleArchive(
  zip: Buffer,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<RuleSource[]> {
  let archive: yauzl.ZipFile;
  try {
    archive = await yauzl.fromBufferPromise(zip, {
      lazyEntries: true,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (error) {
    throw new UserError(
      'archive_invalid',
      `not a readable zip archive: ${(error as Error).message}`,
      {},
      {
        cause: error,
      },
    );
  }
  if (archive.entryCount > limits.maxEntries) {
    archive.close();
    throw new UserError(
      'archive_too_many_entries',
      `the archive has ${archive.entryCount} entries; at most ${limits.maxEntries} are accepted`,
      { entries: archive.entryCount, max_entries: limits.maxEntries },
    );
  }
  const out: RuleSource[] = [];
  let declared = 0;
  let inflated = 0;
  try {
    for await (const entry of archive.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/') || !RULE_FILE.test(name) || name.startsWith('__MACOSX/')) continue;
      if (entry.isEncrypted()) {
        throw new UserError('archive_invalid', `${name}: encrypted entries are not supported`);
      }
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw tooLarge(
          `${name} declares ${entry.uncompressedSize} bytes; one rule file may hold at most ${limits.maxEntryBytes}`,
        );
      }
      declared += entry.uncompressedSize;
      if (declared > limits.maxTotalBytes) {
        throw tooLarge(`the rule files declare more than ${limits.maxTotalBytes} bytes in all`);
      }
      const stream = await archive.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        inflated += chunk.length;
        // yauzl already refuses more bytes than declared; this is the belt to its braces.
        if (size > limits.maxEntryBytes || inflated > limits.maxTotalBytes) {
          stream.destroy();
          throw tooLarge(`${name} inflates past the limit`);
        }
        chunks.push(chunk);
      }
      out.push({
        file: name,
        text: Buffer.concat(chunks)
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
      });
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      'archive_invalid',
      `the archive cannot be read: ${(error as Error).message}`,
      {},
      {
        cause: error,
      },
    );
  } finally {
    archive.close();
  }
  return out;
}

function tooLarge(message: string): UserError {
  return new UserError('archive_too_large', message);
}
