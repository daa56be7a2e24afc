import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bySkills, chooseAgent, type AgentCandidate, type AssignmentRequest } from '../../../src/core/routing/assignment.ts';
import { ASSIGNMENT_METHODS } from '../../../src/core/routing/methods.ts';

function agent(userId: number, extra: Partial<AgentCandidate> = {}): AgentCandidate {
  return { userId, presence: 'available', capacity: 100, usedCapacity: 0, lastAssignedAt: null, position: userId, skills: new Map(), ...extra };
}
const at = (minutesAgo: number) => new Date(Date.UTC(2025, 0, 1, 12, 0) - minutesAgo * 60_000);
function request(extra: Partial<AssignmentRequest> = {}): AssignmentRequest {
  return { method: 'highest-capacity', units: 25, allowedPresences: ['available'], requiredSkills: [], skillMatching: 'closest', lastAssignedUserId: null, ...extra };
}

describe('assignment methods', () => {
  it('highest capacity picks the agent with the most free capacity', () => {
    const chosen = chooseAgent([agent(1, { usedCapacity: 50 }), agent(2, { usedCapacity: 25 }), agent(3, { usedCapacity: 75 })], request());
    assert.equal(chosen?.userId, 2);
  });

  it('highest capacity breaks ties by the longest since an assignment, then the lowest user id', () => {
    assert.equal(chooseAgent([agent(1, { lastAssignedAt: at(1) }), agent(2, { lastAssignedAt: at(5) })], request())?.userId, 2);
    assert.equal(chooseAgent([agent(7), agent(3), agent(5)], request())?.userId, 3);
    assert.equal(chooseAgent([agent(1, { lastAssignedAt: at(1) }), agent(2)], request())?.userId, 2, 'never assigned counts as longest ago');
  });

  it('least active picks the longest since the last assignment, then the most free capacity', () => {
    const agents = [agent(1, { lastAssignedAt: at(10) }), agent(2, { lastAssignedAt: at(30) }), agent(3, { lastAssignedAt: at(20) })];
    assert.equal(chooseAgent(agents, request({ method: 'least-active' }))?.userId, 2);
    const tied = [agent(1, { lastAssignedAt: at(10), usedCapacity: 50 }), agent(2, { lastAssignedAt: at(10) })];
    assert.equal(chooseAgent(tied, request({ method: 'least-active' }))?.userId, 2);
  });

  it('round robin walks the queue order after the agent assigned last, and wraps', () => {
    const agents = [agent(10, { position: 2 }), agent(11, { position: 0 }), agent(12, { position: 1 })];
    const rr = (last: number | null, lastPosition?: number) => chooseAgent(agents, request({ method: 'round-robin', lastAssignedUserId: last, lastPosition }))?.userId;
    assert.equal(rr(null), 11);
    assert.equal(rr(11), 12);
    assert.equal(rr(12), 10);
    assert.equal(rr(10), 11);
    assert.equal(rr(99, 1), 10, 'the last one left: continue from their place');
  });

  it('methods are registered by name', () => {
    assert.deepEqual(Object.keys(ASSIGNMENT_METHODS).sort(), ['highest-capacity', 'least-active', 'round-robin']);
    assert.equal(ASSIGNMENT_METHODS['highest-capacity']([], { lastAssignedUserId: null }), undefined);
  });
});

describe('who may take a conversation', () => {
  it('needs room for the conversation: a full agent is skipped', () => {
    assert.equal(chooseAgent([agent(1, { usedCapacity: 80 }), agent(2, { usedCapacity: 75 })], request())?.userId, 2);
    assert.equal(chooseAgent([agent(1, { usedCapacity: 80 })], request()), undefined);
  });

  it('needs an allowed presence, and never offline', () => {
    const agents = [agent(1, { presence: 'busy' }), agent(2, { presence: 'away' }), agent(3, { presence: 'offline' }), agent(4, { presence: 'do-not-disturb' })];
    assert.equal(chooseAgent(agents, request()), undefined);
    assert.equal(chooseAgent(agents, request({ allowedPresences: ['available', 'busy'] }))?.userId, 1);
    assert.equal(chooseAgent([agent(3, { presence: 'offline' })], request({ allowedPresences: ['offline'] })), undefined);
  });

  it('skips agents who declined the conversation', () => {
    assert.equal(chooseAgent([agent(1), agent(2, { usedCapacity: 10 })], request({ excluded: new Set([1]) }))?.userId, 2);
  });

  it('prefers the previous agent when they may take it, whatever the method says', () => {
    const agents = [agent(1), agent(2, { usedCapacity: 50 })];
    assert.equal(chooseAgent(agents, request({ preferredUserId: 2 }))?.userId, 2);
    assert.equal(chooseAgent([agent(1), agent(2, { presence: 'offline' })], request({ preferredUserId: 2 }))?.userId, 1);
  });
});

describe('skills', () => {
  const french = (level: number) => new Map([['french', level]]);
  it('exact match: only agents with every skill at the proficiency asked', () => {
    const agents = [agent(1, { skills: french(3) }), agent(2, { skills: french(8) }), agent(3)];
    const need = [{ skill: 'french', proficiency: 5 }];
    assert.deepEqual(bySkills(agents, need, 'exact').map((a) => a.userId), [2]);
    assert.deepEqual(bySkills([agents[0]!, agents[2]!], need, 'exact'), []);
  });

  it('closest match: when nobody meets all, the agents covering most of it', () => {
    const agents = [
      agent(1, { skills: new Map([['french', 9]]) }),
      agent(2, { skills: new Map([['french', 4], ['billing', 6]]) }),
      agent(3, { skills: new Map([['billing', 2]]) }),
    ];
    const need = [{ skill: 'french', proficiency: 5 }, { skill: 'billing', proficiency: 5 }];
    // agent 1 and 2 each meet one; agent 2 holds both
    assert.deepEqual(bySkills(agents, need, 'closest').map((a) => a.userId), [2]);
    assert.equal(chooseAgent(agents, request({ requiredSkills: need, skillMatching: 'exact' })), undefined);
    assert.equal(chooseAgent(agents, request({ requiredSkills: need }))?.userId, 2);
  });

  it('skill names are matched without regard to case', () => {
    assert.equal(chooseAgent([agent(1), agent(2, { skills: new Map([['vip', 5]]) })], request({ requiredSkills: [{ skill: 'VIP' }], skillMatching: 'exact' }))?.userId, 2);
  });
});
