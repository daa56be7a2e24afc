import type { RequiredSkill, RuleCondition } from '../../db/schema.ts';

/**
 * Work classification: a workstream's routing rules, in order, against what is known of a new
 * conversation; the first enabled rule that matches names the queue, the skills it needs and its
 * priority. Pure: the facts are gathered elsewhere.
 */
export interface ConversationFacts {
  /** Provider: facebook, twilio-whatsapp, line. */
  channel: string;
  channelInstance: string;
  language: string | null;
  contactLinked: boolean;
  /** Contact fields and social profile details: name, email, phone, company and custom fields. */
  customer: Record<string, unknown>;
  firstMessage: string | null;
}

export interface Rule {
  id: string;
  enabled: boolean;
  match: 'all' | 'any';
  conditions: RuleCondition[];
  queueId: string | null;
  skills: RequiredSkill[];
  priority: number | null;
}

export interface Classification {
  queueId: string | null;
  skills: RequiredSkill[];
  priority: number;
  ruleId: string | null;
}

function factOf(facts: ConversationFacts, field: string): unknown {
  if (field.startsWith('customer.')) return facts.customer[field.slice('customer.'.length)];
  return (facts as unknown as Record<string, unknown>)[field];
}

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value)).toLowerCase();

export function conditionHolds(condition: RuleCondition, facts: ConversationFacts): boolean {
  const fact = factOf(facts, condition.field);
  const set = fact !== null && fact !== undefined && fact !== '';
  switch (condition.op) {
    case 'is-set':
      return set && fact !== false;
    case 'is-not-set':
      return !set || fact === false;
    case 'equals':
      return typeof condition.value === 'boolean' ? fact === condition.value : set && text(fact) === text(condition.value);
    case 'not-equals':
      return typeof condition.value === 'boolean' ? fact !== condition.value : text(fact) !== text(condition.value);
    case 'in':
      return set && Array.isArray(condition.value) && condition.value.some((v) => text(v) === text(fact));
    case 'contains':
      return set && text(fact).includes(text(condition.value));
    case 'matches':
      try {
        return set && new RegExp(String(condition.value), 'iu').test(String(fact));
      } catch {
        return false; // rejected when saved; a stored bad pattern simply never matches
      }
  }
}

export function ruleMatches(rule: Rule, facts: ConversationFacts): boolean {
  if (!rule.enabled) return false;
  if (rule.conditions.length === 0) return true;
  return rule.match === 'all' ? rule.conditions.every((c) => conditionHolds(c, facts)) : rule.conditions.some((c) => conditionHolds(c, facts));
}

/** First match wins; no match gives the default queue with no skills and priority 0. */
export function classify(rules: readonly Rule[], facts: ConversationFacts, defaultQueueId: string | null): Classification {
  for (const rule of rules) {
    if (!ruleMatches(rule, facts)) continue;
    return { queueId: rule.queueId ?? defaultQueueId, skills: rule.skills, priority: rule.priority ?? 0, ruleId: rule.id };
  }
  return { queueId: defaultQueueId, skills: [], priority: 0, ruleId: null };
}

/** Why a condition cannot be saved, or null. */
export function conditionProblem(condition: RuleCondition): string | null {
  if (condition.op === 'matches') {
    try {
      new RegExp(String(condition.value), 'iu');
    } catch (error) {
      return `the pattern ${JSON.stringify(condition.value)} is not a valid regular expression: ${(error as Error).message}`;
    }
  }
  if (condition.op === 'in' && !Array.isArray(condition.value)) return '"in" needs a list of values';
  if (['equals', 'not-equals', 'contains', 'matches'].includes(condition.op) && condition.value === undefined) return `"${condition.op}" needs a value`;
  return null;
}
