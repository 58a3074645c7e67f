//! The session as earlier versions kept it: JSON in localStorage, under one key. It is read
//! once, when IndexedDB holds no session yet (the first save then moves it there), and removed
//! by [`super::clear`].

use super::request::describe;
use super::{Heads, Saver, Unread};
use crate::model::Session;

/// The localStorage key earlier versions saved the session under.
const KEY: &str = "llmscope.session.v1";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The session in localStorage, if any, and a saver that knows the chunks IndexedDB holds
/// (strays of an interrupted save, deleted by the first save); a damaged one is reported and
/// kept, not deleted.
pub(super) fn read(heads: Heads) -> Result<(Option<Session>, Saver), Unread> {
    let mut saver = Saver::new();
    for key in heads.keys {
        saver.stored.insert(key, 0);
    }
    let Some(text) = storage().and_then(|s| s.get_item(KEY).ok()?) else {
        return Ok((None, saver));
    };
    match serde_json::from_str(&text) {
        Ok(found) => Ok((Some(found), saver)),
        Err(e) => Err(Unread {
            reason: format!("the saved session could not be read ({e}); it was kept as is"),
            ..Unread::default()
        }),
    }
}

/// Removes the localStorage copy.
pub(super) fn remove() -> Result<(), String> {
    if let Some(storage) = storage() {
        storage.remove_item(KEY).map_err(|e| {
            format!(
                "the session kept in localStorage could not be removed ({})",
                describe(&e)
            )
        })?;
    }
    Ok(())
}
