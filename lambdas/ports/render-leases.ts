/** Short exclusive claims on a piece of render work, so concurrent requests render it once. */
export interface RenderLeases {
  /** True when the caller now holds `name` for `seconds` (it was free, or its holder's time ran out). */
  acquire(name: string, seconds: number): Promise<boolean>;
  /** Gives a held lease back early; releasing one that has gone is not an error. */
  release(name: string): Promise<void>;
}
