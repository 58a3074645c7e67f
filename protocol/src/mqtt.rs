//! MQTT subscriptions, read the same way by the shim's `[[mqtt.subscribe]]` and the dashboard's
//! broker source (`app/fleet`): topic filters and stream-name templates ([`topic`]), and a
//! value and time out of a payload ([`payload`]). No I/O.

pub mod payload;
pub mod topic;
