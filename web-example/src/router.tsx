// A tiny client-side router: history.pushState plus a subscription, so the
// example needs no routing library. Paths are matched by the App's switch.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

export interface Location {
  pathname: string;
  search: string;
  /** history.state.flash: a one-off message shown by the next screen. */
  flash: string | null;
}

const listeners = new Set<() => void>();
let current = read();

function read(): Location {
  const state = window.history.state as { flash?: string } | null;
  return {
    pathname: window.location.pathname,
    search: window.location.search,
    flash: state?.flash ?? null,
  };
}

function emit() {
  current = read();
  for (const l of listeners) l();
}

window.addEventListener("popstate", emit);

export function navigate(to: string, opts: { replace?: boolean; flash?: string } = {}) {
  const state = opts.flash ? { flash: opts.flash } : null;
  if (opts.replace) window.history.replaceState(state, "", to);
  else window.history.pushState(state, "", to);
  emit();
}

export function useLocation(): Location {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => current,
  );
}

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  return (
    <a
      href={to}
      {...rest}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    />
  );
}

/** The path to return to after sign-in, from ?next=, limited to this app's own paths. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
