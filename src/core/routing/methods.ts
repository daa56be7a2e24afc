import type { AssignmentMethodName } from '../../db/schema.ts';

/**
 * Assignment methods, each a pure function from the agents who may take a conversation to the
 * one who gets it, registered by name so a new method is one more entry. Every method ends on the
 * user id so equal candidates are always ordered the same way.
 */
export interface Candidate {
  userId: number;
  capacity: number;
  usedCapacity: number;
  lastAssignedAt: Date | null;
  /** Place in the queue's member order (round robin walks it). */
  position: number;
}

export interface MethodContext {
  /** The agent the queue assigned last (round robin continues after them). */
  lastAssignedUserId: number | null;
  /** Their place in the queue order, for when they are no longer a candidate. */
  lastPosition?: number | undefined;
}

export type AssignmentMethod = (candidates: readonly Candidate[], context: MethodContext) => Candidate | undefined;

const free = (c: Candidate) => c.capacity - c.usedCapacity;
// never assigned counts as longest ago
const assignedAt = (c: Candidate) => c.lastAssignedAt?.getTime() ?? -Infinity;

function best(candidates: readonly Candidate[], before: (a: Candidate, b: Candidate) => number): Candidate | undefined {
  let chosen: Candidate | undefined;
  for (const c of candidates) if (!chosen || before(c, chosen) < 0) chosen = c;
  return chosen;
}

/** Most free capacity; then the one waiting longest since an assignment. */
const highestCapacity: AssignmentMethod = (candidates) =>
  best(candidates, (a, b) => free(b) - free(a) || assignedAt(a) - assignedAt(b) || a.userId - b.userId);

/** Longest since the last assignment; then most free capacity. */
const leastActive: AssignmentMethod = (candidates) =>
  best(candidates, (a, b) => assignedAt(a) - assignedAt(b) || free(b) - free(a) || a.userId - b.userId);

/** The next in queue order after the agent assigned last, wrapping around. */
const roundRobin: AssignmentMethod = (candidates, context) => {
  const ordered = [...candidates].sort((a, b) => a.position - b.position || a.userId - b.userId);
  if (ordered.length === 0) return undefined;
  const last = context.lastAssignedUserId;
  const lastIndex = last === null ? -1 : ordered.findIndex((c) => c.userId === last);
  if (lastIndex >= 0) return ordered[(lastIndex + 1) % ordered.length];
  // the last one is not a candidate now: continue from where they stood in the queue
  const lastPosition = context.lastPosition ?? -Infinity;
  return ordered.find((c) => c.position > lastPosition) ?? ordered[0];
};

export const ASSIGNMENT_METHODS: Record<AssignmentMethodName, AssignmentMethod> = {
  'highest-capacity': highestCapacity,
  'round-robin': roundRobin,
  'least-active': leastActive,
};

export const METHOD_NAMES = Object.keys(ASSIGNMENT_METHODS) as AssignmentMethodName[];
