import { sql, type Kysely } from 'kysely';
import type { Notifier } from '../../db/notifier.ts';
import type { DB } from '../../db/schema.ts';
import { chooseAgent, type AgentCandidate } from './assignment.ts';
import { claimOffer, lockConversation } from './claim.ts';
import { enterQueue, outsideHoursAction, workstreamOpen, type Queue, type Workstream } from './queueing.ts';
import { ROUTING_ACTOR } from './records.ts';

/**
 * One assignment cycle for a queue: its waiting list in order (priority, then wait start), each
 * conversation offered to the agent the queue's method names among the members who may take it.
 * Choosing happens on a snapshot; claiming (claim.ts) re-checks everything under locks, so a
 * snapshot gone stale costs a retry, never a double offer.
 */
const BATCH = 200;

interface Member extends AgentCandidate {}

async function loadMembers(db: Kysely<DB>, queueId: string): Promise<Map<number, Member>> {
  const rows = await db
    .selectFrom('queue_members as m')
    .innerJoin('agents as a', 'a.user_id', 'm.user_id')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['a.user_id', 'a.presence', 'a.capacity', 'a.used_capacity', 'a.last_assigned_at', 'm.position'])
    .where('m.queue_id', '=', queueId)
    .where('u.disabled_at', 'is', null)
    .where('a.presence', '<>', 'offline')
    .execute();
  const members = new Map<number, Member>();
  for (const r of rows) {
    members.set(r.user_id, { userId: r.user_id, presence: r.presence, capacity: r.capacity, usedCapacity: r.used_capacity, lastAssignedAt: r.last_assigned_at, position: r.position, skills: new Map() });
  }
  if (members.size > 0) {
    const skills = await db.selectFrom('agent_skills').selectAll().where('user_id', 'in', [...members.keys()]).execute();
    for (const s of skills) (members.get(s.user_id)!.skills as Map<string, number>).set(s.skill, s.proficiency);
  }
  return members;
}

async function refreshMember(db: Kysely<DB>, member: Member): Promise<void> {
  const row = await db.selectFrom('agents').select(['presence', 'capacity', 'used_capacity', 'last_assigned_at']).where('user_id', '=', member.userId).executeTakeFirst();
  if (!row) {
    member.presence = 'offline';
    return;
  }
  Object.assign(member, { presence: row.presence, capacity: row.capacity, usedCapacity: row.used_capacity, lastAssignedAt: row.last_assigned_at });
}

interface Waiting {
  id: string;
  workstream_id: string | null;
  priority: number;
  required_skills: { skill: string; proficiency?: number }[];
  queued_at: Date | null;
  social_profile_id: string;
  contact_id: string | null;
}

/** Who declined or missed each conversation since it entered this queue. */
async function declinedBy(db: Kysely<DB>, waiting: Waiting[]): Promise<Map<string, Set<number>>> {
  const map = new Map<string, Set<number>>();
  if (waiting.length === 0) return map;
  const rows = await db
    .selectFrom('offers as o')
    .innerJoin('conversations as c', 'c.id', 'o.conversation_id')
    .select(['o.conversation_id', 'o.user_id'])
    .where('o.conversation_id', 'in', waiting.map((w) => w.id))
    .where('o.state', 'in', ['rejected', 'expired', 'withdrawn'])
    .where(sql<boolean>`o.created_at >= c.queued_at`)
    .execute();
  for (const r of rows) {
    let set = map.get(r.conversation_id);
    if (!set) map.set(r.conversation_id, (set = new Set()));
    set.add(r.user_id);
  }
  return map;
}

/** The agent of the customer's (or their contact's) latest earlier conversation. */
async function previousAgents(db: Kysely<DB>, waiting: Waiting[]): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  if (waiting.length === 0) return map;
  const profiles = waiting.map((w) => w.social_profile_id);
  const contacts = waiting.map((w) => w.contact_id).filter((c): c is string => c !== null);
  const rows = await db
    .selectFrom('conversations')
    .select(['social_profile_id', 'contact_id', 'assigned_user_id'])
    .where('state', '=', 'closed')
    .where('assigned_user_id', 'is not', null)
    .where((eb) => eb.or([eb('social_profile_id', 'in', profiles), ...(contacts.length > 0 ? [eb('contact_id', 'in', contacts)] : [])]))
    .orderBy('closed_at', 'asc')
    .execute();
  // later rows overwrite earlier ones: the latest conversation wins
  for (const r of rows) {
    map.set(`p:${r.social_profile_id}`, r.assigned_user_id!);
    if (r.contact_id) map.set(`c:${r.contact_id}`, r.assigned_user_id!);
  }
  return map;
}

