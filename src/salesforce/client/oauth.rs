//! OAuth 2.0 against Salesforce's token endpoint: the refresh-token grant, the JWT bearer grant
//! (RS256 with a key file), and the web-server flow with a one-shot callback listener on
//! 127.0.0.1 (PKCE and a checked `state`).

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{ApiError, ClientError};

/// What the token endpoint answers. Salesforce sends no `expires_in`: a 401 is the expiry signal.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub instance_url: String,
    /// The identity URL, `.../id/<orgId>/<userId>`.
    #[serde(default)]
    pub id: Option<String>,
    /// Present after the web-server flow, and after a refresh when the app rotates tokens.
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub issued_at: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("instance_url", &self.instance_url)
            .field("id", &self.id)
            .field("rotated", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenResponse {
    /// The user id at the end of the identity URL.
    pub fn user_id(&self) -> Option<String> {
        self.id
            .as_deref()
            .and_then(|id| id.trim_end_matches('/').rsplit('/').next())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// How a session gets a new access token.
#[derive(Clone)]
pub enum Grant {
    RefreshToken(String),
    Jwt(JwtGrant),
}

/// The JWT bearer flow: a short-lived assertion signed with the connected app's certificate key.
#[derive(Clone)]
pub struct JwtGrant {
    pub key: jsonwebtoken::EncodingKey,
    pub username: String,
}

impl JwtGrant {
    pub fn from_key_file(path: &std::path::Path, username: &str) -> Result<JwtGrant, ClientError> {
        let pem = std::fs::read(path).map_err(|e| {
            ClientError::Setup(format!(
                "cannot read the JWT key file {}: {e}",
                path.display()
            ))
        })?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).map_err(|e| {
            ClientError::Setup(format!(
                "{} is not an RSA private key in PEM format: {e}",
                path.display()
            ))
        })?;
        Ok(JwtGrant {
            key,
            username: username.to_string(),
        })
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

/// An RS256 assertion valid for three minutes (Salesforce's practical maximum). The local clock
/// is used here because the assertion is checked against it by design.
pub fn jwt_assertion(
    grant: &JwtGrant,
    client_id: &str,
    audience: &str,
) -> Result<String, ClientError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = Claims {
        iss: client_id,
        sub: &grant.username,
        aud: audience.trim_end_matches('/'),
        exp: now + 180,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &grant.key,
    )
    .map_err(|e| ClientError::Setup(format!("cannot sign the JWT assertion: {e}")))
}

/// `POST {login_url}/services/oauth2/token` with a form. OAuth errors that mean the grant is no
/// longer good (`invalid_grant`, `inactive_user`, ...) become `LoginRequired`; a wrong client id
/// or secret is a setup problem. Token calls are not retried here: the session decides.
pub async fn token_call(
    http: &reqwest::Client,
    login_url: &str,
    form: &[(&str, &str)],
) -> Result<TokenResponse, ClientError> {
    let call = "the OAuth token request";
    let url = format!("{}/services/oauth2/token", login_url.trim_end_matches('/'));
    // The serializer is not Send: build the body before the first await.
    let body = {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        body.finish()
    };
    let resp = http
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| ClientError::Transport {
            call: format!("{call} to {url}"),
            message: e.to_string(),
            ambiguous: !e.is_connect(),
        })?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| ClientError::Transport {
        call: call.into(),
        message: e.to_string(),
        ambiguous: true,
    })?;
    if status == 200 {
        return serde_json::from_slice::<TokenResponse>(&bytes)
            .map_err(|e| ClientError::malformed(call, format!("{e}")));
    }
    let error = ApiError::from_body(status, &bytes);
    match error.code.as_str() {
        "invalid_grant" | "inactive_user" | "inactive_org" | "unsupported_grant_type" => {
            Err(ClientError::LoginRequired {
                reason: format!("{}: {}", error.code, error.message),
            })
        }
        "invalid_client_id" | "invalid_client" | "redirect_uri_mismatch" => {
            Err(ClientError::Setup(format!(
                "{}: {} — check [salesforce] client_id and client_secret against the connected app",
                error.code, error.message
            )))
        }
        _ => Err(ClientError::Api {
            call: call.into(),
            error,
        }),
    }
}

fn random_token() -> String {
    tandem_protocol::pkce::secret(rand::random())
}

/// The web-server (authorization code) flow: listen on the callback address the connected app
/// has registered (`[salesforce] callback_url`), send the user to the authorize URL, take the
/// code from the redirect (only with our `state`), and exchange it (with the PKCE verifier) for
/// tokens.
pub struct WebLogin {
    listener: TcpListener,
    callback_path: String,
    login_url: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    verifier: String,
    authorize_url: String,
}

/// Connections the callback listener serves at most (a browser may also ask for a favicon).
const MAX_CALLBACK_CONNECTIONS: usize = 32;
const MAX_REQUEST_HEAD: usize = 16 * 1024;

impl WebLogin {
    /// Listen on `callback_url` (a loopback address; port 0 picks a free one, for connected
    /// apps that do not check the callback, such as the emulator's).
    pub async fn start(
        login_url: &str,
        client_id: &str,
        callback_url: &str,
    ) -> Result<WebLogin, ClientError> {
        let callback = reqwest::Url::parse(callback_url).map_err(|e| {
            ClientError::Setup(format!("the callback URL {callback_url} is not a URL: {e}"))
        })?;
        let port = callback.port().unwrap_or(80);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            ClientError::Setup(format!(
                "cannot listen on 127.0.0.1:{port} for the login callback ({e}); if another program uses the port, pass --callback with another port, registered as the connected app's callback URL"
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| ClientError::Setup(format!("cannot read the callback port: {e}")))?
            .port();
        let mut redirect = callback.clone();
        // Port 0 asked for a free one: the redirect names the port that was found.
        let _ = redirect.set_port(Some(port));
        let redirect_uri = redirect.to_string();
        let callback_path = redirect.path().to_string();
        let state = random_token();
        let verifier = random_token();
        let challenge = tandem_protocol::pkce::challenge(&verifier);
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scope", "api refresh_token offline_access")
            .finish();
        let login_url = login_url.trim_end_matches('/').to_string();
        let authorize_url = format!("{login_url}/services/oauth2/authorize?{query}");
        Ok(WebLogin {
            listener,
            callback_path,
            login_url,
            client_id: client_id.to_string(),
            redirect_uri,
            state,
            verifier,
            authorize_url,
        })
    }

    /// The URL the user opens in a browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's redirect and exchanges the code. The caller bounds the wait.
    pub async fn finish(
        self,
        http: &reqwest::Client,
        client_secret: Option<&str>,
    ) -> Result<TokenResponse, ClientError> {
        for _ in 0..MAX_CALLBACK_CONNECTIONS {
            let (mut stream, _) = self.listener.accept().await.map_err(|e| {
                ClientError::Setup(format!("the login callback listener failed: {e}"))
            })?;
            let target = match read_request_target(&mut stream).await {
                Some(t) => t,
                None => {
                    let _ = reply(&mut stream, 400, "Bad request.").await;
                    continue;
                }
            };
            let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
            if path != self.callback_path {
                let _ = reply(&mut stream, 404, "Not found.").await;
                continue;
            }
            let params: std::collections::HashMap<String, String> =
                form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
            if params.get("state") != Some(&self.state) {
                let _ = reply(&mut stream, 400, "This login answer does not belong to the login tandem started. Run `tandem login` again.").await;
                return Err(ClientError::LoginRequired {
                    reason: "the callback's state does not match the login tandem started (a stale or forged redirect)".into(),
                });
            }
            if let Some(error) = params.get("error") {
                let description = params.get("error_description").cloned().unwrap_or_default();
                let _ = reply(
                    &mut stream,
                    400,
                    "Salesforce refused the login. See the terminal.",
                )
                .await;
                return Err(ClientError::LoginRequired {
                    reason: format!("{error}: {description}"),
                });
            }
            let Some(code) = params.get("code") else {
                let _ = reply(&mut stream, 400, "The answer has no authorization code.").await;
                return Err(ClientError::malformed(
                    "the login callback",
                    "no `code` parameter in the redirect",
                ));
            };
            let _ = reply(
                &mut stream,
                200,
                "tandem is logged in to Salesforce. You can close this window.",
            )
            .await;
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("client_id", self.client_id.as_str()),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", self.verifier.as_str()),
            ];
            if let Some(secret) = client_secret {
                form.push(("client_secret", secret));
            }
            return token_call(http, &self.login_url, &form).await;
        }
        Err(ClientError::Setup(
            "the login callback never arrived (too many unrelated requests); run `tandem login` again".into(),
        ))
    }
}

/// The request target of an HTTP/1 request line (`GET /callback?... HTTP/1.1`).
async fn read_request_target(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = std::str::from_utf8(&buf).ok()?;
    let mut parts = head.lines().next()?.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    (method == "GET").then(|| target.to_string())
}

async fn reply(stream: &mut tokio::net::TcpStream, status: u16, text: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!("<!doctype html><html><body><p>{text}</p></body></html>");
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
