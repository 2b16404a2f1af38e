// Every tool the server offers, in the order tools/list shows them.
import type { AnyTool } from '../tool';
import wait from './wait';
import done from './done';
import send from './send';
import ask from './ask';
import broadcast from './broadcast';
import status from './status';
import tasks from './tasks';
import taskUpdate from './task_update';
import remember from './remember';
import recall from './recall';
import forget from './forget';
import scratchpadSet from './scratchpad_set';
import scratchpadGet from './scratchpad_get';
import createMeshwork from './create_meshwork';
import addAgent from './add_agent';
import editAgent from './edit_agent';
import editMemory from './edit_memory';
import link from './link';

export const ALL_TOOLS: readonly AnyTool[] = [
  wait,
  done,
  send,
  ask,
  broadcast,
  status,
  tasks,
  taskUpdate,
  remember,
  recall,
  forget,
  scratchpadSet,
  scratchpadGet,
  createMeshwork,
  addAgent,
  editAgent,
  editMemory,
  link,
];

export const TOOL_NAMES: readonly string[] = ALL_TOOLS.map((t) => t.name);
