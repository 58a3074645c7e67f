//! The dashboard: every stream as a card (name, source, last value, status, sparkline),
//! problems first.

use super::context::{data, nav, theme};
use crate::draw::{self, Palette};
use crate::model::{Health, SPARK};
use crate::report::fmt;
use leptos::prelude::*;

/// One card's data.
#[derive(Clone)]
struct CardData {
    id: String,
    unit: String,
    /// Where its data comes from.
    source: String,
    /// Its oldest points dropped to stay within its limit.
    dropped: u64,
    last: f64,
    health: Health,
    spark: Vec<f64>,
}

/// Every stream as a card, problems first.
#[component]
pub fn Dashboard() -> impl IntoView {
    // The dashboard only reads the session.
    let session = data().session.read_only();
    let cards = move || {
        let mut cards: Vec<CardData> = session.with(|s| {
            s.streams
                .iter()
                .map(|st| {
                    let chart = st.chart_cached();
                    let from = st.samples.len().saturating_sub(SPARK);
                    CardData {
                        id: st.id.clone(),
                        unit: st.unit.clone(),
                        source: st.origin.label(),
                        dropped: s.dropped(&st.id),
                        last: st.samples.last().map_or(f64::NAN, |x| x.value),
                        health: st.health(&chart),
                        spark: st.samples[from..].iter().map(|x| x.value).collect(),
                    }
                })
                .collect()
        });
        cards.sort_by(|a, b| a.health.cmp(&b.health).then(a.id.cmp(&b.id)));
        cards
    };
    view! {
        <section class="cards" aria-label="streams">
            {move || {
                let list = cards();
                if list.is_empty() {
                    view! { <p class="empty">"No streams yet: run the simulators or import a file."</p> }.into_any()
                } else {
                    list.into_iter().map(|card| view! { <Card card/> }).collect_view().into_any()
                }
            }}
        </section>
    }
}

#[component]
fn Card(card: CardData) -> impl IntoView {
    let (nav, theme) = (nav(), theme());
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let status = card.health.label();
    let color = match card.health {
        Health::Signal => plotters::style::RGBColor(207, 34, 46),
        Health::Stale => plotters::style::RGBColor(130, 130, 130),
        _ => plotters::style::RGBColor(9, 105, 218),
    };
    let spark = card.spark.clone();
    Effect::new(move |_| {
        if let Some(el) = canvas.get() {
            let _ = draw::sparkline(&el, &spark, color, Palette::new(theme.dark.get()));
        }
    });
    let id = card.id.clone();
    let open = move || {
        nav.open(Some(id.clone()));
    };
    let open2 = open.clone();
    view! {
        <article class="card" data-testid="stream-card" data-status=status tabindex="0" role="button"
            on:click=move |_| open()
            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { open2() }>
            <h2 class="name">{card.id.clone()}</h2>
            <p class="source" data-testid="stream-source">{card.source.clone()}</p>
            {(card.dropped > 0).then(|| view! {
                <p class="dropped" data-testid="stream-dropped">
                    {format!("oldest {} points dropped (limit reached)", card.dropped)}
                </p>
            })}
            <p class="last"><strong>{fmt(card.last)}</strong>" "{card.unit.clone()}</p>
            <p class={format!("badge {}", status.replace(' ', "-"))}>{status}</p>
            <canvas class="spark" node_ref=canvas aria-hidden="true"></canvas>
        </article>
    }
}
