import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classify, conditionProblem, type ConversationFacts, type Rule } from '../../../src/core/routing/classify.ts';
import { calendarProblem, isOpen } from '../../../src/core/routing/hours.ts';

const facts: ConversationFacts = {
  channel: 'twilio-whatsapp', channelInstance: 'ch-1', language: 'fr', contactLinked: true,
  customer: { name: 'Ana', tier: 'gold', email: null }, firstMessage: 'Bonjour, my invoice is wrong',
};
const rule = (id: string, extra: Partial<Rule>): Rule => ({ id, enabled: true, match: 'all', conditions: [], queueId: `q-${id}`, skills: [], priority: null, ...extra });

describe('routing rules', () => {
  it('the first matching rule wins and gives its queue, skills and priority', () => {
    const rules = [
      rule('line', { conditions: [{ field: 'channel', op: 'equals', value: 'line' }] }),
      rule('billing', { conditions: [{ field: 'firstMessage', op: 'contains', value: 'INVOICE' }], skills: [{ skill: 'billing' }], priority: 5 }),
      rule('french', { conditions: [{ field: 'language', op: 'equals', value: 'fr' }] }),
    ];
    assert.deepEqual(classify(rules, facts, 'default'), { queueId: 'q-billing', skills: [{ skill: 'billing' }], priority: 5, ruleId: 'billing' });
  });

  it('no match gives the default queue', () => {
    assert.deepEqual(classify([rule('x', { conditions: [{ field: 'language', op: 'equals', value: 'de' }] })], facts, 'default'), { queueId: 'default', skills: [], priority: 0, ruleId: null });
  });

  it('all needs every condition, any needs one', () => {
    const conditions = [
      { field: 'customer.tier' as const, op: 'in' as const, value: ['gold', 'platinum'] },
      { field: 'contactLinked' as const, op: 'equals' as const, value: false },
    ];
    assert.equal(classify([rule('all', { conditions })], facts, null).ruleId, null);
    assert.equal(classify([rule('any', { conditions, match: 'any' })], facts, null).ruleId, 'any');
  });

  it('matches patterns, unset fields and disabled rules', () => {
    assert.equal(classify([rule('re', { conditions: [{ field: 'firstMessage', op: 'matches', value: '^bonjour\\b' }] })], facts, null).ruleId, 're');
    assert.equal(classify([rule('unset', { conditions: [{ field: 'customer.email', op: 'is-not-set' }] })], facts, null).ruleId, 'unset');
    assert.equal(classify([rule('off', { enabled: false })], facts, null).ruleId, null);
    assert.equal(classify([rule('inst', { conditions: [{ field: 'channelInstance', op: 'not-equals', value: 'ch-1' }] })], facts, null).ruleId, null);
  });

  it('a bad pattern or a missing value cannot be saved', () => {
    assert.match(conditionProblem({ field: 'firstMessage', op: 'matches', value: '(' })!, /not a valid regular expression/);
    assert.match(conditionProblem({ field: 'language', op: 'equals' })!, /needs a value/);
    assert.equal(conditionProblem({ field: 'language', op: 'in', value: ['en'] }), null);
  });
});

describe('operating hours', () => {
  const calendar = { hours: { mon: [['09:00', '17:00']] as Array<[string, string]> }, timeZone: 'Europe/Sofia', holidays: ['2025-01-13'] };
  it('are read in the workstream time zone', () => {
    // Monday 2025-01-06 07:30 UTC is 09:30 in Sofia
    assert.equal(isOpen(calendar, new Date('2025-01-06T07:30:00Z')), true);
    assert.equal(isOpen(calendar, new Date('2025-01-06T06:30:00Z')), false);
    assert.equal(isOpen(calendar, new Date('2025-01-07T07:30:00Z')), false, 'Tuesday has no hours');
    assert.equal(isOpen(calendar, new Date('2025-01-13T07:30:00Z')), false, 'a holiday');
    assert.equal(isOpen({ hours: null, timeZone: 'UTC', holidays: [] }), true);
  });
  it('bad calendars are refused', () => {
    assert.match(calendarProblem({ ...calendar, timeZone: 'Mars/Base' })!, /unknown time zone/);
    assert.match(calendarProblem({ ...calendar, hours: { mon: [['17:00', '09:00']] } })!, /start first/);
    assert.equal(calendarProblem(calendar), null);
  });
});
