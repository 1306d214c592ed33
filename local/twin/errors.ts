/** An emulator could not start; the message says what to fix, `cause` keeps the original failure. */
export class TwinStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwinStartError';
  }
}
