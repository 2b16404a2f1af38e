'use client';
// The team as a graph: agents as nodes in a hierarchy (dagre) with the commander on top and whoever it talks to
// below it; nodes pulse by status; an edge lights up for a few seconds whenever a message flows along it.
import dagre from '@dagrejs/dagre';
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { clock, presence, truncate } from '../lib/format';
import { useNow } from '../lib/hooks';
import { useActivityListener } from '../lib/live';
import { useHistory } from '../lib/queries';
import type { ActivityRow, BoardAgent, Message, Presence, StatusBoard } from '../lib/types';
import { Empty } from './States';

const NODE_W = 180;
const NODE_H = 70;
const LIT_MS = 3000;
/** A rank wider than this wraps into several rows, so 50 agents stay legible. */
const ROW_MAX = 8;
const OVERSEER = 'overseer';

type AgentNodeData = { name: string; role: string; status: Presence; human?: boolean };
type AgentNode = Node<AgentNodeData, 'agent'>;

function AgentNodeView({ data }: NodeProps<AgentNode>) {
  return (
    <div
      className={data.human ? 'gnode gnode-human' : `gnode gnode-${data.status}`}
      data-status={data.human ? undefined : data.status}
    >
      <Handle id="tt" type="target" position={Position.Top} className="ghandle" isConnectable={false} />
      <Handle id="ts" type="source" position={Position.Top} className="ghandle" isConnectable={false} />
      <span className="gnode-ring" aria-hidden="true" />
      <strong>{data.name}</strong>
      <span className="gnode-role">{data.human ? 'you (overseer)' : truncate(data.role || data.status, 28)}</span>
      {!data.human && <span className="gnode-status">{data.status}</span>}
      <Handle id="bs" type="source" position={Position.Bottom} className="ghandle" isConnectable={false} />
      <Handle id="bt" type="target" position={Position.Bottom} className="ghandle" isConnectable={false} />
    </div>
  );
}
const nodeTypes = { agent: AgentNodeView };

/** Re-fit the view when agents or routes change (not when a light blinks), once every node has been measured. */
function FitOnChange({ signature }: { signature: string }) {
  const flow = useReactFlow();
  const ready = useNodesInitialized();
  useEffect(() => {
    if (ready) void flow.fitView({ padding: 0.2, maxZoom: 1.2 });
  }, [signature, ready, flow]);
  return null;
}

/** The commander: by name, else by role, else whoever sent the most messages. */
export function pickRoot(agents: BoardAgent[], sent: Map<string, number>): string | undefined {
  const byName = agents.find((a) => a.name === 'commander');
  if (byName) return byName.name;
  const byRole = agents.find((a) => /\b(command|lead|orchestrat|manager|coordinat)/i.test(a.role));
  if (byRole) return byRole.name;
  return [...agents].sort(
    (a, b) => (sent.get(b.name) ?? 0) - (sent.get(a.name) ?? 0) || a.name.localeCompare(b.name),
  )[0]?.name;
}

/** Positions from dagre over a tree: BFS from the root along who-talks-to-whom; loners hang under the root in rows. */
export function layout(
  names: string[],
  root: string | undefined,
  pairs: Set<string>,
): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of names) g.setNode(n, { width: NODE_W, height: NODE_H });
  const talk = new Map<string, Set<string>>();
  for (const key of pairs) {
    const [a = '', b = ''] = key.split('->');
    if (!names.includes(a) || !names.includes(b) || a === b) continue;
    if (!talk.has(a)) talk.set(a, new Set());
    if (!talk.has(b)) talk.set(b, new Set());
    talk.get(a)!.add(b);
    talk.get(b)!.add(a);
  }
  const seen = new Set<string>();
  const levels: string[][] = [];
  if (root && names.includes(root)) {
    seen.add(root);
    let frontier = [root];
    levels.push(frontier);
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const n of frontier) {
        for (const m of [...(talk.get(n) ?? [])].sort()) {
          if (seen.has(m)) continue;
          seen.add(m);
          next.push(m);
        }
      }
      if (next.length > 0) levels.push(next);
      frontier = next;
    }
  }
  const loners = names.filter((n) => !seen.has(n)).sort();
  if (loners.length > 0) levels.push(loners);
  // Chain rows: each level hangs under the previous one; a wide level wraps into rows of ROW_MAX.
  let above: string[] = [];
  for (const level of levels) {
    for (let i = 0; i < level.length; i += ROW_MAX) {
      const row = level.slice(i, i + ROW_MAX);
      row.forEach((n, j) => {
        const parent =
          above.length > 0 ? above[Math.min(above.length - 1, Math.floor((j * above.length) / row.length))] : undefined;
        if (parent) g.setEdge(parent, n);
      });
      above = row;
    }
  }
  dagre.layout(g);
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of names) {
    const p = g.node(n);
    pos.set(n, { x: (p?.x ?? 0) - NODE_W / 2, y: (p?.y ?? 0) - NODE_H / 2 });
  }
  return pos;
}

