import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/**
 * The extensions a folder is searched for when none are given (case-insensitive, without the dot). A
 * JSON file compressed with gzip (`events.json.gz`) counts under the extension before `.gz`.
 */
export const LOG_EXTENSIONS: readonly string[] = ['evtx', 'json', 'jsonl', 'ndjson'];

/** The extension a file counts under: `.json` for `a.json` and for `a.json.gz` (lower case). */
function logExtension(name: string): string {
  const lower = name.toLowerCase();
  return extname(lower.endsWith('.gz') ? lower.slice(0, -3) : lower);
}

/**
 * A hunt input that cannot be read as given: a missing path, a folder that cannot be listed, something
 * neither file nor folder.
 */
export class HuntInputError extends Error {
  override readonly name = 'HuntInputError';
}

export interface HuntInputs {
  /** The files to read, in order: as given, each folder's files sorted by path; each file once. */
  readonly files: readonly string[];
  /** The folders in which no file had one of the extensions. */
  readonly emptyFolders: readonly string[];
}

/**
 * The files a hunt reads: a file as given (whatever its name), a folder searched recursively for files
 * with one of `extensions` (or that extension and `.gz`), as Chainsaw and Hayabusa take a folder of
 * collected logs. Symbolic links to files are followed; links to folders are not (a link back up the
 * tree would never end).
 */
export async function expandHuntInputs(
  paths: readonly string[],
  extensions: readonly string[] = LOG_EXTENSIONS,
): Promise<HuntInputs> {
  const wanted = new Set(extensions.map((e) => `.${e.toLowerCase()}`));
  const files: string[] = [];
  const seen = new Set<string>();
  const emptyFolders: string[] = [];
  const add = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
  };
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new HuntInputError(
        error.code === 'ENOENT' ? `${path}: no such file or folder` : `${path}: ${error.message}`,
      );
    });
    if (info.isFile()) {
      add(path);
    } else if (info.isDirectory()) {
      const found = await filesUnder(path, wanted);
      if (found.length === 0) emptyFolders.push(path);
      for (const file of found) add(file);
    } else throw new HuntInputError(`${path}: neither a file nor a folder`);
  }
  return { files, emptyFolders };
}

async function filesUnder(folder: string, wanted: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new HuntInputError(`${folder}: cannot read the folder (${error.code ?? error.message})`);
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full, wanted)));
    else if (wanted.has(logExtension(entry.name))) {
      if (entry.isFile()) out.push(full);
      else if (entry.isSymbolicLink() && (await stat(full).catch(() => null))?.isFile() === true)
        out.push(full);
    }
  }
  return out;
}

/** An `--extension` value: letters, digits, `_` and `-` after an optional leading dot. */
export function parseExtension(value: string): string | null {
  const ext = value.startsWith('.') ? value.slice(1) : value;
  return /^[A-Za-z0-9_-]{1,16}$/.test(ext) ? ext : null;
}
