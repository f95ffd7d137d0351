//! Toast notifications: a small reactive list the app shell renders in a corner. Errors stay
//! until dismissed (they carry what went wrong); info toasts fade after a few seconds.
import { describeError } from "./errors";

export type ToastKind = "info" | "success" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  detail?: string;
  hint?: string;
}

let next = 1;
export const toasts = $state<Toast[]>([]);

/** Ms an info or success toast stays. */
export const INFO_TOAST_MS = 5000;

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export function notify(kind: ToastKind, title: string, detail?: string, hint?: string): number {
  const id = next++;
  toasts.push({ id, kind, title, detail, hint });
  while (toasts.length > 5) toasts.shift();
  if (kind !== "error") setTimeout(() => dismiss(id), INFO_TOAST_MS);
  return id;
}

/** Shows a thrown error as an error toast (see `describeError`). */
export function notifyError(err: unknown, action?: string): void {
  const e = describeError(err, action);
  notify("error", e.title, e.detail, e.hint);
}
