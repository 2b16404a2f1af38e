'use client';
// One project: `/project?name=<project>&view=<agents|chat|graph|replay|tasks|memory|team|pipeline>` (query strings, because a static
// export cannot pre-render a page per project). Every view is kept live by one SSE feed.
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense } from 'react';
import type { Whoami } from '@meshcode/protocol';
import { AgentsPanel } from '../../components/AgentsPanel';
import { Chat } from '../../components/Chat';
import { MeshGraph } from '../../components/MeshGraph';
import { MemoryView } from '../../components/Memory';
import { PipelineView } from '../../components/Pipeline';
import { Replay } from '../../components/Replay';
import { AuthGate, TopBar } from '../../components/Shell';
import { Empty, ErrorState, Loading } from '../../components/States';
import { TasksBoard } from '../../components/TasksBoard';
import { TeamView } from '../../components/Team';
import { ApiError } from '../../lib/api';
import { projectHref } from '../../lib/hooks';
import { useLiveFeed } from '../../lib/live';
import { useStatus } from '../../lib/queries';

const VIEWS = [
  { id: 'agents', label: 'Agents' },
  { id: 'chat', label: 'Chat' },
  { id: 'graph', label: 'Mesh graph' },
  { id: 'replay', label: 'Replay' },
  { id: 'tasks', label: 'Tasks' },
  { id: 'memory', label: 'Memory' },
  { id: 'team', label: 'Team' },
  { id: 'pipeline', label: 'Pipeline' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

function Project({ who, name, view }: { who: Whoami; name: string; view: ViewId }) {
  const live = useLiveFeed(name);
  const status = useStatus(name);
  const label = VIEWS.find((v) => v.id === view)?.label ?? '';
  return (
    <>
      <TopBar who={who} crumbs={[{ href: '/projects', label: 'Projects' }, { label: name }]} live={live} />
      <nav className="tabs" aria-label="Project views">
        {VIEWS.map((v) => (
          <Link
            key={v.id}
            href={projectHref(name, v.id)}
            className="tab"
            aria-current={v.id === view ? 'page' : undefined}
          >
            {v.label}
          </Link>
        ))}
      </nav>
      <main className={`page page-${view}`}>
        <h1 className="sr-only">
          {name}: {label}
        </h1>
        {status.isPending ? (
          <Loading label="Loading the project…" />
        ) : status.error ? (
          status.error instanceof ApiError && status.error.status === 404 ? (
            <Empty title={`No project named “${name}”`}>
              <p>{status.error.message}.</p>
              <Link href="/projects">See your projects</Link>
            </Empty>
          ) : (
            <ErrorState error={status.error} retry={() => void status.refetch()} />
          )
        ) : view === 'agents' ? (
          <AgentsPanel project={name} board={status.data} />
        ) : view === 'chat' ? (
          <Chat project={name} board={status.data} />
        ) : view === 'graph' ? (
          <MeshGraph project={name} board={status.data} />
        ) : view === 'replay' ? (
          <Replay project={name} board={status.data} />
        ) : view === 'tasks' ? (
          <TasksBoard project={name} board={status.data} />
        ) : view === 'team' ? (
          <TeamView project={name} board={status.data} />
        ) : view === 'pipeline' ? (
          <PipelineView project={name} />
        ) : (
          <MemoryView project={name} board={status.data} />
        )}
      </main>
    </>
  );
}

function ProjectRoute() {
  const params = useSearchParams();
  const name = params.get('name');
  const raw = params.get('view');
  const view: ViewId = VIEWS.some((v) => v.id === raw) ? (raw as ViewId) : 'agents';
  return (
    <AuthGate>
      {(who) =>
        name ? (
          <Project key={name} who={who} name={name} view={view} />
        ) : (
          <>
            <TopBar who={who} crumbs={[{ href: '/projects', label: 'Projects' }]} />
            <main className="page">
              <Empty title="No project chosen">
                <Link href="/projects">Pick one of your projects</Link>
              </Empty>
            </main>
          </>
        )
      }
    </AuthGate>
  );
}

export default function ProjectPage() {
  return (
    <Suspense fallback={<Loading />}>
      <ProjectRoute />
    </Suspense>
  );
}
