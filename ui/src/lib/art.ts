//! Cover art for the pages: a playlist's cover and an item's own image, asked of the backend
//! once per id and kept here as the `data:` URL the shell sends (the window never loads a
//! remote image: CSP `img-src 'self' data:`). `null` means "no picture" (none named, refused,
//! failed): the page shows its neutral fallback. A failed call is `null` too and no toast:
//! covers are decoration. Only pictures are remembered across a catalog change; a `null` is
//! asked again after one (`forgetMissingArt`), since a sync may have brought the image.
import { api } from "./api";

const known = new Map<string, Promise<string | null>>();
const missing = new Set<string>();

function cached(key: string, fetch: () => Promise<string | null>): Promise<string | null> {
  let p = known.get(key);
  if (!p) {
    p = fetch().then(
      (url) => {
        if (url == null) missing.add(key);
        return url;
      },
      () => {
        missing.add(key);
        return null;
      },
    );
    known.set(key, p);
  }
  return p;
}

/** The cover of playlist `id` as a `data:` URL, or null. */
export function playlistArt(id: number): Promise<string | null> {
  return cached(`p${id}`, () => api().playlistArt(id));
}

/** The own image of item `id` as a `data:` URL, or null. */
export function itemArt(id: number): Promise<string | null> {
  return cached(`i${id}`, () => api().itemArt(id));
}

/** Forgets the ids that had no picture, so the next look asks again (after a catalog change). */
export function forgetMissingArt(): void {
  for (const key of missing) known.delete(key);
  missing.clear();
}

/** Forgets everything (tests). */
export function resetArt(): void {
  known.clear();
  missing.clear();
}
