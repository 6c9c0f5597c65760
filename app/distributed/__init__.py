"""The carousel on several machines: visits as jobs of procrastinate, on the PostgreSQL store.

One machine (SQLite, or PostgreSQL without ``[distributed] enabled``) runs the carousel of
:mod:`app.core.carousel` as before. Spread over machines (docs/architecture.md):

* each machine runs ``mt5-console node`` (:mod:`app.distributed.node`): its terminals, one
  procrastinate worker per terminal (:mod:`app.distributed.lane`), and the visits they make
  (:mod:`app.distributed.visits`, the carousel's own :class:`~app.core.carousel.visit.Visitor`);
* a node visits only the accounts whose password its own OS keyring holds, and announces which
  (``node_accounts``); each account has a queue of its own, so only those nodes take its visits;
* one node at a time plans the cycles (:mod:`app.distributed.planner`: the carousel's priority rules,
  a procrastinate lock per account, stalled visits of dead nodes run again elsewhere);
* every console pointed at the store shows it live (:mod:`app.distributed.console`,
  :mod:`app.distributed.listener`: PostgreSQL LISTEN/NOTIFY onto the app's event hub).

No password is ever in the store, a job or a log: a job names an account id and a cycle.
"""
