// meshcode_edit_agent: change an agent's role or launch prompt (takes effect when it next starts).
import { z } from 'zod';
import { defineTool, fail, text } from '../tool';

export default defineTool({
  name: 'meshcode_edit_agent',
  description: "Change an agent's role or launch prompt.",
  input: {
    name: z.string().min(1).describe('Agent name'),
    role: z.string().optional().describe('New role'),
    launch_prompt: z.string().optional().describe('New standing instructions'),
    meshwork: z.string().optional().describe('Meshwork (default: yours)'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  target: (a) => a.name,
  async run(a, ctx) {
    if (a.role === undefined && a.launch_prompt === undefined) {
      return fail('nothing to change: pass role, launch_prompt, or both.');
    }
    const agent = await ctx.client.editAgent(a.meshwork ?? ctx.meshwork, a.name, {
      role: a.role,
      launchPrompt: a.launch_prompt,
    });
    return text(
      `Agent "${agent.name}" updated (role: ${agent.role || 'none'}); it applies the next time that agent starts.`,
    );
  },
});
