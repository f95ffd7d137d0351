//! Answers one request: faults, latency, routing, validators, ranges and the shaped body.
//!
//! The order is fixed: count the request (and its `Range` header), pick a fault for the path
//! (using one of its `times`), wait the configured latency, then answer. Bodies are streamed
//! in [`CHUNK`]-sized pieces generated on demand; each piece first takes tokens from the
//! connection's bucket. A fault that cuts the body waits 50 ms after the last piece so the
//! bytes already queued reach the client before the stall, RST or FIN. A wrong-range fault
//! rewrites the range outcome (206 from a shifted start) before the head is built; status
//! faults answer before routing. A path's [`Behaviour`] comes next: a redirect answers at once,
//! a content coding swaps the body for its encoded bytes (ranges and validators then apply to
//! those); without `Content-Length` the body goes chunked. A conditional GET whose copy is current gets `304 Not Modified` (RFC 9110 §15.4.5).
//! A drip fault sends the body one byte per interval. `GET /_testkit/stats` answers the
//! counters as text.

use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};

use crate::behaviour::Behaviour;
use crate::config::Fault;
use crate::content::{Resource, CHUNK};
use crate::range::{evaluate, RangeOutcome};
use crate::routes::ApiRequest;
use crate::server::Shared;
use crate::shaping::TokenBucket;

/// Response body type: a boxed stream of byte frames.
pub(crate) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Per-connection state shared by the requests of one connection.
pub(crate) struct ConnCtx {
    pub bucket: TokenBucket,
    pub reset: Arc<AtomicBool>,
}

/// Serves `req` on a connection with context `conn`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnCtx>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let range = req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let header_of =
        |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let if_range = header_of(header::IF_RANGE);
    let accept_encoding = header_of(header::ACCEPT_ENCODING).unwrap_or_default();
    let if_none_match = header_of(header::IF_NONE_MATCH);
    let if_modified_since = header_of(header::IF_MODIFIED_SINCE);
    {
        let mut stats = shared.stats.lock().expect("stats lock");
        stats.record_request(&path, range.as_deref());
        if req.method() == Method::GET {
            stats.record_get_from(&path, range.as_deref());
        }
    }
    let fault = shared.take_fault(&path);
    let latency = shared.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(route) = shared.dynamic_route(&path) {
        if let Some(Fault::Status(code)) = fault {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(text(status, "injected fault\n"));
        }
        let method = req.method().to_string();
        let query = req.uri().query().map(|q| ApiRequest::query_of(&format!("/?{q}"))).unwrap_or_default();
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = req.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
        let answer = route(&ApiRequest { method, path, query, headers, body });
        let resp = Response::builder()
            .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(header::CONTENT_TYPE, answer.content_type)
            .header(header::CONTENT_LENGTH, answer.body.len())
            .body(Full::new(Bytes::from(answer.body)).map_err(|never| match never {}).boxed_unsync())
            .expect("valid route response");
        return Ok(resp);
    }
    let head_only = req.method() == Method::HEAD;
    if !head_only && req.method() != Method::GET {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Ok(resp);
    }
    if path == STATS_PATH {
        return Ok(stats_text(&shared));
    }
    match fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Ok(text(status, "injected fault\n"));
        }
        Some(Fault::RetryAfter { status, retry_after_s }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
            let mut resp = text(status, "injected fault\n");
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            return Ok(resp);
        }
        _ => {}
    }
    let behaviour = shared.behaviour(&path);
    if let Some(Behaviour::Redirect { status, location }) = &behaviour {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
        let mut resp = text(status, "moved\n");
        if let Ok(v) = HeaderValue::from_str(location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(resp);
    }
    let Some(mut res) = shared.resource(&path) else {
        return Ok(text(StatusCode::NOT_FOUND, "not found\n"));
    };
    let no_length = behaviour == Some(Behaviour::NoContentLength);
    let coding = match behaviour {
        Some(Behaviour::Encode { coding, forced }) if forced || coding.accepted_by(&accept_encoding) => {
            let encoded = coding.encode(&res.source.slice(0, res.len()));
            let mut enc = Resource::fixed(Bytes::from(encoded), &res.content_type);
            enc.last_modified = res.last_modified.clone();
            res = Arc::new(enc);
            Some(coding)
        }
        _ => None,
    };
    let size = res.len();
    let etag = res.etag();
    if res.not_modified(if_none_match.as_deref(), if_modified_since.as_deref()) {
        shared.stats.lock().expect("stats lock").record_not_modified(&path);
        let resp = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, &etag)
            .header(header::LAST_MODIFIED, &res.last_modified)
            .body(empty())
            .expect("valid 304 response");
        return Ok(resp);
    }
    let honour_range = !shared.ignore_range.load(Ordering::Relaxed)
        && match if_range.as_deref() {
            None => true,
            Some(v) => v == etag || v == res.last_modified,
        };
    let outcome = match (&range, honour_range) {
        (Some(r), true) => evaluate(r, size),
        _ => RangeOutcome::Full,
    };
    let mut builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, &res.last_modified);
    if let Some(coding) = coding {
        builder =
            builder.header(header::CONTENT_ENCODING, coding.token()).header(header::VARY, "Accept-Encoding");
    }
    let outcome = match (fault, outcome) {
        (Some(Fault::WrongContentRange { shift }), RangeOutcome::Full | RangeOutcome::Partial { .. })
            if size > 0 =>
        {
            let start = match outcome {
                RangeOutcome::Partial { start, .. } => start,
                _ => 0,
            };
            RangeOutcome::Partial { start: start.saturating_add(shift).min(size - 1), end: size - 1 }
        }
        (_, outcome) => outcome,
    };
    let (start, end_excl) = match outcome {
        RangeOutcome::Unsatisfiable => {
            let resp = builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .header(header::CONTENT_LENGTH, 0)
                .body(empty())
                .expect("valid 416 response");
            return Ok(resp);
        }
        RangeOutcome::Full => {
            builder = builder.status(StatusCode::OK);
            (0, size)
        }
        RangeOutcome::Partial { start, end } => {
            builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (start, end + 1)
        }
    };
    builder = builder.header(header::CONTENT_TYPE, &res.content_type);
    if !no_length {
        builder = builder.header(header::CONTENT_LENGTH, end_excl - start);
    }
    let body = if head_only { empty() } else { body_stream(shared, conn, res, path, start, end_excl, fault) };
    Ok(builder.body(body).expect("valid response"))
}

