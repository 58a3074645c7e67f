//! The workspace panel as HTML text: the offer of the Worker that serves the page, the sign-in
//! form, who is signed in with which role, the dashboards, the save controls (disabled, with
//! the reason, for a viewer) and a conflict. Buttons carry `data-action`, read by the panel's
//! one click handler (`page`); every hook has a `data-testid` (README, "Teams").

use super::{can_save, Panel, Role};
use crate::text::esc;
use std::fmt::Write;

/// Why "Save" and "Save as new" are off for `panel`, if they are.
fn save_blocked(panel: &Panel, role: Role) -> Option<&'static str> {
    if !can_save(role) {
        Some("viewers see dashboards read-only: an editor, admin or owner saves them")
    } else if panel.busy {
        Some("a request is on its way")
    } else {
        None
    }
}

/// ` disabled title="why"` when `why` is set.
fn disabled(why: Option<&str>) -> String {
    why.map_or(String::new(), |w| format!(" disabled title=\"{}\"", esc(w)))
}

/// The whole panel.
pub fn render(panel: &Panel) -> String {
    let mut out = String::from(
        "<div class=\"team-head\"><h2>Workspace</h2><button type=\"button\" data-action=\"close\" \
         data-testid=\"team-close\" aria-label=\"close the workspace\">Close</button></div>",
    );
    match &panel.me {
        None => signed_out(panel, &mut out),
        Some(me) => {
            let _ = write!(
                out,
                "<p class=\"member\">Signed in to <code>{}</code> as <strong \
                 data-testid=\"member-name\">{}</strong> <span class=\"badge\" \
                 data-testid=\"member-role\" data-role=\"{2}\">{2}</span> <button type=\"button\" \
                 data-action=\"signout\" data-testid=\"signout\">Sign out</button></p>",
                esc(&panel.url),
                esc(&me.name),
                me.role.as_str()
            );
            dashboards(panel, me.role, &mut out);
            save(panel, me.role, &mut out);
        }
    }
    if let Some(c) = &panel.conflict {
        let _ = write!(
            out,
            "<div class=\"conflict\" role=\"alert\" data-testid=\"dashboard-conflict\" \
             data-mine=\"{}\" data-theirs=\"{}\"><p>{}</p><button type=\"button\" \
             data-action=\"reload\" data-testid=\"dashboard-reload\">Reload theirs</button> \
             <button type=\"button\" data-action=\"save-copy\" \
             data-testid=\"dashboard-save-copy\">Save mine as a copy</button></div>",
            c.mine,
            c.theirs,
            esc(&c.words())
        );
    }
    let _ = write!(
        out,
        "<p class=\"live\" role=\"status\" data-testid=\"team-status\">{}</p>",
        esc(&panel.status)
    );
    out
}

/// The offer (when the page's own Worker serves it) and the sign-in form.
fn signed_out(panel: &Panel, out: &mut String) {
    let offer = panel.served_by.as_ref().filter(|_| !panel.dismissed);
    if let Some(version) = offer {
        let _ = write!(
            out,
            "<div class=\"ask-live\" data-testid=\"ask-worker\" data-version=\"{}\"><p>This \
             dashboard is served by an LLMscope Worker (version {}). Sign in with your member \
             token to chart its probes and open the team's dashboards; nothing is sent to it \
             before you do.</p></div>",
            esc(version),
            esc(version)
        );
    }
    let _ = write!(
        out,
        "<form class=\"connect signin\" data-testid=\"signin-form\" aria-label=\"sign in to a \
         probe Worker\"><input type=\"url\" name=\"url\" data-testid=\"signin-url\" \
         aria-label=\"Worker URL\" placeholder=\"https://probes.example.workers.dev\" \
         value=\"{}\"><input type=\"password\" name=\"token\" data-testid=\"signin-token\" \
         aria-label=\"member token\" placeholder=\"member token\" autocomplete=\"off\"><label \
         class=\"check\"><input type=\"checkbox\" name=\"remember\" \
         data-testid=\"signin-remember\"> remember on this tab</label><button type=\"submit\" \
         data-testid=\"signin\"{}>Sign in</button>{}</form>",
        esc(&panel.url),
        disabled(panel.busy.then_some("a request is on its way")),
        if offer.is_some() {
            "<button type=\"button\" data-action=\"dismiss\" data-testid=\"signin-dismiss\">Not now</button>"
        } else {
            ""
        }
    );
}

