'use client';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { rpc } from '../lib/api';
import { keys } from '../lib/queries';
import { InlineError } from './States';

export function CreateProject({ onCreated }: { onCreated?: (name: string) => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        rpc<{ name: string }>('mc_create_meshwork', { p_name: name })
          .then(async (created) => {
            setName('');
            await qc.invalidateQueries({ queryKey: keys.projects });
            onCreated?.(created.name);
          })
          .catch(setError)
          .finally(() => setBusy(false));
      }}
    >
      <label htmlFor="new-project">New project</label>
      <input
        id="new-project"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="my-project"
        required
      />
      <button type="submit" className="btn btn-primary" disabled={busy || name.trim() === ''}>
        Create project
      </button>
      <InlineError error={error} />
    </form>
  );
}
