// POSTs made from a worker thread: a client on its own event loop, as a real one is. A client sharing the hub's event
// loop takes turns with it, and misses races a separate client meets (a connection reset while it is still writing).
import { Worker } from 'node:worker_threads';

export type ThreadAnswer = { status: number; text: string } | { error: string };

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { url, headers, body, times } = workerData;
  const answers = [];
  for (let i = 0; i < times; i++) {
    try {
      const res = await fetch(url, { method: 'POST', headers, body });
      answers.push({ status: res.status, text: await res.text() });
    } catch (err) {
      answers.push({ error: String((err && err.cause && err.cause.code) || (err && err.message) || err) });
    }
  }
  parentPort.postMessage(answers);
})();
`;

/** POST `body` to `url` `times` times in a row from a worker thread; each answer, or the error the client saw. */
export async function postFromThread(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
  times: number,
): Promise<ThreadAnswer[]> {
  const worker = new Worker(SOURCE, { eval: true, workerData: { url, headers, body, times } });
  try {
    return await new Promise<ThreadAnswer[]>((resolve, reject) => {
      worker.once('message', (answers: ThreadAnswer[]) => resolve(answers));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the client thread exited (${code}) before answering`)));
    });
  } finally {
    await worker.terminate();
  }
}
