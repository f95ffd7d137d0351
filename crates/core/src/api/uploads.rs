//! Importing uploaded content (`serve`'s OPML import: a browser sends the file's bytes, and the
//! server never reads a path a client names). Only a subscription list can be imported this
//! way: a feed or playlist is refreshed from where it lives, and an uploaded file lives nowhere
//! the engine could read it again, so those are added by URL instead. Subscriptions whose URL
//! is not `http(s)` are skipped: over the network a client may not make the server read its
//! files.

use super::error::{ApiResult, WireError};
use super::views::ImportResult;
use super::Api;
use crate::catalog::{parse_document, Document};
use crate::subscriptions::SubscriptionError;

/// Largest upload [`Api::import_upload`] reads (bytes): 10 MB, far above real OPML files.
pub const MAX_UPLOAD_BYTES: usize = 10_000_000;

impl Api {
    /// Imports the OPML subscription list `bytes` uploaded as `name` (a file name, for
    /// messages): every `http(s)` subscription it lists is added with its folder path. Errors:
    /// `unparsable` when it is no feed, playlist or subscription list, `invalid_input` when it
    /// is a single feed or playlist (add it by URL) or larger than [`MAX_UPLOAD_BYTES`].
    pub async fn import_upload(&self, name: String, bytes: Vec<u8>) -> ApiResult<ImportResult> {
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(WireError::invalid(format!("{name}: larger than {MAX_UPLOAD_BYTES} bytes")));
        }
        let label = format!("upload:{name}");
        let base = url::Url::parse("upload:/").expect("a valid URL");
        let doc = parse_document(&bytes, &base)
            .map_err(|source| WireError::from(SubscriptionError::Parse { url: label.clone(), source }))?;
        let Document::Subscriptions(subs) = doc else {
            return Err(WireError::invalid(format!(
                "{name}: a single feed or playlist; add it by its URL (uploads take OPML subscription lists)"
            )));
        };
        let now = self.now_ms();
        let out = self
            .blocking(move |s| {
                let mut out = ImportResult {
                    url: label,
                    subscription_list: true,
                    ids: Vec::new(),
                    created: 0,
                    items: 0,
                };
                for sub in
                    subs.iter().filter(|s| s.url.starts_with("http://") || s.url.starts_with("https://"))
                {
                    let added = s.add_playlist(&sub.url, sub.title.as_deref(), &sub.folders, now)?;
                    out.created += u32::from(added.created);
                    out.ids.push(added.id);
                }
                Ok(out)
            })
            .await?;
        self.touch(false, true);
        Ok(out)
    }
}
