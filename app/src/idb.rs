//! Keeping the session across reloads in IndexedDB. localStorage (`store.rs`) holds about 5 MB
//! per origin, and a session outgrows that quickly: one stream of 100,000 points is about 3 MB
//! of JSON, a million-row import far more. IndexedDB takes what the browser's storage quota
//! allows (usually a share of the free disk), so this module keeps the session there.
//!
//! Layout: database `llmscope`, version 1, one object store `sessions` holding the session as
//! one JSON string (serde_json, the same text as `store.rs` and a session export) under the key
//! `"current"`. A session saved by an older build in localStorage is copied here on first `load`.
//!
//! Every IndexedDB request is awaited through a `js_sys::Promise` whose `resolve`/`reject` are
//! installed directly as the request's (or transaction's) event handlers, so no Rust closure
//! is leaked per request. Each call opens the database, does its work in one transaction and
//! closes it again. Nothing here panics; every failure comes back as an `Err(String)` written
//! for the person using the dashboard.

use crate::model::Session;
use js_sys::Promise;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

const DB_NAME: &str = "llmscope";
const DB_VERSION: u32 = 1;
const STORE: &str = "sessions";
const KEY: &str = "current";
/// The localStorage key of `store.rs`, read once to migrate and removed by `clear`.
const LEGACY_KEY: &str = "llmscope.session.v1";

/// The saved session, if any. Reads key `"current"` of store `sessions` in database
/// `llmscope` (created on first use). When IndexedDB holds no session yet, a session saved in
/// localStorage by an older build is copied here and returned (the localStorage copy is kept
/// until `clear`). A damaged stored value is an `Err` and is left as it is.
pub async fn load() -> Result<Option<Session>, String> {
    let db = open().await?;
    let stored = read(&db).await;
    db.close();
    if let Some(text) = stored? {
        return serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("the saved session could not be read ({e}); it was kept as is"));
    }
    let Some(session) = crate::store::load()? else {
        return Ok(None);
    };
    // The session is safe in localStorage whatever happens here, so a failed copy is only
    // noted: the next `save` tries again.
    if let Err(e) = save(&session).await {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "llmscope: the session from localStorage could not be copied to IndexedDB: {e}"
        )));
    }
    Ok(Some(session))
}

/// Saves the session as JSON under `"current"`, in one readwrite transaction; resolves once
/// the transaction has completed (the data is committed). Err says why it could not be.
pub async fn save(session: &Session) -> Result<(), String> {
    let text = serde_json::to_string(session)
        .map_err(|e| format!("the session could not be written as JSON ({e})"))?;
    let db = open().await?;
    let result = write(&db, &text).await;
    db.close();
    result
}

/// Deletes the saved session: key `"current"` in IndexedDB and the old localStorage key.
pub async fn clear() -> Result<(), String> {
    let db = open().await?;
    let result = delete(&db).await;
    db.close();
    result?;
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        storage.remove_item(LEGACY_KEY).map_err(|e| {
            format!(
                "the session kept in localStorage could not be removed ({})",
                describe(&e)
            )
        })?;
    }
    Ok(())
}

/// Opens (creating or upgrading on first use) the database.
async fn open() -> Result<IdbDatabase, String> {
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

    // Runs inside the versionchange transaction, so it must create the store synchronously.
    let for_upgrade = request.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        let Some(db) = for_upgrade
            .result()
            .ok()
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
        else {
            return;
        };
        // Fails only if the store exists already, which is what we want.
        let _ = db.create_object_store(STORE);
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let outcome = settle(&request).await;
    request.set_onupgradeneeded(None);
    drop(on_upgrade);

    outcome.map_err(|e| format!("the session database could not be opened ({e})"))?;
    request
        .result()
        .ok()
        .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
        .ok_or_else(|| "the session database could not be opened (no database returned)".into())
}

/// The stored JSON text, if any.
async fn read(db: &IdbDatabase) -> Result<Option<String>, String> {
    let fail = |e: String| format!("the saved session could not be read ({e})");
    let tx = transaction(db, IdbTransactionMode::Readonly).map_err(fail)?;
    let store = tx.object_store(STORE).map_err(|e| fail(describe(&e)))?;
    let request = store
        .get(&JsValue::from_str(KEY))
        .map_err(|e| fail(describe(&e)))?;
    settle(&request).await.map_err(fail)?;
    let value = request.result().map_err(|e| fail(describe(&e)))?;
    if value.is_undefined() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        "the saved session could not be read (it is not JSON text); it was kept as is".into()
    })
}

/// Puts `text` under the key and waits for the transaction to commit.
async fn write(db: &IdbDatabase, text: &str) -> Result<(), String> {
    let megabytes = text.len() as f64 / 1e6;
    let fail = |e: String| {
        if e.starts_with("QuotaExceededError") {
            format!(
                "the browser refused to store the session ({megabytes:.1} MB): \
                 export it to keep it (its storage for this site is full)"
            )
        } else {
            format!(
                "the session ({megabytes:.1} MB) could not be saved ({e}): export it to keep it"
            )
        }
    };
    let tx = transaction(db, IdbTransactionMode::Readwrite).map_err(fail)?;
    let done = completion(&tx);
    let store = tx.object_store(STORE).map_err(|e| fail(describe(&e)))?;
    if let Err(e) = store.put_with_key(&JsValue::from_str(text), &JsValue::from_str(KEY)) {
        let _ = tx.abort();
        return Err(fail(describe(&e)));
    }
    done.await.map_err(fail)
}

/// Deletes the key and waits for the transaction to commit.
async fn delete(db: &IdbDatabase) -> Result<(), String> {
    let fail = |e: String| format!("the saved session could not be deleted ({e})");
    let tx = transaction(db, IdbTransactionMode::Readwrite).map_err(fail)?;
    let done = completion(&tx);
    let store = tx.object_store(STORE).map_err(|e| fail(describe(&e)))?;
    if let Err(e) = store.delete(&JsValue::from_str(KEY)) {
        let _ = tx.abort();
        return Err(fail(describe(&e)));
    }
    done.await.map_err(fail)
}

fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbTransaction, String> {
    db.transaction_with_str_and_mode(STORE, mode)
        .map_err(|e| describe(&e))
}

/// Waits for a request's `success` (Ok) or `error` (Err with the request's error).
async fn settle(request: &IdbRequest) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => Ok(()),
        Err(_) => Err(match request.error() {
            Ok(Some(e)) => dom_error(&e),
            _ => "unknown error".into(),
        }),
    }
}

/// Resolves when the transaction commits (`complete`), fails when it aborts (`abort`, with
/// the transaction's error: a failed request, a full quota, a closed database). Every
/// transaction ends in exactly one of these two events; a request's `error` event is followed
/// by `abort`, with the same error, so it needs no handler of its own.
fn completion(tx: &IdbTransaction) -> impl std::future::Future<Output = Result<(), String>> {
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

fn dom_error(e: &DomException) -> String {
    let message = e.message();
    if message.is_empty() {
        e.name()
    } else {
        format!("{}: {message}", e.name())
    }
}

/// A thrown JavaScript value as text.
fn describe(e: &JsValue) -> String {
    if let Some(dom) = e.dyn_ref::<DomException>() {
        return dom_error(dom);
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
