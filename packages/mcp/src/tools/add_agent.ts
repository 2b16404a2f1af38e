// meshcode_add_agent: a new agent slot; the user then opens it in a new terminal with the CLI.
import { z } from 'zod';
import { defineTool, text } from '../tool';

export default defineTool({
  name: 'meshcode_add_agent',
  description: 'Add an agent to this meshwork (or another); tells the user the command that starts it.',
  input: {
    name: z.string().min(1).describe('Agent name: lowercase letters, digits, . _ -'),
    role: z.string().optional().describe('What it is for'),
    launch_prompt: z.string().optional().describe('Standing instructions it starts with'),
    meshwork: z.string().optional().describe('Meshwork (default: yours)'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  target: (a) => a.name,
  async run(a, ctx) {
    const meshwork = a.meshwork ?? ctx.meshwork;
    const agent = await ctx.client.addAgent(meshwork, a.name, { role: a.role, launchPrompt: a.launch_prompt });
    const command =
      a.meshwork === undefined
        ? `meshcode run ${agent.name}`
        : `meshcode setup ${meshwork} ${agent.name} && meshcode run ${agent.name}`;
    return text(
      `Agent "${agent.name}" added to ${meshwork}. Tell the user: open a new terminal and run \`${command}\` to bring it online.`,
    );
  },
});
