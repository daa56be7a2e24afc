import type { WeeklyHours } from '../../db/schema.ts';

/**
 * Operating hours: a weekly calendar of opening intervals in the workstream's time zone, minus
 * holidays (local dates). No calendar means always open. Uses Intl only, so any IANA zone works.
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const TIME = /^([01]\d|2[0-4]):([0-5]\d)$/;

export interface OperatingHours {
  hours: WeeklyHours | null;
  timeZone: string;
  holidays: string[];
}

function localParts(at: Date, timeZone: string): { date: string; day: (typeof DAYS)[number]; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const day = get('weekday').slice(0, 3).toLowerCase() as (typeof DAYS)[number];
  return { date: `${get('year')}-${get('month')}-${get('day')}`, day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

function minutesOf(time: string): number {
  const match = TIME.exec(time)!;
  return Number(match[1]) * 60 + Number(match[2]);
}

export function isOpen(calendar: OperatingHours, at: Date = new Date()): boolean {
  if (!calendar.hours) return true;
  const local = localParts(at, calendar.timeZone);
  if (calendar.holidays.includes(local.date)) return false;
  return (calendar.hours[local.day] ?? []).some(([from, to]) => local.minutes >= minutesOf(from) && local.minutes < minutesOf(to));
}

/** Why a calendar is unusable, or null when it is fine (checked when a workstream is saved). */
export function calendarProblem(calendar: OperatingHours): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: calendar.timeZone });
  } catch {
    return `unknown time zone "${calendar.timeZone}"`;
  }
  for (const date of calendar.holidays) if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return `holiday "${date}" is not a YYYY-MM-DD date`;
  for (const [day, intervals] of Object.entries(calendar.hours ?? {})) {
    if (!(DAYS as readonly string[]).includes(day)) return `unknown day "${day}" (use ${DAYS.join(', ')})`;
    for (const interval of intervals ?? []) {
      const [from, to] = interval;
      if (!TIME.test(from) || !TIME.test(to) || minutesOf(from) >= minutesOf(to)) return `interval ${JSON.stringify(interval)} on ${day} must be ["HH:MM", "HH:MM"] with the start first`;
    }
  }
  return null;
}
