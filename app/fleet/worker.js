// The dashboard's "MQTT broker" source in a dedicated module Web Worker (app/fleet): this
// script owns the WebSocket (subprotocol "mqtt") and a 200 ms timer; the wasm module owns the
// MQTT session, Sparkplug, the mapping and a control chart per stream. The page talks to it
// with the messages in docs/fleet.md. `cargo xtask site` copies this file to
// static/pkg/fleet-worker-<hash>.js with the module's hashed name in the import below.
import init, { FleetEngine } from "./llmscope_fleet.js";

const BATCH_MS = 200;
const ready = init();
let fleet;
let socket;
let timer;

const status = (state, detail) => postMessage({ type: "status", state, detail });

const send = (bytes) => {
  if (bytes.length && socket?.readyState === WebSocket.OPEN) socket.send(bytes);
};

// One batch: the keep-alive's ping, then everything that changed since the last one.
const flush = () => {
  if (!fleet) return;
  const update = JSON.parse(fleet.tick(Date.now()));
  send(fleet.outgoing());
  if (update.status?.state === "error") socket?.close();
  postMessage({ type: "update", ...update });
};

const stop = () => {
  clearInterval(timer);
  if (socket) {
    socket.onclose = socket.onmessage = socket.onerror = null;
    socket.close();
  }
  flush();
  fleet?.free();
  fleet = socket = undefined;
};

const start = (config) => {
  stop();
  try {
    fleet = new FleetEngine(JSON.stringify(config), Date.now());
  } catch (error) {
    status("error", String(error?.message ?? error));
    return;
  }
  const engine = fleet;
  socket = new WebSocket(config.url, "mqtt");
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    try {
      send(engine.connect(Date.now()));
    } catch (error) {
      status("error", String(error?.message ?? error));
    }
  };
  socket.onmessage = ({ data }) => {
    try {
      send(engine.receive(new Uint8Array(data), Date.now()));
    } catch {
      socket.close(); // the engine's status already says why
    }
  };
  socket.onclose = ({ code, reason }) => {
    clearInterval(timer);
    engine.closed(reason || `the WebSocket closed (code ${code}); is ${config.url} a broker's WebSocket listener?`);
    flush();
  };
  timer = setInterval(flush, BATCH_MS);
};

onmessage = async ({ data }) => {
  try {
    await ready;
  } catch (error) {
    status("error", "the broker module could not load: " + String(error?.message ?? error));
    return;
  }
  if (data.type === "connect") start(data.config);
  else if (data.type === "watch") fleet?.watch(JSON.stringify(data.streams));
  else if (data.type === "disconnect") stop();
};
