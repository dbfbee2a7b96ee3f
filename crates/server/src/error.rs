//! API errors: each maps to a status code and a JSON body `{"error": …}`.
//! Store failures are logged and never sent to the client.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No valid token or session.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (role, CSRF).
    #[error("{0}")]
    Forbidden(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but cannot be done.
    #[error("{0}")]
    Unprocessable(String),
    /// The request conflicts with the record's state.
    #[error("{0}")]
    Conflict(String),
    /// Too many login attempts.
    #[error("too many login attempts; try again in {0} s")]
    TooMany(u64),
    /// The store failed.
    #[error("the store is unavailable")]
    Store(#[from] firebreak_store::Error),
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub(crate) const fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Store(e) = &self {
            let mut chain = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                src = s.source();
            }
            tracing::error!(error = %chain, "war room request failed in the store");
        }
        let mut response =
            (self.status(), Json(serde_json::json!({"error": self.to_string()}))).into_response();
        if let Self::TooMany(secs) = self
            && let Ok(v) = secs.to_string().parse()
        {
            response.headers_mut().insert("retry-after", v);
        }
        response
    }
}

/// A JSON body whose rejections are [`ApiError`]s (422 with the reason).
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(e) => Err(ApiError::Unprocessable(format!("request body: {}", e.body_text()))),
        }
    }
}
