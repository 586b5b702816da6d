// "Recent security activity": the history, then live updates (Server-Sent
// Events from the backend's security-event follower) while the page is open.
import { api } from './api.js';

const list = document.getElementById('activity-list');
let source = null;

function item({ at, text }) {
  const li = document.createElement('li');
  const what = Object.assign(document.createElement('span'), { className: 'what', textContent: text });
  const when = Object.assign(document.createElement('time'), { className: 'when', dateTime: at, textContent: new Date(at).toLocaleString() });
  li.append(what, when);
  return li;
}

/** Shows the history and follows what happens next; stop() ends the following. */
export async function followActivity() {
  stopActivity();
  source = new EventSource('/api/activity/events');
  source.addEventListener('activity', (event) => list.prepend(item(JSON.parse(event.data))));
  const empty = (text) => Object.assign(document.createElement('li'), { className: 'empty', textContent: text });
  try {
    const { items } = await api('/api/activity');
    list.replaceChildren(...(items.length > 0 ? items.map(item) : [empty('Nothing yet.')]));
  } catch (failure) {
    if (failure.signedOut) throw failure;
    list.replaceChildren(empty(failure.message));
  }
}

export function stopActivity() {
  source?.close();
  source = null;
}
