//! The app's shared state, provided once by `app` and read by every component.

use crate::model::Session;
use leptos::prelude::*;

/// The app's shared state.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: RwSignal<Session>,
    pub selected: RwSignal<Option<String>>,
    pub dark: RwSignal<bool>,
    pub simulating: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub live: RwSignal<crate::live::LiveStatus>,
    pub probe: RwSignal<crate::probe::ProbeStatus>,
    /// Import: skip malformed rows instead of refusing the file.
    pub skip_bad: RwSignal<bool>,
    /// Import progress, 0 to 1, while a file is being read.
    pub progress: RwSignal<Option<f64>>,
    /// Set while a shared session is shown read-only: where it came from.
    pub readonly: RwSignal<Option<String>>,
    /// The open stream's zoomed range of points (None: all).
    pub range: RwSignal<Option<(usize, usize)>>,
    /// The probe Worker polled, and its token: memory only, used to share large sessions.
    pub worker: RwSignal<Option<(String, String)>>,
    /// The last share link made.
    pub share_link: RwSignal<Option<String>>,
}

pub fn ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_else(|| panic!("Ctx is provided by App"))
}
