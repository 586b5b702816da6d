/**
 * DEMO-GRADE session handling: sessions live in this process's memory and
 * are lost on restart; the cookie is a random id. A real application keeps
 * its own sessions (a signed cookie, a session store) and, as here, records
 * when each was issued and asks the MFA service whether that is before the
 * user's last revocation (CheckSession), since enabling or disabling MFA
 * logs the user out everywhere.
 */
import { randomBytes } from 'node:crypto';

/** Where a browser is in signing in: after the password (the code step is next), or signed in. */
export type SessionStage = 'code' | 'signed-in';

export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly stage: SessionStage;
  /** When the user signed in: sessions issued before the user's sessions_revoked_at are over. */
  readonly issuedAt: Date;
}

const SESSION_MS = 60 * 60 * 1000;

/** The sessions of this process, by the id in the `session` cookie. */
export class Sessions {
  private readonly byId = new Map<string, Session & { expiresAt: number }>();

  /** Starts a session (replacing nothing: the caller ends the old one). */
  start(userId: string, stage: SessionStage): Session {
    const session = { id: randomBytes(32).toString('base64url'), userId, stage, issuedAt: new Date(), expiresAt: Date.now() + SESSION_MS };
    this.byId.set(session.id, session);
    return session;
  }

  find(id: string | undefined): Session | null {
    const session = id === undefined ? undefined : this.byId.get(id);
    if (session === undefined) return null;
    if (session.expiresAt <= Date.now()) {
      this.byId.delete(session.id);
      return null;
    }
    return session;
  }

  end(id: string): void {
    this.byId.delete(id);
  }
}
