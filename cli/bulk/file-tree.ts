import { opendir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A regular file found under the root. */
export interface FoundFile {
  /** Relative to the root, with `/` between parts whatever the platform: the checkpoint's key. */
  path: string;
  absolutePath: string;
}

/** A directory that could not be read: its files are missing from the walk, which says so. */
export interface UnreadableDirectory {
  path: string;
  error: NodeJS.ErrnoException;
}

/**
 * Walks `root` depth first as the directories are read (never a list of every path in memory: one
 * open directory per level). Symbolic links count as the files they point to (a broken one is
 * yielded too, to fail when read, not vanish); linked directories are not followed, so a link cycle
 * cannot trap the walk. `skip` leaves out absolute paths (the
 * checkpoint's own files, say).
 */
export async function* walkFiles(
  root: string,
  options: {
    skip?: (absolutePath: string) => boolean;
    onUnreadable?: (dir: UnreadableDirectory) => void;
  } = {},
): AsyncGenerator<FoundFile> {
  const toRelative = (absolutePath: string) => relative(root, absolutePath).split(sep).join('/');
  async function* visit(directory: string): AsyncGenerator<FoundFile> {
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(directory);
    } catch (error) {
      options.onUnreadable?.({ path: toRelative(directory) || '.', error: error as NodeJS.ErrnoException });
      return;
    }
    for await (const entry of entries) {
      const absolutePath = join(directory, entry.name);
      if (options.skip?.(absolutePath)) continue;
      if (entry.isDirectory()) yield* visit(absolutePath);
      else if (entry.isFile() || (entry.isSymbolicLink() && !(await isLinkToDirectory(absolutePath)))) {
        yield { path: toRelative(absolutePath), absolutePath };
      }
    }
  }
  yield* visit(root);
}

async function isLinkToDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (target) => target.isDirectory(),
    () => false,
  );
}
