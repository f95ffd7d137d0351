//! Turns a failure into what a toast says. Branches on the wire error's `code` (stable), never
//! on its `message` (for people, may change): the code picks the title and whether the toast
//! offers a hint; the message is shown as the detail. Unknown codes still show the message.
import { ApiError } from "./api";

export interface ErrorText {
  title: string;
  detail: string;
  hint?: string;
}

/** Title and hint per wire code. */
const BY_CODE: Record<string, { title: string; hint?: string }> = {
  invalid_url: { title: "That is not a URL Catalog Sync can read", hint: "Paste the address of a podcast feed, an M3U/PLS/XSPF playlist or an OPML file." },
  unsupported: { title: "Unsupported playlist", hint: "Feeds (RSS, Atom), M3U, PLS, XSPF and OPML are supported." },
  parse: { title: "The file could not be read", hint: "It may be damaged or not a playlist." },
  not_found: { title: "Not found" },
  network: { title: "Network problem", hint: "Check the connection; the job will retry transient failures." },
  io: { title: "File system error" },
  invalid_settings: { title: "Settings not saved" },
  invalid_input: { title: "Invalid input" },
  conflict: { title: "Not possible right now" },
  store: { title: "Catalog database error" },
  ipc: { title: "The app's backend did not answer", hint: "Restart Catalog Sync if this keeps happening." },
};

/** Describes any thrown value; `action` names what was attempted ("Add playlists"). */
export function describeError(err: unknown, action?: string): ErrorText {
  if (err instanceof ApiError) {
    const known = BY_CODE[err.code];
    return {
      title: known?.title ?? (action ? `${action} failed` : "Something went wrong"),
      detail: err.message,
      hint: known?.hint,
    };
  }
  const detail = err instanceof Error ? err.message : String(err);
  return { title: action ? `${action} failed` : "Something went wrong", detail };
}
