#!/usr/bin/env python3
"""A scriptable paho-mqtt 2.x client for the interop tests (tests/interop_paho.rs).

Connects, runs a script of steps, and prints one JSON object per line on stdout for
everything it sees, so the Rust test can assert on it:

    {"event": "connected", "session_present": false, "reason_code": 0, "properties": {...}}
    {"event": "subscribed", "mid": 1, "codes": [1]}
    {"event": "unsubscribed", "mid": 2, "codes": [0]}        (codes is [] in 3.1.1)
    {"event": "publish", "mid": 3, "topic": "t", "payload": "p", "qos": 1}  (sent)
    {"event": "published", "mid": 3, "reason_code": 0}        (on_publish: PUBACK/PUBCOMP)
    {"event": "message", "topic": "t", "payload": "p", "qos": 1, "dup": false,
     "retain": false, "mid": 7}
    {"event": "acked", "mid": 7, "qos": 1}                     (manual acknowledgement)
    {"event": "dropped"} / {"event": "disconnected", "reason_code": 0, "from_server": false}
    {"event": "done"}

Steps, one per argument (payloads and topics contain no spaces):

    sub FILTER QOS [FILTER QOS ...]  subscribe (one SUBSCRIBE), wait for the SUBACK
    unsub FILTER [FILTER ...]        unsubscribe (one UNSUBSCRIBE), wait for the UNSUBACK
    pub TOPIC PAYLOAD QOS [OPTION ...]   publish; for QoS 1 and 2 wait for the acknowledgement
    fire TOPIC PAYLOAD QOS [OPTION ...]  publish without waiting
        options: retain, alias=N (5.0 Topic Alias), size=N (N bytes of "x" instead of
        PAYLOAD); TOPIC "-" is the empty topic
    acks N                wait until N publishes in total were acknowledged
    expect N              wait until N messages in total were received
    count N               fail unless exactly N messages in total were received
    wait SECONDS          keep the network loop running that long
    ack                   acknowledge every received message not yet acknowledged
                          (with --manual-ack), in arrival order
    disconnect            send DISCONNECT and close
    drop                  close the connection abruptly (TCP shutdown, no DISCONNECT)
    lost                  wait until the server closes the connection
    reconnect             connect again (same client id and session flags), wait for CONNACK

A failed wait (after --timeout seconds) prints {"event": "error", ...} and exits with 1.
After the last step the client disconnects if it is still connected.
"""

