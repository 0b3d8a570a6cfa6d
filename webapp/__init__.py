"""webapp: the citizens' web app, served by every node and observer at `/`.

The top floor beside cli/: cli passes `web_app_hook(config)` to the node it starts
(node/rpc.py's AppHook: `add_routes`, and the attester's enrolment endpoints relayed at the
same origin, enroll_relay.py), and nothing else imports this package. Pages are
server-rendered and need no JavaScript to read (routes.py, templates/); texts come from
the ko and en message catalogues (i18n.py, locale/); what a page shows of a poll is read
through votingcontract's queries, as the JSON RPC reads it (polls.py). Static files live
in static/: the ES modules in static/js/, vendored libraries in static/vendor/ with their
licences.
"""

from webapp.enroll_relay import web_app_hook
from webapp.routes import add_routes

__all__ = ["add_routes", "web_app_hook"]
