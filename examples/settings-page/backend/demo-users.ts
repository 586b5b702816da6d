/**
 * DEMO-GRADE: the password step. A fixed list of demo users who all share the
 * password "demo", so that anyone can click through the flow. A real
 * application has its own user store and password hashing; what matters
 * here is only that the password step comes first and that MFA is the
 * second step.
 */
import { timingSafeEqual } from 'node:crypto';

/** The demo accounts, shown on the sign-in page. */
export const DEMO_USERS: readonly string[] = ['alice', 'bob', 'carol', 'dave', 'erin'];

/** The one demo password, shown on the sign-in page. */
export const DEMO_PASSWORD = 'demo';

/** True when `userId` is a demo user and `password` is the demo password. */
export function checkPassword(userId: string, password: string): boolean {
  const given = Buffer.from(password);
  const expected = Buffer.from(DEMO_PASSWORD);
  const matches = given.length === expected.length && timingSafeEqual(given, expected);
  return DEMO_USERS.includes(userId) && matches;
}
