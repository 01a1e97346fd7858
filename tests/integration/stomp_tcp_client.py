#!/usr/bin/python3
"""An independent STOMP client over plain TCP (stomp.py, Debian's python3-stomp) for
spring_relay.test.js: it plays one scenario against a broker's TCP STOMP port and prints one JSON
report of what it saw, which the test asserts on. Nothing here decides pass or fail.

  stomp_tcp_client.py user HOST PORT TOKEN ROOM BAD_TOKEN
      CONNECT with the JWT as passcode, SUBSCRIBE /sub/chat/ROOM (receipt), SEND a chat message
      to /pub/chat/send/ROOM (receipt), wait for its MESSAGE; then CONNECT with BAD_TOKEN.
  stomp_tcp_client.py relay HOST PORT LOGIN PASSCODE BAD_PASSCODE
      CONNECT with the relay credentials, SUBSCRIBE and SEND on /queue/ and /sub/ destinations as
      Spring's relay does (a simpOrigDestination header, an UNSUBSCRIBE of an id never
      subscribed); then CONNECT with BAD_PASSCODE.

Every wait has a timeout; a timeout is reported as null, not raised.
"""
import json
import sys
import threading
import time

import stomp

WAIT_S = 10.0
MAIN = []  # the recorder of each scenario's main connection, for its ERROR frames


class Recorder(stomp.ConnectionListener):
    """Keeps every frame the connection gets, and wakes waiters."""

    def __init__(self):
        self.cond = threading.Condition()
        self.frames = []  # (command, headers, body)
        self.disconnected = False

    def _add(self, command, frame):
        with self.cond:
            body = frame.body.decode("utf-8", "replace") if isinstance(frame.body, bytes) else frame.body
            self.frames.append((command, dict(frame.headers), body))
            self.cond.notify_all()

    def on_connected(self, frame):
        self._add("CONNECTED", frame)

    def on_message(self, frame):
        self._add("MESSAGE", frame)

    def on_receipt(self, frame):
        self._add("RECEIPT", frame)

    def on_error(self, frame):
        self._add("ERROR", frame)

    def on_disconnected(self):
        with self.cond:
            self.disconnected = True
            self.cond.notify_all()

    def wait(self, pred, timeout=WAIT_S):
        """The first frame for which pred(command, headers, body) holds, or None after timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for f in self.frames:
                    if pred(*f):
                        return {"command": f[0], "headers": f[1], "body": f[2]}
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_disconnected(self, timeout=WAIT_S):
        end = time.monotonic() + timeout
        with self.cond:
            while not self.disconnected:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


def open_conn(host, port, login, passcode):
    """A STOMP 1.2 connection (no heart-beats) and its recorder, CONNECT sent without waiting."""
    conn = stomp.Connection12([(host, int(port))], heartbeats=(0, 0), reconnect_attempts_max=1)
    rec = Recorder()
    conn.set_listener("rec", rec)
    conn.connect(username=login, passcode=passcode, wait=False)
    return conn, rec


def first_reply(rec):
    return rec.wait(lambda c, h, b: c in ("CONNECTED", "ERROR"))


def receipt(rec, rid):
    return rec.wait(lambda c, h, b: c == "RECEIPT" and h.get("receipt-id") == rid) is not None


def refused(host, port, login, passcode):
    """What a CONNECT with wrong credentials gets: the ERROR frame, and whether the server then
    closed the connection."""
    conn, rec = open_conn(host, port, login, passcode)
    reply = first_reply(rec)
    closed = rec.wait_disconnected()
    try:
        conn.disconnect()
    except Exception:  # already closed: that is the point
        pass
    return {"reply": reply, "closed": closed}


def errors_of(rec):
    """The ERROR frames a connection got: what a test shows when a step went wrong."""
    with rec.cond:
        return [{"headers": h, "body": b} for c, h, b in rec.frames if c == "ERROR"]


def user_scenario(host, port, token, room, bad_token, out):
    conn, rec = open_conn(host, port, "tcp-user", token)
    MAIN.append(rec)
    out["connected"] = first_reply(rec)
    dest = "/sub/chat/%s" % room
    conn.subscribe(destination=dest, id="s1", ack="auto", headers={"receipt": "r-sub"})
    out["subscribeReceipt"] = receipt(rec, "r-sub")
    text = "hello over plain TCP %d" % time.time_ns()
    body = json.dumps({"roomId": int(room), "messageText": text, "sendAt": "2024-11-30T18:13:00Z"})
    conn.send(destination="/pub/chat/send/%s" % room, body=body, content_type="application/json",
              headers={"receipt": "r-send"})
    out["sendReceipt"] = receipt(rec, "r-send")
    out["text"] = text
    out["message"] = rec.wait(lambda c, h, b: c == "MESSAGE" and text in b)
    conn.disconnect(receipt="r-bye")
    out["badToken"] = refused(host, port, "tcp-user", bad_token)


def relay_scenario(host, port, login, passcode, bad_passcode, out):
    conn, rec = open_conn(host, port, login, passcode)
    MAIN.append(rec)
    out["connected"] = first_reply(rec)
    # Spring's relay forwards every UNSUBSCRIBE, also of ids it never sent a SUBSCRIBE for.
    conn.unsubscribe(id="never-subscribed", headers={"receipt": "r-unsub"})
    out["unknownUnsubscribeReceipt"] = receipt(rec, "r-unsub")
    queue = "/queue/notifications-user%d" % time.time_ns()
    conn.subscribe(destination=queue, id="q1", ack="auto", headers={"receipt": "r-q"})
    conn.subscribe(destination="/sub/chat/4242", id="c1", ack="auto", headers={"receipt": "r-c"})
    out["subscribeReceipts"] = receipt(rec, "r-q") and receipt(rec, "r-c")
    conn.send(destination=queue, body='{"text":"to a user"}', content_type="application/json",
              headers={"simpOrigDestination": "/user/queue/notifications", "receipt": "r-s1"})
    conn.send(destination="/sub/chat/4242", body='{"messageText":"to a room"}',
              content_type="application/json", headers={"receipt": "r-s2"})
    out["sendReceipts"] = receipt(rec, "r-s1") and receipt(rec, "r-s2")
    out["queueMessage"] = rec.wait(lambda c, h, b: c == "MESSAGE" and h.get("destination") == queue)
    out["roomMessage"] = rec.wait(lambda c, h, b: c == "MESSAGE" and h.get("destination") == "/sub/chat/4242")
    conn.disconnect(receipt="r-bye")
    out["badPasscode"] = refused(host, port, login, bad_passcode)


def main(argv):
    if len(argv) != 7 or argv[1] not in ("user", "relay"):
        sys.stderr.write(__doc__)
        return 2
    kind, host, port = argv[1], argv[2], argv[3]
    scenario = user_scenario if kind == "user" else relay_scenario
    report = {}
    try:
        scenario(host, port, argv[4], argv[5], argv[6], report)
    except Exception as e:  # e.g. the server closed the connection: the report says how far it got
        report["exception"] = "%s: %s" % (type(e).__name__, e)
    report["errors"] = errors_of(MAIN[0]) if MAIN else []
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
