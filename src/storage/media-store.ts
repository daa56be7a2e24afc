import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where media files live. The local folder is the default; anything with the same three
 * operations (an S3-compatible bucket) can take its place.
 */
export interface MediaStore {
  put(key: string, bytes: Buffer): Promise<void>;
  open(key: string): Promise<{ stream: Readable; size: number } | null>;
}

const SAFE_KEY = /^[a-z0-9][a-z0-9/_.-]{0,200}$/i;

export function localMediaStore(root: string): MediaStore {
  const pathOf = (key: string) => {
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid media key ${key}`);
    const path = resolve(root, key);
    if (!path.startsWith(resolve(root) + '/')) throw new Error(`invalid media key ${key}`);
    return path;
  };
  return {
    async put(key, bytes) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // write then rename: a reader never sees half a file
      await writeFile(`${path}.part`, bytes);
      await rename(`${path}.part`, path);
    },
    async open(key) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        return { stream: createReadStream(path), size: info.size };
      } catch {
        return null;
      }
    },
  };
}

export function mediaRoot(dataDir: string): string {
  return join(dataDir, 'media');
}
