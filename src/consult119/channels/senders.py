"""Which channel's sender serves a source: the registry the outbox dispatcher uses.

A pushed channel adds its ``sender.send`` here; a source without one is failed permanently
(``no_sender_for_<source>``). Pull channels (web chat, Kakao without its event API) have none:
their adapter hands replies over itself.
"""

from __future__ import annotations

from consult119.channels.email import sender as email
from consult119.channels.kakao import sender as kakao
from consult119.channels.line import sender as line
from consult119.channels.pager import sender as pager
from consult119.channels.sms import sender as sms
from consult119.outbound.senders import Sender

SENDERS: dict[str, Sender] = {
    "smtp": email.send,
    "line": line.send,
    "kakao": kakao.send,
    # Payload rows (no message): the operator's pager and SMS provider.
    "pager": pager.send,
    "sms": sms.send,
}