/// Path of the plain-text counters (see [`stats_text`]); requests to it are counted too.
pub(crate) const STATS_PATH: &str = "/_testkit/stats";

/// `200 text/plain` with one `name value` line per counter: `requests`, `body_bytes` (sum over
/// paths, in bytes), `from_zero_requests` (GETs served from byte 0), `not_modified` (304
/// answers) and `media_bytes` (the sum
/// of the sizes of every registered media file, in bytes), for shell benchmarks.
fn stats_text(shared: &Shared) -> Response<Body> {
    let stats = shared.stats.lock().expect("stats lock").clone();
    let media: u64 = shared.media_sizes();
    let body = format!(
        "requests {}\nbody_bytes {}\nfrom_zero_requests {}\nnot_modified {}\nmedia_bytes {media}\n",
        stats.total_requests,
        stats.total_body_bytes(),
        stats.from_zero.values().sum::<u64>(),
        stats.not_modified.values().sum::<u64>(),
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed_unsync())
        .expect("valid stats response")
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

fn text(status: StatusCode, msg: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(msg.as_bytes())).map_err(|never| match never {}).boxed_unsync())
        .expect("valid text response")
}

struct BodyState {
    shared: Arc<Shared>,
    conn: Arc<ConnCtx>,
    res: Arc<Resource>,
    path: String,
    pos: u64,
    end: u64,
    cut: Option<(u64, Fault)>,
    /// Pause before each single body byte (a drip fault), in ms.
    drip_ms: Option<u64>,
    done: bool,
}

/// Streams bytes `[start, end)` of `res`, applying the rate limit and a body-cutting fault.
fn body_stream(
    shared: Arc<Shared>,
    conn: Arc<ConnCtx>,
    res: Arc<Resource>,
    path: String,
    start: u64,
    end: u64,
    fault: Option<Fault>,
) -> Body {
    let cut = match fault {
        Some(
            f @ (Fault::Stall { after_bytes }
            | Fault::Reset { after_bytes }
            | Fault::ShortBody { after_bytes }),
        ) => Some((start.saturating_add(after_bytes).min(end), f)),
        _ => None,
    };
    let drip_ms = match fault {
        Some(Fault::Drip { interval_ms }) => Some(interval_ms),
        _ => None,
    };
    let state = BodyState { shared, conn, res, path, pos: start, end, cut, drip_ms, done: false };
    let s = stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let stop = st.cut.map_or(st.end, |(c, _)| c);
        if st.pos >= stop {
            st.done = true;
            let (_, fault) = st.cut?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            return match fault {
                Fault::Stall { .. } => {
                    futures_util::future::pending::<()>().await;
                    None
                }
                Fault::Reset { .. } => {
                    st.conn.reset.store(true, Ordering::SeqCst);
                    let err = io::Error::new(io::ErrorKind::ConnectionReset, "injected reset");
                    Some((Err(err), st))
                }
                _ => None,
            };
        }
        let n = match st.drip_ms {
            Some(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                1
            }
            None => (stop - st.pos).min(CHUNK as u64),
        };
        st.conn.bucket.take(n).await;
        let bytes = st.res.source.slice(st.pos, st.pos + n);
        st.pos += n;
        st.shared.stats.lock().expect("stats lock").record_body(&st.path, n);
        Some((Ok(Frame::data(bytes)), st))
    });
    StreamBody::new(s).boxed_unsync()
}
