//! Incomplete S3 multipart uploads of one key, found and aborted.
//!
//! A file above [`super::backend::S3_CHUNK_BYTES`] goes to S3 as a multipart upload
//! (`CreateMultipartUpload`, `UploadPart`..., `CompleteMultipartUpload`). The object appears
//! only when the upload completes, so a crash never leaves a partial object, but the parts
//! already sent stay in the bucket, invisible to listings and billed, until the upload is
//! aborted. OpenDAL aborts a writer that fails; after a crash nobody does, so the upload stage
//! notes each key before sending it and, on the next run, asks S3 for that key's pending
//! uploads and aborts them. OpenDAL 0.54 has neither call, so these two requests are ours,
//! signed with AWS Signature Version 4 by `reqsign` (the signer OpenDAL itself uses):
//!
//! - `ListMultipartUploads`: `GET /<bucket>?uploads&prefix=<key>` (path-style, as OpenDAL
//!   addresses a custom endpoint), answered by a `ListMultipartUploadsResult` XML document;
//! - `AbortMultipartUpload`: `DELETE /<bucket>/<key>?uploadId=<id>`, answered `204`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use quick_xml::events::Event;
use reqsign::{AwsCredential, AwsV4Signer};
use reqwest::{Method, Url};

use super::UploadError;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4's rule).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Lists and aborts the pending multipart uploads under one S3 target (module docs).
pub struct PendingUploads {
    client: reqwest::Client,
    bucket_url: Url,
    prefix: String,
    signer: AwsV4Signer,
    credential: AwsCredential,
}

impl std::fmt::Debug for PendingUploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingUploads({})", self.bucket_url) // never the credential
    }
}

impl PendingUploads {
    /// For `bucket` at `endpoint` in `region`, keys under `root` (`/`-separated; `/` for the
    /// whole bucket). Errors: a malformed endpoint.
    pub fn new(
        endpoint: &str,
        bucket: &str,
        region: &str,
        root: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, String> {
        let mut bucket_url = Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
        bucket_url
            .path_segments_mut()
            .map_err(|()| format!("endpoint {endpoint}: not a base URL"))?
            .pop_if_empty()
            .push(bucket);
        let root = root.trim_matches('/');
        let client =
            crate::net_guard::client_builder(concat!("catalog-sync/", env!("CARGO_PKG_VERSION")), None)
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())?;
        Ok(PendingUploads {
            client,
            bucket_url,
            prefix: if root.is_empty() { String::new() } else { format!("{root}/") },
            signer: AwsV4Signer::new("s3", region),
            credential: AwsCredential {
                access_key_id: access_key_id.to_string(),
                secret_access_key: secret_access_key.to_string(),
                ..Default::default()
            },
        })
    }

    /// Aborts every pending multipart upload of target-relative `path`; returns how many.
    /// Errors: the service's (with its answer) or the connection's.
    pub async fn abort_all(&self, path: &str) -> Result<usize, UploadError> {
        let key = self.key(path);
        let ids = self.pending(path).await?;
        for id in &ids {
            let mut url = self.bucket_url.clone();
            url.path_segments_mut().expect("a base URL").extend(key.split('/'));
            url.set_query(Some(&format!("uploadId={}", utf8_percent_encode(id, QUERY))));
            self.send(Method::DELETE, url).await?;
        }
        Ok(ids.len())
    }

    /// The ids of the multipart uploads pending for exactly target-relative `path` (one page
    /// of up to 1,000 is plenty for one key). Errors: as [`PendingUploads::abort_all`].
    pub async fn pending(&self, path: &str) -> Result<Vec<String>, UploadError> {
        let key = self.key(path);
        let mut url = self.bucket_url.clone();
        url.set_query(Some(&format!("uploads=&prefix={}", utf8_percent_encode(&key, QUERY))));
        let body = self.send(Method::GET, url).await?;
        parse_uploads(&body, &key)
            .map_err(|e| UploadError::Config(format!("ListMultipartUploads answer: {e}")))
    }

    fn key(&self, path: &str) -> String {
        format!("{}{}", self.prefix, path.trim_start_matches('/'))
    }

    async fn send(&self, method: Method, url: Url) -> Result<String, UploadError> {
        let remote = |kind, msg: String| UploadError::Remote(opendal::Error::new(kind, msg));
        let mut request = reqwest::Request::new(method.clone(), url);
        self.signer
            .sign(&mut request, &self.credential)
            .map_err(|e| remote(opendal::ErrorKind::Unexpected, format!("signing {method}: {e}")))?;
        let response = self.client.execute(request).await.map_err(|e| {
            let err = opendal::Error::new(
                opendal::ErrorKind::Unexpected,
                format!("{method}: {}", crate::error_chain::Chain(&e)),
            );
            UploadError::Remote(err.set_temporary())
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let kind = match status.as_u16() {
                401 | 403 => opendal::ErrorKind::PermissionDenied,
                404 => opendal::ErrorKind::NotFound,
                _ => opendal::ErrorKind::Unexpected,
            };
            let excerpt: String = text.chars().take(200).collect();
            let err = opendal::Error::new(kind, format!("{method} answered {status}: {}", excerpt.trim()));
            return Err(UploadError::Remote(if status.is_server_error() {
                err.set_temporary()
            } else {
                err
            }));
        }
        Ok(text)
    }
}

/// The `UploadId`s of the `<Upload>` entries of a `ListMultipartUploadsResult` whose `<Key>` is
/// `key`. Errors: malformed XML.
fn parse_uploads(xml: &str, key: &str) -> Result<Vec<String>, quick_xml::Error> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut ids = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let (mut this_key, mut this_id, mut text) = (None, None, String::new());
    let in_upload_field = |path: &[String]| path.len() >= 2 && path[path.len() - 2] == "Upload";
    loop {
        match reader.read_event()? {
            Event::Start(e) => {
                path.push(e.local_name().into_inner().to_string());
                text.clear();
            }
            Event::Text(t) if in_upload_field(&path) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_upload_field(&path) => {
                text.push_str(&crate::catalog::util::resolve_ref(&r))
            }
            Event::End(_) => {
                if in_upload_field(&path) {
                    match path.last().map(String::as_str) {
                        Some("Key") => this_key = Some(std::mem::take(&mut text)),
                        Some("UploadId") => this_id = Some(std::mem::take(&mut text)),
                        _ => {}
                    }
                }
                if path.pop().as_deref() == Some("Upload") {
                    if let (Some(k), Some(id)) = (this_key.take(), this_id.take()) {
                        if k == key {
                            ids.push(id);
                        }
                    }
                }
            }
            Event::Eof => return Ok(ids),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_uploads_of_the_exact_key_are_taken() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>pods</Bucket><Prefix>lib/Big/a.mp3</Prefix><IsTruncated>false</IsTruncated>
  <Upload><Key>lib/Big/a.mp3</Key><UploadId>id-1</UploadId><Initiated>2026-12-01T06:00:00.000Z</Initiated></Upload>
  <Upload><Key>lib/Big/a.mp3.old</Key><UploadId>id-2</UploadId></Upload>
  <Upload><Key>lib/Big/a.mp3</Key><UploadId>id&amp;3</UploadId></Upload>
</ListMultipartUploadsResult>"#;
        assert_eq!(parse_uploads(xml, "lib/Big/a.mp3").unwrap(), vec!["id-1", "id&3"]);
        assert!(parse_uploads("<a><Upload><Key>x</Key></Upload></b>", "x").is_err());
    }
}
