// Calls the backend's JSON API. A failure becomes an ApiError with the
// sentence for a person (message) and the service's reason (for the tooltip).

export class ApiError extends Error {
  /** @param {number} status @param {string} reason @param {string} message */
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }

  /** True when the backend says the session is over (signed out, or revoked by the service). */
  get signedOut() {
    return this.status === 401;
  }
}

/** GET `path`, or POST `body` as JSON to it; resolves with the JSON answer. */
export async function api(path, body) {
  let response;
  try {
    response = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The page cannot reach its server. Check your connection and try again.');
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error ?? {};
    throw new ApiError(response.status, error.reason ?? `HTTP_${response.status}`, error.message ?? 'Something went wrong. Try again in a moment.');
  }
  return answer;
}

/** Shows `error` in the element for errors of a form (role="alert"), its reason in the tooltip; null clears it. */
export function showError(element, error) {
  element.textContent = error === null ? '' : error.message;
  if (error instanceof ApiError) element.title = `Reason: ${error.reason}`;
  else element.removeAttribute('title');
}
