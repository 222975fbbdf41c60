# Run with the Python mpgameserver 0.2.4 importable, e.g. PYTHONPATH=/path/to/checkout.
# Usage: py_echo_server.py HOST PORT ROOT_KEY_PEM
# Echo server of the project's echo contract, on the Python mpgameserver 0.2.4.
import hashlib, json, sys, logging
from mpgameserver import EventHandler, ServerContext, TwistedServer, EllipticCurvePrivateKey, RetryMode

class Echo(EventHandler):
    def __init__(self):
        super().__init__()
        self.counts = {}
    def connect(self, client):
        self.counts[client.token] = {"msgs": 0, "bytes": 0}
        print("CONNECT %s:%d token=%d active=%d" % (client.addr[0], client.addr[1], client.token, len(self.counts)), flush=True)
    def disconnect(self, client):
        c = self.counts.pop(client.token, {"msgs": 0, "bytes": 0})
        print("DISCONNECT %s:%d msgs=%d bytes=%d active=%d" % (client.addr[0], client.addr[1], c["msgs"], c["bytes"], len(self.counts)), flush=True)
    def handle_message(self, client, seq, msg):
        if msg == b"STATS":
            body = json.dumps({str(k): v for k, v in self.counts.items()}).encode()
            client.send(body, retry=RetryMode.RETRY_ON_TIMEOUT)
            return
        c = self.counts.get(client.token)
        if c is not None:
            c["msgs"] += 1
            c["bytes"] += len(msg)
        if msg[:1] == b"N":
            # counted, not echoed: a bulk transfer to this server ends with
            # STATS, whose "sha" is the last such message's SHA-256
            if c is not None:
                c["sha"] = hashlib.sha256(msg).hexdigest()
            return
        retry = RetryMode.RETRY_ON_TIMEOUT if msg[:1] == b"G" else RetryMode.NONE
        client.send(msg, retry=retry)

def main():
    logging.basicConfig(level=logging.WARNING)
    host, port, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    key = EllipticCurvePrivateKey.fromPEM(open(keyfile).read())
    ctxt = ServerContext(Echo(), key)
    server = TwistedServer(ctxt, (host, port))
    print("READY %s:%d" % (host, port), flush=True)
    server.run()

main()
