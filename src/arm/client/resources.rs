//! The typed ARM calls acactl makes (apps, revisions, replicas, environments, storages, operation
//! status), on top of the client's one `send` (auth, budget, retries): each maps ARM's answer to
//! what the domain needs, e.g. `get_app` is `None` on ARM's 404 ResourceNotFound and only then.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    Arm, ArmError, DeleteStarted, MAX_LIST_PAGES, PutStarted, Response, redirect_error, short, to_arm, too_large,
};
use crate::arm::budget::{Class, Priority};
use crate::arm::model::{ContainerApp, ManagedEnvironment, OperationStatus, Page, Replica, Revision};
use crate::error::ErrorCode;
use crate::output;

/// The result of [`Arm::list_apps`].
#[derive(Default)]
pub struct ListedApps {
    pub apps: Vec<ContainerApp>,
    /// GET requests made (one per page).
    pub pages: usize,
}

impl Arm {
    /// GET a resource of any provider at `id` with its own api-version (doctor's lookups).
    pub async fn get_resource(&self, id: &str, api_version: &str) -> Result<Value, ArmError> {
        self.get_json(&format!("{}{}?api-version={api_version}", self.base, id)).await
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        if r.status.is_success() { r.json() } else { Err(r.error()) }
    }

    /// [`Arm::get_app`] only if the hub's budget has a read to spare right now (above even a
    /// status's floor): `None` without sending anything. For guesses that may well be wasted
    /// (is the app gone yet?), so they never delay a start's or a poll's reads.
    pub async fn get_app_if_spare(&self, id: &str) -> Option<Result<Option<ContainerApp>, ArmError>> {
        if let Some(b) = self.budget.as_ref().filter(|_| !self.unpaced.get()) {
            b.reserve(Class::Reads, Priority::Low, Duration::ZERO).ok()?;
            // Reserved above: the request itself must not reserve again.
            self.unpaced.set(true);
            let r = self.get_app(id).await;
            self.unpaced.set(false);
            return Some(r);
        }
        Some(self.get_app(id).await)
    }

