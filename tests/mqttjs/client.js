#!/usr/bin/env node
// A scriptable MQTT.js (npm package `mqtt`, 5.x) client for the interop tests
// (tests/interop_broker.rs). It connects, runs a script of steps, and prints one JSON object
// per line on stdout for what it sees:
//
//   {"event":"connected","session_present":false,"properties":{...}}
//   {"event":"subscribed","granted":[2]}    {"event":"unsubscribed"}
//   {"event":"published","topic":"t"}       (after the acknowledgement, for QoS 1 and 2)
//   {"event":"message","topic":"t","payload":"p","size":1,"qos":1,"retain":false,
//    "properties":{...}}                   (payload left out above 64 bytes)
//   {"event":"done"}
//
// usage: node client.js --port PORT --protocol 4|5 --id ID [--clean 0|1]
//          [--session-expiry S] [--topic-alias-maximum N] [--will TOPIC PAYLOAD QOS]
//          [--will-delay S] -- STEP ...
// Steps (one argument each, words separated by spaces):
//   "sub FILTER QOS [nl] [rap] [rh=N] [id=N]"
//                               subscribe (No Local, Retain As Published, Retain Handling,
//                               Subscription Identifier), wait for the SUBACK
//   "unsub FILTER"              unsubscribe, wait for the UNSUBACK
//   "pub TOPIC PAYLOAD QOS [retain] [size=N] [user=K:V]"
//                               publish (size=N: N bytes of 'x' instead of PAYLOAD) and wait
//                               for the acknowledgement
//   "expect N"                  wait until N messages in all have arrived
//   "wait MS"                   wait MS milliseconds
//   "drop"                      close the socket abruptly, no DISCONNECT
// After the last step the client disconnects if it did not drop. A wait that takes more
// than 10 s prints {"event":"error",...} and exits with 1.

"use strict";
const mqtt = require("mqtt");

const emit = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const fail = (message) => {
  emit("error", { message });
  process.exit(1);
};

function parseArgs(argv) {
  const options = { clean: true, steps: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      options.steps = argv.slice(i + 1);
      break;
    }
    const value = () => argv[++i];
    if (arg === "--port") options.port = Number(value());
    else if (arg === "--protocol") options.protocol = Number(value());
    else if (arg === "--id") options.id = value();
    else if (arg === "--clean") options.clean = value() === "1";
    else if (arg === "--session-expiry") options.sessionExpiry = Number(value());
    else if (arg === "--topic-alias-maximum") options.topicAliasMaximum = Number(value());
    else if (arg === "--will") options.will = [value(), value(), Number(value())];
    else if (arg === "--will-delay") options.willDelay = Number(value());
    else fail(`unknown argument ${arg}`);
  }
  return options;
}

// Resolves once `done()` holds, checking after every message; fails after 10 s.
function waitFor(what, done, client) {
  return new Promise((resolve) => {
    const check = () => {
      if (done()) {
        clearTimeout(timer);
        client.removeListener("message", check);
        resolve();
      }
    };
    const timer = setTimeout(() => fail(`timed out waiting for ${what}`), 10000);
    client.on("message", check);
    check();
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const properties = {};
  if (o.sessionExpiry !== undefined) properties.sessionExpiryInterval = o.sessionExpiry;
  if (o.topicAliasMaximum !== undefined) properties.topicAliasMaximum = o.topicAliasMaximum;
  const connectOptions = {
    port: o.port,
    host: "127.0.0.1",
    protocolVersion: o.protocol,
    clientId: o.id,
    clean: o.clean,
    reconnectPeriod: 0,
    connectTimeout: 10000,
    // Topic aliases towards the broker, as far as its CONNACK allows.
    autoAssignTopicAlias: o.protocol === 5,
  };
  if (o.protocol === 5) connectOptions.properties = properties;
  if (o.will) {
    const [topic, payload, qos] = o.will;
    connectOptions.will = { topic, payload: Buffer.from(payload), qos, retain: false };
    if (o.willDelay !== undefined) {
      connectOptions.will.properties = { willDelayInterval: o.willDelay };
    }
  }
  let messages = 0;
  const client = mqtt.connect(connectOptions);
  client.on("message", (topic, payload, packet) => {
    messages += 1;
    emit("message", {
      topic,
      payload: payload.length <= 64 ? payload.toString() : undefined,
      size: payload.length,
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties || {},
    });
  });
  client.on("error", (e) => fail(`client error: ${e.message}`));
  const connack = await new Promise((resolve) => client.once("connect", resolve));
  emit("connected", {
    session_present: Boolean(connack.sessionPresent),
    properties: connack.properties || {},
  });

  let dropped = false;
  for (const step of o.steps) {
    const [verb, ...words] = step.split(" ");
    if (verb === "sub") {
      const [filter, qos, ...flags] = words;
      const options = { qos: Number(qos), nl: flags.includes("nl"), rap: flags.includes("rap") };
      for (const flag of flags) {
        if (flag.startsWith("rh=")) options.rh = Number(flag.slice(3));
        if (flag.startsWith("id=")) {
          options.properties = { subscriptionIdentifier: Number(flag.slice(3)) };
        }
      }
      const granted = await client.subscribeAsync(filter, options);
      emit("subscribed", { granted: granted.map((g) => g.qos) });
    } else if (verb === "unsub") {
      await client.unsubscribeAsync(words[0]);
      emit("unsubscribed");
    } else if (verb === "pub") {
      const [topic, text, qos, ...flags] = words;
      const options = { qos: Number(qos), retain: flags.includes("retain") };
      let payload = Buffer.from(text);
      for (const flag of flags) {
        if (flag.startsWith("size=")) payload = Buffer.alloc(Number(flag.slice(5)), "x");
        if (flag.startsWith("user=")) {
          const [k, v] = flag.slice(5).split(":");
          options.properties = { userProperties: { [k]: v } };
        }
      }
      await client.publishAsync(topic, payload, options);
      emit("published", { topic });
    } else if (verb === "expect") {
      const n = Number(words[0]);
      await waitFor(`${n} messages`, () => messages >= n, client);
    } else if (verb === "wait") {
      await new Promise((resolve) => setTimeout(resolve, Number(words[0])));
    } else if (verb === "drop") {
      client.stream.destroy();
      dropped = true;
    } else {
      fail(`unknown step ${step}`);
    }
  }
  if (!dropped) await client.endAsync();
  emit("done");
  process.exit(0);
}

main().catch((e) => fail(String(e && e.stack ? e.stack : e)));
