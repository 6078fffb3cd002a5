#!/usr/bin/env python3
"""Verify a mailrepo proof bundle with the Python 3 standard library and openssl.

    python3 verify.py MAIL.eml [--bundle DIR_OR_ZIP] [--tenant-key VKEY] [--anchor-key VKEY]
                      [--tsa-root ROOTS.pem] [--at DATE]

Checks, in order, and names the first step that fails:
  mail hash, tenant checkpoint signature, tenant inclusion proof, anchor checkpoint signature,
  anchor inclusion proof, anchor checkpoint file, RFC 3161 timestamp, evidence record.
The evidence records (RFC 4998, one per TSA, with their renewals) are judged at --at (default:
now); one that holds suffices, and every one is reported.
Merkle hashing is RFC 9162; checkpoints are C2SP signed notes with Ed25519 (verified here in pure
Python after RFC 8032); the RFC 3161 token's signature and certificate chain are checked by
`openssl ts -verify`. Exit status 0 means every step held.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile


class Failed(Exception):
    def __init__(self, step, why):
        super().__init__(f"{step}: {why}")
        self.step = step


def sha256(b):
    return hashlib.sha256(b).digest()


# --- Ed25519 verification (RFC 8032 section 5.1.7), cofactorless like the reference code -------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decode_point(b):
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decode_point(public), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


# --- C2SP signed notes, checkpoints and tlog-proofs ---------------------------------------------


def parse_vkey(text, step):
    m = re.fullmatch(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)", text.strip())
    if not m:
        raise Failed(step, "verifier key is malformed")
    name, raw = m.group(1), base64.b64decode(m.group(3))
    if len(raw) != 33 or raw[0] != 1:
        raise Failed(step, "verifier key is not an Ed25519 key")
    key_hash = sha256(name.encode() + b"\n" + raw)[:4]
    if key_hash.hex() != m.group(2):
        raise Failed(step, "verifier key hash does not match the key")
    return name, key_hash, raw[1:]


def open_checkpoint(note, vkey, step):
    """Verifies the note's signature by vkey; returns (origin, size, root)."""
    name, key_hash, public = vkey
    split = note.rfind(b"\n\n")
    if split < 0 or not note.endswith(b"\n"):
        raise Failed(step, "checkpoint has no signature block")
    body, sig_lines = note[: split + 1], note[split + 2 : -1].decode().split("\n")
    signed = False
    for line in sig_lines:
        m = re.fullmatch("\u2014 (\\S+) ([A-Za-z0-9+/=]+)", line)
        if not m:
            raise Failed(step, "malformed signature line")
        raw = base64.b64decode(m.group(2))
        if m.group(1) != name or len(raw) != 68 or raw[:4] != key_hash:
            continue
        if not ed25519_verify(public, body, raw[4:]):
            raise Failed(step, f"signature by {name} is invalid")
        signed = True
    if not signed:
        raise Failed(step, f"checkpoint is not signed by {name} (key hash {key_hash.hex()})")
    lines = body.decode().split("\n")
    if len(lines) < 4 or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failed(step, "checkpoint body is malformed")
    root = base64.b64decode(lines[2])
    if len(root) != 32:
        raise Failed(step, "checkpoint root hash is malformed")
    if lines[0] != name:
        raise Failed(step, f"checkpoint origin {lines[0]} is not the key's log {name}")
    return lines[0], int(lines[1]), root


def parse_tlog_proof(text, step):
    head, sep, checkpoint = text.partition(b"\n\n")
    lines = head.decode().split("\n")
    if not sep or lines[0] != "c2sp.org/tlog-proof@v1":
        raise Failed(step, "not a c2sp.org/tlog-proof@v1 file")
    lines = lines[1:]
    if lines and lines[0].startswith("extra "):
        lines = lines[1:]
    m = re.fullmatch(r"index (0|[1-9][0-9]*)", lines[0] if lines else "")
    if not m:
        raise Failed(step, "index line is missing or malformed")
    hashes = []
    for n, line in enumerate(lines[1:], 1):
        if not re.fullmatch(r"[A-Za-z0-9+/]{43}=", line):
            raise Failed(step, f"proof line {n} is not a base64 SHA-256 hash")
        hashes.append(base64.b64decode(line))
    return int(m.group(1)), hashes, checkpoint


