import { ApiClient, fetchToken, isAbort } from './api.js';

/** Who the page is acting as. `signal` (its client's too) aborts when the owner changes. */
export interface Session {
  owner: string;
  api: ApiClient;
  /** The owner's bearer token, for what the client does not call: the event stream. */
  token: string;
  signal: AbortSignal;
}

export interface IdentityElements {
  form: HTMLFormElement;
  input: HTMLInputElement;
  status: HTMLElement;
}

const REMEMBERED_OWNER = 'aperture.owner';
const DEFAULT_OWNER = 'demo';

/**
 * Keeps one session at a time: the remembered owner's at start, then a new one each time the form
 * names another owner. Switching aborts everything the previous owner's client still has in flight,
 * so a late answer for the old owner never lands in the new owner's page.
 */
export function trackIdentity(
  { form, input, status }: IdentityElements,
  onSession: (session: Session) => void,
) {
  let current: { owner: string; controller: AbortController } | undefined;

  const start = async (owner: string) => {
    current?.controller.abort();
    const controller = new AbortController();
    current = { owner, controller };
    localStorage.setItem(REMEMBERED_OWNER, owner);
    status.textContent = `Signing in as ${owner}…`;
    try {
      const token = await fetchToken(owner, controller.signal);
      status.textContent = `Signed in as ${owner}.`;
      onSession({
        owner,
        api: new ApiClient(location.origin, token, controller.signal),
        token,
        signal: controller.signal,
      });
    } catch (error) {
      if (isAbort(error)) return;
      status.textContent = `Could not sign in as ${owner}: ${(error as Error).message}`;
      // Asking for the same owner again is then a retry, not a no-op.
      current = undefined;
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const owner = input.value.trim();
    if (owner && owner !== current?.owner) void start(owner);
  });

  input.value = localStorage.getItem(REMEMBERED_OWNER) ?? DEFAULT_OWNER;
  void start(input.value);
}
