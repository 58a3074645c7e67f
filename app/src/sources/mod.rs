//! Where streams come from: the built-in simulators (`sim`), a shim's WebSocket (`live`), a
//! probe Worker polled over HTTP (`probe`), and files the user imports (`import`: CSV and the
//! session JSON). Each adds samples to the session under its own [`crate::model::Origin`];
//! outside data is checked on the way in by [`crate::decode`].

pub mod import;
pub mod live;
pub mod probe;
pub mod sim;