def root_from_inclusion(leaf_hash, index, size, proof, step):
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Failed(step, f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise Failed(step, "proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Failed(step, "proof is too short")
    return r


def check_inclusion(entry, proof_text, vkey, step_sig, step_incl):
    index, proof, checkpoint = parse_tlog_proof(proof_text, step_incl)
    origin, size, root = open_checkpoint(checkpoint, vkey, step_sig)
    if root_from_inclusion(sha256(b"\x00" + entry), index, size, proof, step_incl) != root:
        raise Failed(step_incl, f"entry is not at index {index} of {origin} (root mismatch)")
    return checkpoint, index, size


# --- DER, just enough for the timestamp token's imprint and the evidence record -----------------


def der_items(b, step):
    """The TLVs of a DER byte string: [(tag, value, whole)]."""
    out, i = [], 0
    while i < len(b):
        if i + 2 > len(b):
            raise Failed(step, "truncated DER")
        tag, length, j = b[i], b[i + 1], i + 2
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or j + n > len(b):
                raise Failed(step, "unsupported DER length")
            length, j = int.from_bytes(b[j : j + n], "big"), j + n
        if j + length > len(b):
            raise Failed(step, "truncated DER")
        out.append((tag, b[j : j + length], b[i : j + length]))
        i = j + length
    return out


def der_one(b, tag, step, what):
    items = der_items(b, step)
    if len(items) != 1 or items[0][0] != tag:
        raise Failed(step, f"{what} is malformed")
    return items[0]


OID_SHA256 = bytes.fromhex("0609608648016503040201")
OID_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
OID_TST_INFO = bytes.fromhex("060b2a864886f70d0109100104")


def token_imprint(token, step):
    """(hash algorithm OID TLV, imprint, genTime) of a TimeStampToken (CMS ContentInfo)."""
    ci = der_items(der_one(token, 0x30, step, "token")[1], step)
    if ci[0][2] != OID_SIGNED_DATA:
        raise Failed(step, "token is not a SignedData")
    sd = der_items(der_one(ci[1][1], 0x30, step, "SignedData")[1], step)
    encap = der_items(sd[2][1], step)
    if encap[0][2] != OID_TST_INFO:
        raise Failed(step, "token content is not a TSTInfo")
    econtent = der_items(encap[1][1], step)
    if len(econtent) != 1 or econtent[0][0] not in (0x04, 0x24):
        raise Failed(step, "eContent is malformed")
    if econtent[0][0] == 0x24:  # BER constructed OCTET STRING: its pieces, concatenated
        octets = b"".join(v for _, v, _ in der_items(econtent[0][1], step))
    else:
        octets = econtent[0][1]
    tst_der = der_one(octets, 0x30, step, "TSTInfo")[1]
    tst = der_items(tst_der, step)
    imprint = der_items(tst[2][1], step)
    alg = der_items(imprint[0][1], step)[0][2]
    gen_time = next(v for t, v, _ in tst if t == 0x18).decode()
    return alg, imprint[1][1], gen_time


def token_of_response(tsr, step):
    resp = der_items(der_one(tsr, 0x30, step, "TimeStampResp")[1], step)
    status = der_items(resp[0][1], step)[0]
    if status[0] != 0x02 or int.from_bytes(status[1], "big") not in (0, 1):
        raise Failed(step, "TSA response status is not granted")
    if len(resp) < 2:
        raise Failed(step, "TSA response carries no token")
    return resp[1][2]


OID_SHA512 = bytes.fromhex("0609608648016503040203")
OID_SHA3_512 = bytes.fromhex("060960864801650304020a")
HASHES = {OID_SHA256: hashlib.sha256, OID_SHA512: hashlib.sha512, OID_SHA3_512: hashlib.sha3_512}


def der_header(tag, length):
    if length < 0x80:
        return bytes([tag, length])
    n = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | n]) + length.to_bytes(n, "big")


def evidence_record(ers, step):
    """(digest algorithm OID TLVs, chains as [(chain TLV, [token TLV])]) of an RFC 4998 record."""
    fields = der_items(der_one(ers, 0x30, step, "EvidenceRecord")[1], step)
    if fields[0][2] != b"\x02\x01\x01":
        raise Failed(step, "evidence record version is not 1")
    algs = [der_items(a, step)[0][2] for _, a, _ in der_items(fields[1][1], step)]
    chains = []
    for _, chain, chain_whole in der_items(fields[-1][1], step):
        tokens = []
        for _, ats, _ in der_items(chain, step):
            parts = der_items(ats, step)
            if any(t == 0xA2 for t, _, _ in parts):
                raise Failed(step, "an archive timestamp has a reduced hash tree; records over one object have none")
            tokens.append(parts[-1][2])
        if not tokens:
            raise Failed(step, "evidence record holds an empty chain")
        chains.append((chain_whole, tokens))
    if not chains:
        raise Failed(step, "evidence record holds no archive timestamp")
    return algs, chains


