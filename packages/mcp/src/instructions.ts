// The server `instructions` an editor shows the model: who this agent is, what it is for, and the mesh loop.

export interface InstructionsInput {
  agent: string;
  meshwork: string;
  role?: string;
  launchPrompt?: string;
}

export function buildInstructions(a: InstructionsInput): string {
  const lines = [
    `You are "${a.agent}", one agent of the MeshCode team "${a.meshwork}": several AI agents, each in its own editor window or worker, coordinating through the meshcode_* tools.`,
  ];
  if (a.role?.trim()) lines.push(`Your role: ${a.role.trim()}`);
  if (a.launchPrompt?.trim()) lines.push('', a.launchPrompt.trim());
  lines.push(
    '',
    'The mesh loop:',
    '1. On start: meshcode_recall() (your memories), meshcode_status() (who is online), meshcode_tasks() (open work).',
    '2. meshcode_wait() blocks until a message or task arrives; each item says how to answer it.',
    '3. Handle it, then meshcode_done(result=…): this answers the ask or completes the task you handled.',
    '4. Call meshcode_wait() again. Keep looping until the user tells you to stop.',
    'Talk to teammates with meshcode_send, meshcode_ask (waits for the answer) and meshcode_broadcast. Keep what must survive a restart with meshcode_remember; share notes with the team through meshcode_scratchpad_set.',
  );
  return lines.join('\n');
}
