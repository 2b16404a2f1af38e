// A deadlock victim or serialization failure had its one statement rolled back whole, so running it again is safe.
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/** Run one single-statement database call, again (up to 3 times in all) when PostgreSQL rolled it back for a retry. */
export async function retryRolledBack<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}