/// The workspace's dashboards, each with who saved it, its Open button and its Delete button
/// (off, with the reason, for a viewer), and the confirmation a Delete asks for.
fn dashboards(panel: &Panel, role: Role, out: &mut String) {
    let _ = write!(
        out,
        "<h3>Dashboards <button type=\"button\" data-action=\"refresh\" \
         data-testid=\"dashboard-refresh\"{}>Refresh</button></h3>",
        disabled(panel.busy.then_some("a request is on its way"))
    );
    if panel.dashboards.is_empty() {
        out.push_str("<p data-testid=\"dashboard-none\">No dashboards in this workspace yet.</p>");
        return;
    }
    let off = disabled(save_blocked(panel, role));
    out.push_str("<ul class=\"dashboards\" data-testid=\"dashboard-list\">");
    for d in &panel.dashboards {
        let here = panel.opened.as_ref().is_some_and(|o| o.id == d.id);
        let by = d.saved_by.as_ref().map_or(String::new(), |b| {
            format!(
                ", saved by <span data-testid=\"dashboard-saved-by\">{}</span>",
                esc(b)
            )
        });
        let _ = write!(
            out,
            "<li data-testid=\"dashboard-row\" data-id=\"{0}\" data-name=\"{1}\" \
             data-version=\"{2}\"{3}><button type=\"button\" data-action=\"open\" \
             data-id=\"{0}\" data-testid=\"dashboard-open\">{1}</button> version {2}{by}{4} \
             <button type=\"button\" data-action=\"delete\" data-id=\"{0}\" \
             data-testid=\"dashboard-delete\"{off}>Delete</button></li>",
            esc(&d.id),
            esc(&d.name),
            d.version,
            if here { " class=\"chosen\"" } else { "" },
            if here { " · open here" } else { "" }
        );
    }
    out.push_str("</ul>");
    if let Some(d) = &panel.deleting {
        let _ = write!(
            out,
            "<div class=\"conflict\" role=\"alert\" data-testid=\"dashboard-delete-ask\" \
             data-id=\"{}\"><p>Delete “{}” (version {}) from the workspace, for everyone? This \
             cannot be undone; the view on this page stays.</p><button type=\"button\" \
             data-action=\"delete-confirm\" data-testid=\"dashboard-delete-confirm\"{off}>Delete \
             it</button> <button type=\"button\" data-action=\"delete-cancel\" \
             data-testid=\"dashboard-delete-cancel\">Keep it</button></div>",
            esc(&d.id),
            esc(&d.name),
            d.version
        );
    }
}

