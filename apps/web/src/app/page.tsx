'use client';
// `/`: send the user where they belong — the login page, the onboarding wizard, their only project, or the list.
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { AuthGate } from '../components/Shell';
import { ErrorState, Loading } from '../components/States';
import { projectHref } from '../lib/hooks';
import { useProjects } from '../lib/queries';

function Route() {
  const router = useRouter();
  const projects = useProjects();
  useEffect(() => {
    if (!projects.data) return;
    const only = projects.data.length === 1 ? projects.data[0] : undefined;
    if (projects.data.length === 0) router.replace('/onboarding');
    else if (only) router.replace(projectHref(only.name));
    else router.replace('/projects');
  }, [projects.data, router]);
  if (projects.error) return <ErrorState error={projects.error} retry={() => void projects.refetch()} />;
  return <Loading label="Opening your projects…" />;
}

export default function Home() {
  return <AuthGate>{() => <Route />}</AuthGate>;
}