    /// The app, or `None` on ARM's 404 ResourceNotFound (and only then).
    pub async fn get_app(&self, id: &str) -> Result<Option<ContainerApp>, ArmError> {
        match self.get_json::<ContainerApp>(&self.url(id)).await {
            Ok(app) => Ok(Some(app)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_app(&self, id: &str, body: &Value) -> Result<PutStarted, ArmError> {
        let r = self.send(Method::PUT, &self.url(id), Some(body)).await.map_err(to_arm)?;
        if r.status != StatusCode::OK && r.status != StatusCode::CREATED {
            return Err(r.error());
        }
        let fqdn = r.json::<ContainerApp>().ok().and_then(|a| a.fqdn().map(str::to_string));
        Ok(PutStarted { async_operation: r.header("azure-asyncoperation"), retry_after: r.retry_after(), fqdn })
    }

    /// GET an Azure-AsyncOperation URL (verbatim: it carries signed query parameters).
    pub async fn operation_status(&self, url: &str) -> Result<(OperationStatus, Option<Duration>), ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        if !r.status.is_success() {
            return Err(r.error());
        }
        Ok((r.json()?, r.retry_after()))
    }

    pub async fn delete_app(&self, id: &str) -> Result<DeleteStarted, ArmError> {
        let r = self.send(Method::DELETE, &self.url(id), None).await.map_err(to_arm)?;
        match r.status.as_u16() {
            204 => Ok(DeleteStarted::Absent),
            404 if r.error().is_not_found() => Ok(DeleteStarted::Absent),
            200 => Ok(DeleteStarted::Done),
            202 => {
                let asyncop = r.header("azure-asyncoperation");
                Ok(DeleteStarted::Accepted {
                    async_status: asyncop.is_some(),
                    url: asyncop.or_else(|| r.header("location")),
                    retry_after: r.retry_after(),
                })
            }
            _ => Err(r.error()),
        }
    }

    /// Poll a Location URL once: `Ok(true)` when the operation finished.
    pub async fn location_done(&self, url: &str) -> Result<(bool, Option<Duration>), ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        match r.status.as_u16() {
            202 => Ok((false, r.retry_after())),
            200 | 201 | 204 => Ok((true, None)),
            404 => Ok((true, None)),
            _ => Err(r.error()),
        }
    }

    pub async fn get_revision(&self, app_id: &str, revision: &str) -> Result<Option<Revision>, ArmError> {
        match self.get_json::<Revision>(&self.url(&format!("{app_id}/revisions/{revision}"))).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn list_replicas(&self, app_id: &str, revision: &str) -> Result<Vec<Replica>, ArmError> {
        match self.get_json::<Page<Replica>>(&self.url(&format!("{app_id}/revisions/{revision}/replicas"))).await {
            Ok(p) => Ok(p.value),
            Err(e) if e.status == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn get_environment(&self, env_id: &str) -> Result<ManagedEnvironment, ArmError> {
        self.get_json(&self.url(env_id)).await
    }

    /// An environment storage definition, or `None` on 404.
    pub async fn get_storage(
        &self,
        env_id: &str,
        name: &str,
    ) -> Result<Option<crate::arm::model::EnvironmentStorage>, ArmError> {
        match self
            .get_json::<crate::arm::model::EnvironmentStorage>(&self.url(&format!("{env_id}/storages/{name}")))
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every container app in the resource group: one GET per page, following `nextLink` verbatim
    /// (it carries api-version and `$skiptoken`). Any page failing (after retries) fails the list:
    /// callers that delete must never act on a partial view.
    pub async fn list_apps(&self, subscription: &str, resource_group: &str) -> Result<ListedApps, ArmError> {
        let mut url = self.url(&format!(
            "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.App/containerApps"
        ));
        let mut out = ListedApps::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let page: Page<ContainerApp> = self.get_json(&url).await?;
            out.pages += 1;
            out.apps.extend(page.value);
            seen.insert(url);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) if seen.contains(&next) => {
                    return Err(ArmError {
                        source: None,
                        status: None,
                        code: ErrorCode::PagingLoop,
                        message: format!(
                            "ARM's list of container apps repeated a nextLink after {} pages; the list is incomplete",
                            out.pages
                        ),
                    });
                }
                Some(_) if out.pages >= MAX_LIST_PAGES => {
                    return Err(ArmError {
                        source: None,
                        status: None,
                        code: ErrorCode::TooManyPages,
                        message: format!(
                            "ARM's list of container apps went on past {MAX_LIST_PAGES} pages; the list is incomplete"
                        ),
                    });
                }
                Some(next) => url = next,
                None => return Ok(out),
            }
        }
    }

    /// One DELETE of `id` without the retry loop (a 401 still refreshes the token once): for callers
    /// that pace many deletes themselves (gc) and must see every 429.
    pub async fn delete_once(&self, id: &str) -> Result<Response, ArmError> {
        let url = self.url(id);
        crate::origin::require(&url, &self.base, true, "ARM").map_err(to_arm)?;
        let mut refreshed = false;
        loop {
            let token = self.bearer(refreshed).await.map_err(to_arm)?;
            output::debug(&format!("DELETE {}", short(&url)));
            let resp =
                self.http.delete(&url).bearer_auth(&token).header("accept", "application/json").send().await.map_err(
                    |e| ArmError {
                        source: None,
                        status: None,
                        code: if e.is_timeout() { ErrorCode::Timeout } else { ErrorCode::ConnectionError },
                        message: e.to_string(),
                    },
                )?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if status.is_redirection() {
                return Err(to_arm(redirect_error(status, &headers)));
            }
            let body = match crate::http::read_capped(resp, crate::http::MAX_BODY).await {
                Err(e @ crate::http::BodyError::TooLarge) => return Err(to_arm(too_large(status, e))),
                r => r.unwrap_or_default(),
            };
            let r = Response { status, headers, body };
            self.observe_budget(Class::Deletes, &r);
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                continue;
            }
            return Ok(r);
        }
    }
}
