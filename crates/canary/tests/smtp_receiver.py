"""A real SMTP receiver for the email-alert test (aiosmtpd, certificates from trustme).

STARTTLS is required before MAIL, AUTH PLAIN only inside TLS (user "canary", the password
given as the second argument). Each message is written to OUTDIR as N.eml with its envelope
first. Writes OUTDIR/ca.pem (the CA the client must trust), prints the port, and serves until
its standard input closes.

Usage: python smtp_receiver.py OUTDIR PASSWORD
"""

import os
import socket
import ssl
import sys

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

outdir, password = sys.argv[1], sys.argv[2]

ca = trustme.CA()
ca.cert_pem.write_to_path(os.path.join(outdir, "ca.pem"))
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ca.issue_cert("127.0.0.1").configure_cert(context)


class Mailbox:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(outdir, f"{self.count}.eml")
        head = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n"
            f"X-Authenticated: {session.authenticated}\r\n"
        ).encode()
        with open(path + ".part", "wb") as f:
            f.write(head + envelope.original_content)
        os.rename(path + ".part", path)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, data):
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"canary"
        and data.password == password.encode()
    )
    # handled=False: aiosmtpd then answers 535 itself.
    return AuthResult(success=ok, handled=False)


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]

controller = Controller(
    Mailbox(),
    hostname="127.0.0.1",
    port=port,
    tls_context=context,
    require_starttls=True,
    authenticator=authenticate,
    auth_require_tls=True,
)
controller.start()
print(port, flush=True)
sys.stdin.read()
controller.stop()