/// The save controls: the name, "Save" over the opened dashboard, "Save as new".
fn save(panel: &Panel, role: Role, out: &mut String) {
    let blocked = save_blocked(panel, role);
    let over = match &panel.opened {
        Some(o) => {
            let by = o
                .saved_by
                .as_ref()
                .map_or(String::new(), |b| format!(", saved by {}", esc(b)));
            let _ = write!(
                out,
                "<p data-testid=\"dashboard-opened\" data-id=\"{}\" data-version=\"{}\">Open \
                 here: “{}”, version {}{by}.</p>",
                esc(&o.id),
                o.version,
                esc(&o.name),
                o.version
            );
            blocked
        }
        None => blocked.or(Some(
            "open a dashboard, or save this view as a new one, first",
        )),
    };
    let name = panel.opened.as_ref().map_or("", |o| o.name.as_str());
    let _ = write!(
        out,
        "<div class=\"connect save\"><input name=\"name\" data-testid=\"dashboard-name\" \
         aria-label=\"dashboard name\" placeholder=\"dashboard name\" value=\"{}\"{}><button \
         type=\"button\" data-action=\"save\" data-testid=\"dashboard-save\"{}>Save</button><button \
         type=\"button\" data-action=\"save-as\" data-testid=\"dashboard-save-as\"{}>Save as \
         new</button></div>",
        esc(name),
        disabled(blocked),
        disabled(over),
        disabled(blocked)
    );
    if !can_save(role) {
        out.push_str(
            "<p class=\"note\" data-testid=\"dashboard-readonly\">You are a viewer: you see the \
             workspace's dashboards read-only; an editor, admin or owner saves them.</p>",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Conflict, Listed, Member};
    use super::*;

    fn signed_in(role: Role) -> Panel {
        Panel {
            url: "http://127.0.0.1:8787".into(),
            me: Some(Member {
                name: "Ada <a>".into(),
                role,
            }),
            dashboards: vec![Listed {
                id: "ops".into(),
                name: "Ops & co".into(),
                version: 3,
                saved_by: Some("Bo".into()),
            }],
            opened: Some(Listed {
                id: "ops".into(),
                name: "Ops & co".into(),
                version: 3,
                saved_by: Some("Bo".into()),
            }),
            ..Panel::default()
        }
    }

    #[test]
    fn a_viewer_sees_the_dashboards_with_saving_off_and_why() {
        let html = render(&signed_in(Role::Viewer));
        assert!(html.contains("data-testid=\"member-name\">Ada &lt;a&gt;</strong>"));
        assert!(html.contains("data-role=\"viewer\">viewer</span>"));
        assert!(html.contains("data-name=\"Ops &amp; co\" data-version=\"3\" class=\"chosen\""));
        assert!(html.contains(
            "data-testid=\"dashboard-save\" disabled title=\"viewers see dashboards read-only"
        ));
        assert!(html.contains("data-testid=\"dashboard-save-as\" disabled"));
        assert!(html.contains("data-testid=\"dashboard-readonly\""));
        assert!(
            html.contains("version 3, saved by <span data-testid=\"dashboard-saved-by\">Bo</span>")
        );
        assert!(html.contains("data-testid=\"dashboard-delete\" disabled title=\"viewers see"));
    }

    #[test]
    fn an_editor_deletes_after_confirming() {
        let mut p = signed_in(Role::Editor);
        let html = render(&p);
        assert!(html.contains("data-testid=\"dashboard-delete\">Delete</button>"));
        assert!(html.contains("Open here: “Ops &amp; co”, version 3, saved by Bo."));
        assert!(!html.contains("dashboard-delete-ask"));
        p.deleting = p.opened.clone();
        let html = render(&p);
        assert!(html.contains("data-testid=\"dashboard-delete-ask\" data-id=\"ops\""));
        assert!(html.contains("Delete “Ops &amp; co” (version 3)"));
        assert!(
            html.contains("dashboard-delete-confirm") && html.contains("dashboard-delete-cancel")
        );
    }

    #[test]
    fn an_editor_saves_and_a_conflict_offers_both_ways() {
        let mut p = signed_in(Role::Editor);
        let html = render(&p);
        assert!(html.contains("data-testid=\"dashboard-save\">Save</button>"));
        assert!(!html.contains("dashboard-readonly"));
        p.opened = None;
        assert!(
            render(&p).contains("data-testid=\"dashboard-save\" disabled title=\"open a dashboard")
        );
        p.conflict = Some(Conflict {
            name: "Ops".into(),
            by: Some("Bo".into()),
            mine: 3,
            theirs: 4,
        });
        let html = render(&p);
        assert!(
            html.contains("data-testid=\"dashboard-conflict\" data-mine=\"3\" data-theirs=\"4\"")
        );
        assert!(html.contains("Bo saved a newer version of “Ops”"));
        assert!(html.contains("dashboard-reload") && html.contains("dashboard-save-copy"));
    }

    #[test]
    fn the_page_of_a_worker_offers_to_sign_in_to_it() {
        let mut p = Panel {
            served_by: Some("0.1.0".into()),
            url: "http://127.0.0.1:8787".into(),
            ..Panel::default()
        };
        let html = render(&p);
        assert!(html.contains("data-testid=\"ask-worker\" data-version=\"0.1.0\""));
        assert!(html.contains("value=\"http://127.0.0.1:8787\""));
        assert!(html.contains("signin-dismiss"));
        p.dismissed = true;
        let html = render(&p);
        assert!(!html.contains("ask-worker") && html.contains("data-testid=\"signin\""));
    }
}
