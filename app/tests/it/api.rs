//! Calling the real router in-process, with a chosen client address.

use std::net::SocketAddr;

use app::AppState;
use app::http::router;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// An answer: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `code` of an error body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// `Set-Cookie` values joined, for cookie assertions.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// An answer with its body as text (HTML, CSV, feeds, JSON alike).
#[derive(Debug)]
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

/// A signed-in organisation owner.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant_id: String,
    pub user_id: String,
    pub access: String,
    pub refresh: String,
    pub domain: String,
}

/// The app's router plus a client address.
pub struct Api {
    pub state: AppState,
    router: Router,
    pub peer: SocketAddr,
}

impl Api {
    pub fn new(state: AppState) -> Self {
        Self {
            router: router(state.clone()),
            state,
            peer: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    /// Sends `request` as coming from `self.peer`.
    pub async fn send(&self, mut request: Request<Body>) -> Reply {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // An event stream never ends; its content is tested in `live_events`.
        if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "text/event-stream")
        {
            return Reply {
                status,
                headers,
                body: Value::Null,
            };
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends `request` as coming from `self.peer`; the body as text.
    pub async fn send_raw(&self, mut request: Request<Body>) -> RawReply {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // An event stream never ends.
        let text = if headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "text/event-stream")
        {
            String::new()
        } else {
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        RawReply {
            status,
            headers,
            text,
        }
    }

    /// A JSON request with an optional bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Signs up `slug` with owner `email` and a good password.
    pub async fn signup(&self, slug: &str, email: &str) -> Session {
        self.signup_with(slug, email, PASSWORD).await
    }

    /// Signs up `slug` with owner `email` and `password`.
    pub async fn signup_with(&self, slug: &str, email: &str, password: &str) -> Session {
        let reply = self
            .post(
                "/api/auth/signup",
                None,
                json!({ "organization": format!("{slug} Inc"), "slug": slug, "email": email, "password": password }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "signup {slug}: {:?}",
            reply.body
        );
        Session {
            tenant_id: reply.body["organization"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            user_id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            access: reply.body["access_token"].as_str().unwrap().to_owned(),
            refresh: reply.body["refresh_token"].as_str().unwrap().to_owned(),
            domain: reply.body["domain"].as_str().unwrap().to_owned(),
        }
    }

    /// Logs in and returns the access token (single organisation or `organization` given).
    pub async fn login(&self, email: &str, password: &str, organization: Option<&str>) -> Reply {
        let mut body = json!({ "email": email, "password": password });
        if let Some(org) = organization {
            body["organization"] = json!(org);
        }
        self.post("/api/auth/login", None, body).await
    }
}

impl Api {
    /// Invites `email` as `role` with `owner`'s token and accepts; returns (user id, access token).
    pub async fn join(&self, owner: &str, email: &str, role: &str) -> (String, String) {
        let token = self.invite(owner, email, role).await;
        let joined = self
            .post(
                "/api/invitations/accept",
                None,
                json!({ "token": token, "password": PASSWORD }),
            )
            .await;
        assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
        (
            joined.body["user"]["id"].as_str().unwrap().to_owned(),
            joined.body["access_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Invites `email` as `role` with `owner`'s token; returns the invitation's token.
    pub async fn invite(&self, owner: &str, email: &str, role: &str) -> String {
        let invite = self
            .post(
                "/api/invitations",
                Some(owner),
                json!({ "email": email, "role": role }),
            )
            .await;
        assert_eq!(invite.status, StatusCode::CREATED, "{:?}", invite.body);
        self.invite_token(email).await
    }

    /// Invitation tokens are only mailed; tests mint a fresh one for the pending invitation.
    pub async fn invite_token(&self, email: &str) -> String {
        let token = app::auth::session::random_secret();
        sqlx::query(
            "UPDATE invitations SET token_hash = $1 WHERE email = $2 AND accepted_at IS NULL",
        )
        .bind(app::auth::session::hash_secret(&token))
        .bind(email)
        .execute(self.state.db.pool())
        .await
        .unwrap();
        token
    }
}

/// A password the policy accepts.
pub const PASSWORD: &str = "tangerine-umbrella-42";
