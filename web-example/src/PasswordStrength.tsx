// The strength hint under every new-password field. It applies the server's
// rule before the form is sent: 8 to 72 bytes after NFC normalization, and a
// zxcvbn score of at least PASSWORD_MIN_SCORE with the account's email and
// name as user inputs. The server runs a Go port of zxcvbn 4.4.2, the very
// version loaded here, so for the same password and inputs the scores match.
// The hint only advises: the server decides, and its refusal shows under the field.
import { useEffect, useMemo, useState } from "react";
import type { ZXCVBNResult } from "zxcvbn";
import { PASSWORD_MIN_SCORE } from "./config";

type Zxcvbn = (password: string, userInputs?: string[]) => ZXCVBNResult;

let loading: Promise<Zxcvbn> | null = null;

/**
 * zxcvbn with its dictionaries is about 800 kB: it is its own chunk, loaded
 * the first time a page with a new-password field is shown.
 */
function loadZxcvbn(): Promise<Zxcvbn> {
  loading ??= import("zxcvbn").then((m) => m.default);
  return loading;
}

function useZxcvbn(): Zxcvbn | null {
  const [fn, setFn] = useState<Zxcvbn | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadZxcvbn().then(
      (f) => live && setFn(() => f),
      () => {
        loading = null; // try again on the next page that needs it
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return failed ? null : fn;
}

const MIN_BYTES = 8;
const MAX_BYTES = 72;
const LABELS = ["Too guessable", "Very guessable", "Somewhat guessable", "Safely unguessable", "Very unguessable"];

/**
 * The user inputs the server gives zxcvbn: the account's email and name, as
 * it stores them (the email trimmed and lower-cased, the name trimmed).
 */
export function userInputsOf(email: string, name: string): string[] {
  return [email.trim().toLowerCase(), name.trim()];
}

/**
 * A meter (zxcvbn's score, 0–4), whether the server will take the password,
 * and zxcvbn's own warning and suggestions. userInputs are the words the
 * server adds to zxcvbn's dictionaries: [email, name] of the account.
 */
export function PasswordStrength({ password, userInputs }: { password: string; userInputs: readonly string[] }) {
  const zxcvbn = useZxcvbn();
  const nfc = password.normalize("NFC");
  const inputsKey = JSON.stringify(userInputs);
  const result = useMemo(
    () => (zxcvbn && nfc ? zxcvbn(nfc, JSON.parse(inputsKey) as string[]) : null),
    [zxcvbn, nfc, inputsKey],
  );
  if (!password) return null;

  const bytes = new TextEncoder().encode(nfc).length;
  if (!result) {
    return (
      <div className="strength" data-testid="password-strength">
        <p className="muted small">Checking strength…</p>
      </div>
    );
  }
  const { score, feedback } = result;
  const longEnough = bytes >= MIN_BYTES;
  const shortEnough = bytes <= MAX_BYTES;
  const acceptable = longEnough && shortEnough && score >= PASSWORD_MIN_SCORE;
  const verdict = !longEnough
    ? `Too short: at least ${MIN_BYTES} bytes (this is ${bytes}).`
    : !shortEnough
      ? `Too long: at most ${MAX_BYTES} bytes (this is ${bytes}).`
      : score < PASSWORD_MIN_SCORE
        ? `Too easy to guess: the server needs at least “${LABELS[PASSWORD_MIN_SCORE]}” (${PASSWORD_MIN_SCORE} of 4).`
        : "Strong enough.";

  return (
    <div
      className={`strength ${acceptable ? "strength-ok" : "strength-weak"}`}
      data-testid="password-strength"
      data-score={score}
      data-acceptable={acceptable ? "true" : "false"}
      data-min-score={PASSWORD_MIN_SCORE}
    >
      <div className="meter" role="meter" aria-label="Password strength" aria-valuemin={0} aria-valuemax={4} aria-valuenow={score} aria-valuetext={LABELS[score]}>
        {[1, 2, 3, 4].map((n) => (
          <span key={n} className={n <= score ? `on score-${score}` : undefined} />
        ))}
      </div>
      <p className="small strength-verdict" data-testid="strength-verdict">
        <strong>{LABELS[score]}</strong> ({score} of 4). {verdict}
      </p>
      {feedback.warning && (
        <p className="small strength-warning" data-testid="strength-warning">
          {feedback.warning}
        </p>
      )}
      {feedback.suggestions.length > 0 && (
        <ul className="small muted strength-suggestions" data-testid="strength-suggestions">
          {feedback.suggestions.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
