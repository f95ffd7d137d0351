//! Small real images for tests of cover art: a 2x2 red picture in each format the app caches
//! (JPEG, PNG, GIF, WebP), written once by Pillow 12 (`Image.new("RGB", (2, 2)).save(...)`)
//! and kept here as bytes, so a test serves the format's real header and body, not only its
//! magic bytes. [`TestServer::add_image`] serves one at a path with its `Content-Type`.

use base64::Engine as _;
use url::Url;

use crate::server::TestServer;

/// One of the fixture images (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestImage {
    /// Baseline JFIF JPEG, 633 bytes.
    Jpeg,
    /// PNG (RGB, 8 bit), 79 bytes.
    Png,
    /// GIF87a, 45 bytes.
    Gif,
    /// WebP (lossy `VP8 `), 66 bytes.
    Webp,
}

const JPEG_B64: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAACAAIDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDl6KKK8c/Rz//Z";
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8oaHBwMDAxMDAwMDAAAAN6gEcJJUQNAAAAABJRU5ErkJggg==";
const GIF_B64: &str = "R0lGODdhAgACAIEAAMgoKAAAAAAAAAAAACwAAAAAAgACAAAIBgABCAQQEAA7";
const WEBP_B64: &str =
    "UklGRjoAAABXRUJQVlA4IC4AAACQAQCdASoCAAIAAUAmJaACdLoAA5gA/vCbQ/4DdfFtMv/ucD/uyf/2yf+pAAAA";

impl TestImage {
    /// Every fixture.
    pub const ALL: [TestImage; 4] = [TestImage::Jpeg, TestImage::Png, TestImage::Gif, TestImage::Webp];

    /// The image file's bytes.
    pub fn bytes(self) -> Vec<u8> {
        let b64 = match self {
            TestImage::Jpeg => JPEG_B64,
            TestImage::Png => PNG_B64,
            TestImage::Gif => GIF_B64,
            TestImage::Webp => WEBP_B64,
        };
        base64::engine::general_purpose::STANDARD.decode(b64).expect("fixture is valid base64")
    }

    /// Its MIME type, e.g. `image/png`.
    pub fn mime(self) -> &'static str {
        match self {
            TestImage::Jpeg => "image/jpeg",
            TestImage::Png => "image/png",
            TestImage::Gif => "image/gif",
            TestImage::Webp => "image/webp",
        }
    }
}

impl TestServer {
    /// Serves `image` at `path` with its `Content-Type`; returns its URL. Ranges, validators,
    /// faults and behaviours apply as for any fixed body.
    pub fn add_image(&self, path: &str, image: TestImage) -> Url {
        self.add_feed(path, image.bytes(), image.mime())
    }
}

#[cfg(test)]
mod tests {
    use super::TestImage;

    #[test]
    fn fixtures_start_with_their_formats_signature() {
        let starts: [(TestImage, &[u8]); 4] = [
            (TestImage::Jpeg, b"\xFF\xD8\xFF"),
            (TestImage::Png, b"\x89PNG\r\n\x1a\n"),
            (TestImage::Gif, b"GIF87a"),
            (TestImage::Webp, b"RIFF"),
        ];
        for (image, magic) in starts {
            let bytes = image.bytes();
            assert!(bytes.starts_with(magic), "{image:?}");
            assert!(bytes.len() < 1000, "{image:?}");
        }
        assert_eq!(&TestImage::Webp.bytes()[8..12], b"WEBP");
        assert!(TestImage::Jpeg.bytes().ends_with(b"\xFF\xD9"), "a JPEG ends with EOI");
    }
}