export interface DispatchResult {
  offers: number;
  considered: number;
}

export async function dispatchQueue(db: Kysely<DB>, notifier: Notifier, queueId: string): Promise<DispatchResult> {
  const result: DispatchResult = { offers: 0, considered: 0 };
  const queue: Queue | undefined = await db.selectFrom('queues').selectAll().where('id', '=', queueId).executeTakeFirst();
  if (!queue) return result;
  const members = await loadMembers(db, queueId);
  const workstreams = new Map<string, Workstream>();
  let lastAssigned = queue.last_assigned_user_id;
  let after: { priority: number; waitingSince: Date; id: string } | undefined;

  for (;;) {
    if (![...members.values()].some((m) => m.capacity > m.usedCapacity)) return result;
    let query = db
      .selectFrom('conversations')
      .select(['id', 'workstream_id', 'priority', 'required_skills', 'queued_at', 'social_profile_id', 'contact_id', 'waiting_since'])
      .where('queue_id', '=', queueId)
      .where('state', '=', 'open')
      .orderBy('priority', 'desc')
      .orderBy('waiting_since', 'asc')
      .orderBy('id', 'asc')
      .limit(BATCH);
    if (after) {
      const a = after;
      query = query.where(sql<boolean>`(-priority, waiting_since, id) > (${-a.priority}, ${a.waitingSince}, ${a.id})`);
    }
    const waiting = await query.execute();
    if (waiting.length === 0) return result;
    const last = waiting.at(-1)!;
    after = { priority: last.priority, waitingSince: last.waiting_since!, id: last.id };

    for (const id of new Set(waiting.map((w) => w.workstream_id).filter((w): w is string => w !== null && !workstreams.has(w)))) {
      const ws = await db.selectFrom('workstreams').selectAll().where('id', '=', id).executeTakeFirst();
      if (ws) workstreams.set(id, ws);
    }
    const declined = await declinedBy(db, waiting);
    const previous = [...workstreams.values()].some((w) => w.prefer_previous_agent) ? await previousAgents(db, waiting) : new Map<string, number>();

    for (const conversation of waiting) {
      const workstream = conversation.workstream_id ? workstreams.get(conversation.workstream_id) : undefined;
      if (!workstream) continue;
      result.considered++;
      if (!workstreamOpen(workstream)) {
        const action = outsideHoursAction(queue, workstream);
        if (action.type === 'move-to-queue' && action.queueId !== queueId) {
          await db.transaction().execute(async (trx) => {
            const locked = await lockConversation(trx, conversation.id);
            if (locked?.state !== 'open' || locked.queue_id !== queueId) return;
            await enterQueue(trx, notifier, { conversationId: conversation.id, queueId: action.queueId, workstream, actor: ROUTING_ACTOR, reason: 'outside-hours', from: 'open', keepWaitStart: true });
          });
        }
        continue;
      }
      const preferred = workstream.prefer_previous_agent
        ? previous.get(`c:${conversation.contact_id}`) ?? previous.get(`p:${conversation.social_profile_id}`) ?? null
        : null;
      const request = {
        method: queue.assignment_method,
        units: workstream.capacity_per_conversation,
        allowedPresences: workstream.allowed_presences,
        requiredSkills: conversation.required_skills,
        skillMatching: workstream.skill_matching,
        excluded: declined.get(conversation.id),
        preferredUserId: preferred,
        lastAssignedUserId: lastAssigned,
        lastPosition: lastAssigned === null ? undefined : members.get(lastAssigned)?.position,
      };
      // a stale snapshot of an agent fails the claim: refresh them and choose again, a few times
      for (let attempt = 0; attempt < 3; attempt++) {
        const agent = chooseAgent([...members.values()], request);
        if (!agent) break;
        const offer = await db.transaction().execute((trx) =>
          claimOffer(trx, notifier, {
            conversationId: conversation.id, userId: agent.userId, queueId, units: request.units, presences: request.allowedPresences,
            timeoutSeconds: workstream.offer_timeout_seconds, actor: ROUTING_ACTOR, reason: preferred === agent.userId ? 'previous-agent' : queue.assignment_method,
          }),
        );
        if (offer) {
          agent.usedCapacity += request.units;
          agent.lastAssignedAt = new Date();
          lastAssigned = agent.userId;
          result.offers++;
          break;
        }
        await refreshMember(db, agent);
        const still = await db.selectFrom('conversations').select('state').where('id', '=', conversation.id).executeTakeFirst();
        if (still?.state !== 'open') break;
      }
    }
    if (waiting.length < BATCH) return result;
  }
}
