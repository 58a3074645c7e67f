//! The components: the header (import, simulators, export, share, theme), the Sources panel, the
//! dashboard of stream cards, and the stream view (control chart, companion, histogram,
//! capability, false-alarm rate, signals, settings). Components are thin: they read the
//! session, ask the engine and the model, draw.
//!
//! - `context`: the state the components share, split by who needs what;
//! - `header`, `sources`, `dashboard`, `stream`, `settings`: the components;
//! - `derived`: the derived streams' form (a formula over streams);
//! - `fleet`: the "MQTT broker" source's form and its grouped, virtualized list (the work is
//!   its Web Worker's, `app/fleet`);
//! - `compare/`: the Compare view (targets or machines side by side, the recommendation);
//! - `timing`: the timings the browser benchmarks read;
//! - `touch`: pinch and drag on the control chart;
//! - `maintenance`: the forecasts (made in the second module), their words, the maintenance
//!   list and its iCalendar events;
//! - `why/`: a signal episode's context and its assignable cause;
//! - `team`: the hook of the workspace view (issue 16; the view is the second module's).
//! - `rules`: the rule editor's button and place in the settings (the editor is the second
//!   module's).

pub mod compare;
pub mod context;
mod dashboard;
mod derived;
pub mod fleet;
mod header;
mod maintenance;
mod rules;
mod settings;
mod sources;
mod stream;
pub mod team;
mod timing;
mod touch;
mod why;

pub use compare::Compare;
pub use context::{Controls, Data, Nav};
pub use dashboard::Dashboard;
pub use header::{import_file, Header};
pub use stream::StreamView;
pub use timing::{now_ms, record_timing};
