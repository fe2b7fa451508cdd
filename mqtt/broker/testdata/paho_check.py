"""Interop checks of edgekit's MQTT broker with python3-paho-mqtt 1.6.1.

usage: paho_check.py HOST PORT (3|5)
Prints "PASS <check>" per check and exits 0, or prints "FAIL <check>: why"
and exits 1. Every wait is bounded.
"""
import queue
import sys
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

HOST, PORT, VER = sys.argv[1], int(sys.argv[2]), sys.argv[3]
V5 = VER == "5"
PROTO = mqtt.MQTTv5 if V5 else mqtt.MQTTv311
TIMEOUT = 5


class Client:
    def __init__(self, cid, clean=True, expiry=None, will=None, loop=True):
        self.msgs = queue.Queue()
        self.connack = queue.Queue()
        kw = {"client_id": cid, "protocol": PROTO}
        if not V5:
            kw["clean_session"] = clean
        self.c = mqtt.Client(**kw)
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_connect = self._on_connect
        if will:
            self.c.will_set(*will)
        args = {}
        if V5:
            args["clean_start"] = clean
            if expiry is not None:
                p = Properties(PacketTypes.CONNECT)
                p.SessionExpiryInterval = expiry
                args["properties"] = p
        self.c.connect(HOST, PORT, keepalive=30, **args)
        self.c.loop_start()
        self.flags, self.rc, self.props = self.connack.get(timeout=TIMEOUT)

    def _on_connect(self, c, u, flags, rc, props=None):
        self.connack.put((flags, rc, props))

    def sub(self, topic, qos=0, **opts):
        kw = {}
        if V5:
            o = mqtt.SubscribeOptions(qos=qos, **opts)
            if "sid" in kw:
                pass
            res = self.c.subscribe(topic, options=o, properties=opts.pop("props", None))
        else:
            res = self.c.subscribe(topic, qos)
        time.sleep(0.2)
        return res

    def sub_id(self, topic, qos, sid):
        p = Properties(PacketTypes.SUBSCRIBE)
        p.SubscriptionIdentifier = sid
        self.c.subscribe(topic, options=mqtt.SubscribeOptions(qos=qos), properties=p)
        time.sleep(0.2)

    def pub(self, topic, payload, qos=0, retain=False, props=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=props)
        info.wait_for_publish(timeout=TIMEOUT)
        if not info.is_published():
            raise AssertionError("publish not acknowledged")

    def get(self):
        return self.msgs.get(timeout=TIMEOUT)

    def none(self, t=0.3):
        try:
            m = self.msgs.get(timeout=t)
        except queue.Empty:
            return
        raise AssertionError("unexpected message on " + m.topic)

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()

    def kill(self):
        # An abnormal end: close the socket without DISCONNECT.
        self.c.loop_stop()
        self.c.socket().close()


def check_qos():
    s = Client("s-qos")
    s.sub("pq/#", 2)
    p = Client("p-qos")
    for q in (0, 1, 2):
        p.pub("pq/%d" % q, "m%d" % q, qos=q)
    got = sorted((m.topic, m.payload.decode(), m.qos) for m in (s.get(), s.get(), s.get()))
    assert got == [("pq/0", "m0", 0), ("pq/1", "m1", 1), ("pq/2", "m2", 2)], got
    s.stop(); p.stop()


def check_retained():
    p = Client("p-ret")
    p.pub("pr/x", "kept", qos=1, retain=True)
    s = Client("s-ret")
    s.sub("pr/#", 1)
    m = s.get()
    assert m.payload == b"kept" and m.retain, (m.payload, m.retain)
    p.pub("pr/x", "", qos=1, retain=True)
    s.get()
    s2 = Client("s-ret2")
    s2.sub("pr/#", 1)
    s2.none()
    for c in (p, s, s2):
        c.stop()


def check_will():
    s = Client("s-will")
    s.sub("pw/#", 1)
    w = Client("w-will", will=("pw/gone", "bye", 1, False))
    w.kill()
    m = s.get()
    assert m.topic == "pw/gone" and m.payload == b"bye", m.topic
    w2 = Client("w-will2", will=("pw/gone", "bye", 1, False))
    w2.stop()
    s.none()
    s.stop()


def check_session():
    s = Client("s-sess", clean=False, expiry=300)
    s.sub("ps/#", 1)
    s.stop()
    time.sleep(0.2)
    p = Client("p-sess")
    p.pub("ps/1", "queued", qos=1)
    s = Client("s-sess", clean=False, expiry=300)
    assert s.flags["session present"] == 1, s.flags
    m = s.get()
    assert m.payload == b"queued" and m.qos == 1
    s.stop(); p.stop()
    s = Client("s-sess", clean=True)
    assert s.flags["session present"] == 0
    s.stop()


def check_shared():
    a, b = Client("sh-a"), Client("sh-b")
    a.sub("$share/g/psh", 0)
    b.sub("$share/g/psh", 0)
    p = Client("sh-p")
    for i in range(4):
        p.pub("psh", str(i), qos=1)
    time.sleep(0.3)
    na, nb = a.msgs.qsize(), b.msgs.qsize()
    assert na + nb == 4 and na == 2, (na, nb)
    for c in (a, b, p):
        c.stop()


def check_v5_options():
    c = Client("opt")
    c.sub("pn", 0, noLocal=True)
    c.sub("prap", 0, retainAsPublished=True)
    c.pub("pn", "x", qos=1)
    c.none()
    c.pub("prap", "x", qos=1, retain=True)
    m = c.get()
    assert m.retain, "retain as published"
    c.stop()


def check_v5_props():
    s = Client("props-s")
    s.sub_id("pp/#", 1, 42)
    p = Client("props-p")
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "pp/resp"
    props.CorrelationData = b"cd"
    props.UserProperty = [("k", "v")]
    props.MessageExpiryInterval = 60
    props.ContentType = "text/plain"
    p.pub("pp/req", "?", qos=1, props=props)
    m = s.get()
    mp = m.properties
    assert mp.ResponseTopic == "pp/resp" and mp.CorrelationData == b"cd", mp
    assert ("k", "v") in mp.UserProperty and mp.ContentType == "text/plain", mp
    assert mp.SubscriptionIdentifier == [42], mp.SubscriptionIdentifier
    assert 0 < mp.MessageExpiryInterval <= 60
    # A topic alias from the client.
    a = Properties(PacketTypes.PUBLISH)
    a.TopicAlias = 1
    p.pub("pp/alias", "1", qos=1, props=a)
    p.pub("", "2", qos=1, props=a)
    got = [(m.topic, m.payload) for m in (s.get(), s.get())]
    assert got == [("pp/alias", b"1"), ("pp/alias", b"2")], got
    s.stop(); p.stop()


def check_v5_assigned():
    c = Client("")
    cid = c.props.AssignedClientIdentifier
    assert cid, "no assigned client identifier"
    c.stop()


CHECKS = [check_qos, check_retained, check_will, check_session]
if V5:
    CHECKS += [check_shared, check_v5_options, check_v5_props, check_v5_assigned]

for chk in CHECKS:
    try:
        chk()
    except Exception as e:  # noqa: BLE001
        print("FAIL %s: %r" % (chk.__name__, e), flush=True)
        sys.exit(1)
    print("PASS " + chk.__name__, flush=True)
