# Run with the Python mpgameserver 0.2.4 importable, e.g. PYTHONPATH=/path/to/checkout.
# Usage: py_runner.py HOST PORT SERVER_PUBKEY_PEM
# The echo scenarios, driven by the Python mpgameserver 0.2.4 UdpClient.
import json, random, sys, time
from mpgameserver import UdpClient, EllipticCurvePublicKey, EllipticCurvePrivateKey, RetryMode, ConnectionStatus

FRAME = 1/60
rng = random.Random(1)

def payload(prefix, n):
    b = prefix.encode() + bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(n - len(prefix)))
    return b[:n]

class Runner:
    def __init__(self, host, port, key):
        self.addr = (host, port)
        self.key = key
        self.client = None
        self.echoes = {}
        self.stats = []
        self.sent = {"msgs": 0, "bytes": 0}

    def frame(self):
        self.client.update()
        for seq, msg in self.client.getMessages():
            if msg[:1] == b"{":
                self.stats.append(msg)
            else:
                self.echoes[msg] = self.echoes.get(msg, 0) + 1
        time.sleep(FRAME)

    def pump(self, timeout, done):
        end = time.time() + timeout
        while time.time() < end:
            if done():
                return True
            self.frame()
        return done()

    def send(self, msgs, cbs=None):
        for i, m in enumerate(msgs):
            self.client.send(m, retry=RetryMode.RETRY_ON_TIMEOUT, callback=cbs[i] if cbs else None)
            self.sent["msgs"] += 1
            self.sent["bytes"] += len(m)

    def await_echoes(self, msgs, timeout):
        ok = self.pump(timeout, lambda: all(self.echoes.get(m, 0) > 0 for m in msgs))
        missing = sum(1 for m in msgs if self.echoes.get(m, 0) == 0)
        dup = sum(1 for m in msgs if self.echoes.get(m, 0) > 1)
        if missing:
            raise Exception("%d of %d echoes missing" % (missing, len(msgs)))
        if dup:
            raise Exception("%d echoes arrived more than once" % dup)

    def connect(self):
        self.client = UdpClient(self.key)
        result = []
        t0 = time.time()
        self.client.connect(self.addr, callback=lambda ok: result.append(ok))
        self.pump(5, lambda: bool(result))
        if not result or not result[0]:
            raise Exception("connect failed: %r" % result)
        # the reference counts itself connected at SERVER_HELLO; let the challenge land
        self.pump(0.3, lambda: False)
        return "token=%d in %dms" % (self.client.token(), (time.time() - t0) * 1000)

    def echo_small(self):
        msgs = [payload("e%d:" % i, 10 + rng.randrange(91)) for i in range(20)]
        self.send(msgs)
        self.await_echoes(msgs, 5)
        return "20 messages of 10-100 bytes echoed"

    def pack_many(self):
        self.pump(0.3, lambda: not self.client.conn.outgoing_messages)
        msgs = [payload("p%d:" % i, 20) for i in range(50)]
        before = self.client.stats().assembled
        self.send(msgs)
        self.pump(1, lambda: not self.client.conn.outgoing_messages)
        n = self.client.stats().assembled - before
        self.await_echoes(msgs, 5)
        if n != 1:
            raise Exception("50 messages left in %d datagrams" % n)
        return "50 messages queued in one frame left in 1 datagram and came back"

    def fragment(self, n, timeout):
        msg = payload("G%d:" % n, n)
        t0 = time.time()
        self.send([msg])
        self.await_echoes([msg], timeout)
        return "%d bytes echoed byte-exact in %dms" % (n, (time.time() - t0) * 1000)

    def guaranteed_callbacks(self):
        msgs = [payload("Gcb%d:" % i, 32) for i in range(20)]
        results = [[] for _ in msgs]
        self.send(msgs, [(lambda ok, i=i: results[i].append(ok)) for i in range(20)])
        self.await_echoes(msgs, 5)
        self.pump(3, lambda: all(results))
        for i, r in enumerate(results):
            if not r or not all(r):
                raise Exception("message %d: callbacks %r" % (i, r))
        return "20 guaranteed messages, callbacks all true (%d calls)" % sum(len(r) for r in results)

    def stats_reply(self):
        self.stats = []
        self.client.send(b"STATS", retry=RetryMode.RETRY_ON_TIMEOUT)
        if not self.pump(5, lambda: bool(self.stats)):
            raise Exception("no STATS reply")
        m = json.loads(self.stats[0])
        mine = m.get(str(self.client.token()))
        if mine != self.sent:
            raise Exception("STATS %r, sent %r" % (mine, self.sent))
        return "msgs=%d bytes=%d, %d clients listed" % (mine["msgs"], mine["bytes"], len(m))

    def wrong_key(self):
        other = EllipticCurvePrivateKey.new().getPublicKey()
        c = UdpClient(other)
        result = []
        reached = False
        errors = 0
        c.connect(self.addr, callback=lambda ok: result.append(ok))
        end = time.time() + 5
        while not result and time.time() < end:
            try:
                c.update()
            except Exception as e:   # the reference raises InvalidSignature from update()
                errors += 1
            reached = reached or c.connected()
            time.sleep(FRAME)
        c.forceDisconnect()
        if reached:
            raise Exception("connected with the wrong key")
        if result != [False]:
            raise Exception("callback %r" % result)
        return "refused (%d signature errors raised)" % errors

    def disconnect(self):
        t0 = time.time()
        self.client.disconnect()
        self.client.waitForDisconnect()
        if not self.client.disconnect_acked:
            raise Exception("DISCONNECT not acknowledged")
        return "acknowledged in %dms" % ((time.time() - t0) * 1000)

def main():
    host, port, pubfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    key = EllipticCurvePublicKey.fromPEM(open(pubfile).read())
    r = Runner(host, port, key)
    steps = [("connect", r.connect), ("echo_small", r.echo_small), ("pack_many", r.pack_many),
             ("fragment_10k", lambda: r.fragment(10000, 15)), ("fragment_100k", lambda: r.fragment(100000, 30)),
             ("guaranteed_callbacks", r.guaranteed_callbacks), ("stats", r.stats_reply),
             ("wrong_key", r.wrong_key), ("disconnect", r.disconnect)]
    passed = failed = 0
    for name, fn in steps:
        try:
            if name not in ("connect", "wrong_key") and not (r.client and r.client.connected()):
                raise Exception("not connected")
            print("PASS %s %s" % (name, fn()), flush=True)
            passed += 1
        except Exception as e:
            print("FAIL %s %s" % (name, e), flush=True)
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)

main()
