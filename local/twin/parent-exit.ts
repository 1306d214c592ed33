/** Ends of a Node process that skip its 'exit' event unless someone handles them. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs a synchronous cleanup however this process ends: normal exit, process.exit(), an uncaught
 * exception, or SIGINT/SIGTERM/SIGHUP (which would otherwise kill Node without an 'exit' event).
 * Only SIGKILL escapes it. Returns the function that removes the hooks once cleanup is done normally.
 */
export function onParentExit(cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    cleanup();
    // Our handler suppressed Node's default action (terminate); restore it when no one else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const release = () => {
    process.off('exit', cleanup);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  process.on('exit', cleanup);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return release;
}
