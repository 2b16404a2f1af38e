// Whether a failed CLI run (local or in a container) is worth retrying, judged by exit status and stderr.

/** Exit status 75 is EX_TEMPFAIL: the program itself says "try again later". */
const EX_TEMPFAIL = 75;
const TRANSIENT_STDERR =
  /rate.?limit|too many requests|\b429\b|\b5(?:02|03|04|29)\b|overloaded|timed? ?out|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|network error|temporarily unavailable/i;

export function isTransientExit(code: number | null, stderrTail: string): boolean {
  return code === EX_TEMPFAIL || TRANSIENT_STDERR.test(stderrTail);
}

/** The last lines of stderr, on one line, for an error sentence. */
export function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join(' | ').slice(-1_000);
}
