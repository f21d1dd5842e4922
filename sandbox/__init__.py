"""A local Slack workspace emulator: the test double for Slack used by the tests and `checkin-bot demo`.

    with Sandbox.start() as sb:
        sb.add_user("U0REP1", name="ana", tz="America/Los_Angeles")
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        slack = sb.client("http://127.0.0.1:3000/slack/events", signing_secret)
        slack.slash("help", user="U0REP1")
        sb.assert_no_violations()
"""

from sandbox.checks import Violation
from sandbox.client import Response, SlackClientSim, Transport, bolt_transport
from sandbox.faults import Faults
from sandbox.models import Ephemeral, Message, Team, UploadedFile, User
from sandbox.ratelimits import RateLimits
from sandbox.records import Call
from sandbox.server import Sandbox, without_collector

__all__ = [
    "without_collector",
    "Call",
    "Ephemeral",
    "Faults",
    "Message",
    "RateLimits",
    "Response",
    "Sandbox",
    "SlackClientSim",
    "Team",
    "Transport",
    "UploadedFile",
    "User",
    "Violation",
    "bolt_transport",
]
