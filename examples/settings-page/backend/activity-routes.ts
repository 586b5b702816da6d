/**
 * "Recent security activity": the user's audit trail (ListAuditEvents, the
 * newest 20), and its live updates from the backend's security-event
 * follower as Server-Sent Events.
 */
import { fromAuditEvent, fromSecurityEvent } from './activity-words.js';
import type { Backend } from './backend.js';
import { openEventStream } from './http-kit.js';
import type { Route } from './web-app.js';

export function activityRoutes(backend: Backend): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/activity',
      needs: 'signed-in',
      async handle({ session }) {
        const { events } = await backend.admin.listAuditEvents({ userId: session!.userId, pageSize: 20 });
        return { items: events.map(fromAuditEvent) };
      },
    },
    {
      method: 'GET',
      path: '/api/activity/events',
      needs: 'signed-in',
      async handle({ req, res, session }) {
        let unsubscribe = () => {};
        const events = openEventStream(req, res, () => unsubscribe());
        unsubscribe = backend.activity.subscribe(session!.userId, (event) => events.send('activity', fromSecurityEvent(event)));
      },
    },
  ];
}
