// Wire shapes, shared with the hub and the SDK through @meshcode/protocol (types only: nothing of it is bundled).
import type { ActivityRow, Agent, Message, Meshwork, StatusBoard, Task } from '@meshcode/protocol';

export type { ActivityRow, Agent, Message, Meshwork, StatusBoard, Task };
export type BoardAgent = StatusBoard['agents'][number];
export type Presence = Agent['status'];
export type TaskStatus = Task['status'];
export type TaskPriority = Task['priority'];

export interface MemoryEntry {
  key: string;
  value: string;
  updated_at: string;
}
export interface ScratchpadEntry extends MemoryEntry {
  updated_by: string;
}

export const PRESENCE: Presence[] = ['online', 'waiting', 'working', 'idle', 'offline'];
export const PRIORITIES: TaskPriority[] = ['urgent', 'high', 'normal', 'low'];
/** The tools' limits, enforced by the hub in SQL; shown here so nobody is surprised. */
export const LIMITS = { memoryKeys: 100, scratchpadKeys: 500, valueBytes: 10240, keyBytes: 200 } as const;
