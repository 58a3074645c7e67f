// The dashboard's "MQTT broker" source in a dedicated module Web Worker (app/fleet): this
// script owns the WebSocket (subprotocol "mqtt"), a 200 ms timer and reconnecting with
// backoff; the wasm module owns the MQTT session, Sparkplug, the mapping, a control chart per
// stream and the page's grouped view. The page talks to it with the messages in
// docs/fleet.md. `cargo xtask site` copies this file to static/pkg/fleet-worker-<hash>.js
// with the module's hashed name in the import below.
import init, { FleetEngine } from "./llmscope_fleet.js";

const BATCH_MS = 200;
// Each MQTT message is a WebSocket frame of its own; frames are queued and handed to the engine
// together (the MQTT stream is their concatenation), one call per DRAIN_MS or per DRAIN_BYTES,
// because the cost per call into wasm, not per byte, bounded the messages a second.
const DRAIN_MS = 5;
const DRAIN_BYTES = 1 << 16;
// A lost connection is tried again after 1 s, doubling to 30 s; a CONNACK resets it.
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30000;
const ready = init();
let fleet;
let socket;
let timer;
let retry;
let delay = FIRST_RETRY_MS;
let refused = false;

let frames = [];
let queued = 0;
let draining;
// The worker's own time since the last update (the update's `load`, docs/fleet.md).
let load = { receive_ms: 0, tick_ms: 0, calls: 0, frames: 0 };

const status = (state, detail) => postMessage({ type: "status", state, detail });

const send = (bytes) => {
  if (bytes.length && socket?.readyState === WebSocket.OPEN) socket.send(bytes);
};

// The queued frames as one array.
const joined = () => {
  if (frames.length === 1) return frames[0];
  const bytes = new Uint8Array(queued);
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  return bytes;
};

// Hands the queued frames to the engine in one call.
const drain = () => {
  clearTimeout(draining);
  draining = undefined;
  if (!frames.length) return;
  const bytes = joined();
  load.frames += frames.length;
  frames = [];
  queued = 0;
  if (!fleet) return;
  const start = performance.now();
  try {
    send(fleet.receive(bytes, Date.now()));
  } catch {
    flush(); // the engine's status says why (and whether it was a refusal), then closes
  }
  load.receive_ms += performance.now() - start;
  load.calls += 1;
};

const queue = (frame) => {
  frames.push(frame);
  queued += frame.length;
  if (queued >= DRAIN_BYTES) drain();
  else draining ??= setTimeout(drain, DRAIN_MS);
};

// One batch: the keep-alive's ping, then everything that changed since the last one.
const flush = () => {
  if (!fleet) return;
  drain();
  const start = performance.now();
  const update = JSON.parse(fleet.tick(Date.now()));
  load.tick_ms = performance.now() - start;
  send(fleet.outgoing());
  const state = update.status?.state;
  if (state === "connected") delay = FIRST_RETRY_MS;
  if (update.status?.refused) refused = true;
  if (state === "error") socket?.close();
  update.load = load;
  load = { receive_ms: 0, tick_ms: 0, calls: 0, frames: 0 };
  postMessage({ type: "update", ...update });
};

const stop = () => {
  clearInterval(timer);
  clearTimeout(retry);
  if (socket) {
    socket.onclose = socket.onmessage = socket.onerror = null;
    socket.close();
  }
  flush();
  frames = [];
  queued = 0;
  fleet?.free();
  fleet = socket = undefined;
};

// A WebSocket for the engine's current session.
const open = (engine, url) => {
  socket = new WebSocket(url, "mqtt");
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    try {
      send(engine.connect(Date.now()));
    } catch (error) {
      status("error", String(error?.message ?? error));
    }
  };
  socket.onmessage = ({ data }) => queue(new Uint8Array(data));
  socket.onclose = ({ code, reason }) => {
    clearInterval(timer);
    drain();
    const why = reason || `the WebSocket closed (code ${code}); is ${url} a broker's WebSocket listener?`;
    if (refused) {
      engine.closed(why);
      flush();
      return;
    }
    engine.closed(`${why}; connecting again in ${delay / 1000} s`);
    flush();
    retry = setTimeout(() => {
      engine.reconnect();
      open(engine, url);
    }, delay);
    delay = Math.min(delay * 2, LAST_RETRY_MS);
  };
  timer = setInterval(flush, BATCH_MS);
};

const start = (config) => {
  stop();
  try {
    fleet = new FleetEngine(JSON.stringify(config), Date.now());
  } catch (error) {
    status("error", String(error?.message ?? error));
    return;
  }
  delay = FIRST_RETRY_MS;
  refused = false;
  open(fleet, config.url);
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
  else if (data.type === "view" && fleet) {
    postMessage({ type: "view", view: JSON.parse(fleet.view(JSON.stringify(data.ask))) });
  } else if (data.type === "disconnect") stop();
};
