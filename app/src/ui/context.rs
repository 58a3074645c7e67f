//! The state the components share, split by who needs what (leptos todomvc's way): each part
//! takes only the contexts it uses, and read-only halves where it only reads.
//!
//! - [`Data`]: the session and the notice line, for everything that changes the session
//!   (sources, imports, links, settings, a frozen baseline);
//! - [`Nav`]: the open stream (or the Compare view), its zoomed range, and whether the session
//!   is a shared one;
//! - [`Theme`]: light or dark, read by everything that draws;
//! - [`Controls`]: the header's and the Sources panel's own state (the simulators, imports,
//!   live connections, probe pollers, share link), and
//!   the write halves of the notice and the theme.
//!
//! The dashboard's order of cards takes the read-only half of [`Data::session`]; a card writes
//! only that its signals were seen, when it is opened.

use crate::model::Session;
use crate::sources::live::Lives;
use crate::sources::probe::Probes;
use leptos::prelude::*;

/// The session, and the line that tells the user what just happened (write-only here: only
/// the header shows it).
#[derive(Clone, Copy)]
pub struct Data {
    /// The session: every stream and its settings.
    pub session: RwSignal<Session>,
    /// Writes the notice line the header shows.
    pub notice: WriteSignal<Option<String>>,
}

/// Where the user is.
#[derive(Clone, Copy)]
pub struct Nav {
    /// The open stream (None: the dashboard).
    pub selected: RwSignal<Option<String>>,
    /// Whether the Compare view is open (over the dashboard or a stream).
    pub compare: RwSignal<bool>,
    /// The open stream's zoomed range of points (None: all).
    pub range: RwSignal<Option<(usize, usize)>>,
    /// Set while a shared session is shown read-only: where it came from. Fixed at start.
    pub readonly: Signal<Option<String>>,
}

impl Nav {
    /// Opens a stream (None: back to the dashboard), unzoomed; the Compare view closes.
    pub fn open(&self, id: Option<String>) {
        self.compare.set(false);
        self.range.set(None);
        self.selected.set(id);
    }
}

/// The colour theme, read-only: the header's button writes it ([`Controls::set_dark`]).
#[derive(Clone, Copy)]
pub struct Theme {
    /// Whether the dark theme is on.
    pub dark: ReadSignal<bool>,
}

/// The header's state: what only the header (and the app that sets it up) reads and writes.
#[derive(Clone, Copy)]
pub struct Controls {
    /// What the notice line shows.
    pub notice: ReadSignal<Option<String>>,
    /// Switches the dark theme on or off.
    pub set_dark: WriteSignal<bool>,
    /// Whether the built-in simulators are running.
    pub simulating: RwSignal<bool>,
    /// The live shims' connections, as the Sources panel lists them.
    pub live: Lives,
    /// The probe Workers' pollers, as the Sources panel lists them.
    pub probe: Probes,
    /// Import: skip malformed rows instead of refusing the file.
    pub skip_bad: RwSignal<bool>,
    /// Progress, 0 to 1, of a long job (an import, a report).
    pub progress: RwSignal<Option<f64>>,
    /// The probe Worker polled, and its token: memory only, used to share large sessions.
    pub worker: RwSignal<Option<(String, String)>>,
    /// The last share link made.
    pub share_link: RwSignal<Option<String>>,
}

/// Everything a new app provides, made from its starting values.
pub struct Provided {
    /// The session and the notice line.
    pub data: Data,
    /// The open stream and its zoom.
    pub nav: Nav,
    /// The colour theme.
    pub theme: Theme,
    /// The header's state.
    pub controls: Controls,
}

/// Makes the contexts and provides them to the components below.
pub fn provide(
    session: Session,
    selected: Option<String>,
    range: Option<(usize, usize)>,
    readonly: Option<String>,
    dark: bool,
    notice: Option<String>,
) -> Provided {
    let (notice, set_notice) = signal(notice);
    let (dark, set_dark) = signal(dark);
    // Derived streams are evaluated anew from their inputs after a load or a link.
    let mut session = session;
    session.derive();
    let data = Data {
        session: RwSignal::new(session),
        notice: set_notice,
    };
    let nav = Nav {
        selected: RwSignal::new(selected),
        compare: RwSignal::new(false),
        range: RwSignal::new(range),
        readonly: Signal::stored(readonly),
    };
    let theme = Theme { dark };
    let controls = Controls {
        notice,
        set_dark,
        simulating: RwSignal::new(false),
        live: RwSignal::new(Vec::new()),
        probe: RwSignal::new(Vec::new()),
        skip_bad: RwSignal::new(false),
        progress: RwSignal::new(None),
        worker: RwSignal::new(None),
        share_link: RwSignal::new(None),
    };
    provide_context(data);
    provide_context(nav);
    provide_context(theme);
    provide_context(controls);
    Provided {
        data,
        nav,
        theme,
        controls,
    }
}

/// A context `app` provides; missing one is a bug in the app, not in the user's input.
fn get<T: Clone + 'static>(name: &str) -> T {
    use_context::<T>().unwrap_or_else(|| panic!("{name} is provided by app()"))
}

/// The [`Data`] context.
pub fn data() -> Data {
    get("Data")
}

/// The [`Nav`] context.
pub fn nav() -> Nav {
    get("Nav")
}

/// The [`Theme`] context.
pub fn theme() -> Theme {
    get("Theme")
}

/// The [`Controls`] context.
pub fn controls() -> Controls {
    get("Controls")
}
