//! The Workers runtime layer (wasm32 only): the fetch router, the cron trigger, and the glue
//! between the pure modules and fetch, the clock, D1 and secrets. Kept thin on purpose: every
//! decision lives in a module that is tested natively.

mod alerts;
mod compare;
mod config;
mod dashboards;
mod destinations;
mod digest;
mod http;
mod outbox;
mod probe;
mod routes;
mod share;
mod store;
mod stored;
mod targets;
mod team;
mod webhook;

use worker::{event, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: worker::Context) -> Result<Response> {
    routes::handle(req, &env).await
}

/// The cron trigger: probe every target, store the results, alert on new signals.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    routes::cron(&env).await;
}