import argparse
import json
import socket
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(message):
    emit("error", message=message)
    print(f"client.py: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def code(reason):
    """A paho ReasonCode (or, for some 3.1.1 callbacks, an int) as an int."""
    return getattr(reason, "value", reason)


class Runner:
    def __init__(self, args):
        self.args = args
        self.v5 = args.protocol == "5"
        self.connacks = 0
        self.connected = False
        self.subacks = {}
        self.unsubacks = {}
        self.acked = set()
        self.messages = 0
        self.pending_acks = {}  # mid -> qos, in arrival order (manual acknowledgement)

        kwargs = dict(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=args.id,
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            manual_ack=args.manual_ack,
        )
        if not self.v5:
            kwargs["clean_session"] = args.clean_start == 1
        client = mqtt.Client(**kwargs)
        client.on_connect = self.on_connect
        client.on_subscribe = self.on_subscribe
        client.on_unsubscribe = self.on_unsubscribe
        client.on_publish = self.on_publish
        client.on_message = self.on_message
        client.on_disconnect = self.on_disconnect
        if args.will:
            topic, payload, qos = args.will
            client.will_set(topic, payload, int(qos))
        self.client = client

    # Callbacks (paho-mqtt 2.x, CallbackAPIVersion.VERSION2).

    def on_connect(self, _client, _userdata, flags, reason_code, properties):
        self.connacks += 1
        self.connected = not reason_code.is_failure
        props = properties.json() if self.v5 and properties is not None else {}
        emit(
            "connected",
            session_present=bool(flags.session_present),
            reason_code=code(reason_code),
            properties=props,
        )

    def on_subscribe(self, _client, _userdata, mid, reason_codes, _properties):
        self.subacks[mid] = [code(c) for c in reason_codes]
        emit("subscribed", mid=mid, codes=self.subacks[mid])

    def on_unsubscribe(self, _client, _userdata, mid, reason_codes, _properties):
        self.unsubacks[mid] = [code(c) for c in reason_codes]
        emit("unsubscribed", mid=mid, codes=self.unsubacks[mid])

    def on_publish(self, _client, _userdata, mid, reason_code, _properties):
        self.acked.add(mid)
        emit("published", mid=mid, reason_code=code(reason_code))

    def on_message(self, _client, _userdata, message):
        self.messages += 1
        if self.args.manual_ack and message.qos > 0:
            self.pending_acks[message.mid] = message.qos
        emit(
            "message",
            topic=message.topic,
            payload=message.payload.decode("utf-8", errors="replace"),
            qos=message.qos,
            dup=bool(message.dup),
            retain=bool(message.retain),
            mid=message.mid,
        )

    def on_disconnect(self, _client, _userdata, flags, reason_code, _properties):
        self.connected = False
        emit(
            "disconnected",
            reason_code=code(reason_code),
            from_server=bool(flags.is_disconnect_packet_from_server),
        )

    # The network loop.

    def wait_until(self, condition, what):
        deadline = time.monotonic() + self.args.timeout
        while not condition():
            if time.monotonic() > deadline:
                fail(f"timed out after {self.args.timeout} s waiting for {what}")
            self.spin(0.02)

    def spin(self, seconds):
        rc = self.client.loop(timeout=seconds)
        if rc == mqtt.MQTT_ERR_NO_CONN:
            time.sleep(seconds)  # not connected: loop() returns at once

    def connect(self):
        before = self.connacks
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            if self.args.session_expiry is not None:
                props.SessionExpiryInterval = self.args.session_expiry
            if self.args.receive_maximum is not None:
                props.ReceiveMaximum = self.args.receive_maximum
            self.client.connect(
                "127.0.0.1",
                self.args.port,
                keepalive=self.args.keepalive,
                clean_start=self.args.clean_start == 1,
                properties=props,
            )
        else:
            self.client.connect("127.0.0.1", self.args.port, keepalive=self.args.keepalive)
        self.wait_until(lambda: self.connacks > before, "CONNACK")
        if not self.connected:
            fail("connection refused")

    # Steps.

    def run(self, steps):
        self.connect()
        for step in steps:
            words = step.split()
            if not words:
                continue
            name, params = words[0], words[1:]
            handler = getattr(self, "step_" + name, None)
            if handler is None:
                fail(f"unknown step {step!r}")
            try:
                handler(*params)
            except TypeError as err:
                fail(f"bad step {step!r}: {err}")
        if self.connected:
            self.step_disconnect()
        emit("done")

    def step_sub(self, *pairs):
        if not pairs or len(pairs) % 2:
            fail("sub needs FILTER QOS pairs")
        topics = [(f, int(q)) for f, q in zip(pairs[::2], pairs[1::2])]
        rc, mid = self.client.subscribe(topics)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            fail(f"subscribe failed: {mqtt.error_string(rc)}")
        self.wait_until(lambda: mid in self.subacks, f"SUBACK {mid}")

    def step_unsub(self, *filters):
        rc, mid = self.client.unsubscribe(list(filters))
        if rc != mqtt.MQTT_ERR_SUCCESS:
            fail(f"unsubscribe failed: {mqtt.error_string(rc)}")
        self.wait_until(lambda: mid in self.unsubacks, f"UNSUBACK {mid}")

    def step_fire(self, topic, payload, qos, *options):
        topic = "" if topic == "-" else topic
        properties = None
        for option in options:
            if option.startswith("alias="):
                properties = Properties(PacketTypes.PUBLISH)
                properties.TopicAlias = int(option[len("alias="):])
            elif option.startswith("size="):
                payload = "x" * int(option[len("size="):])
            elif option != "retain":
                fail(f"unknown publish option {option!r}")
        retain = "retain" in options
        info = self.client.publish(topic, payload, int(qos), retain, properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            fail(f"publish failed: {mqtt.error_string(info.rc)}")
        shown = payload if len(payload) <= 64 else f"<{len(payload)} bytes>"
        emit("publish", mid=info.mid, topic=topic, payload=shown, qos=int(qos))
        return info.mid

    def step_pub(self, topic, payload, qos, *options):
        mid = self.step_fire(topic, payload, qos, *options)
        if int(qos) > 0:
            self.wait_until(lambda: mid in self.acked, f"acknowledgement of publish {mid}")
        else:
            self.spin(0)  # write it out

    def step_acks(self, count):
        self.wait_until(lambda: len(self.acked) >= int(count), f"{count} publish acknowledgements")

    def step_expect(self, count):
        self.wait_until(lambda: self.messages >= int(count), f"{count} messages")

    def step_count(self, count):
        if self.messages != int(count):
            fail(f"expected {count} messages, received {self.messages}")

    def step_wait(self, seconds):
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            self.spin(0.02)

    def step_ack(self):
        for mid, qos in list(self.pending_acks.items()):
            self.client.ack(mid, qos)
            emit("acked", mid=mid, qos=qos)
        self.pending_acks.clear()
        self.spin(0)

    def step_disconnect(self):
        self.client.disconnect()
        self.wait_until(lambda: not self.connected, "the end of the connection")

    def step_drop(self):
        # No DISCONNECT: the server sees the TCP connection end, as when a link fails.
        self.client.socket().shutdown(socket.SHUT_RDWR)
        emit("dropped")
        self.wait_until(lambda: not self.connected, "paho to notice the dropped connection")

    def step_lost(self):
        self.wait_until(lambda: not self.connected, "the server to close the connection")

    def step_reconnect(self):
        before = self.connacks
        self.client.reconnect()
        self.wait_until(lambda: self.connacks > before, "CONNACK after reconnect")
        if not self.connected:
            fail("reconnection refused")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", choices=["3.1.1", "5"], required=True)
    parser.add_argument("--id", required=True, help="client identifier")
    parser.add_argument("--clean-start", type=int, choices=[0, 1], default=1)
    parser.add_argument(
        "--session-expiry", type=int, help="5.0 Session Expiry Interval in CONNECT, seconds"
    )
    parser.add_argument(
        "--receive-maximum", type=int, help="5.0 Receive Maximum in CONNECT"
    )
    parser.add_argument("--keepalive", type=int, default=60)
    parser.add_argument("--manual-ack", action="store_true")
    parser.add_argument(
        "--will", nargs=3, metavar=("TOPIC", "PAYLOAD", "QOS"), help="a will message"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per wait")
    parser.add_argument("steps", nargs="*")
    args = parser.parse_args()
    Runner(args).run(args.steps)


if __name__ == "__main__":
    main()
