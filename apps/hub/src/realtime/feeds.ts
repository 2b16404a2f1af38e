// Live SSE feeds of a meshwork's activity. Each feed re-reads activity as its caller (so a revoked key or a removed
// member is cut off on the next refresh) whenever an RPC anywhere marks the meshwork changed, plus a slow safety tick.
import type { ServerResponse } from 'node:http';
import type { Db } from '@meshcode/db';
import type { RpcExecutor } from '../rpc';
import { HttpError, httpError, hubCall } from '../http/errors';

const PAGE = 500;
const HEARTBEAT_MS = 15_000;
const SAFETY_REFRESH_MS = 5_000;
/**
 * Rows sent above the floor, at most. A transaction that stays open for long holds the floor back, and each refresh
 * reads everything above it again; past this many, the floor jumps to the newest row sent.
 */
const MAX_ABOVE_FLOOR = 5_000;
/** Rows sent above the floor that a resume cursor names, at most; past this many it names the newest row sent. */
const MAX_CURSOR_IDS = 100;

/**
 * Where a feed resumes: every row at or below `floor` was sent (or will never be visible), and so were the rows in
 * `sent`. Written as each event's SSE id: `<floor>`, or `<floor>:<id>,<id>...` while rows above the floor were sent
 * before an older transaction committed. A plain activity id is a cursor with nothing above its floor.
 */
export interface FeedCursor {
  floor: number;
  sent: number[];
}

const CURSOR = /^(\d{1,15})(?::(\d{1,15}(?:,\d{1,15}){0,99}))?$/;

/** The cursor a reconnect names (`Last-Event-ID`, else `?after=`); null when it names none; 400 when it is malformed. */
export function parseFeedCursor(headers: Record<string, unknown>, query: unknown): FeedCursor | null {
  const lastEventId = headers['last-event-id'];
  const raw =
    typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : (query as { after?: unknown } | null)?.after;
  if (raw === undefined) return null;
  const m = typeof raw === 'string' ? CURSOR.exec(raw) : null;
  const floor = m ? Number(m[1]) : NaN;
  const sent = m?.[2] ? m[2].split(',').map(Number) : [];
  if (!Number.isSafeInteger(floor) || sent.some((id) => !Number.isSafeInteger(id) || id <= floor)) {
    throw httpError(
      400,
      'PGRST100',
      'after must be an activity id, or the id of the last event received',
      'pass the id of the last event you received, or omit it to start from now',
    );
  }
  return { floor, sent };
}

/**
 * mesh.activity_mark: the newest activity id handed out, then the horizon of a snapshot taken after it. Once the
 * oldest running transaction (xmin) reaches that xmax, every id up to `upto` is final.
 */
export interface ActivityMark {
  upto: number;
  xmin: bigint;
  xmax: bigint;
}
export type MarkActivity = () => Promise<ActivityMark>;

export function dbActivityMark(db: Db): MarkActivity {
  return async () => {
    const r = await hubCall<{ upto: number | string; xmin: string; xmax: string }>(
      db,
      'select mesh.activity_mark() as r',
      [],
    );
    return { upto: Number(r.upto), xmin: BigInt(r.xmin), xmax: BigInt(r.xmax) };
  };
}

interface ActivityRow {
  id: number;
  kind: string;
}

export interface FeedSource {
  /** Authorise and return the meshwork id plus the snapshot sent first. */
  snapshot(): Promise<{ meshworkId: string; status: unknown }>;
  activity(afterId: number, limit: number): Promise<ActivityRow[]>;
  latestId(): Promise<number>;
}

/**
 * Activity ids are handed out at insert, not at commit, so rows can become visible out of id order. A feed therefore
 * keeps a floor (every row at or below it is sent, or will never be visible) and re-reads above it on each refresh,
 * sending each row once; the floor moves up to a mark once every transaction that was running when the mark was
 * taken has ended.
 */
