'use client';
// Every project the account belongs to, with its team at a glance; create another one.
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { AuthGate, TopBar } from '../../components/Shell';
import { CreateProject } from '../../components/CreateProject';
import { Command, Empty, ErrorState, Loading } from '../../components/States';
import { presence } from '../../lib/format';
import { projectHref, useNow } from '../../lib/hooks';
import { useProjects } from '../../lib/queries';
import type { Meshwork } from '../../lib/types';

function ProjectCard({ p, now }: { p: Meshwork; now: number }) {
  const live = p.agents.filter((a) => presence(a.status, a.last_seen_at, now) !== 'offline').length;
  return (
    <li className="card project-card">
      <Link href={projectHref(p.name)} className="project-link">
        <span className="project-name">{p.name}</span>
        <span className="muted small">
          {p.role === 'owner' ? 'yours' : `${p.role} · owned by ${p.owner ?? 'someone else'}`}
        </span>
      </Link>
      <p className="project-stats">
        <span>
          <strong>{p.agents.length}</strong> {p.agents.length === 1 ? 'agent' : 'agents'}
        </span>
        <span className={live > 0 ? 'ok' : 'muted'}>
          <strong>{live}</strong> online
        </span>
      </p>
      <ul className="agent-dots" aria-label={`Agents of ${p.name}`}>
        {p.agents.slice(0, 24).map((a) => {
          const s = presence(a.status, a.last_seen_at, now);
          return (
            <li key={a.id} className={`dot dot-${s}`} title={`${a.name}: ${s}`}>
              <span className="sr-only">
                {a.name}: {s}
              </span>
            </li>
          );
        })}
      </ul>
    </li>
  );
}

function Projects() {
  // The list has no feed of its own (a feed is per project): refresh presence every few seconds.
  const projects = useProjects({ poll: 5000 });
  const router = useRouter();
  const now = useNow();
  if (projects.isPending) return <Loading label="Loading projects…" />;
  if (projects.error) return <ErrorState error={projects.error} retry={() => void projects.refetch()} />;
  return (
    <>
      <div className="page-head">
        <h1>Projects</h1>
        <CreateProject onCreated={(name) => router.push(projectHref(name))} />
      </div>
      {projects.data.length === 0 ? (
        <Empty title="No projects yet">
          <p>Create one above, or from a terminal — it also sets up your first agent:</p>
          <Command text="meshcode setup my-project commander" />
          <p>
            New here? <Link href="/onboarding">Follow the four setup steps</Link>.
          </p>
        </Empty>
      ) : (
        <ul className="project-grid">
          {projects.data.map((p) => (
            <ProjectCard key={p.id} p={p} now={now} />
          ))}
        </ul>
      )}
    </>
  );
}

export default function ProjectsPage() {
  return (
    <AuthGate>
      {(who) => (
        <>
          <TopBar who={who} crumbs={[{ label: 'Projects' }]} />
          <main className="page">
            <Projects />
          </main>
        </>
      )}
    </AuthGate>
  );
}
