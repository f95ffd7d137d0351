//! An error with its causes, for people: `error sending request for url (http://…): client
//! error (Connect): tcp connect error: Connection refused (os error 111)`.
//!
//! Library errors (reqwest, hyper, io) keep their cause in `Error::source()` and leave it out
//! of their own `Display`, so a message built from `Display` alone says "cannot fetch" without
//! saying why. [`Chain`] walks the sources and joins their messages with `: `, skipping a
//! message that repeats the one before it (wrappers often display their source as their own).
//! Every error text shown to people (CLI summary, `list items`, the task center, the UI toast)
//! is built through it where a library error is wrapped.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its sources (module docs).
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            let text = err.to_string();
            if !text.is_empty() && !last.contains(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = err.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn sources_follow_the_message_and_repeats_are_skipped() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = Outer(Middle(io));
        // Middle already displays the io error, so it is not repeated
        assert_eq!(Chain(&err).to_string(), "outer: middle: Connection refused");
        let plain = std::io::Error::other("alone");
        assert_eq!(Chain(&plain).to_string(), "alone");
    }
}
