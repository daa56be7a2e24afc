import type { AssignmentMethodName, Presence, RequiredSkill } from '../../db/schema.ts';
import { ASSIGNMENT_METHODS, type Candidate } from './methods.ts';

/**
 * Who gets a conversation: the queue members in an allowed presence, with room for the
 * conversation's capacity units, who have not declined it already, and who have its skills
 * (exactly, or the closest anyone has); the returning customer's previous agent first when the
 * workstream prefers them; otherwise the queue's assignment method decides. Pure.
 */
export interface AgentCandidate extends Candidate {
  presence: Presence;
  /** skill → proficiency 1–10 */
  skills: ReadonlyMap<string, number>;
}

export interface AssignmentRequest {
  method: AssignmentMethodName;
  units: number;
  allowedPresences: readonly Presence[];
  requiredSkills: readonly RequiredSkill[];
  skillMatching: 'exact' | 'closest';
  /** Agents who declined or missed this conversation in this queue. */
  excluded?: ReadonlySet<number>;
  preferredUserId?: number | null;
  lastAssignedUserId: number | null;
  lastPosition?: number | undefined;
}

/** How well an agent covers the required skills: [skills met fully, skills held, proficiency over them]. */
export function skillScore(skills: ReadonlyMap<string, number>, required: readonly RequiredSkill[]): [number, number, number] {
  let met = 0;
  let held = 0;
  let total = 0;
  for (const need of required) {
    const level = skills.get(need.skill.toLowerCase());
    if (level === undefined) continue;
    held++;
    total += level;
    if (level >= (need.proficiency ?? 1)) met++;
  }
  return [met, held, total];
}

/** Exact: only agents who meet every skill. Closest: when nobody does, the best-covered tier. */
export function bySkills<T extends AgentCandidate>(candidates: readonly T[], required: readonly RequiredSkill[], matching: 'exact' | 'closest'): T[] {
  if (required.length === 0) return [...candidates];
  const scored = candidates.map((c) => ({ c, score: skillScore(c.skills, required) }));
  const exact = scored.filter((s) => s.score[0] === required.length).map((s) => s.c);
  if (exact.length > 0 || matching === 'exact') return exact;
  let top: [number, number, number] = [-1, -1, -1];
  for (const { score } of scored) if (compare(score, top) > 0) top = score;
  return scored.filter((s) => compare(s.score, top) === 0).map((s) => s.c);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export function eligible<T extends AgentCandidate>(candidates: readonly T[], request: AssignmentRequest): T[] {
  return candidates.filter(
    (c) =>
      c.presence !== 'offline' &&
      request.allowedPresences.includes(c.presence) &&
      c.capacity - c.usedCapacity >= request.units &&
      !request.excluded?.has(c.userId),
  );
}

export function chooseAgent<T extends AgentCandidate>(candidates: readonly T[], request: AssignmentRequest): T | undefined {
  const able = bySkills(eligible(candidates, request), request.requiredSkills, request.skillMatching);
  if (able.length === 0) return undefined;
  if (request.preferredUserId != null) {
    const previous = able.find((c) => c.userId === request.preferredUserId);
    if (previous) return previous;
  }
  const method = ASSIGNMENT_METHODS[request.method];
  return method(able, { lastAssignedUserId: request.lastAssignedUserId, lastPosition: request.lastPosition }) as T | undefined;
}
