//! Cover art for the fronts (`library::art`): a playlist's cover and an item's own image as a
//! `data:` URL from the art cache, fetched and checked on first request when a sync has not
//! cached it yet. An image that cannot be had (none named, refused, failed, remembered as
//! failed) is `None`, so a front shows its neutral fallback and never an error per picture;
//! only the cache folder failing is an error (`io`).

use super::error::{ApiResult, ErrorCode, WireError};
use super::Api;
use crate::library::ArtError;

impl Api {
    /// The cover of playlist `id` as a `data:image/...;base64,...` URL (RFC 2397); `None` when
    /// the playlist names no image or it cannot be had (module docs). Errors: `not_found`, `io`.
    pub async fn playlist_art(&self, id: u64) -> ApiResult<Option<String>> {
        let url = self.blocking(move |s| Ok(s.playlist(id)?.image)).await?;
        self.art_data_url(url).await
    }

    /// The own image of item `id` as a `data:` URL, like [`Api::playlist_art`]; `None` when the
    /// entry names none (the playlist's cover is not substituted). Errors: `not_found`, `io`.
    pub async fn item_art(&self, id: u64) -> ApiResult<Option<String>> {
        let url =
            self.blocking(move |s| s.item(id).and_then(|_| s.item_image(id)).map_err(Into::into)).await?;
        self.art_data_url(url).await
    }

    /// Resolves once the background image fetches queued so far (after syncs) have ended.
    pub async fn art_settled(&self) {
        self.inner.art.settled().await
    }

    async fn art_data_url(&self, url: Option<String>) -> ApiResult<Option<String>> {
        let Some(url) = url else { return Ok(None) };
        match self.inner.art.get_or_fetch(&url).await {
            Ok(image) => Ok(Some(image.data_url())),
            Err(e @ ArtError::Io { .. }) => Err(WireError::new(ErrorCode::Io, e.to_string())),
            Err(e) => {
                tracing::debug!(%url, error = %e, "no cover art");
                Ok(None)
            }
        }
    }
}
