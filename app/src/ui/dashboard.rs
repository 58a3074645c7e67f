//! The dashboard: every stream as a card (name, source, last value, status, sparkline, "due
//! in" when a forecast crossing is near), problems first; and the maintenance list.
//!
//! Cards are a keyed `<For>` over the streams' keys (source and name), in the order of their
//! status: a new point updates a card's texts and redraws its sparkline, but keeps its element
//! and its canvas; only a stream that appears or goes adds or removes a card.

use super::context::{data, nav, theme, Data};
use super::maintenance::{self, Maintenance};
use crate::draw::{self, Palette};
use crate::export::report::fmt;
use crate::model::{Health, Origin, Session, Stream, SPARK};
use leptos::prelude::*;

/// One card's data.
#[derive(Clone, Debug, PartialEq)]
struct CardData {
    unit: String,
    /// Where its data comes from.
    source: String,
    /// Its oldest points dropped to stay within its limit.
    dropped: u64,
    last: f64,
    health: Health,
    spark: Vec<f64>,
}

impl CardData {
    fn of(session: &Session, stream: &Stream) -> CardData {
        let from = stream.samples.len().saturating_sub(SPARK);
        CardData {
            unit: stream.unit.clone(),
            source: stream.origin.label(),
            dropped: session.dropped(&stream.id),
            last: stream.samples.last().map_or(f64::NAN, |x| x.value),
            health: session.health(stream),
            spark: stream.samples[from..].iter().map(|x| x.value).collect(),
        }
    }
}

/// Records that the user saw stream `id`'s signals; when a cause is required first, the
/// notice says which episode needs one.
pub(super) fn acknowledge(d: Data, id: &str) {
    let mut blocked = None;
    d.session.maybe_update(|s| {
        let (news, why) = s.acknowledge_all(id);
        blocked = why;
        news
    });
    if blocked.is_some() {
        d.notice.set(blocked);
    }
}

/// A card's key: the stream's source and its name (its id in the session).
type Key = (Origin, String);

/// Every stream as a card, problems first.
#[component]
pub fn Dashboard() -> impl IntoView {
    // The dashboard only reads the session.
    let session = data().session.read_only();
    let order = Memo::new(move |_| {
        session.with(|s| {
            let mut keys: Vec<(Health, &str, &Origin)> = s
                .streams
                .iter()
                .map(|st| (s.health(st), st.id.as_str(), &st.origin))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
            keys.into_iter()
                .map(|(_, id, origin)| (origin.clone(), id.to_string()))
                .collect::<Vec<Key>>()
        })
    });
    maintenance::start(session);
    view! {
        <super::fleet::FleetView/>
        <section class="cards" aria-label="streams">
            <Show
                when=move || order.with(|o| !o.is_empty())
                fallback=|| view! { <p class="empty">"No streams yet: run the simulators or import a file."</p> }>
                <For each=move || order.get() key=|key| key.clone() let:key>
                    <Card id=key.1/>
                </For>
            </Show>
        </section>
        <super::derived::DerivedStreams/>
        <Maintenance/>
    }
}

/// One stream's card; it follows the stream's data while it exists.
#[component]
fn Card(id: String) -> impl IntoView {
    let d = data();
    let session = d.session.read_only();
    let (nav, theme) = (nav(), theme());
    let key = id.clone();
    let card = Memo::new(move |_| session.with(|s| s.stream(&key).map(|st| CardData::of(s, st))));
    let health = move || card.with(|c| c.as_ref().map_or(Health::Collecting, |c| c.health));
    let status = move || health().label();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(el) = canvas.get() else { return };
        let color = match health() {
            Health::Signal => plotters::style::RGBColor(207, 34, 46),
            Health::Stale => plotters::style::RGBColor(130, 130, 130),
            _ => plotters::style::RGBColor(9, 105, 218),
        };
        let palette = Palette::new(theme.dark.get());
        card.with(|c| {
            if let Some(c) = c {
                let _ = draw::sparkline(&el, &c.spark, color, palette);
            }
        });
    });
    let field =
        move |f: fn(&CardData) -> String| card.with(|c| c.as_ref().map(f).unwrap_or_default());
    let dropped = move || card.with(|c| c.as_ref().map_or(0, |c| c.dropped));
    let due_id = id.clone();
    let open_id = id.clone();
    // Opening a stream shows its signals: its card no longer calls the old ones news.
    let open = move || {
        acknowledge(d, &open_id);
        nav.open(Some(open_id.clone()));
    };
    let open2 = open.clone();
    view! {
        <article class="card" data-testid="stream-card" data-status=status tabindex="0" role="button"
            on:click=move |_| open()
            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { open2() }>
            <h2 class="name">{id}</h2>
            <p class="source" data-testid="stream-source">{move || field(|c| c.source.clone())}</p>
            {move || (dropped() > 0).then(|| view! {
                <p class="dropped" data-testid="stream-dropped">
                    {format!("oldest {} points dropped (limit reached)", dropped())}
                </p>
            })}
            <p class="last"><strong>{move || field(|c| fmt(c.last))}</strong>" "{move || field(|c| c.unit.clone())}</p>
            <p class=move || format!("badge {}", status().replace(' ', "-"))>{move || health().text()}</p>
            <div inner_html=move || maintenance::card_line(&due_id)></div>
            <canvas class="spark" node_ref=canvas aria-hidden="true"></canvas>
        </article>
    }
}
