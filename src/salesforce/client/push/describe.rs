//! An object's fields (`sobjects/X/describe`), read once per client: the push asks which field is
//! the org's external id and how to compare the natural-key fields.

use std::sync::Arc;

use tandem_protocol::salesforce::push::Describe;

use super::super::ClientError;
use super::super::http::{Request, SalesforceClient};

impl SalesforceClient {
    pub async fn describe(&self, object: &str) -> Result<Arc<Describe>, ClientError> {
        if let Some(d) = self.cached_describe(object) {
            return Ok(d);
        }
        let what = format!("the describe of {object}");
        let resp = self
            .send(&Request::get(format!("/sobjects/{object}/describe")).named(what.clone()))
            .await?;
        let d = Arc::new(
            Describe::from_body(object, &resp.body)
                .map_err(|e| ClientError::malformed(&what, e.to_string()))?,
        );
        self.cache_describe(d.clone());
        Ok(d)
    }
}
