// meshcode_link: link this meshwork with another for cross-mesh messages (active once both owners linked). An older
// hub without mc_link is told plainly instead of pretending.
import { z } from 'zod';
import { MeshError } from '@meshcode/protocol';
import { defineTool, fail, json } from '../tool';

export default defineTool({
  name: 'meshcode_link',
  description: 'Link this meshwork with another one so their agents can message each other.',
  input: {
    target: z.string().min(1).describe('Meshwork to link with'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  target: (a) => a.target,
  async run(a, ctx) {
    try {
      const res = (await ctx.client.rpc('mc_link', { p_meshwork: ctx.meshwork, p_target: a.target })) as {
        active?: boolean;
        hint?: string;
      };
      return json(
        res,
        res.active ? `Linked with ${a.target}: ${res.hint ?? ''}` : `Asked ${a.target} to link: ${res.hint ?? ''}`,
      );
    } catch (err) {
      if (err instanceof MeshError && err.status === 404 && err.code === 'PGRST202') {
        return fail(
          `cross-mesh links are not available on this hub yet (${ctx.client.hubUrl} has no mc_link); nothing was linked, so tell the user it needs a newer MeshCode hub.`,
        );
      }
      throw err;
    }
  },
});
