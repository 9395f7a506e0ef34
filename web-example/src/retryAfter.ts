// RATE_LIMITED answers carry extensions.retryAfter (seconds): a button that
// would only be refused again waits that long, counting down.
import { useEffect, useState } from "react";
import { graphQLErrorsOf } from "./errors";

export interface RetryAfter {
  /** Seconds left to wait; 0 when the button may be used. */
  waitSeconds: number;
  /** Starts the wait when err is RATE_LIMITED with a retryAfter; ignores anything else. */
  holdAfter: (err: unknown) => void;
}

export function useRetryAfter(): RetryAfter {
  const [blockedUntil, setBlockedUntil] = useState(0);
  const [, tick] = useState(0);

  useEffect(() => {
    if (blockedUntil <= Date.now()) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [blockedUntil]);

  return {
    waitSeconds: Math.max(0, Math.ceil((blockedUntil - Date.now()) / 1000)),
    holdAfter: (err) => {
      const limited = graphQLErrorsOf(err).find((g) => g.extensions?.code === "RATE_LIMITED");
      const after = Number(limited?.extensions?.retryAfter);
      if (limited && after > 0) setBlockedUntil(Date.now() + after * 1000);
    },
  };
}
