// What a committed transaction asks the hub to do afterwards (mesh.call_as and mesh.hub_result return the same keys):
// wake agents' long-polls, mark meshworks' feeds changed, hand over delivered messages, re-check held credentials.

/** A message committed to one recipient's inbox: its seq there and its wire shape (without seq). */
export interface Delivery {
  seq: number;
  message: Record<string, unknown>;
  /** JSON.stringify(message), made once for all of the message's recipients. */
  json: string;
}

export interface RawNotes {
  wake?: string | null;
  changed?: string | null;
  /** One JSON object per line: {"m": message, "to": [[agent_id, seq], ...]}. */
  deliver?: string | null;
  revoked?: boolean | null;
}

export interface Notes {
  wake: string[];
  changed: string[];
  /** Per recipient agent id, in commit order. */
  deliver: Map<string, Delivery[]>;
  /** A credential may have ended: held long-polls must be re-checked. */
  revoked: boolean;
}

interface DeliverLine {
  m: Record<string, unknown>;
  to: [string, number | string][];
}

export function parseNotes(raw: RawNotes): Notes {
  const deliver = new Map<string, Delivery[]>();
  if (raw.deliver) {
    for (const line of raw.deliver.split('\n')) {
      const { m, to } = JSON.parse(line) as DeliverLine;
      const json = JSON.stringify(m);
      for (const [agentId, seq] of to) {
        const list = deliver.get(agentId);
        const d = { seq: Number(seq), message: m, json };
        if (list) list.push(d);
        else deliver.set(agentId, [d]);
      }
    }
  }
  return {
    wake: raw.wake ? raw.wake.split(',') : [],
    changed: raw.changed ? raw.changed.split(',') : [],
    deliver,
    revoked: raw.revoked === true,
  };
}
