/**
 * Gzip-compressed log files, as file ingestion and the hunt read them: told by their first bytes (not
 * by their names), and read through gunzip.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';

/** True when `head` starts with gzip's magic bytes. */
export function hasGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** True when the file at `path` starts with gzip's magic bytes. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return hasGzipMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** A file being read through gunzip. */
export interface GunzippedFile {
  /** The decompressed bytes; an error reading the file reaches the reader through it too. */
  readonly stream: Gunzip;
  /** Compressed bytes read so far, for progress against the file's size. */
  compressedBytes(): number;
  /** Stops reading and closes the file. */
  destroy(): void;
}

export function gunzipFile(path: string): GunzippedFile {
  const file: ReadStream = createReadStream(path);
  const stream = file.pipe(createGunzip());
  file.on('error', (error) => stream.destroy(error));
  return {
    stream,
    compressedBytes: () => file.bytesRead,
    destroy: () => {
      file.destroy();
      stream.destroy();
    },
  };
}

/** True for zlib's own errors ("incorrect data check"), whose messages name no file. */
export function isZlibError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
