//! Turns a failure into what a toast says. Branches on the wire error's `code` (stable), never
//! on its `message` (for people, may change): the code picks the title and whether the toast
//! offers a hint; the message is shown as the detail. Unknown codes still show the message.
import { ApiError } from "./api";

export interface ErrorText {
  title: string;
  detail: string;
  hint?: string;
}

/**
 * Per wire code: a title that says more than "<action> failed" (codes whose cause is the same
 * whatever was attempted), and a hint on what to do.
 */
const BY_CODE: Record<string, { title?: string; hint?: string }> = {
  invalid_input: { hint: "Feeds (RSS, Atom), M3U, PLS, XSPF and OPML are supported, as URLs or files." },
  unparsable: { title: "Not a feed or playlist", hint: "The document could not be read as a feed, M3U, PLS, XSPF or OPML file." },
  not_found: { title: "Not found" },
  network: { title: "Network problem", hint: "Check the connection and try again; jobs retry such failures on their own." },
  conflict: { hint: "The job changed meanwhile; the task center shows what is possible now." },
  in_use: { title: "The catalog is in use", hint: "Another Catalog Sync (the app or the command line) has it open. Close it and try again." },
  io: { title: "File system error" },
  internal: { title: "Internal error", hint: "This is a bug; the message says where it happened." },
  ipc: { title: "The app's backend did not answer", hint: "Restart Catalog Sync if this keeps happening." },
  unauthorized: { title: "Not logged in", hint: "Log in with the token catalog-sync serve printed (serve_token in its config file)." },
  forbidden: { title: "Refused by the server" },
  rate_limited: { title: "Too many attempts", hint: "Wait a minute, then try again." },
  too_large: { title: "Too large for the server" },
};

/** Describes any thrown value; `action` names what was attempted ("Add playlists"). */
export function describeError(err: unknown, action?: string): ErrorText {
  const fallback = action ? `${action} failed` : "Something went wrong";
  if (err instanceof ApiError) {
    const known = BY_CODE[err.code];
    const hint = err.code === "invalid_input" && action && !/add|import/i.test(action) ? undefined : known?.hint;
    return { title: known?.title ?? fallback, detail: err.message, hint };
  }
  const detail = err instanceof Error ? err.message : String(err);
  return { title: fallback, detail };
}
