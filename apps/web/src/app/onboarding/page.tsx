'use client';
// The four first steps of a new account, each detected live: logged in, project created, first agent connected,
// first message. Polls once a second (there may be no project to stream yet) and streams the project once there is.
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { Whoami } from '@meshcode/protocol';
import { CreateProject } from '../../components/CreateProject';
import { AuthGate, LiveBadge, TopBar } from '../../components/Shell';
import { Command, ErrorState, Loading } from '../../components/States';
import { rpc } from '../../lib/api';
import { projectHref } from '../../lib/hooks';
import { useLiveFeed } from '../../lib/live';
import { keys, useProjects } from '../../lib/queries';
import type { Message, Meshwork } from '../../lib/types';

function Step({
  n,
  done,
  title,
  note,
  children,
}: {
  n: number;
  done: boolean;
  title: string;
  note?: string;
  children?: React.ReactNode;
}) {
  return (
    <li
      className={`step-card${done ? ' step-done' : ''}`}
      data-step={n}
      aria-label={`Step ${n}: ${title} — ${done ? 'done' : 'to do'}`}
    >
      <span className="step-mark" aria-hidden="true">
        {done ? '✓' : n}
      </span>
      <div className="step-content">
        <h2>{title}</h2>
        <p className="step-state">{done ? (note ?? 'Done') : 'Waiting…'}</p>
        {!done && children}
      </div>
    </li>
  );
}

function Live({ project }: { project: string }) {
  return <LiveBadge state={useLiveFeed(project)} />;
}

function Wizard({ who }: { who: Whoami }) {
  const projects = useProjects({ poll: 1000 });
  const list: Meshwork[] = projects.data ?? [];
  const project =
    list.find((p) => p.agents.some((a) => a.last_seen_at)) ?? list.find((p) => p.agents.length > 0) ?? list[0];
  const connected = list.flatMap((p) => p.agents).find((a) => a.last_seen_at !== null);
  const firstMessage = useQuery({
    queryKey: keys.firstMessage(project?.name ?? ''),
    queryFn: () => rpc<Message[]>('mc_history', { p_meshwork: project?.name, p_limit: 1 }),
    enabled: project !== undefined,
    refetchInterval: (q) => ((q.state.data?.length ?? 0) > 0 ? false : 1000),
  });
  if (projects.isPending) return <Loading />;
  if (projects.error) return <ErrorState error={projects.error} retry={() => void projects.refetch()} />;

  const steps = [true, list.length > 0, connected !== undefined, (firstMessage.data?.length ?? 0) > 0];
  const doneCount = steps.filter(Boolean).length;
  const name = project?.name ?? 'my-project';
  const agent = project?.agents[0]?.name ?? 'commander';
  return (
    <main className="page onboarding">
      <div className="page-head">
        <h1>Set up your mesh</h1>
        {project && <Live project={project.name} />}
      </div>
      <p>
        <progress max={4} value={doneCount} aria-label={`${doneCount} of 4 steps done`} /> {doneCount} of 4 steps done
      </p>
      <ol className="steps">
        <Step n={1} done title="Log in" note={`Done: logged in as ${who.account.email}`} />
        <Step
          n={2}
          done={steps[1] === true}
          title="Create a project"
          note={project ? `Done: ${project.name}` : undefined}
        >
          <p>Create it here, or from a terminal (this also sets up the first agent&apos;s workspace):</p>
          <CreateProject />
          <Command text="meshcode setup my-project commander" />
        </Step>
        <Step
          n={3}
          done={steps[2] === true}
          title="Connect your first agent"
          note={connected ? `Done: ${connected.name} connected` : undefined}
        >
          <p>Open the agent in your editor; it connects through MCP and shows up here as soon as it does:</p>
          {project && project.agents.length === 0 && <Command text={`meshcode setup ${name} commander`} />}
          <Command text={`meshcode run ${agent}`} />
        </Step>
        <Step n={4} done={steps[3] === true} title="Send the first message">
          <p>
            Ask {agent} to say hello to another agent (meshcode_send), or write to it from the{' '}
            {project ? <Link href={projectHref(project.name, 'chat')}>chat</Link> : 'chat'}.
          </p>
        </Step>
      </ol>
      {doneCount === 4 && project && (
        <p className="onboarding-done" role="status">
          Your mesh is running.{' '}
          <Link className="btn btn-primary" href={projectHref(project.name)}>
            Open {project.name}
          </Link>
        </p>
      )}
    </main>
  );
}

export default function OnboardingPage() {
  return (
    <AuthGate>
      {(who) => (
        <>
          <TopBar who={who} crumbs={[{ href: '/projects', label: 'Projects' }, { label: 'Setup' }]} />
          <Wizard who={who} />
        </>
      )}
    </AuthGate>
  );
}
