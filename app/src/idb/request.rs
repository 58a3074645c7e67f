//! The IndexedDB plumbing: opening the database, and each request or transaction as a future
//! whose `resolve`/`reject` are installed as its event handlers when it is made.

use super::{CHUNKS, DB_NAME, DB_VERSION, SESSIONS};
use js_sys::{Array, Promise};
use std::future::Future;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

/// Opens (creating or upgrading on first use) the database.
pub(super) async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("there is no browser window to store the session in")?
        .indexed_db()
        .map_err(|e| format!("this browser denies access to IndexedDB ({})", describe(&e)))?
        .ok_or("this browser offers no IndexedDB to store the session in")?;
    let request = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(|e| {
        format!(
            "the session database could not be opened ({})",
            describe(&e)
        )
    })?;

    // Runs inside the versionchange transaction, so it must create the stores synchronously.
    let for_upgrade = request.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        let Some(db) = for_upgrade
            .result()
            .ok()
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
        else {
            return;
        };
        for store in [SESSIONS, CHUNKS] {
            if !db.object_store_names().contains(store) {
                let _ = db.create_object_store(store);
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = pending(&request).await;
    request.set_onupgradeneeded(None);
    drop(on_upgrade);

    let db = outcome.map_err(|e| format!("the session database could not be opened ({e})"))?;
    db.dyn_into::<IdbDatabase>()
        .map_err(|_| "the session database could not be opened (no database returned)".into())
}

/// The outcome of a request: its result on `success`, its error on `error`. The handlers are
/// installed now, when the request is made, so no event can be missed.
pub(super) fn pending(request: &IdbRequest) -> impl Future<Output = Result<JsValue, String>> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let request = request.clone();
    async move {
        let outcome = JsFuture::from(promise).await;
        request.set_onsuccess(None);
        request.set_onerror(None);
        match outcome {
            Ok(_) => request.result().map_err(|e| describe(&e)),
            Err(_) => Err(match request.error() {
                Ok(Some(e)) => dom_error(&e),
                _ => "unknown error".into(),
            }),
        }
    }
}

/// One read-write transaction over the sessions and their chunks, so a save or a clear is all
/// or nothing.
pub(super) fn write_both(db: &IdbDatabase) -> Result<IdbTransaction, String> {
    db.transaction_with_str_sequence_and_mode(
        &Array::of2(&SESSIONS.into(), &CHUNKS.into()),
        IdbTransactionMode::Readwrite,
    )
    .map_err(|e| describe(&e))
}

/// Resolves when the transaction commits (`complete`), fails when it aborts (`abort`, with
/// the transaction's error: a failed request, a full quota, a closed database). Every
/// transaction ends in exactly one of these two events; a request's `error` event is followed
/// by `abort`, with the same error, so it needs no handler of its own.
pub(super) fn completion(tx: &IdbTransaction) -> impl Future<Output = Result<(), String>> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let tx = tx.clone();
    async move {
        let outcome = JsFuture::from(promise).await;
        tx.set_oncomplete(None);
        tx.set_onabort(None);
        match outcome {
            Ok(_) => Ok(()),
            Err(_) => Err(tx
                .error()
                .map(|e| dom_error(&e))
                .unwrap_or_else(|| "the transaction was aborted".into())),
        }
    }
}

pub(super) fn dom_error(e: &DomException) -> String {
    let message = e.message();
    if message.is_empty() {
        e.name()
    } else {
        format!("{}: {message}", e.name())
    }
}

/// A thrown JavaScript value as text.
pub(super) fn describe(e: &JsValue) -> String {
    if let Some(dom) = e.dyn_ref::<DomException>() {
        return dom_error(dom);
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