def iso(epoch):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(gen_time):
    from datetime import datetime, timezone
    return int(datetime.strptime(gen_time[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).timestamp())


def check_evidence_record(ers, data, at_epoch, trust, put, step):
    """RFC 4998 section 5.3 at a date: each archive timestamp over what it must be, its token and
    TSA chain valid at its own time and at the time of the next one (the last: at `at_epoch`)."""
    algs, chains = evidence_record(ers, step)
    flat = [(k, j, tok) for k, (_, toks) in enumerate(chains) for j, tok in enumerate(toks)]
    infos = [token_imprint(tok, step) for _, _, tok in flat]
    times = [epoch_of(g) for _, _, g in infos]
    for i, t in enumerate(times):
        name = f"archive timestamp {flat[i][1] + 1} of chain {flat[i][0] + 1}"
        if i and t < times[i - 1]:
            raise Failed(step, f"{name}: is older than the timestamp it renews")
        if t > at_epoch:
            raise Failed(step, f"{name}: was made after the date it is judged at")
    chain_alg = None
    for i, (k, j, tok) in enumerate(flat):
        name = f"archive timestamp {j + 1} of chain {k + 1}"
        alg, imprint, gen_time = infos[i]
        if j == 0:
            chain_alg = alg
        if alg != chain_alg or alg not in HASHES or alg not in algs:
            raise Failed(step, f"{name}: unexpected digest algorithm")
        h = HASHES[alg]
        if j > 0:
            expected = h(chains[k][1][j - 1]).digest()
        elif k == 0:
            expected = h(data).digest()
        else:
            before = b"".join(whole for whole, _ in chains[:k])
            expected = h(h(data).digest() + h(der_header(0x30, len(before)) + before).digest()).digest()
        if imprint != expected:
            raise Failed(step, f"{name}: token is over other data")
        tok_file = put(f"ats-{k}-{j}.der", tok)
        next_epoch = times[i + 1] if i + 1 < len(flat) else at_epoch
        for when in (times[i], next_epoch):
            try:
                openssl_ts_verify(["-token_in", "-in", tok_file, "-digest", expected.hex(), "-attime", str(when), *trust], step)
            except Failed as e:
                raise Failed(step, f"{name}: TSA certificate not trusted on {iso(when)} ({str(e).split(': ', 1)[1]})")
    return len(flat), infos[0][2]


def openssl_ts_verify(args, step):
    try:
        res = subprocess.run(["openssl", "ts", "-verify", *args], capture_output=True, text=True)
    except FileNotFoundError:
        raise Failed(step, "openssl is not installed")
    if res.returncode != 0 or "Verification: OK" not in res.stdout:
        raise Failed(step, f"openssl ts -verify failed: {(res.stdout + res.stderr).strip()}")


# --- the bundle -----------------------------------------------------------------------------


def read_bundle(location):
    if os.path.isdir(location):
        files = {}
        for root, _, names in os.walk(location):
            for n in names:
                full = os.path.join(root, n)
                files[os.path.relpath(full, location).replace(os.sep, "/")] = open(full, "rb").read()
        return files
    with zipfile.ZipFile(location) as z:
        return {n: z.read(n) for n in z.namelist()}


def verify(mail, files, tenant_key=None, anchor_key=None, tsa_root=None, at_epoch=None, say=print):
    import time
    at_epoch = int(time.time()) if at_epoch is None else at_epoch
    def need(name, step):
        if name not in files:
            raise Failed(step, f"bundle has no {name}")
        return files[name]

    manifest = json.loads(need("manifest.json", "bundle"))
    entry = sha256(mail)
    step = "mail hash"
    if entry.hex() != manifest["entrySha256"]:
        raise Failed(step, f"the mail's SHA-256 {entry.hex()} is not the archived {manifest['entrySha256']}")
    say(f"OK   {step}: {entry.hex()}")

    tkey = parse_vkey(tenant_key or need("keys/tenant-log.vkey", "tenant checkpoint signature").decode(), "tenant checkpoint signature")
    akey = parse_vkey(anchor_key or need("keys/anchor-log.vkey", "anchor checkpoint signature").decode(), "anchor checkpoint signature")
    tenant_cp, t_index, t_size = check_inclusion(entry, need("tenant.tlog-proof", "tenant inclusion proof"), tkey, "tenant checkpoint signature", "tenant inclusion proof")
    say(f"OK   tenant checkpoint signature: {tkey[0]} (key hash {tkey[1].hex()})")
    say(f"OK   tenant inclusion proof: index {t_index} of {t_size}")
    if need("tenant-checkpoint.txt", "tenant inclusion proof") != tenant_cp:
        raise Failed("tenant inclusion proof", "tenant-checkpoint.txt is not the checkpoint in tenant.tlog-proof")

    anchor_cp, a_index, a_size = check_inclusion(sha256(tenant_cp), need("anchor.tlog-proof", "anchor inclusion proof"), akey, "anchor checkpoint signature", "anchor inclusion proof")
    say(f"OK   anchor checkpoint signature: {akey[0]} (key hash {akey[1].hex()})")
    say(f"OK   anchor inclusion proof: tenant checkpoint is index {a_index} of {a_size}")
    step = "anchor checkpoint file"
    if need("anchor-checkpoint.txt", step) != anchor_cp:
        raise Failed(step, "anchor-checkpoint.txt is not the checkpoint in anchor.tlog-proof")
    say(f"OK   {step}")

    with tempfile.TemporaryDirectory() as tmp:
        def put(name, data):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            return path

        data = put("anchor-checkpoint.txt", anchor_cp)
        root = tsa_root or put("tsa-root.pem", need("tsa-root.pem", "RFC 3161 timestamp"))
        chain = put("tsa-chain.pem", need("tsa-chain.pem", "RFC 3161 timestamp"))
        trust = ["-CAfile", root, "-untrusted", chain]

        step = "RFC 3161 timestamp"
        tsr = need("anchor-checkpoint.tsr", step)
        alg, imprint, gen_time = token_imprint(token_of_response(tsr, step), step)
        if alg != OID_SHA256 or imprint != sha256(anchor_cp):
            raise Failed(step, "the timestamp is over other data than the anchor checkpoint")
        # Valid when it was made; whether it still holds is the evidence records' question.
        openssl_ts_verify(["-data", data, "-in", put("anchor.tsr", tsr), "-attime", str(epoch_of(gen_time)), *trust], step)
        say(f"OK   {step}: {gen_time}")

        step = "evidence record"
        if manifest["format"] == "mailrepo-proof-bundle/v1":
            listed = ["checkpoint.ers"]
        else:
            listed = [e["file"] for e in manifest.get("evidence", [])]
        if not listed:
            raise Failed(step, "the bundle lists no evidence record")
        results = []
        for name in listed:
            try:
                n, first = check_evidence_record(need(name, step), anchor_cp, at_epoch, trust, put, step)
                results.append((True, f"{name} holds ({first}" + (f", {n - 1} renewal(s))" if n > 1 else ")")))
            except Failed as e:
                results.append((False, f"{name} does not hold: {str(e).split(': ', 1)[1]}"))
        holding = sum(1 for ok, _ in results if ok)
        lines = "; ".join(line for _, line in results)
        if not holding:
            raise Failed(step, f"no evidence record holds on {iso(at_epoch)}: {lines}")
        say(f"OK   {step}: {holding} of {len(results)} hold on {iso(at_epoch)}: {lines}")

    if not (tenant_key and anchor_key and tsa_root):
        say("NOTE the log keys or TSA root were taken from the bundle; compare them with the published ones:")
        say(f"     tenant log key hash {tkey[1].hex()}, anchor log key hash {akey[1].hex()}")
        if not tsa_root:
            fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=files["tsa-root.pem"], capture_output=True)
            say(f"     TSA root {fp.stdout.decode().strip()}")
    return gen_time


