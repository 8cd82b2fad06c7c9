//! A command's way to the running daemon: found through `daemon.json`, asked over the local API
//! with the announced token.

use super::api::{CALL, OPEN, STATUS};
use super::{Announcement, DAEMON_FILE};
use crate::app::{AppError, Reply, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, StatusCode, header};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpStream;

pub struct Client {
    addr: SocketAddr,
    token: String,
    dav_url: String,
}

impl Client {
    /// The daemon serving `dir`, if one is running and answers.
    pub async fn discover(dir: &Path) -> Option<Client> {
        let bytes = std::fs::read(dir.join(DAEMON_FILE)).ok()?;
        let announcement: Announcement = serde_json::from_slice(&bytes).ok()?;
        let client = Client {
            addr: announcement.addr,
            token: announcement.token,
            dav_url: announcement.dav_url,
        };
        let (status, _) = client.send(Method::GET, STATUS, Vec::new()).await.ok()?;
        (status == StatusCode::OK).then_some(client)
    }

    /// The CalDAV/CardDAV server's URL.
    pub fn dav_url(&self) -> &str {
        &self.dav_url
    }

    /// A link that signs in to the review app once, within a few minutes.
    pub async fn sign_in_link(&self) -> Result<String, AppError> {
        let (status, bytes) = self.send(Method::POST, OPEN, Vec::new()).await?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .filter(|_| status == StatusCode::OK)
            .and_then(|v| v["url"].as_str().map(str::to_string))
            .ok_or_else(|| AppError::Daemon(format!("the daemon answered {status} without a link")))
    }

    /// Ask the daemon to carry out a request; its error, if it refuses, as it worded it.
    pub async fn call(&self, request: &Request) -> Result<Reply, AppError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| AppError::Daemon(format!("the request cannot be encoded: {e}")))?;
        let (status, bytes) = self.send(Method::POST, CALL, body).await?;
        if status != StatusCode::OK {
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("the daemon answered {status}"));
            return Err(AppError::Daemon(message));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| AppError::Daemon(format!("the daemon's answer is not readable: {e}")))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Bytes), AppError> {
        let unreachable = |e: &dyn std::fmt::Display| {
            AppError::Daemon(format!(
                "the tandem daemon at {} did not answer: {e}",
                self.addr
            ))
        };
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(connection);
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(&e))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        Ok((status, bytes))
    }
}
