//! Which web pages may talk to the RPC. A browser lets any page open a WebSocket (or POST) to
//! a node on the user's machine, and says which page it is in the `Origin` header: a request
//! from a page the operator did not allow is refused with 403 before it reaches a method.
//! Requests without an `Origin` (the CLI, curl, other programs) and pages served from
//! loopback (a dApp in development) are let through.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone, Debug)]
pub struct OriginFilterLayer {
    allowed: Arc<Vec<String>>,
}

impl OriginFilterLayer {
    /// Lets through pages from `allowed` (exact origins such as `https://app.example.org`, or
    /// `*` for any), besides loopback pages and requests without an origin.
    pub fn new(allowed: Vec<String>) -> OriginFilterLayer {
        OriginFilterLayer {
            allowed: Arc::new(allowed),
        }
    }
}

impl<S> Layer<S> for OriginFilterLayer {
    type Service = OriginFilter<S>;

    fn layer(&self, inner: S) -> OriginFilter<S> {
        OriginFilter {
            inner,
            allowed: self.allowed.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct OriginFilter<S> {
    inner: S,
    allowed: Arc<Vec<String>>,
}

/// Whether a page at `origin` may use the RPC.
pub fn allowed(origin: &str, allowed: &[String]) -> bool {
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    // The host, without a port (an IPv6 host is bracketed).
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "::1"
}

fn forbidden(origin: &str) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(format!(
        "origin `{origin}` may not use this node's RPC: add it to rpc.allowed_origins in node.json\n"
    )));
    *response.status_mut() = http::StatusCode::FORBIDDEN;
    response
}

impl<S, B> Service<HttpRequest<B>> for OriginFilter<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        let origin = request
            .headers()
            .get(http::header::ORIGIN)
            .map(|o| o.to_str().unwrap_or("(not text)").to_string());
        match origin {
            Some(origin) if !allowed(&origin, &self.allowed) => {
                tracing::debug!(%origin, "refused a request from a page not allowed");
                Box::pin(async move { Ok(forbidden(&origin)) })
            }
            _ => {
                let call = self.inner.call(request);
                Box::pin(async move { call.await.map_err(Into::into) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn loopback_pages_and_listed_origins_pass_others_do_not() {
        let none: Vec<String> = Vec::new();
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "https://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert!(allowed(ok, &none), "{ok}");
        }
        for refused in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example:80",
            "null",
            "file://",
        ] {
            assert!(!allowed(refused, &none), "{refused}");
        }
        let listed = vec!["https://app.example.org".to_string()];
        assert!(allowed("https://app.example.org", &listed));
        assert!(!allowed("https://app.example.org.evil", &listed));
        assert!(allowed("https://anything", &["*".to_string()]));
    }
}
