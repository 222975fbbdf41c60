#!/usr/bin/env python3
"""Check the wire-protocol test vectors again with the Python reference.

Every file in testdata/ is read and checked against the code of the Python
mpgameserver 0.2.4 (the reference the vectors were generated from): its
crypto, Serializable, packet and connection classes. A reference client and
a reference server also replay session.json on a pinned clock. Nothing here
opens a socket: the socket constructors are replaced by ones that raise
before the reference is imported.

Usage:

    PYTHONPATH=/path/to/mpgameserver-0.2.4 python3 check_reference.py [TESTDATA_DIR]

TESTDATA_DIR defaults to the testdata directory beside this script. The
interpreter needs what the reference imports (cryptography, twisted). On
Debian, /usr/bin/python3 with python3-cryptography and python3-twisted works.

The script prints one "ok <group>: ..." line per check group. It exits with
status 1 and a MISMATCH line at the first difference, and with status 2 if
the reference cannot be imported or a file is missing.
See GENERATING.md.
"""

import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the reference tree

import contextlib
import hashlib
import hmac
import io
import json
import os
import socket
import struct
import types

# P-256 group order
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# prefix of stream(label, n) (testdata/README.md); the key labels of
# keys.json are this prefix + the key name
STREAM_PREFIX = b"mpgameserver-vectors/v1/"

VECTOR_FILES = [
    "constants.json",
    "keys.json",
    "handshake.json",
    "serializable.json",
    "packets.json",
    "session.json",
    "seqnum.json",
    "bitfield.json",
]
PEM_FILES = ["server_root.key.pem", "server_root.pub.pem", "other_root.pub.pem"]


class Mismatch(Exception):
    pass


class Setup(Exception):
    pass


def fmt(v):
    if isinstance(v, (bytes, bytearray)):
        h = bytes(v).hex()
        if len(h) > 80:
            return "%s...(%d bytes)" % (h[:80], len(v))
        return h or "(empty)"
    s = repr(v)
    return s if len(s) <= 200 else s[:200] + "..."


def expect(got, want, what, source="reference gives"):
    """got is what the reference computes (or, with another source, what
    another part of the vectors holds), want what the vector holds."""
    if got != want:
        msg = "%s: %s %s, vector has %s" % (what, source, fmt(got), fmt(want))
        if isinstance(got, (bytes, bytearray)) and isinstance(want, (bytes, bytearray)):
            n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            msg += " (first difference at byte %d; lengths %d/%d)" % (n, len(got), len(want))
        raise Mismatch(msg)


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def unhex(s, what):
    try:
        return bytes.fromhex(s)
    except (TypeError, ValueError):
        raise Mismatch("%s: not a hex string: %s" % (what, fmt(s)))


def known_fields(obj, allowed, what):
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise Mismatch("%s: no check for field(s) %s; extend check_reference.py" % (what, ", ".join(extra)))