class Feed {
  private floor: number;
  private readonly sent = new Set<number>();
  private marks: ActivityMark[] = [];
  private top: number;
  private running = false;
  private dirty = false;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly meshworkId: string,
    private readonly res: ServerResponse,
    private readonly source: FeedSource,
    private readonly mark: MarkActivity,
    after: FeedCursor,
    private readonly onClose: (feed: Feed) => void,
  ) {
    this.floor = after.floor;
    this.top = Math.max(after.floor, ...after.sent);
    for (const id of after.sent) this.sent.add(id);
    this.timers.push(setInterval(() => this.write(': ping\n\n'), HEARTBEAT_MS));
    this.timers.push(setInterval(() => this.poke(), SAFETY_REFRESH_MS));
    res.on('close', () => this.close());
  }

  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.refresh().finally(() => {
      this.running = false;
      if (this.dirty) {
        this.dirty = false;
        this.poke();
      }
    });
  }

  private async refresh(): Promise<void> {
    try {
      // Taken before the read, so the read sees every row a passed mark covers.
      const now = await this.mark();
      let rows: ActivityRow[];
      let any = false;
      let after = this.floor;
      do {
        rows = await this.source.activity(after, PAGE);
        for (const row of rows) {
          after = row.id;
          if (this.sent.has(row.id)) continue;
          this.sent.add(row.id);
          this.top = Math.max(this.top, row.id);
          this.write(`id: ${this.cursor()}\nevent: activity\ndata: ${JSON.stringify(row)}\n\n`);
          any = true;
        }
      } while (rows.length === PAGE && !this.closed);
      this.marks.push(now);
      for (const m of this.marks) if (m.xmax <= now.xmin) this.floor = Math.max(this.floor, m.upto);
      this.marks = this.marks.filter((m) => m.xmax > now.xmin);
      if (this.sent.size > MAX_ABOVE_FLOOR) {
        this.floor = Math.max(this.floor, this.top); // top: the highest id sent
        this.marks = this.marks.filter((m) => m.upto > this.floor);
      }
      for (const id of this.sent) if (id <= this.floor) this.sent.delete(id);
      if (any) {
        const snap = await this.source.snapshot();
        this.write(`event: status\ndata: ${JSON.stringify(snap.status)}\n\n`);
      }
    } catch (err) {
      // The caller's own refusal (access lost) says why; a fault of the hub or database says to reconnect.
      const envelope =
        err instanceof HttpError && err.status < 500
          ? err.envelope
          : { code: 'XX000', message: 'feed failed', details: null, hint: 'reconnect to resume' };
      this.write(`event: error\ndata: ${JSON.stringify(envelope)}\n\n`);
      this.close();
    }
  }

  /**
   * The resume cursor after the rows sent so far (the SSE id a reconnect names). Rows sent above the floor are named,
   * so a reconnect still gets a row whose transaction was open at the disconnect, and none twice. Past MAX_CURSOR_IDS
   * of them (a transaction open for long while many rows commit) it names the newest row sent, as a plain id.
   */
  private cursor(): string {
    if (this.sent.size > MAX_CURSOR_IDS) return String(this.top);
    const above = [...this.sent].filter((id) => id > this.floor).sort((a, b) => a - b);
    return above.length === 0 ? String(this.floor) : `${this.floor}:${above.join(',')}`;
  }

  write(chunk: string): void {
    if (!this.closed) this.res.write(chunk);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.res.end();
    this.onClose(this);
  }
}

export class Feeds {
  private readonly byMeshwork = new Map<string, Set<Feed>>();

  private marking: Promise<ActivityMark> | null = null;

  constructor(private readonly markNow: MarkActivity) {}

  /**
   * Feeds poked by one change share a mark: one taken earlier than a feed's read is still taken before it, and only
   * moves that feed's floor more cautiously.
   */
  private readonly mark: MarkActivity = () =>
    (this.marking ??= this.markNow().finally(() => {
      this.marking = null;
    }));

  changed(meshworkIds: string[]): void {
    for (const id of meshworkIds) {
      const set = this.byMeshwork.get(id);
      if (set) for (const feed of set) feed.poke();
    }
  }

  /** Authorise (throws HttpError before any byte is written), then stream on `res`. */
  async open(res: ServerResponse, source: FeedSource, after: FeedCursor | null): Promise<void> {
    const snap = await source.snapshot();
    const start = after ?? { floor: await source.latestId(), sent: [] };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 1000\nevent: status\ndata: ${JSON.stringify(snap.status)}\n\n`);
    const feed = new Feed(snap.meshworkId, res, source, this.mark, start, (f) => {
      const set = this.byMeshwork.get(f.meshworkId);
      set?.delete(f);
      if (set && set.size === 0) this.byMeshwork.delete(f.meshworkId);
    });
    let set = this.byMeshwork.get(snap.meshworkId);
    if (!set) {
      set = new Set();
      this.byMeshwork.set(snap.meshworkId, set);
    }
    set.add(feed);
    if (after !== null) feed.poke();
  }

  pokeAll(): void {
    for (const set of this.byMeshwork.values()) for (const feed of set) feed.poke();
  }

  closeAll(): void {
    for (const set of this.byMeshwork.values()) for (const feed of [...set]) feed.close();
  }

  get size(): number {
    let n = 0;
    for (const s of this.byMeshwork.values()) n += s.size;
    return n;
  }
}

/** A feed source that reads through the RPC surface as the caller. */
export function rpcFeedSource(rpc: RpcExecutor, keyHash: string | null, meshwork: string): FeedSource {
  return {
    async snapshot() {
      const status = (await rpc.call(keyHash, 'mc_status', { p_meshwork: meshwork })) as { meshwork_id: string };
      return { meshworkId: status.meshwork_id, status };
    },
    async activity(afterId, limit) {
      return (await rpc.call(keyHash, 'mc_activity', {
        p_meshwork: meshwork,
        p_after_id: afterId,
        p_limit: limit,
      })) as ActivityRow[];
    },
    async latestId() {
      const rows = (await rpc.call(keyHash, 'mc_activity', {
        p_meshwork: meshwork,
        p_before_id: Number.MAX_SAFE_INTEGER,
        p_limit: 1,
      })) as ActivityRow[];
      return rows.at(-1)?.id ?? 0;
    },
  };
}