interface Flow {
  from: string;
  to: string;
  summary: string;
  at: string;
}

function pairsFrom(messages: Message[], agents: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    if (m.kind === 'system') continue;
    const targets = m.to === '*' ? agents.filter((a) => a !== m.from) : [m.to ?? OVERSEER];
    for (const t of targets) counts.set(`${m.from}->${t}`, (counts.get(`${m.from}->${t}`) ?? 0) + 1);
  }
  return counts;
}

export function MeshGraph({ project, board }: { project: string; board: StatusBoard }) {
  const history = useHistory(project, null);
  const messages = useMemo(() => history.data?.pages.flat() ?? [], [history.data]);
  return <MeshGraphView project={project} board={board} messages={messages} />;
}

/** The graph from a board and the messages at hand; also drawn read-only on the public spectator page. */
export function MeshGraphView({
  project,
  board,
  messages,
}: {
  project: string;
  board: StatusBoard;
  messages: Message[];
}) {
  const now = useNow();
  const agents = board.agents;
  const agentNames = useMemo(() => agents.map((a) => a.name), [agents]);
  const [lit, setLit] = useState<Map<string, number>>(new Map());
  const [flows, setFlows] = useState<Flow[]>([]);

  const counts = useMemo(() => pairsFrom(messages, agentNames), [messages, agentNames]);

  useActivityListener(project, (row: ActivityRow) => {
    if (row.kind !== 'message' || row.data.kind === 'system') return;
    const from = typeof row.data.from === 'string' ? row.data.from : null;
    const to = typeof row.data.to === 'string' ? row.data.to : OVERSEER;
    if (!from) return;
    const targets = to === '*' ? agentNames.filter((a) => a !== from) : [to];
    const until = Date.now() + LIT_MS;
    setLit((old) => {
      const next = new Map(old);
      for (const t of targets) next.set(`${from}->${t}`, until);
      return next;
    });
    setFlows((old) =>
      [{ from, to: to === '*' ? 'everyone' : to, summary: row.summary, at: row.created_at }, ...old].slice(0, 8),
    );
  });
  // Put lights out when they expire.
  useEffect(() => {
    if (lit.size === 0) return;
    const t = setTimeout(() => {
      const cut = Date.now();
      setLit((old) => new Map([...old].filter(([, until]) => until > cut)));
    }, 250);
    return () => clearTimeout(t);
  }, [lit]);

  const allPairs = useMemo(() => new Set([...counts.keys(), ...lit.keys()]), [counts, lit]);
  const withOverseer = [...allPairs].some((k) => k.startsWith(`${OVERSEER}->`) || k.endsWith(`->${OVERSEER}`));
  const names = useMemo(() => (withOverseer ? [OVERSEER, ...agentNames] : agentNames), [withOverseer, agentNames]);
  const sent = useMemo(() => {
    const m = new Map<string, number>();
    for (const [k, n] of counts) m.set(k.split('->')[0] ?? '', (m.get(k.split('->')[0] ?? '') ?? 0) + n);
    return m;
  }, [counts]);
  const root = pickRoot(agents, sent);
  // Layout only changes when the set of talking pairs does, not on every light.
  const pairKey = [...allPairs].sort().join('|');
  const positions = useMemo(() => {
    return layout(names, root, new Set(pairKey ? pairKey.split('|') : []));
  }, [names, root, pairKey]);

  // Each node's measured size, kept across rebuilds. React Flow forgets the size of a node whose object changes (a
  // status change rebuilds them), hides it until it is measured again, and draws its edges only after that; a node
  // rebuilt with the size it already had stays on screen.
  const [sizes, setSizes] = useState<ReadonlyMap<string, { width: number; height: number }>>(new Map());
  const onNodesChange = useCallback((changes: NodeChange<AgentNode>[]) => {
    const measured = changes.flatMap((c) => (c.type === 'dimensions' && c.dimensions ? [c] : []));
    if (measured.length === 0) return;
    setSizes((old) => {
      const next = new Map(old);
      for (const c of measured) next.set(c.id, c.dimensions!);
      return next;
    });
  }, []);

  // Stable node objects: React Flow re-measures a node whenever its object changes.
  const statusKey = JSON.stringify(
    names.map((n) => {
      const a = agents.find((x) => x.name === n);
      return [n, a ? presence(a.status, a.last_seen_at, now) : 'online', a?.role ?? '', !a];
    }),
  );
  const nodes: AgentNode[] = useMemo(
    () =>
      (JSON.parse(statusKey) as [string, Presence, string, boolean][]).map(([n, status, role, human]) => ({
        id: n,
        type: 'agent',
        position: positions.get(n) ?? { x: 0, y: 0 },
        data: { name: n, role, status, human },
        ariaLabel: human ? 'overseer (you)' : `${n}, ${status}${role ? `, ${role}` : ''}`,
        measured: sizes.get(n),
        draggable: false,
        connectable: false,
        deletable: false,
      })),
    [statusKey, positions, sizes],
  );

  // One edge per pair of agents that talked, drawn downwards, with an arrow at each end that received messages.
  const edges: Edge[] = [];
  const done = new Set<string>();
  for (const k of allPairs) {
    const [a = '', b = ''] = k.split('->');
    if (!names.includes(a) || !names.includes(b) || a === b) continue;
    const [x = '', y = ''] = [a, b].sort();
    const id = `${x}--${y}`;
    if (done.has(id)) continue;
    done.add(id);
    const px = positions.get(x) ?? { x: 0, y: 0 };
    const py = positions.get(y) ?? { x: 0, y: 0 };
    const [source, target] = px.y <= py.y ? [x, y] : [y, x];
    const down = counts.get(`${source}->${target}`) ?? 0;
    const up = counts.get(`${target}->${source}`) ?? 0;
    const sameRow = Math.abs(px.y - py.y) < 1;
    const on =
      (lit.get(`${source}->${target}`) ?? 0) > Date.now() || (lit.get(`${target}->${source}`) ?? 0) > Date.now();
    const marker = { type: MarkerType.ArrowClosed, width: 16, height: 16 };
    edges.push({
      id,
      source,
      target,
      sourceHandle: 'bs',
      targetHandle: sameRow ? 'bt' : 'tt',
      animated: on,
      className: on ? 'gedge lit' : 'gedge',
      label: down + up > 0 ? String(down + up) : undefined,
      ariaLabel: `${source} and ${target}: ${source} sent ${down}, ${target} sent ${up} of the loaded messages${on ? '; a message is flowing now' : ''}`,
      markerEnd: down > 0 || (lit.get(`${source}->${target}`) ?? 0) > Date.now() ? marker : undefined,
      markerStart: up > 0 || (lit.get(`${target}->${source}`) ?? 0) > Date.now() ? marker : undefined,
      deletable: false,
      focusable: true,
    });
  }

  if (agents.length === 0) {
    return (
      <Empty title="No agents to draw yet">
        <p>Agents appear here as nodes once the project has some; messages between them draw the edges.</p>
      </Empty>
    );
  }
  return (
    <section className="graph-view" aria-labelledby="graph-title">
      <div className="view-head">
        <h2 id="graph-title">Mesh graph</h2>
        <p className="small muted">
          Commander on top; edges are who talks to whom (count of loaded messages); they light up as messages flow.
        </p>
      </div>
      <div className="graph-layout">
        <div
          className="graph-canvas"
          role="figure"
          aria-label={`Mesh graph of ${project}: ${agents.length} agents, ${edges.length} message routes`}
        >
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            fitView
            fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
            minZoom={0.1}
            nodesConnectable={false}
            nodesDraggable={false}
            elementsSelectable
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={24} size={1} />
            <Controls showInteractive={false} />
            <FitOnChange signature={`${names.join(',')}|${pairKey}`} />
          </ReactFlow>
        </div>
        <aside className="graph-side">
          <h3>Just now</h3>
          {flows.length === 0 ? (
            <p className="small muted">Messages flowing between agents appear here as they happen.</p>
          ) : (
            <ol className="flows">
              {flows.map((f, i) => (
                <li key={`${f.at}-${i}`}>
                  <span className="small muted">{clock(f.at)}</span> <strong>{f.from}</strong> → <strong>{f.to}</strong>
                  <div className="small">{truncate(f.summary.replace(/^[^:]*:\s*/, ''), 80)}</div>
                </li>
              ))}
            </ol>
          )}
          <h3>Status</h3>
          <ul className="legend">
            {(['online', 'waiting', 'working', 'idle', 'offline'] as const).map((s) => (
              <li key={s}>
                <span className={`dot dot-${s}`} aria-hidden="true" /> {s}
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </section>
  );
}