def stream(label, n):
    """stream(label, n) of testdata/README.md."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(STREAM_PREFIX + label + struct.pack(">I", i)).digest()
        i += 1
    return out[:n]


# ---------------------------------------------------------------------------
# no network: the reference imports socket-using modules, nothing may use them


def _no_network(*args, **kwargs):
    raise RuntimeError("check_reference.py must not use the network")


class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        _no_network()


def disable_network():
    socket.socket = _NoSocket
    for name in ("socketpair", "create_connection", "create_server", "fromfd", "getaddrinfo", "gethostbyname"):
        if hasattr(socket, name):
            setattr(socket, name, _no_network)


# ---------------------------------------------------------------------------
# the reference


class Ref:
    pass


def import_reference():
    try:
        import mpgameserver
        from mpgameserver import connection, context, crypto, serializable
        from cryptography.exceptions import InvalidSignature, InvalidTag
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    except ImportError as e:
        raise Setup(
            "cannot import the Python reference (%s). Put the directory holding the "
            "mpgameserver 0.2.4 package on PYTHONPATH and use an interpreter that has its "
            "dependencies (cryptography, twisted)." % e
        )
    r = Ref()
    r.conn = connection
    r.ctx = context
    r.crypto = crypto
    r.ser = serializable
    r.InvalidSignature = InvalidSignature
    r.InvalidTag = InvalidTag
    r.ec = ec
    r.encode_dss_signature = encode_dss_signature
    r.Encoding = Encoding
    r.PublicFormat = PublicFormat
    pkgdir = os.path.dirname(os.path.abspath(mpgameserver.__file__))
    r.where = pkgdir
    r.version = None
    pyproject = os.path.join(os.path.dirname(pkgdir), "pyproject.toml")
    if os.path.exists(pyproject):
        with open(pyproject, encoding="utf-8") as f:
            for line in f:
                if line.strip().startswith("version"):
                    r.version = line.split("=", 1)[1].strip().strip('"')
                    break
    return r


@contextlib.contextmanager
def pinned_urandom(*chunks):
    """os.urandom returns the given chunks in order (each call must ask for
    exactly the next chunk's length), as the generator pinned randomness."""
    queue = list(chunks)
    real = os.urandom

    def fake(n):
        check(queue, "the reference drew more randomness (%d bytes) than the vectors record" % n)
        c = queue.pop(0)
        check(n == len(c), "the reference drew %d random bytes where the vectors record %d" % (n, len(c)))
        return c

    os.urandom = fake
    try:
        yield
    finally:
        os.urandom = real
    check(not queue, "the reference drew less randomness than the vectors record")


def ser_encode(ref, value, **kwargs):
    s = io.BytesIO()
    ref.ser.serialize_value(s, value, **kwargs)
    return s.getvalue()


def ser_decode(ref, data, what, **kwargs):
    s = io.BytesIO(data)
    v = ref.ser.deserialize_value(s, **kwargs)
    rest = s.read()
    check(rest == b"", "%s: %d bytes left after the reference decoded the value" % (what, len(rest)))
    return v


def private_key(ref, k):
    return ref.crypto.EllipticCurvePrivateKey.fromBytes(unhex(k["private_pkcs8_der_hex"], "private_pkcs8_der_hex"))


def public_key(ref, k):
    return ref.crypto.EllipticCurvePublicKey.fromBytes(unhex(k["public_spki_der_hex"], "public_spki_der_hex"))


def rfc6979_sign(ref, d, msg):
    """ECDSA P-256/SHA-256 with the RFC 6979 nonce, DER encoded. k*G is
    computed by the cryptography library the reference uses."""
    n = P256_N
    h1 = hashlib.sha256(msg).digest()
    z = int.from_bytes(h1, "big")
    x = d.to_bytes(32, "big")
    h = (z % n).to_bytes(32, "big")
    V = b"\x01" * 32
    K = b"\x00" * 32
    K = hmac.new(K, V + b"\x00" + x + h, hashlib.sha256).digest()
    V = hmac.new(K, V, hashlib.sha256).digest()
    K = hmac.new(K, V + b"\x01" + x + h, hashlib.sha256).digest()
    V = hmac.new(K, V, hashlib.sha256).digest()
    while True:
        V = hmac.new(K, V, hashlib.sha256).digest()
        k = int.from_bytes(V, "big")
        if 1 <= k < n:
            r = ref.ec.derive_private_key(k, ref.ec.SECP256R1()).public_key().public_numbers().x % n
            if r:
                s = pow(k, -1, n) * (z + r * d) % n
                if s:
                    return ref.encode_dss_signature(r, s)
        K = hmac.new(K, V + b"\x00", hashlib.sha256).digest()
        V = hmac.new(K, V, hashlib.sha256).digest()


# ---------------------------------------------------------------------------
# datagrams

DATAGRAM_FIELDS = {
    "datagram_hex", "datagram_len", "header", "header_hex", "direction", "protection",
    "plaintext_payload_hex", "messages", "key_hex", "iv_hex", "aad_hex", "ciphertext_hex",
    "tag_hex", "crc32_hex", "msg_seq", "message_hex", "message_len",
    # descriptive
    "note", "clock", "sender", "index", "name", "session_step",
}
HEADER_FIELDS = {"magic", "ctime", "seq", "ack", "ack_bits", "pkt_type", "pkt_type_name", "length", "count"}


def check_datagram(ref, d, key, what, extra_fields=()):
    """Check one datagram object (a session step, a packets.json case or a
    handshake.json hello) with the reference's header, packet, CRC and
    AES-GCM code. key is the session key for AES-GCM datagrams, None for the
    CRC ones. Returns the messages the reference parsed as
    [(msg_seq, type, payload)]."""
    C = ref.conn
    PH, Packet, PT = C.PacketHeader, C.Packet, C.PacketType
    known_fields(d, DATAGRAM_FIELDS | set(extra_fields), what)
    dg = unhex(d["datagram_hex"], what + ".datagram_hex")
    if "datagram_len" in d:
        expect(len(dg), d["datagram_len"], what + ": datagram_len")
    h = d["header"]
    known_fields(h, HEADER_FIELDS, what + ".header")
    to_server = h["magic"] == "FSOS"
    if "direction" in d:
        expect("to_server" if to_server else "to_client", d["direction"], what + ": direction")
    if "sender" in d:
        expect("client" if to_server else "server", d["sender"], what + ": sender")

    # header, parsed by the receiver's side of the reference
    try:
        hdr = PH.from_bytes(to_server, dg)
    except Exception as e:
        raise Mismatch("%s: the reference cannot parse the header: %r" % (what, e))
    expect(dg[:4].decode("ascii", "replace"), h["magic"], what + ": header.magic")
    expect(hdr.ctime, h["ctime"], what + ": header.ctime")
    expect(int(hdr.seq), h["seq"], what + ": header.seq")
    expect(int(hdr.ack), h["ack"], what + ": header.ack")
    expect("%08x" % hdr.ack_bits, h["ack_bits"], what + ": header.ack_bits")
    expect(hdr.pkt_type.value, h["pkt_type"], what + ": header.pkt_type")
    expect(hdr.pkt_type.name(), h["pkt_type_name"], what + ": header.pkt_type_name")
    expect(hdr.length, h["length"], what + ": header.length")
    expect(hdr.count, h["count"], what + ": header.count")
    if "header_hex" in d:
        expect(dg[: PH.SIZE], unhex(d["header_hex"], what), what + ": header_hex", source="the datagram has")

    clear = hdr.pkt_type in (PT.CLIENT_HELLO, PT.SERVER_HELLO)
    if "protection" in d:
        expect("crc32" if clear else "aes-128-gcm", d["protection"], what + ": protection")
    if clear:
        key = None
        check("crc32_hex" in d, what + ": a clear datagram without crc32_hex")
        crc = ref.crypto.crc32(dg[:-PH.CRC_SIZE])
        expect("%08x" % crc, d["crc32_hex"], what + ": CRC-32 of the datagram")
        expect(dg[-PH.CRC_SIZE:].hex(), d["crc32_hex"], what + ": crc32_hex", source="the datagram ends in")
        payload = dg[PH.SIZE: -PH.CRC_SIZE]
        check(not any(f in d for f in ("iv_hex", "aad_hex", "tag_hex", "ciphertext_hex")), what + ": AES-GCM fields on a CRC datagram")
    else:
        check(key is not None, what + ": an AES-GCM datagram and no session key")
        check("crc32_hex" not in d, what + ": crc32_hex on an AES-GCM datagram")
        if "key_hex" in d:
            expect(key, unhex(d["key_hex"], what), what + ": key_hex is not the session key")
        iv, aad = dg[: PH.IV_SIZE], dg[: PH.SIZE]
        ct, tag = dg[PH.SIZE: -PH.TAG_SIZE], dg[-PH.TAG_SIZE:]
        try:
            payload = ref.crypto.decrypt_gcm(key, iv, aad, ct + tag)
        except ref.InvalidTag:
            raise Mismatch("%s: datagram_hex: the reference's AES-GCM rejects it under the session key "
                           "(iv = header[:12], aad = header)" % what)
        for f, v in (("iv_hex", iv), ("aad_hex", aad), ("ciphertext_hex", ct), ("tag_hex", tag)):
            check(f in d, what + ": missing " + f)
            expect(v, unhex(d[f], what), what + ": " + f, source="the datagram has")
    if "plaintext_payload_hex" in d:
        expect(payload, unhex(d["plaintext_payload_hex"], what), what + ": plaintext_payload_hex")
    expect(len(payload), hdr.length, what + ": payload length vs header.length")

    # the reference's own receive path
    try:
        pkt = Packet.from_bytes(hdr, key, dg)
    except Exception as e:
        raise Mismatch("%s: the reference's Packet.from_bytes rejects the datagram: %r" % (what, e))
    expect(pkt.msg, payload, what + ": Packet.from_bytes payload")
    msgs = [(int(m.seq), m.type.value, bytes(m.payload)) for m in pkt.msgs]
    if "messages" in d:
        want = []
        for i, m in enumerate(d["messages"]):
            known_fields(m, {"msg_seq", "type", "type_name", "payload_hex"}, "%s.messages[%d]" % (what, i))
            want.append((m["msg_seq"], m["type"], unhex(m["payload_hex"], what)))
            if "type_name" in m:
                expect(PT(m["type"]).name(), m["type_name"], "%s.messages[%d].type_name" % (what, i))
        expect(msgs, want, what + ": messages parsed by the reference")
    if "message_hex" in d:
        check(len(msgs) == 1, what + ": expected one message")
        expect(msgs[0][0], d["msg_seq"], what + ": msg_seq")
        expect(msgs[0][2], unhex(d["message_hex"], what), what + ": message_hex")
        if "message_len" in d:
            expect(len(msgs[0][2]), d["message_len"], what + ": message_len")

    # the reference's own send path gives the same bytes
    hdr2 = PH.create(not to_server, h["ctime"], PT(h["pkt_type"]), C.SeqNum(h["seq"]), C.SeqNum(h["ack"]), int(h["ack_bits"], 16))
    pending = [C.PendingMessage(C.SeqNum(s), PT(t), p, None, 0) for s, t, p in msgs]
    built = Packet.create(hdr2, pending).to_bytes(key)
    expect(built, dg, what + ": datagram rebuilt by the reference's Packet.create/to_bytes")

    # any flipped byte is rejected by the reference's receive path
    for i in range(len(dg)):
        bad = bytearray(dg)
        bad[i] ^= 0x01
        bad = bytes(bad)
        try:
            Packet.from_bytes(PH.from_bytes(to_server, bad), key, bad)
        except Exception:
            continue
        raise Mismatch("%s: the reference accepts the datagram with byte %d flipped" % (what, i))
    return msgs


# ---------------------------------------------------------------------------
# groups


def check_constants(ref, v, keys):
    C = ref.conn
    PH, P = C.PacketHeader, C.Packet
    done = {"description", "setMTU_note"}

    def val(name, got):
        done.add(name)
        check(name in v, "constants.json: missing " + name)
        expect(got, v[name], "constants.json: " + name)

    val("header_size", PH.SIZE)
    val("iv_size", PH.IV_SIZE)
    val("gcm_tag_size", PH.TAG_SIZE)
    expect(ref.crypto.ENCRYPTION_TAG_LENGTH, v["gcm_tag_size"], "constants.json: crypto.ENCRYPTION_TAG_LENGTH")
    expect(ref.crypto.ENCRYPTION_IV_LENGTH, v["iv_size"], "constants.json: crypto.ENCRYPTION_IV_LENGTH")
    val("crc_size", PH.CRC_SIZE)
    val("mtu", P.MTU)
    val("udp_ip_header_allowance", P.UDP_HEADER_SIZE)
    for name in ("MAX_SIZE", "MAX_SIZE_CRC", "MAX_PAYLOAD_SIZE", "MAX_FRAGMENT_SIZE", "FRAGMENT_OVERHEAD", "MAX_FRAGMENTS", "RECV_SIZE"):
        val(name, getattr(P, name))
    val("message_overhead", {k: P.overhead(int(k)) for k in v["message_overhead"]})
    val("packet_types", {name: int(x) for name, x in C.PacketType._name2value.items()})
    val("retry_modes", {name: int(x) for name, x in C.RetryMode._name2value.items()})
    val("magic_to_server", C.PacketIdentifier.TO_SERVER.value.decode("ascii"))
    val("magic_to_client", C.PacketIdentifier.TO_CLIENT.value.decode("ascii"))
    val("aes_key_len", ref.crypto.ENCRYPTION_KEY_LENGTH)
    val("salt_len", ref.crypto.ENCRYPTION_SALT_LENGTH)
    val("crc32_check_123456789", "%08x" % ref.crypto.crc32(b"123456789"))

    # the HKDF info string is a literal inside crypto.ecdh_client: derive
    # with it and compare with the reference's derivation
    done.add("hkdf_info")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    cpriv, spub = private_key(ref, keys["client_ephemeral"]), public_key(ref, keys["server_ephemeral"])
    salt = stream(b"constants-hkdf-info-check", 16)
    secret = cpriv.key.exchange(ref.ec.ECDH(), spub.key)
    mine = HKDF(algorithm=hashes.SHA256(), length=v["aes_key_len"], salt=salt, info=v["hkdf_info"].encode("ascii")).derive(secret)
    expect(ref.crypto.ecdh_client(cpriv, spub, salt), mine, "constants.json: hkdf_info (HKDF with it vs crypto.ecdh_client)")

    # timers: read from fresh reference objects
    done.add("timing_defaults")
    t = v["timing_defaults"]
    now = [1000.0]
    base = C.ConnectionBase(False, ("127.0.0.1", 1))
    handler = types.SimpleNamespace(connect=lambda c: None, disconnect=lambda c: None)
    sctx = ref.ctx.ServerContext(handler, root_key=private_key(ref, keys["server_root"]))
    got = {
        "connection.send_interval": base.send_interval,
        "connection.send_keep_alive_interval": base.send_keep_alive_interval,
        "connection.outgoing_timeout": base.outgoing_timeout,
        "connection.temp_connection_timeout": base.temp_connection_timeout,
        "server.interval": sctx.interval,
        "server.connection_timeout": sctx.connection_timeout,
        "server.temp_connection_timeout": sctx.temp_connection_timeout,
        "server.keep_alive_interval": sctx.keep_alive_interval,
        "server.outgoing_timeout": sctx.outgoing_timeout,
        "stats_bins": len(base.stats.pkts_sent),
    }
    for name in ("pkts_recv", "bytes_sent", "bytes_recv", "latency"):
        expect(len(getattr(base.stats, name)), t["stats_bins"], "constants.json: timing_defaults.stats_bins (stats.%s)" % name)
    base.latency = 0.0
    base._update_latency(1.0)
    got["latency_ewma_alpha"] = base.latency
    # a reference client is DROPPED once the clock is more than N s past the last receipt
    silence = t["client.dropped_after_silence_s"]
    cl = C.ClientServerConnection(("127.0.0.1", 1))
    cl.clock = lambda: now[0]
    cl.status = C.ConnectionStatus.CONNECTED
    cl.last_recv_time = 1000.0
    now[0] = 1000.0 + silence
    cl.update()
    what = "constants.json: timing_defaults.client.dropped_after_silence_s"
    check(cl.status == C.ConnectionStatus.CONNECTED, "%s: the reference client drops at exactly %r s" % (what, silence))
    now[0] = 1000.0 + silence + 0.001
    cl.update()
    check(cl.status == C.ConnectionStatus.DROPPED, "%s: the reference client is not dropped after %r s" % (what, silence))
    got["client.dropped_after_silence_s"] = silence
    expect(got, t, "constants.json: timing_defaults")

    # setMTU, restoring the import-time class values afterwards
    done.add("setMTU_results")
    names = ("MTU", "MAX_SIZE", "MAX_PAYLOAD_SIZE", "MAX_SIZE_CRC", "MAX_FRAGMENT_SIZE", "RECV_SIZE")
    saved = {n: getattr(P, n) for n in names}
    try:
        for mtu, want in v["setMTU_results"].items():
            P.setMTU(int(mtu))
            expect({n: getattr(P, n) for n in want}, want, "constants.json: setMTU_results[%s]" % mtu)
            check(set(want) == set(names), "constants.json: setMTU_results[%s] fields" % mtu)
    finally:
        for n, x in saved.items():
            setattr(P, n, x)
    known_fields(v, done, "constants.json")
    return "ok constants: %d values, timer defaults, setMTU(%s)" % (len(done) - 2, "/".join(v["setMTU_results"]))


def check_keys(ref, keys, pems):
    E = ref.crypto
    names = ["server_root", "client_ephemeral", "server_ephemeral", "other_root"]
    known_fields(keys, names + ["description", "curve"], "keys.json")
    fields = {"private_scalar_hex", "private_pkcs8_der_hex", "private_pkcs8_pem", "public_spki_der_hex",
              "public_spki_pem", "public_uncompressed_point_hex", "public_x_hex", "public_y_hex"}
    for name in names:
        k = keys[name]
        w = "keys.json: " + name
        known_fields(k, fields, w)
        scalar = int(k["private_scalar_hex"], 16)
        label = int.from_bytes(hashlib.sha256(STREAM_PREFIX + name.encode()).digest(), "big")
        expect("%064x" % (label % (P256_N - 1) + 1), k["private_scalar_hex"], w + ": scalar = SHA-256(label) mod (n-1) + 1")
        der = unhex(k["private_pkcs8_der_hex"], w)
        priv = E.EllipticCurvePrivateKey.fromBytes(der)
        expect(priv.key.private_numbers().private_value, scalar, w + ": scalar of the PKCS#8 key")
        expect(priv.getBytes(), der, w + ": PKCS#8 DER re-encoded by the reference")
        expect(E.EllipticCurvePrivateKey.fromPEM(k["private_pkcs8_pem"]).getBytes(), der, w + ": PKCS#8 PEM")
        expect(priv.getPrivateKeyPEM(), k["private_pkcs8_pem"], w + ": private_pkcs8_pem")
        fromscalar = E.EllipticCurvePrivateKey(ref.ec.derive_private_key(scalar, ref.ec.SECP256R1()))
        expect(fromscalar.getBytes(), der, w + ": PKCS#8 DER of the scalar")
        pub = priv.getPublicKey()
        spki = unhex(k["public_spki_der_hex"], w)
        expect(len(spki), 91, w + ": SPKI length")
        expect(pub.getBytes(), spki, w + ": public_spki_der_hex")
        expect(pub.getPublicKeyPEM(), k["public_spki_pem"], w + ": public_spki_pem")
        expect(E.EllipticCurvePublicKey.fromBytes(spki).getBytes(), spki, w + ": SPKI DER loads")
        expect(E.EllipticCurvePublicKey.fromPEM(k["public_spki_pem"]).getBytes(), spki, w + ": SPKI PEM loads")
        nums = pub.key.public_numbers()
        expect("%064x" % nums.x, k["public_x_hex"], w + ": public_x_hex")
        expect("%064x" % nums.y, k["public_y_hex"], w + ": public_y_hex")
        point = pub.key.public_bytes(ref.Encoding.X962, ref.PublicFormat.UncompressedPoint)
        expect(point.hex(), k["public_uncompressed_point_hex"], w + ": public_uncompressed_point_hex")
        expect(point.hex(), "04" + k["public_x_hex"] + k["public_y_hex"], w + ": point = 04 || X || Y")
        expect(E.EllipticCurvePublicKey.uncompress(ref.ec.SECP256R1(), point).getBytes(), spki, w + ": point loads")
    # the PEM files are the same keys, byte for byte
    for fname, key, field in (("server_root.key.pem", "server_root", "private_pkcs8_pem"),
                              ("server_root.pub.pem", "server_root", "public_spki_pem"),
                              ("other_root.pub.pem", "other_root", "public_spki_pem")):
        text = pems[fname]
        expect(keys[key][field], text, fname, source="keys.json %s.%s has" % (key, field))
        if "PRIVATE" in field.upper():
            got = E.EllipticCurvePrivateKey.fromPEM(text).getBytes()
            expect(got, unhex(keys[key]["private_pkcs8_der_hex"], fname), fname + ": loads to the PKCS#8 DER")
        else:
            got = E.EllipticCurvePublicKey.fromPEM(text).getBytes()
            expect(got, unhex(keys[key]["public_spki_der_hex"], fname), fname + ": loads to the SPKI DER")
    return "ok keys: %d keys, %d PEM files" % (len(names), len(PEM_FILES))


class FixedSigner:
    """Stands in for the server root key in HandshakeServerHelloMessage.serialize:
    returns the recorded signature after checking the reference asks to sign
    exactly the recorded blob (the generator swapped in an RFC 6979 nonce the
    same way)."""

    def __init__(self, priv, signed, signature, what):
        self.priv, self.signed, self.signature, self.what = priv, signed, signature, what
        self.calls = 0

    def sign(self, data):
        self.calls += 1
        expect(data, self.signed, self.what + ": the blob the reference signs")
        return self.signature

    def getPublicKey(self):
        return self.priv.getPublicKey()


def check_handshake(ref, hs, keys):
    C, E = ref.conn, ref.crypto
    w = "handshake.json"
    known_fields(hs, {"description", "client_addr", "server_addr", "ctime", "server_root_public_spki_der_hex",
                      "client_ephemeral_public_spki_der_hex", "server_ephemeral_public_spki_der_hex", "client_version",
                      "client_hello", "server_hello", "challenge_resp", "token_raw_random_hex", "token", "token_hex",
                      "salt_hex", "ecdh_shared_secret_hex", "hkdf", "session_key_hex"}, w)
    for name in ("server_root", "client_ephemeral", "server_ephemeral"):
        f = name + "_public_spki_der_hex"
        expect(keys[name]["public_spki_der_hex"], hs[f], w + ": " + f, source="keys.json has")
    root, other = public_key(ref, keys["server_root"]), public_key(ref, keys["other_root"])
    cpriv, spriv = private_key(ref, keys["client_ephemeral"]), private_key(ref, keys["server_ephemeral"])
    cpub, spub = cpriv.getPublicKey(), spriv.getPublicKey()

    # token and salt, drawn through the reference with pinned randomness
    raw = unhex(hs["token_raw_random_hex"], w)
    handler = types.SimpleNamespace(connect=lambda c: None, disconnect=lambda c: None)
    sctx = ref.ctx.ServerContext(handler, root_key=private_key(ref, keys["server_root"]))
    with pinned_urandom(raw):
        token = sctx.get_token()
    expect(token, hs["token"], w + ": token = ServerContext.get_token() of token_raw_random_hex")
    expect("%08x" % token, hs["token_hex"], w + ": token_hex")
    salt = unhex(hs["salt_hex"], w)
    expect(salt, stream(b"hkdf-salt", 16), w + ": salt_hex = stream('hkdf-salt', 16)")

    # ECDH + HKDF
    shared = cpriv.key.exchange(ref.ec.ECDH(), spub.key)
    expect(shared, unhex(hs["ecdh_shared_secret_hex"], w), w + ": ECDH shared secret (client side)")
    expect(spriv.key.exchange(ref.ec.ECDH(), cpub.key), shared, w + ": ECDH shared secret (server side)")
    hk = hs["hkdf"]
    known_fields(hk, {"hash", "salt_hex", "ikm_hex", "info_ascii", "info_hex", "length", "prk_hex", "okm_hex"}, w + ".hkdf")
    expect("SHA-256", hk["hash"], w + ": hkdf.hash")
    expect(unhex(hk["salt_hex"], w), salt, w + ": hkdf.salt_hex")
    expect(unhex(hk["ikm_hex"], w), shared, w + ": hkdf.ikm_hex")
    expect(hk["info_ascii"].encode("ascii").hex(), hk["info_hex"], w + ": hkdf.info_hex")
    expect(E.ENCRYPTION_KEY_LENGTH, hk["length"], w + ": hkdf.length")
    expect(hmac.new(salt, shared, hashlib.sha256).hexdigest(), hk["prk_hex"], w + ": hkdf.prk_hex = HMAC-SHA256(salt, ikm)")
    session_key = E.ecdh_client(cpriv, spub, salt)
    expect(session_key, unhex(hs["session_key_hex"], w), w + ": session key from crypto.ecdh_client")
    expect(session_key, unhex(hk["okm_hex"], w), w + ": hkdf.okm_hex")
    with pinned_urandom(salt):
        expect(E.ecdh_server(spriv, cpub), (salt, session_key), w + ": (salt, key) from crypto.ecdh_server")

    # CLIENT_HELLO
    ch = hs["client_hello"]
    cw = w + ": client_hello"
    msgs = check_datagram(ref, ch, None, cw, extra_fields={"padding_len", "padding_hex"})
    expect(ch["header"]["ctime"], hs["ctime"], cw + ": ctime")
    body = msgs[0][2]
    expect(msgs[0][1], C.PacketType.CLIENT_HELLO.value, cw + ": message type")
    padding = unhex(ch["padding_hex"], cw)
    expect(len(padding), ch["padding_len"], cw + ": padding_len")
    expect(body[-len(padding):], padding, cw + ": padding_hex is the tail of the message")
    expect(padding, stream(b"client-hello-padding", len(padding)), cw + ": padding = stream('client-hello-padding', n)")
    hello = ref.ser.Serializable.loadb(body)
    check(isinstance(hello, C.HandshakeClientHelloMessage), cw + ": decodes to %r" % type(hello))
    expect(hello.client_pubkey.getBytes(), cpub.getBytes(), cw + ": client_pubkey")
    expect(hello.client_version, hs["client_version"], cw + ": client_version")
    re = C.HandshakeClientHelloMessage()
    re.client_pubkey, re.client_version = cpub, hs["client_version"]
    with pinned_urandom(padding):
        expect(re.dumpb(), body, cw + ": message re-encoded by the reference with the recorded padding")

    # SERVER_HELLO
    sh = hs["server_hello"]
    sw = w + ": server_hello"
    msgs = check_datagram(ref, sh, None, sw, extra_fields={"signed_payload_hex", "signature_der_hex", "signature_note"})
    expect(sh["header"]["ctime"], hs["ctime"], sw + ": ctime")
    body = msgs[0][2]
    expect(msgs[0][1], C.PacketType.SERVER_HELLO.value, sw + ": message type")
    signed = unhex(sh["signed_payload_hex"], sw)
    sig = unhex(sh["signature_der_hex"], sw)
    # outer structure: type id, root key DER, signed blob, signature
    s = io.BytesIO(body)
    expect(struct.unpack(">H", s.read(2))[0], C.HandshakeServerHelloMessage.type_id, sw + ": type id")
    expect(ref.ser.deserialize_value(s), root.getBytes(), sw + ": root public key in the message")
    expect(ref.ser.deserialize_value(s), signed, sw + ": signed_payload_hex in the message")
    expect(ref.ser.deserialize_value(s), sig, sw + ": signature_der_hex in the message")
    expect(s.read(), b"", sw + ": trailing bytes")
    expect(signed, ser_encode(ref, spub.getBytes()) + ser_encode(ref, salt) + ser_encode(ref, token),
           sw + ": signed blob = Sbytes(ephemeral DER) || Sbytes(salt) || Sint(token)")
    try:
        root.verify(sig, signed)
    except ref.InvalidSignature:
        raise Mismatch(sw + ": the signature does not verify with the server root key")
    try:
        other.verify(sig, signed)
        raise Mismatch(sw + ": the signature verifies with other_root too")
    except ref.InvalidSignature:
        pass
    try:
        sh_msg = ref.ser.Serializable.loadb(body, server_public_key=root)
    except ref.InvalidSignature:
        raise Mismatch(sw + ": Serializable.loadb rejects the signature with the pre-shared root key")
    try:
        ref.ser.Serializable.loadb(body, server_public_key=other)
        raise Mismatch(sw + ": Serializable.loadb accepts the hello with other_root as the pre-shared key")
    except ref.InvalidSignature:
        pass
    check(isinstance(sh_msg, C.HandshakeServerHelloMessage), sw + ": decodes to %r" % type(sh_msg))
    expect(sh_msg.server_root_pubkey.getBytes(), root.getBytes(), sw + ": server_root_pubkey")
    expect(sh_msg.server_pubkey.getBytes(), spub.getBytes(), sw + ": server_pubkey")
    expect(sh_msg.salt, salt, sw + ": salt")
    expect(sh_msg.token, token, sw + ": token")
    root_priv = private_key(ref, keys["server_root"])
    expect(rfc6979_sign(ref, root_priv.key.private_numbers().private_value, signed), sig,
           sw + ": signature_der_hex is the RFC 6979 (deterministic nonce) signature")
    signer = FixedSigner(root_priv, signed, sig, sw)
    re = C.HandshakeServerHelloMessage(server_pubkey=spub, salt=salt, token=token)
    expect(re.dumpb(server_root_key=signer), body, sw + ": message re-encoded by the reference with the recorded signature")
    expect(signer.calls, 1, sw + ": signing calls")

    # CHALLENGE_RESP
    cr = hs["challenge_resp"]
    rw = w + ": challenge_resp"
    msgs = check_datagram(ref, cr, session_key, rw)
    expect(cr["header"]["ctime"], hs["ctime"], rw + ": ctime")
    body = msgs[0][2]
    expect(msgs[0][1], C.PacketType.CHALLENGE_RESP.value, rw + ": message type")
    resp = ref.ser.Serializable.loadb(body)
    check(isinstance(resp, C.HandshakeClientChallengeResponseMessage), rw + ": decodes to %r" % type(resp))
    expect(resp.token, token, rw + ": token")
    expect(C.HandshakeClientChallengeResponseMessage(token=token).dumpb(), body, rw + ": message re-encoded by the reference")
    return ("ok handshake: 3 datagrams, signature verifies (RFC 6979 nonce), ECDH+HKDF key %s, "
            "challenge decrypts" % session_key.hex())


def check_serializable(ref, v, hs, keys):
    S = ref.ser
    B = S.SerializableBaseTypes
    w = "serializable.json"
    known_fields(v, {"description", "base_type_ids", "handshake_type_ids", "ints", "int_errors", "bytes",
                     "strings", "others", "messages"}, w)
    base = {"bool": B.bool_t, "int8": B.int8_t, "int16": B.int16_t, "int32": B.int32_t, "int64": B.int64_t,
            "uint8": B.uint8_t, "uint16": B.uint16_t, "uint32": B.uint32_t, "uint64_or_float32": B.uint64_t,
            "float64": B.float64_t, "string": B.string_t, "bytes": B.bytes_t, "null": B.null_t, "seq": B.seq_t,
            "map": B.map_t, "set": B.set_t}
    expect(B.float32_t, B.uint64_t, w + ": float32 and uint64 share a type id")
    expect(base, v["base_type_ids"], w + ": base_type_ids")
    expect({n: getattr(ref.conn, n).type_id for n in v["handshake_type_ids"]}, v["handshake_type_ids"], w + ": handshake_type_ids")
    count = 0

    def roundtrip(value, enc, what):
        expect(ser_encode(ref, value), enc, what + ": encoded by the reference")
        got = ser_decode(ref, enc, what)
        expect((type(got), got), (type(value), value), what + ": decoded by the reference")

    for i, e in enumerate(v["ints"]):
        known_fields(e, {"value", "type_id", "encoded_hex"}, "%s: ints[%d]" % (w, i))
        enc = unhex(e["encoded_hex"], w)
        expect(struct.unpack(">H", enc[:2])[0], e["type_id"], "%s: ints[%d] (%d) type id" % (w, i, e["value"]))
        roundtrip(e["value"], enc, "%s: ints[%d] (%d)" % (w, i, e["value"]))
        count += 1
    for i, e in enumerate(v["int_errors"]):
        value = int(e["value"])
        try:
            enc = ser_encode(ref, value)
        except ValueError:
            count += 1
            continue
        raise Mismatch("%s: int_errors[%d]: the reference encodes %d as %s" % (w, i, value, enc.hex()))
    for i, e in enumerate(v["bytes"]):
        what = "%s: bytes[%d] (%s)" % (w, i, e["name"])
        if "value_hex" in e:
            known_fields(e, {"name", "value_hex", "length", "encoded_hex"}, what)
            value = unhex(e["value_hex"], what)
            enc = unhex(e["encoded_hex"], what)
            if len(value) > 64:
                label = b"b%d" % len(value)
                expect(value, stream(label, len(value)), what + ": value = stream(%r, %d)" % (label.decode(), len(value)))
        else:
            known_fields(e, {"name", "length", "value_generation", "value_sha256", "encoded_len", "encoded_prefix_hex", "encoded_note"}, what)
            value = stream(b"b%d" % e["length"], e["length"])
            expect(hashlib.sha256(value).hexdigest(), e["value_sha256"], what + ": value_sha256 of stream('b%d', %d)" % (e["length"], e["length"]))
            enc = unhex(e["encoded_prefix_hex"], what) + value
            expect(len(enc), e["encoded_len"], what + ": encoded_len")
        expect(len(value), e["length"], what + ": length")
        roundtrip(value, enc, what)
        count += 1
    for i, e in enumerate(v["strings"]):
        what = "%s: strings[%d]" % (w, i)
        known_fields(e, {"value", "utf8_len", "encoded_hex"}, what)
        expect(len(e["value"].encode("utf-8")), e["utf8_len"], what + ": utf8_len")
        roundtrip(e["value"], unhex(e["encoded_hex"], what), what)
        count += 1
    for i, e in enumerate(v["others"]):
        what = "%s: others[%d] (%r)" % (w, i, e["value"])
        known_fields(e, {"value", "encoded_hex"}, what)
        roundtrip(e["value"], unhex(e["encoded_hex"], what), what)
        count += 1

    # handshake bodies
    m = v["messages"]
    known_fields(m, {"client_hello", "server_hello", "challenge_resp", "challenge_resp_small_token"}, w + ": messages")
    for name in m:
        known_fields(m[name], {"encoded_hex", "len", "fields"}, "%s: messages.%s" % (w, name))
        expect(len(unhex(m[name]["encoded_hex"], w)), m[name]["len"], "%s: messages.%s.len" % (w, name))
    ch = unhex(m["client_hello"]["encoded_hex"], w)
    expect(ch, unhex(hs["client_hello"]["message_hex"], w), w + ": messages.client_hello is handshake.json's")
    f = m["client_hello"]["fields"]
    hello = S.Serializable.loadb(ch)
    expect(hello.client_pubkey.getBytes().hex(), f["client_pubkey_spki_der_hex"], w + ": client_hello.client_pubkey")
    expect(hello.client_version, f["client_version"], w + ": client_hello.client_version")
    padding = ch[f["padding_offset"]:]
    expect(len(padding), f["padding_len"], w + ": client_hello padding_len")
    expect(f["padding_offset"], 2 + len(ser_encode(ref, hello.client_pubkey.getBytes())) + len(ser_encode(ref, hello.client_version)),
           w + ": client_hello padding_offset")
    re = ref.conn.HandshakeClientHelloMessage()
    re.client_pubkey, re.client_version = hello.client_pubkey, hello.client_version
    with pinned_urandom(padding):
        expect(re.dumpb(), ch, w + ": client_hello re-encoded by the reference")
    sh = unhex(m["server_hello"]["encoded_hex"], w)
    expect(sh, unhex(hs["server_hello"]["message_hex"], w), w + ": messages.server_hello is handshake.json's")
    try:
        S.Serializable.loadb(sh, server_public_key=public_key(ref, keys["server_root"]))
    except ref.InvalidSignature:
        raise Mismatch(w + ": messages.server_hello: signature does not verify")
    for name in ("challenge_resp", "challenge_resp_small_token"):
        enc = unhex(m[name]["encoded_hex"], w)
        msg = S.Serializable.loadb(enc)
        check(isinstance(msg, ref.conn.HandshakeClientChallengeResponseMessage), "%s: messages.%s decodes to %r" % (w, name, type(msg)))
        expect(msg.token, m[name]["fields"]["token"], "%s: messages.%s.token" % (w, name))
        expect(ref.conn.HandshakeClientChallengeResponseMessage(token=msg.token).dumpb(), enc, "%s: messages.%s re-encoded" % (w, name))
    expect(unhex(m["challenge_resp"]["encoded_hex"], w), unhex(hs["challenge_resp"]["message_hex"], w), w + ": messages.challenge_resp is handshake.json's")
    return "ok serializable: %d encodings round-trip, 4 handshake bodies decode and re-encode" % count


def check_packets(ref, p, session, key):
    C = ref.conn
    w = "packets.json"
    known_fields(p, {"description", "cases", "fragmented_message"}, w)
    steps = {s["index"]: s for s in session["steps"]}

    def case(c, what):
        check_datagram(ref, c, key, what)
        st = steps.get(c["session_step"])
        check(st is not None, what + ": no session step %r" % c["session_step"])
        for f, x in c.items():
            if f in ("name", "session_step"):
                continue
            expect(st.get(f), x, "%s: field %s" % (what, f), source="session.json step %d has" % c["session_step"])
        for f in st:
            check(f in c or f in ("index", "receiver_effects"), "%s: field %s of session step %d missing" % (what, f, c["session_step"]))

    for c in p["cases"]:
        case(c, "%s: %s" % (w, c["name"]))
    fm = p["fragmented_message"]
    fw = w + ": fragmented_message"
    known_fields(fm, {"message_len", "message_sha256", "message_generation", "message_hex", "fragment_id",
                      "fragment_count", "fragment_data_sizes", "delivered_msg_seq", "packets"}, fw)
    msg = unhex(fm["message_hex"], fw)
    expect(len(msg), fm["message_len"], fw + ": message_len")
    expect(msg, stream(b"fragment-payload-5000", fm["message_len"]), fw + ": message = stream('fragment-payload-5000', n)")
    expect(hashlib.sha256(msg).hexdigest(), fm["message_sha256"], fw + ": message_sha256")
    expect(len(fm["packets"]), fm["fragment_count"], fw + ": number of packets")
    sender = C.FragmentSender(None, fm["fragment_id"], C.RetryMode.NONE, None)
    built = [payload for payload, _ in sender.build(msg)]
    expect(len(built), fm["fragment_count"], fw + ": fragments made by the reference's FragmentSender")
    datas = []
    for i, c in enumerate(fm["packets"]):
        cw = "%s: %s" % (fw, c["name"])
        case(c, cw)
        check(len(c["messages"]) == 1, cw + ": one message")
        m = c["messages"][0]
        expect(m["type"], C.PacketType.APP_FRAGMENT.value, cw + ": message type")
        body = unhex(m["payload_hex"], cw)
        expect(body, built[i], cw + ": fragment body from the reference's FragmentSender.build")
        frag_id, index, count, data = C.FragmentSender.parsePayload(body)
        expect((frag_id, index, count), (fm["fragment_id"], i + 1, fm["fragment_count"]), cw + ": (frag_id, index, count)")
        expect(len(data), fm["fragment_data_sizes"][i], cw + ": fragment_data_sizes")
        datas.append(data)
        if i == 0:
            expect(m["msg_seq"], fm["delivered_msg_seq"], fw + ": delivered_msg_seq is fragment 1's msg_seq")
    expect(b"".join(datas), msg, fw + ": reassembled message")
    return "ok packets: %d cases + %d fragment packets decrypt, parse and rebuild" % (len(p["cases"]), len(fm["packets"]))


EFFECT_FIELDS = {"packet_accepted", "packet_seqs_acked", "message_dedupe", "delivered_to_app", "status_after",
                 "recv_bitfield_after", "session_key_established"}


def check_session(ref, sess, hs, keys, key):
    C = ref.conn
    w = "session.json"
    known_fields(sess, {"description", "client_addr", "server_addr", "session_key_hex", "steps"}, w)
    expect(unhex(sess["session_key_hex"], w), key, w + ": session_key_hex")
    for f in ("client_addr", "server_addr"):
        expect(hs[f], sess[f], w + ": " + f, source="handshake.json has")
    steps = sess["steps"]
    expect([s["index"] for s in steps], list(range(len(steps))), w + ": step indexes")
    for st in steps:
        what = "%s: step %d" % (w, st["index"])
        clear = st["header"]["pkt_type"] in (C.PacketType.CLIENT_HELLO.value, C.PacketType.SERVER_HELLO.value)
        check_datagram(ref, st, None if clear else key, what, extra_fields={"receiver_effects"})
    for i, name in enumerate(("client_hello", "server_hello", "challenge_resp")):
        expect(steps[i]["datagram_hex"], hs[name]["datagram_hex"], "%s: step %d is handshake.json's %s" % (w, i, name))
    replay_session(ref, sess, hs, keys, key)
    return ("ok session: %d datagrams decrypt and parse; replayed by a reference client and server, "
            "every datagram is rebuilt byte for byte and every receiver_effects matches" % len(steps))


def replay_session(ref, sess, hs, keys, key):
    """Run a reference client and a reference server through the session on a
    pinned clock with the recorded randomness and keys: the sender builds each
    step's datagram (compared byte for byte), the receiver takes it in, and
    what the receiver did is compared with receiver_effects."""
    C = ref.conn
    PT = C.PacketType
    steps = sess["steps"]
    clock = [float(steps[0]["clock"])]

    def now():
        return clock[0]

    saved_time = C.time
    C.time = types.SimpleNamespace(time=now)  # FragmentReceiver reads time.time()
    try:
        root_priv = private_key(ref, keys["server_root"])
        signer = FixedSigner(root_priv, unhex(hs["server_hello"]["signed_payload_hex"], "handshake.json"),
                             unhex(hs["server_hello"]["signature_der_hex"], "handshake.json"), w_step(-1))
        handler = types.SimpleNamespace(connect=lambda c: None, disconnect=lambda c: None)
        ctxt = ref.ctx.ServerContext(handler, root_key=signer)
        client_addr, server_addr = tuple(sess["client_addr"]), tuple(sess["server_addr"])
        client = C.ClientServerConnection(server_addr)
        client.clock = now
        client.session_key = private_key(ref, keys["client_ephemeral"])
        client.setServerPublicKey(public_key(ref, keys["server_root"]))
        peers = {"client": client, "server": None}

        for st in steps:
            what = w_step(st["index"])
            signer.what = what
            clock[0] = float(st["clock"])
            known_fields(st["receiver_effects"], EFFECT_FIELDS, what + ".receiver_effects")
            sname = st["sender"]
            rname = "server" if sname == "client" else "client"
            S = peers[sname]
            check(S is not None, what + ": the server sends before it has a connection")

            # 1. what the sender's application did: new messages are queued
            #    through the reference's API
            if st["index"] == 0:
                check(sname == "client" and st["header"]["pkt_type"] == PT.CLIENT_HELLO.value, what + ": expected the CLIENT_HELLO")
                padding = unhex(hs["client_hello"]["padding_hex"], "handshake.json")
                with pinned_urandom(padding):
                    S._sendClientHello()
            for m in st["messages"]:
                seq, typ, payload = m["msg_seq"], m["type"], unhex(m["payload_hex"], what)
                if seq <= int(S.seq_message):
                    continue  # already queued (handshake replies, later fragments, retransmissions)
                if typ == PT.APP.value:
                    again = any(o["sender"] == sname and any(x["msg_seq"] == seq for x in o["messages"])
                                for o in steps[st["index"] + 1:])
                    S.send(payload, retry=C.RetryMode.BEST_EFFORT if again else C.RetryMode.NONE)
                elif typ == PT.APP_FRAGMENT.value:
                    frag_id, index, count, _ = C.FragmentSender.parsePayload(payload)
                    check(index == 1, what + ": a message starts with fragment %d" % index)
                    parts = {}
                    for o in steps[st["index"]:]:
                        if o["sender"] != sname:
                            continue
                        for x in o["messages"]:
                            if x["type"] == PT.APP_FRAGMENT.value:
                                f, i, _, data = C.FragmentSender.parsePayload(unhex(x["payload_hex"], what))
                                if f == frag_id:
                                    parts.setdefault(i, data)
                    check(sorted(parts) == list(range(1, count + 1)), what + ": fragments of message %d missing" % frag_id)
                    S.send(b"".join(parts[i] for i in range(1, count + 1)))
                elif typ == PT.DISCONNECT.value:
                    S.disconnect()
                else:
                    raise Mismatch("%s: message %d of type %d was not queued by the reference" % (what, seq, typ))
                check(seq <= int(S.seq_message), "%s: the reference gave the message seq %d, not %d" % (what, int(S.seq_message), seq))

            # 2. the sender's reference connection builds the datagram
            pkt = S._build_packet()
            check(pkt is not None, "%s: the reference %s builds no packet at clock %r" % (what, sname, clock[0]))
            dg = pkt.to_bytes(S.session_key_bytes)
            expect(dg, unhex(st["datagram_hex"], what), what + ": datagram built by the reference " + sname)

            # 3. the receiver takes it in
            if rname == "server" and peers["server"] is None:
                # as the reference server does for a new address
                server = C.ServerClientConnection(ctxt, client_addr)
                server.clock = now
                server.session_key = private_key(ref, keys["server_ephemeral"])
                server.send_keep_alive_interval = ctxt.keep_alive_interval
                server.outgoing_timeout = ctxt.outgoing_timeout
                ctxt.temp_connections[client_addr] = server
                peers["server"] = server
            R = peers[rname]
            randomness = ()
            if st["header"]["pkt_type"] == PT.CLIENT_HELLO.value:
                randomness = (unhex(hs["token_raw_random_hex"], "handshake.json"), unhex(hs["salt_hex"], "handshake.json"))
            with pinned_urandom(*randomness):
                got = receive(ref, R, dg)
            eff = st["receiver_effects"]
            expect(got["packet_accepted"], eff["packet_accepted"], what + ": receiver_effects.packet_accepted")
            expect(sorted(got["acked"]), sorted(eff["packet_seqs_acked"]), what + ": receiver_effects.packet_seqs_acked")
            expect(got["dedupe"], [(x["msg_seq"], x["result"]) for x in eff["message_dedupe"]], what + ": receiver_effects.message_dedupe")
            expect(got["delivered"], [(x["msg_seq"], x["payload_hex"]) for x in eff["delivered_to_app"]],
                   what + ": receiver_effects.delivered_to_app")
            expect(got["status"], eff["status_after"], what + ": receiver_effects.status_after")
            expect(got["bitfield"], eff["recv_bitfield_after"], what + ": receiver_effects.recv_bitfield_after")
            if got["new_key"] is not None:
                expect(got["new_key"].hex(), eff.get("session_key_established"), what + ": receiver_effects.session_key_established")
            else:
                check("session_key_established" not in eff, what + ": receiver_effects.session_key_established but the reference derived no key")
        expect(signer.calls, 1, w_step(-1) + ": the SERVER_HELLO signing calls")
        for name, peer in peers.items():
            expect(peer.session_key_bytes, key, "%s: the replaying reference %s's session key" % (w_step(-1), name))
    finally:
        C.time = saved_time


def w_step(i):
    return "session.json: step %d" % i if i >= 0 else "session.json"


def receive(ref, R, dg):
    C = ref.conn
    acked, dedupe = [], []
    real_ack = R._handle_ack
    bf = R.bitfield_msg
    real_insert = bf.insert

    def handle_ack(seq):
        acked.append(int(seq))
        return real_ack(seq)

    def insert(seq):
        try:
            real_insert(seq)
        except C.DuplicationError:
            dedupe.append((int(seq), "duplicate"))
            raise
        dedupe.append((int(seq), "new"))

    R._handle_ack = handle_ack
    bf.insert = insert
    R.incoming_messages = []
    key_before = R.session_key_bytes
    try:
        hdr = C.PacketHeader.from_bytes(R.isServer, dg)
        accepted = R._recv_datagram(hdr, dg)
    finally:
        del R._handle_ack
        del bf.insert
    delivered = [(int(s), bytes(p).hex()) for s, p in R.incoming_messages]
    R.incoming_messages = []
    return {
        "packet_accepted": accepted,
        "acked": acked,
        "dedupe": dedupe,
        "delivered": delivered,
        "status": R.status.name(),
        "bitfield": {"ack": int(R.bitfield_pkt.current_seqnum), "ack_bits": "%08x" % R.bitfield_pkt.bits},
        "new_key": R.session_key_bytes if R.session_key_bytes != key_before else None,
    }


def check_seqnum(ref, v):
    SeqNum = ref.conn.SeqNum
    w = "seqnum.json"
    known_fields(v, {"description", "modulus", "threshold", "add", "sub", "diff"}, w)
    expect(SeqNum._max_sequence, v["modulus"], w + ": modulus")
    expect(SeqNum._threshold, v["threshold"], w + ": threshold")
    for i, e in enumerate(v["add"]):
        expect(int(SeqNum(e["a"]) + e["b"]), e["result"], "%s: add[%d] %d + %d" % (w, i, e["a"], e["b"]))
    for i, e in enumerate(v["sub"]):
        expect(int(SeqNum(e["a"]) - e["b"]), e["result"], "%s: sub[%d] %d - %d" % (w, i, e["a"], e["b"]))
    for i, e in enumerate(v["diff"]):
        a, b = SeqNum(e["a"]), SeqNum(e["b"])
        expect(a.diff(b), e["diff"], "%s: diff[%d] diff(%d, %d)" % (w, i, e["a"], e["b"]))
        expect(a.newer_than(b), e["a_newer_than_b"], "%s: diff[%d] newer_than(%d, %d)" % (w, i, e["a"], e["b"]))
    return "ok seqnum: %d add, %d sub, %d diff/newer_than" % (len(v["add"]), len(v["sub"]), len(v["diff"]))


def check_bitfield(ref, v):
    C = ref.conn
    w = "bitfield.json"
    known_fields(v, {"description", "sequences", "header_ack_from_receipts", "ack_processing"}, w)
    nsteps = 0
    for q in v["sequences"]:
        bf = C.BitField(q["nbits"])
        for i, st in enumerate(q["steps"]):
            what = "%s: %s step %d (%s %d)" % (w, q["name"], i, st["op"], st["seq"])
            if st["op"] == "insert":
                try:
                    bf.insert(C.SeqNum(st["seq"]))
                    got = "ok"
                except C.DuplicationError:
                    got = "duplicate"
            elif st["op"] == "contains":
                got = bf.contains(C.SeqNum(st["seq"]))
            else:
                raise Mismatch(what + ": unknown op")
            expect(got, st["result"], what + ": result")
            expect(int(bf.current_seqnum), st["current_after"], what + ": current_after")
            expect("%0*x" % (q["nbits"] // 4, bf.bits), st["bits_after_hex"], what + ": bits_after_hex")
            nsteps += 1
    r = v["header_ack_from_receipts"]
    bf = C.BitField(32)
    for s in r["received_packet_seqs_in_order"]:
        bf.insert(C.SeqNum(s))
    expect(int(bf.current_seqnum), r["header_ack"], w + ": header_ack_from_receipts.header_ack")
    expect("%08x" % bf.bits, r["header_ack_bits_hex"], w + ": header_ack_from_receipts.header_ack_bits_hex")
    for i, a in enumerate(v["ack_processing"]):
        what = "%s: ack_processing[%d]" % (w, i)
        conn = C.ConnectionBase(False, ("127.0.0.1", 1))
        conn.clock = lambda: 1000.0
        conn.last_recv_time = 1000.0
        for s in a["pending_packet_seqs"]:
            conn.pending_acks[C.SeqNum(s)] = 1000.0
        hdr = C.PacketHeader.create(True, 0, C.PacketType.KEEP_ALIVE, C.SeqNum(1), C.SeqNum(a["header_ack"]), int(a["header_ack_bits_hex"], 16))
        conn._handle_ack_bits(hdr)
        still = sorted(int(s) for s in conn.pending_acks)
        acked = sorted(set(a["pending_packet_seqs"]) - set(still))
        expect(acked, sorted(a["acked"]), what + ": acked")
        expect(still, sorted(a["still_pending"]), what + ": still_pending")
    return "ok bitfield: %d window steps in %d sequences, header ack, %d ack-processing cases" % (
        nsteps, len(v["sequences"]), len(v["ack_processing"]))


# ---------------------------------------------------------------------------


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    testdata = argv[1] if len(argv) == 2 else os.path.join(here, "testdata")

    disable_network()
    try:
        present = sorted(f for f in os.listdir(testdata) if f.endswith((".json", ".pem")))
        unknown = sorted(set(present) - set(VECTOR_FILES) - set(PEM_FILES))
        missing = sorted(set(VECTOR_FILES + PEM_FILES) - set(present))
        if missing:
            raise Setup("%s: missing vector file(s) %s" % (testdata, ", ".join(missing)))
        if unknown:
            raise Setup("%s: no check for vector file(s) %s; extend check_reference.py" % (testdata, ", ".join(unknown)))
        data = {}
        for f in VECTOR_FILES:
            with open(os.path.join(testdata, f), encoding="utf-8") as fh:
                try:
                    data[f] = json.load(fh)
                except ValueError as e:
                    raise Setup("%s: not valid JSON: %s" % (f, e))
        pems = {}
        for f in PEM_FILES:
            with open(os.path.join(testdata, f), encoding="utf-8") as fh:
                pems[f] = fh.read()
        ref = import_reference()
    except (Setup, OSError) as e:
        print("ERROR: %s" % e, file=sys.stderr)
        return 2

    print("reference: %s (version %s)" % (ref.where, ref.version or "unknown"))
    print("vectors:   %s" % os.path.abspath(testdata))
    keys, hs, sess = data["keys.json"], data["handshake.json"], data["session.json"]

    def session_key():  # checked against the reference by the handshake group
        return unhex(hs["session_key_hex"], "handshake.json: session_key_hex")

    groups = [
        ("keys.json", lambda: check_keys(ref, keys, pems)),
        ("constants.json", lambda: check_constants(ref, data["constants.json"], keys)),
        ("handshake.json", lambda: check_handshake(ref, hs, keys)),
        ("serializable.json", lambda: check_serializable(ref, data["serializable.json"], hs, keys)),
        ("session.json", lambda: check_session(ref, sess, hs, keys, session_key())),
        ("packets.json", lambda: check_packets(ref, data["packets.json"], sess, session_key())),
        ("seqnum.json", lambda: check_seqnum(ref, data["seqnum.json"])),
        ("bitfield.json", lambda: check_bitfield(ref, data["bitfield.json"])),
    ]
    for fname, run in groups:
        try:
            line = run()
        except Mismatch as e:
            print("MISMATCH %s" % e, file=sys.stderr)
            print("FAIL: %s does not agree with the reference" % fname, file=sys.stderr)
            return 1
        except Exception as e:
            print("MISMATCH %s: %s: %s" % (fname, type(e).__name__, e), file=sys.stderr)
            print("FAIL: %s does not agree with the reference" % fname, file=sys.stderr)
            return 1
        print(line, flush=True)
    print("all %d vector files and %d PEM files agree with the reference" % (len(VECTOR_FILES), len(PEM_FILES)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
