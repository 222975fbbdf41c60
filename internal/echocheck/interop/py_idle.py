# Run with the Python mpgameserver 0.2.4 importable, e.g. PYTHONPATH=/path/to/checkout.
# Usage: py_idle.py HOST PORT SERVER_PUBKEY_PEM SECONDS
# The reference client connects, says nothing for SECONDS (more than its
# 5 s connection timeout), and must still be connected and echoed after:
# the server's idle keep-alives reach it in time. Prints one line:
# "IDLE ok received=N timeouts=T dropped=D seconds=S" or "IDLE fail ...".
import sys, time
from mpgameserver import UdpClient, EllipticCurvePublicKey, RetryMode

FRAME = 1/60

def main():
    host, port, pubfile, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    key = EllipticCurvePublicKey.fromPEM(open(pubfile).read())
    c = UdpClient(key)
    result = []
    c.connect((host, port), callback=lambda ok: result.append(ok))
    end = time.time() + 5
    while not result and time.time() < end:
        c.update()
        time.sleep(FRAME)
    if result != [True]:
        print("IDLE fail connect %r" % result)
        sys.exit(1)
    t0 = time.time()
    while time.time() < t0 + 0.5:  # the challenge lands
        c.update()
        time.sleep(FRAME)
    before = c.stats().received
    t0 = time.time()
    while time.time() < t0 + seconds:
        c.update()
        c.getMessages()
        if not c.connected():
            print("IDLE fail dropped after %.1fs of silence" % (time.time() - t0))
            sys.exit(1)
        time.sleep(FRAME)
    heard = c.stats().received - before
    c.send(b"after the silence", retry=RetryMode.RETRY_ON_TIMEOUT)
    echoed = False
    end = time.time() + 5
    while not echoed and time.time() < end:
        c.update()
        echoed = any(m == b"after the silence" for _, m in c.getMessages())
        time.sleep(FRAME)
    if not echoed:
        print("IDLE fail no echo after the silence")
        sys.exit(1)
    st = c.stats()
    print("IDLE ok received=%d timeouts=%d dropped=%d seconds=%.1f" % (heard, st.timeouts, st.dropped, seconds))
    c.disconnect()
    c.waitForDisconnect()

main()
