import { useId, type InputHTMLAttributes } from "react";

/** A labelled input with its error message right under it (BAD_USER_INPUT with extensions.field). */
export function Field({
  label,
  name,
  error,
  ...input
}: { label: string; name: string; error?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = `${name}-${useId().replace(/:/g, "")}`;
  return (
    <div className="field" data-field={name}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...input}
      />
      {error && (
        <p className="field-error" id={`${id}-error`} data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function FormError({ message, code }: { message: string | null; code?: string }) {
  if (!message) return null;
  return (
    <p className="form-error" role="alert" data-testid="form-error" data-code={code}>
      {message}
    </p>
  );
}

export function Flash({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p className="flash" role="status" data-testid="flash">
      {message}
    </p>
  );
}
