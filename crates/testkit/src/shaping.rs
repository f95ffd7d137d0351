//! Connection-level shaping: the token bucket behind the rate limit, and a TCP stream wrapper
//! that can end its connection with a RST.
//!
//! The bucket is per connection and charges body bytes only. It allows a burst of a tenth of a
//! second of traffic (at least one chunk) and otherwise runs into debt: taking `n` tokens may
//! drive the balance negative, and the taker then sleeps until the balance is back to zero. The
//! rate is read on every take, so changing it at run time affects connections already open.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::content::CHUNK;

/// Per-connection token bucket over body bytes; rate in bytes/s from a shared atomic (0 = off).
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: Arc<AtomicU64>,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: Arc<AtomicU64>) -> Self {
        let burst = burst_for(rate.load(Ordering::Relaxed));
        TokenBucket { rate, state: Mutex::new(BucketState { tokens: burst, last: Instant::now() }) }
    }

    /// Takes `n` bytes worth of tokens, sleeping as long as the rate requires.
    pub async fn take(&self, n: u64) {
        let rate = self.rate.load(Ordering::Relaxed);
        if rate == 0 {
            return;
        }
        // Holding the lock while sleeping serialises concurrent bodies on one connection.
        let mut st = self.state.lock().await;
        let now = Instant::now();
        let elapsed = now.duration_since(st.last).as_secs_f64();
        st.tokens = (st.tokens + elapsed * rate as f64).min(burst_for(rate));
        st.last = now;
        st.tokens -= n as f64;
        if st.tokens < 0.0 {
            // Sleep until the debt is paid, then account from that instant, not from when the
            // timer fired: the timer's overshoot is credited on the next take, so the long-run
            // rate is the configured one rather than a few percent below it.
            let until = now + Duration::from_secs_f64(-st.tokens / rate as f64);
            tokio::time::sleep_until(until).await;
            st.tokens = 0.0;
            st.last = until;
        }
    }
}

fn burst_for(rate: u64) -> f64 {
    (rate as f64 / 10.0).max(CHUNK as f64)
}

/// A TCP stream that sets `SO_LINGER` 0 before it closes when asked to, so the close is a RST.
pub(crate) struct ConnIo {
    inner: TcpStream,
    reset_on_drop: Arc<AtomicBool>,
}

impl ConnIo {
    pub fn new(inner: TcpStream, reset_on_drop: Arc<AtomicBool>) -> Self {
        ConnIo { inner, reset_on_drop }
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset_on_drop.load(Ordering::SeqCst) {
            if let Err(e) = self.inner.set_zero_linger() {
                tracing::debug!("set_zero_linger failed: {e}");
            }
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset_on_drop.load(Ordering::SeqCst) {
            // A RST must not be preceded by a FIN; leave the close to Drop.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
