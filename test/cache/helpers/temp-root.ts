/** A fresh data root per test, removed afterwards (with every store closed first). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorage } from '../../../src/cache/cache-storage.js';
import type { GcRule } from '../../../src/cache/types.js';
import { DirInventory } from './dir-inventory.js';

export interface TestRoot {
  readonly dir: string;
  readonly root: string;
  readonly inventory: DirInventory;
  open(opts?: { readonly gcPolicy?: readonly GcRule[]; readonly now?: () => number; readonly busyTimeoutMs?: number }): Promise<CacheStorage>;
  cleanup(): Promise<void>;
}

export async function makeTestRoot(): Promise<TestRoot> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-cache-test-'));
  const root = join(dir, 'root');
  const inventory = new DirInventory(join(root, 'overlay2'));
  const opened: CacheStorage[] = [];
  return {
    dir,
    root,
    inventory,
    open: async (opts = {}) => {
      const s = await CacheStorage.open({ root, inventory, ...opts });
      opened.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of opened) s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
