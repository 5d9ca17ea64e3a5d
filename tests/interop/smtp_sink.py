"""A real SMTP server for the email tests (aiosmtpd, from PyPI): it accepts every message on
127.0.0.1:PORT and prints each one, parsed by Python's own email package, as a JSON line:
envelope, headers, and every leaf part with its content type and decoded text."""

import email
import email.policy
import json
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(), "text": part.get_content()})
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "content_type": msg.get_content_type(),
            "headers": {name.lower(): str(value) for name, value in msg.items()},
            "parts": parts,
        }), flush=True)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"ready": port}), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