def main():
    ap = argparse.ArgumentParser(description="Verify a mailrepo proof bundle.")
    ap.add_argument("mail", help="the archived mail (.eml), byte for byte")
    ap.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)), help="the bundle: a .zip or its unpacked directory (default: this script's directory)")
    ap.add_argument("--tenant-key", help="the tenant log's verifier key, as shown in the portal")
    ap.add_argument("--anchor-key", help="the anchor log's published verifier key")
    ap.add_argument("--tsa-root", help="the TSAs' root certificates (PEM) from the TSAs themselves")
    ap.add_argument("--at", help="judge the evidence records at this date (YYYY-MM-DD or ISO 8601, UTC; default now)")
    a = ap.parse_args()
    try:
        with open(a.mail, "rb") as f:
            mail = f.read()
        at_epoch = None
        if a.at:
            from datetime import datetime, timezone
            d = datetime.fromisoformat(a.at.replace("Z", "+00:00"))
            at_epoch = int((d if d.tzinfo else d.replace(tzinfo=timezone.utc)).timestamp())
        gen_time = verify(mail, read_bundle(a.bundle), a.tenant_key, a.anchor_key, a.tsa_root, at_epoch)
    except Failed as e:
        print(f"FAILED: {e}")
        return 1
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as e:
        print(f"FAILED: bundle: {e}")
        return 1
    print(f"VERIFIED: the mail was archived unchanged no later than {gen_time}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
