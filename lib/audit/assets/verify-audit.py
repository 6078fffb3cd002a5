#!/usr/bin/env python3
"""Verify a mailrepo audit export with the Python 3 standard library (and openssl for timestamps).

    python3 verify-audit.py [EXPORT_DIR]      (default: this script's directory)

1. Recomputes every event's hash, SHA-256(prev_hash || canonical event), from its fields, and
   checks that the events form one unbroken chain (consecutive seq, each prev_hash = the hash
   before it). The canonical event is JSON with sorted keys and no whitespace (docs/audit.md).
2. Checks that each anchored head is the hash of its event and that its preimage file is
   prev_hash || canonical event.
3. Runs each anchored head's proof bundle (anchors/<seq>.zip, its own verify.py) with the preimage
   as the subject: the head is in the tenant's ledger under a timestamped checkpoint.
The first anchored head before the range and the first at or after its end bracket it, so an
event removed or changed anywhere in the range breaks step 1, 2 or 3.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile


def canonical(e, tenant):
    obj = {
        "v": 1, "tenant": tenant, "seq": e["seq"], "id": e["id"], "at": e["at"],
        "action": e["action"], "actor": e["actor"], "target": e["target"], "ip": e["ip"],
        "details": e["details"], "sealedDetails": e["sealedDetails"],
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    read = lambda name: open(os.path.join(root, name), "rb").read()
    manifest = json.loads(read("manifest.json"))
    events = json.loads(read("events.json"))
    anchors = json.loads(read("anchors.json"))
    tenant = manifest["tenantId"]
    by_seq = {}
    prev = None
    for e in events:
        if prev is not None and e["seq"] != prev["seq"] + 1:
            return fail(e["seq"], f"events {prev['seq'] + 1}..{e['seq'] - 1} are missing")
        if prev is not None and e["prevHash"] != prev["hash"]:
            return fail(e["seq"], "its prev_hash is not the hash of the event before it")
        digest = hashlib.sha256(bytes.fromhex(e["prevHash"]) + canonical(e, tenant).encode()).hexdigest()
        if digest != e["hash"]:
            return fail(e["seq"], "its content does not match its hash")
        by_seq[e["seq"]] = e
        prev = e
    in_range = [e["seq"] for e in events if e["inRange"]]
    print(f"OK   chain: {len(events)} events ({len(in_range)} in the range) recomputed and linked")

    for a in anchors:
        e = by_seq.get(a["seq"])
        if e is None or e["hash"] != a["hash"]:
            return fail(a["seq"], "the anchored head is not the hash of this event")
        pre = read(f"anchors/{a['seq']}.preimage")
        if pre != bytes.fromhex(e["prevHash"]) + canonical(e, tenant).encode():
            return fail(a["seq"], "the preimage file is not prev_hash || canonical event")
        if not a["proofBundle"]:
            print(f"NOTE head {a['seq']}: not yet timestamped, no proof bundle")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            zipfile.ZipFile(os.path.join(root, a["proofBundle"])).extractall(tmp)
            r = subprocess.run(
                [sys.executable, os.path.join(tmp, "verify.py"), os.path.join(root, f"anchors/{a['seq']}.preimage"), "--bundle", tmp],
                capture_output=True, text=True,
            )
        if r.returncode != 0:
            return fail(a["seq"], "proof bundle: " + r.stdout.strip().splitlines()[-1])
        print(f"OK   head {a['seq']} (ledger index {a['ledgerIndex']}): {r.stdout.strip().splitlines()[-1]}")
    if in_range and anchors and anchors[-1]["seq"] < in_range[-1]:
        print(f"NOTE events after {anchors[-1]['seq']} are not anchored yet; export again later to cover them")
    print("VERIFIED")
    return 0


def fail(seq, why):
    print(f"FAILED: event {seq}: {why}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
