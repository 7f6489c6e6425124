/** Who holds a folder: the content of its claim file. */
export interface ClaimHolder {
  /** Random, one per claim: what refresh and release compare, and what names the claim's temporaries. */
  readonly token: string;
  /** What the holder does there ("train", "prepare"): for people reading the refusal. */
  readonly purpose: string;
  readonly host: string;
  readonly pid: number;
  /** See `pidSpace()`: where `pid` can be asked about. */
  readonly pidSpace?: string;
  /** ISO time the claim was made. */
  readonly since: string;
  /** The holder's own stale time: every claimer, on every host, judges the claim by it. */
  readonly staleAfterMs: number;
}

/** A claim file's content, or undefined for anything else (a damaged or foreign file). */
/** What claimFolder writes: 8 random bytes in hex. */
const TOKEN = /^[0-9a-f]{16}$/;

export function parseClaimHolder(text: string): ClaimHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  // The token names this claim's files (`writer.lock.<token>.takeover`): only the form claimers write, never a path.
  const ok =
    typeof v.token === 'string' &&
    TOKEN.test(v.token) &&
    typeof v.purpose === 'string' &&
    typeof v.host === 'string' &&
    Number.isSafeInteger(v.pid) &&
    typeof v.since === 'string' &&
    typeof v.staleAfterMs === 'number' &&
    v.staleAfterMs > 0;
  return ok ? (value as ClaimHolder) : undefined;
}
