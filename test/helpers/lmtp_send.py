#!/usr/bin/env python3
"""A real LMTP client for the tests: Python's smtplib, with RFC 2033's one reply per recipient.

    lmtp_send.py HOST PORT MAIL_FILE FROM RCPT [RCPT...] [--starttls] [--smtputf8] [--repeat N]

Prints JSON: {"lhlo": [...], "rcpt": {rcpt: [code, text]}, "data": [{rcpt: [code, text]}, ...]}.
smtplib.LMTP's sendmail reads one reply after DATA, so the per-recipient replies are read here.
"""
import json
import smtplib
import ssl
import sys


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    host, port, mail_file, mail_from, rcpts = args[0], int(args[1]), args[2], args[3], args[4:]
    repeat = 1
    for f in flags:
        if f.startswith("--repeat="):
            repeat = int(f.split("=", 1)[1])
    data = open(mail_file, "rb").read()
    out = {"rcpt": {}, "data": []}
    lmtp = smtplib.LMTP(host, port, timeout=120)
    code, text = lmtp.ehlo()
    out["lhlo"] = [code, text.decode()]
    if "--starttls" in flags:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        lmtp.starttls(context=ctx)
        lmtp.ehlo()
    options = ["SMTPUTF8", "BODY=8BITMIME"] if "--smtputf8" in flags else []
    for _ in range(repeat):
        code, text = lmtp.mail(mail_from, options)
        if code != 250:
            out["mail"] = [code, text.decode()]
            break
        accepted = []
        for r in rcpts:
            code, text = lmtp.rcpt(r)
            out["rcpt"][r] = [code, text.decode()]
            if code == 250:
                accepted.append(r)
        if not accepted:
            lmtp.rset()
            continue
        code, text = lmtp.docmd("data")
        if code != 354:
            out["data"].append({"*": [code, text.decode()]})
            continue
        body = smtplib._fix_eols(data) if isinstance(data, str) else data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = smtplib._quote_periods(body)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        lmtp.send(body + b".\r\n")
        replies = {}
        for r in accepted:
            code, text = lmtp.getreply()
            replies[r] = [code, text.decode()]
        out["data"].append(replies)
    try:
        lmtp.quit()
    except Exception:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
