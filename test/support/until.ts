/**
 * Polls until the condition holds; the bound only catches a hang, never a slow machine. `what` names
 * the awaited state in the error (a function, to describe what was seen by then).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = 'the condition',
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const described = typeof what === 'function' ? what() : what;
      throw new Error(`${described}: not met within ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
