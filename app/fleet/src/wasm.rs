//! The binding `worker.js` drives: the worker owns the WebSocket and the timer; this owns
//! everything else. Updates cross as JSON text (one `JSON.parse` per batch in the worker).

use crate::fleet::{Config, Fleet};
use wasm_bindgen::prelude::*;

/// One broker connection (`new FleetEngine(configJson, now)`).
#[wasm_bindgen]
pub struct FleetEngine {
    fleet: Fleet,
    /// What [`FleetEngine::tick`] has to send (a PINGREQ).
    pending: Vec<u8>,
}

#[wasm_bindgen]
impl FleetEngine {
    /// Checks the page's `connect` message; throws naming the bad key.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, now: f64) -> Result<FleetEngine, JsError> {
        let config: Config =
            serde_json::from_str(config).map_err(|e| JsError::new(&format!("connect: {e}")))?;
        Fleet::new(config, now)
            .map(|fleet| FleetEngine {
                fleet,
                pending: Vec::new(),
            })
            .map_err(|e| JsError::new(&e))
    }

    /// The CONNECT packet, when the WebSocket opens.
    pub fn connect(&mut self, now: f64) -> Result<Vec<u8>, JsError> {
        self.fleet.connect(now).map_err(|e| JsError::new(&e))
    }

    /// Bytes from the WebSocket; returns bytes to send. Throws when the connection must end.
    pub fn receive(&mut self, bytes: &[u8], now: f64) -> Result<Vec<u8>, JsError> {
        self.fleet.receive(bytes, now).map_err(|e| JsError::new(&e))
    }

    /// The batch for the page as JSON. Bytes to send (a PINGREQ) wait in
    /// [`FleetEngine::outgoing`]; an error that ends the connection is the batch's `status`
    /// (`state: "error"`), and the worker then closes the socket.
    pub fn tick(&mut self, now: f64) -> String {
        let (update, out) = self.fleet.tick(now);
        if let Ok(bytes) = out {
            self.pending.extend(bytes);
        }
        serde_json::to_string(&update).unwrap_or_else(|e| format!("{{\"errors\":[\"{e}\"]}}"))
    }

    /// Bytes [`FleetEngine::tick`] left to send (empty when none).
    pub fn outgoing(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }

    /// The WebSocket closed.
    pub fn closed(&mut self, reason: &str) {
        self.fleet.closed(reason);
    }

    /// A new MQTT session for a new WebSocket; the streams stay.
    pub fn reconnect(&mut self) {
        self.fleet.reconnect();
    }

    /// The page's `view` message's `ask` (JSON, docs/fleet.md): the window of the grouped
    /// list, as JSON, now; later batches carry it too.
    pub fn view(&mut self, ask: &str) -> Result<String, JsError> {
        let ask = serde_json::from_str(ask).map_err(|e| JsError::new(&format!("view: {e}")))?;
        let shown = self.fleet.view(ask);
        serde_json::to_string(&shown).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The streams whose new points the page wants, as a JSON array of ids.
    pub fn watch(&mut self, ids: &str) -> Result<(), JsError> {
        let ids: Vec<String> =
            serde_json::from_str(ids).map_err(|e| JsError::new(&format!("watch: {e}")))?;
        self.fleet.watch(ids);
        Ok(())
    }
}
