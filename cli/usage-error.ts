/** The command line asked for something that cannot be done as asked; the CLI exits 2 and says how. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
