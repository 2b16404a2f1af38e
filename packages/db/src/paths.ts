// Where the SQL lives: found from this file's location, so it works from any working directory.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The repository root: the nearest ancestor of this package that holds supabase/migrations. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'supabase', 'migrations'))) return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `No supabase/migrations directory above ${fileURLToPath(import.meta.url)}; pass migrationsDir and shimDir explicitly.`,
      );
    }
    dir = parent;
  }
}

export const defaultMigrationsDir = (): string => join(repoRoot(), 'supabase', 'migrations');
export const defaultShimDir = (): string => join(repoRoot(), 'supabase', 'shim');
